/**
 * `tcpkit serve`: a server with a choice of handlers (echo, discard, reply,
 * chat, stdio), one log line per connection, and graceful shutdown on Ctrl-C
 * or SIGTERM (a second Ctrl-C forces it) with totals.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { formatAddr } from "../_address.ts";
import { nativeTransport, serve } from "../adapters/native.ts";
import { nodeTransport } from "../adapters/node.ts";
import type { Handler } from "../serve.ts";
import {
  parseChoice,
  parseCount,
  parseDuration,
  parseEncoding,
  parseSize,
  readTlsServerFiles,
} from "./_options.ts";
import { exitAfterLog, Logger, UsageError } from "./_output.ts";
import { outputSink, OutputWriter } from "./_stdout.ts";
import { runWorkers } from "./_workers.ts";
import type { HandlerContext } from "./handlers/_context.ts";
import { chatHandler } from "./handlers/chat.ts";
import { discardHandler } from "./handlers/discard.ts";
import { echoHandler } from "./handlers/echo.ts";
import { replyHandler } from "./handlers/reply.ts";
import { stdioHandler } from "./handlers/stdio.ts";

const HANDLERS = {
  echo: echoHandler,
  discard: discardHandler,
  reply: replyHandler,
  chat: chatHandler,
  stdio: stdioHandler,
} as const satisfies Record<string, (ctx: HandlerContext) => Handler>;

const HELP = `Usage: tcpkit serve [options]

Runs a TCP server on 127.0.0.1:7788 unless told otherwise.

Handlers (--handler):
  echo       send every byte back (the default)
  discard    read and drop; --print shows what arrives
  reply      print each message with the client's address, answer --text TEXT;
             --close closes after the first answer
  chat       a chat room: each line goes to every other client, /nick NAME renames,
             quit leaves; joins and leaves are announced; this terminal sees it all
  stdio      like nc -l: the first client is joined to this terminal; quit typed on
             either side ends the session; --keep-open waits for the next client

Options:
  --hostname H          address to listen on (default 127.0.0.1; 0.0.0.0 for every IPv4 interface)
  --port P              port (default 7788; 0 picks a free one)
  --handler NAME        echo, discard, reply, chat or stdio (default echo)
  --text TEXT           the answer of the reply handler (default "ok")
  --close               reply: close after the first answer
  --keep-open           stdio: wait for the next client instead of exiting
  --print               show what arrives on stdout, prefixed with the client's address
  --hex                 show what arrives as a hex dump (of the bytes as they arrived)
  --raw                 print peers' text as sent, control characters included; by default
                        a terminal shows them escaped (\x1b, \r), so a peer cannot clear
                        the screen or retitle the window; a pipe or a file gets the text as
                        decoded, unescaped, for the tools that read it (view it with cat -v)
  --encoding E          text encoding for printing and replies: utf-8, gbk, gb18030 (default utf-8)
  --framing F           raw (chunks as they arrive) or line (default raw; chat and stdio use lines)
  --max-line N          longest line in bytes with --framing line (default 65536)
  --max-connections N   connections at once; more are told "busy" and closed (default 1000)
  --idle-timeout D      close connections idle for D (500ms, 30s, 5m; default none)
  --read-timeout D      close a connection when one read (a chunk; a line with --framing line,
                        chat, stdio) waits D (default 60s; chat and stdio 30m: people pause;
                        0 for none). Cuts peers that trickle bytes (slowloris)
  --write-timeout D     close a connection that takes none of what it is sent for D (default 30s)
  --max-connections-per-address N
                        connections at once from one IP address (default 100; none when
                        listening on loopback or a Unix socket; with --proxy-protocol, the
                        address the header names)
  --max-write-buffer B  bytes queued for one connection before it is cut (default 1MiB;
                        KiB and MiB suffixes)
  --unix PATH           listen on a Unix domain socket instead (a stale socket file is replaced)
  --tls-cert FILE       serve TLS with this certificate (PEM); needs --tls-key
  --tls-key FILE        the certificate's private key (PEM)
  --proxy-protocol      read a PROXY protocol header (v1 or v2) from each connection first
                        (with --tls-cert, TLS starts after it: a balancer passing TLS through)
  --trusted CIDR        with --proxy-protocol: a load balancer's address range (repeatable);
                        connections from elsewhere are refused
  --workers N           run N processes on the same port (reusePort); the kernel balances
                        connections; SIGTERM drains them all
  --reuse-port          let other processes listen on the same port
  --verbose, --quiet    more or less logging
  --json                log JSON lines on stderr
  -h, --help            show this help

Output (stdout) never stalls the server: with --print, --hex and stdio, a
connection whose output stdout has not taken yet (64 KiB) is not read until it
has (TCP backpressure on that client alone). The chat room never waits for
stdout: what does not fit (1 MiB queued) is dropped from this terminal, said
on stderr ("dropped N bytes of output") and counted in the totals; the members
still get every line.

Examples:
  tcpkit serve                                   # echo server on 127.0.0.1:7788
  tcpkit serve --handler reply --text "你好,我是服务器!" --close
  tcpkit serve --handler reply --encoding gbk --text "thank you !"
  tcpkit serve --handler chat --port 9000
  tcpkit serve --handler stdio                   # then: tcpkit connect 127.0.0.1 7788
  tcpkit serve --tls-cert cert.pem --tls-key key.pem   # then: tcpkit connect --tls localhost 7788`;

/**
 * Runs `tcpkit serve`.
 *
 * @param args The arguments after `serve`.
 */
export async function runServe(args: string[]): Promise<void> {
  const { values } = parseArgs({
    args,
    options: {
      hostname: { type: "string", default: "127.0.0.1" },
      port: { type: "string", default: "7788" },
      handler: { type: "string", default: "echo" },
      text: { type: "string", default: "ok" },
      close: { type: "boolean", default: false },
      "keep-open": { type: "boolean", default: false },
      print: { type: "boolean", default: false },
      hex: { type: "boolean", default: false },
      raw: { type: "boolean", default: false },
      encoding: { type: "string", default: "utf-8" },
      framing: { type: "string", default: "raw" },
      "max-line": { type: "string", default: "65536" },
      "max-connections": { type: "string", default: "1000" },
      unix: { type: "string" },
      "tls-cert": { type: "string" },
      "tls-key": { type: "string" },
      "proxy-protocol": { type: "boolean", default: false },
      trusted: { type: "string", multiple: true },
      workers: { type: "string" },
      "reuse-port": { type: "boolean", default: false },
      "worker-id": { type: "string" },
      "idle-timeout": { type: "string" },
      "read-timeout": { type: "string" },
      "write-timeout": { type: "string", default: "30s" },
      "max-connections-per-address": { type: "string" },
      "max-write-buffer": { type: "string", default: "1MiB" },
      verbose: { type: "boolean", default: false },
      quiet: { type: "boolean", default: false },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(HELP);
  // Where it listens, the server's own errors and, at the end, the totals are shown even with --quiet.
  const always = new Logger({ id: values["worker-id"], json: values.json });
  const log = new Logger({
    id: values["worker-id"],
    json: values.json,
    quiet: values.quiet,
    verbose: values.verbose,
  });
  if (values.workers !== undefined) {
    const count = parseCount(values.workers, "--workers", 1, 64);
    const rest = args.filter((arg, i) =>
      arg !== "--workers" && args[i - 1] !== "--workers" && !arg.startsWith("--workers=")
    );
    return await runWorkers(count, rest, log);
  }
  if (values["proxy-protocol"] && !values.trusted?.length) {
    throw new UsageError(
      "--proxy-protocol needs --trusted CIDR: the load balancers' addresses, such as 10.0.0.0/8",
    );
  }
  const handlerName = parseChoice(
    values.handler,
    "--handler",
    Object.keys(HANDLERS) as (keyof typeof HANDLERS)[],
  );
  const ctx: HandlerContext = {
    log,
    encoding: parseEncoding(values.encoding),
    print: values.print,
    hex: values.hex,
    framing: parseChoice(values.framing, "--framing", ["raw", "line"] as const),
    maxLine: parseCount(values["max-line"], "--max-line", 1, 1 << 30),
    text: values.text,
    closeAfterReply: values.close,
    keepOpen: values["keep-open"],
    out: new OutputWriter(outputSink("stdout"), { log }),
    raw: values.raw,
  };
  const port = parseCount(values.port, "--port", 0, 65535);
  const maxConnections = parseCount(values["max-connections"], "--max-connections", 1, 1_000_000);
  const idleTimeout = values["idle-timeout"]
    ? parseDuration(values["idle-timeout"], "--idle-timeout")
    : undefined;
  const human = handlerName === "chat" || handlerName === "stdio";
  const readTimeout = parseDuration(
    values["read-timeout"] ?? (human ? "30m" : "60s"),
    "--read-timeout",
  ) || undefined;
  const writeTimeout = parseDuration(values["write-timeout"], "--write-timeout") || undefined;
  const maxWriteBuffer = parseSize(values["max-write-buffer"], "--max-write-buffer");
  // A per-address limit needs addresses that tell clients apart: on loopback or a Unix socket
  // every client shares one, unless a balancer's PROXY header names each (counted then).
  const sharedAddress = !values["proxy-protocol"] &&
    (values.unix !== undefined || /^(127\.|::1$|localhost$)/.test(values.hostname));
  const perAddressText = values["max-connections-per-address"] ?? (sharedAddress ? "0" : "100");
  const maxConnectionsPerAddress = parseCount(
    perAddressText,
    "--max-connections-per-address",
    0,
    1_000_000,
  ) || undefined;
  const tls = readTlsServerFiles(values["tls-cert"], values["tls-key"]);
  // TLS after a PROXY header starts on the accepted connection: where this
  // runtime's own transport cannot, the node transport does (on its node:tls).
  const native = nativeTransport();
  const transport = tls && values["proxy-protocol"] && native.caps.startTlsServer === "unsupported"
    ? nodeTransport
    : native;
  const handler = HANDLERS[handlerName](ctx);
  // Weak: a Map that every connection passes through keeps it alive too long (see LiveList).
  const started = new WeakMap<object, number>();
  const server = await serve({
    ...(values.unix !== undefined
      ? { path: values.unix, removeStaleSocket: true }
      : { hostname: values.hostname, port, reusePort: values["reuse-port"] }),
    proxyProtocol: values["proxy-protocol"] ? { trusted: values.trusted! } : undefined,
    tls,
    transport,
    handler,
    maxConnections,
    idleTimeout,
    readTimeout,
    writeTimeout,
    maxWriteBuffer,
    maxConnectionsPerAddress,
    busyReply: "tcpkit: server busy, try again later\n",
    onConnection: (conn) => {
      started.set(conn, Date.now());
      log.info("open", `open ${formatAddr(conn.remoteAddr)}`, {
        peer: formatAddr(conn.remoteAddr),
      });
    },
    onClose: (conn, error) => {
      const opened = started.get(conn);
      started.delete(conn);
      const addr = conn.remoteAddr;
      // A peer that reset before accept completed has no address: the reason given is moot.
      if (addr.transport === "tcp" && addr.hostname === "") {
        return log.info(
          "close",
          "close: a peer reset the connection before its address was known",
          {
            error: "ECONNRESET",
          },
        );
      }
      const peer = formatAddr(addr);
      const why = error ? ` (${error.message})` : "";
      // Before the handler (a PROXY header or TLS handshake that failed) there is no start time.
      const seconds = opened === undefined ? undefined : (Date.now() - opened) / 1000;
      const took = seconds === undefined ? "before the handler" : `${seconds.toFixed(1)} s`;
      log.info(
        "close",
        `close ${peer}: in ${conn.bytesRead} B, out ${conn.bytesWritten} B, ${took}${why}`,
        { peer, bytesIn: conn.bytesRead, bytesOut: conn.bytesWritten, seconds, error: error?.code },
      );
    },
    onError: (error, conn) => {
      // The server's own (failed accepts, a dead listener) are always shown; a connection's
      // typed errors are in its close line.
      if (!conn) always.error(error);
      else if (!(error instanceof Error && "code" in error)) {
        log.error(error, { peer: formatAddr(conn.remoteAddr) });
      }
    },
  });
  ctx.server = server;
  const where = formatAddr(server.addr);
  always.info("listening", `${handlerName} server listening on ${where}`, {
    address: where,
    handler: handlerName,
  });
  const { addr } = server;
  log.info(
    "hint",
    `try: tcpkit connect ${
      addr.transport === "unix" ? `--unix ${addr.path}` : `${addr.hostname} ${addr.port}`
    }`,
  );
  const DEADLINE_MS = 5000;
  let stopping = false;
  const stop = (signal: string) => {
    if (stopping) {
      log.warn("forced", `${signal} again: stopping now`);
      void exitAfterLog(130, 500);
      return;
    }
    stopping = true;
    const open = server.stats.active;
    log.info(
      "shutdown",
      `${signal}: shutting down: ${plural(open, "connection")} open, waiting up to ${
        DEADLINE_MS / 1000
      } s for ${open === 1 ? "it" : "them"} to finish (${signal} again to force)`,
      { active: open, deadlineMs: DEADLINE_MS },
    );
    void server.shutdown({ deadlineMs: DEADLINE_MS });
  };
  const onInt = () => stop("SIGINT");
  const onTerm = () => stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const { finished, aborted } = await server.finished;
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);
  // Bounded: a stdout nobody drains must not keep the process from exiting.
  const flushed = await ctx.out.flush(2000);
  const s = server.stats;
  const dropped = ctx.out.dropped;
  always.info(
    "stopped",
    `stopped: ${plural(s.accepted, "connection")} in all, ${s.rejected} rejected, ` +
      `in ${s.bytesIn} B, out ${s.bytesOut} B; of the ${finished + aborted} open at shutdown, ` +
      `${finished} closed in time, ${aborted} aborted` +
      (dropped || !flushed
        ? `; output: ${dropped} B dropped${flushed ? "" : ", the rest unwritten"}`
        : ""),
    { ...s, finished, aborted, outputDropped: dropped, outputFlushed: flushed },
  );
}

const plural = (n: number, word: string) => `${n} ${word}${n === 1 ? "" : "s"}`;
