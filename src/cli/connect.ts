/**
 * `tcpkit connect`: a client that behaves like netcat when stdin is a pipe,
 * an interactive line client on a terminal (`quit` ends it), or a one-shot
 * `--send TEXT`. With no HOST and PORT it asks for them.
 *
 * @module
 */
import process from "node:process";
import { createInterface, type Interface } from "node:readline";
import { parseArgs } from "node:util";
import { formatAddr } from "../_address.ts";
import { connect } from "../adapters/native.ts";
import type { Conn } from "../conn/conn.ts";
import { hexdump } from "./_hexdump.ts";
import { type Encoding, parseCount, parseDuration, parseEncoding, readPem } from "./_options.ts";
import { exitAfterLog, Logger, UsageError } from "./_output.ts";
import { outputSink, OutputWriter } from "./_stdout.ts";

const HELP = `Usage: tcpkit connect [HOST PORT | --unix PATH] [options]

Connects to a TCP server. With no HOST and PORT, asks for them.
- stdin is a pipe: stdin goes to the server and what it sends to stdout, byte for
  byte (like netcat). At the end of stdin the sending side is closed (half-close)
  and tcpkit keeps printing until the server closes.
- stdin is a terminal: type lines to send them; replies print as they arrive;
  quit ends the session.
Exit code 0 on a clean close, 1 on an error (refused, reset, timeout, unknown host).

Options:
  --send TEXT         send TEXT and a newline, print the reply, exit when the server
                      closes or after --wait of quiet (the classic one-shot client)
  --wait D            quiet time before --send gives up waiting (default 2s): a server
                      that keeps the connection open after answering costs the full
                      wait, so lower it for such servers (--wait 300ms)
  --crlf              end lines with CRLF instead of LF
  --encoding E        the server's text encoding: utf-8, gbk, gb18030 (default utf-8);
                      your terminal stays UTF-8, tcpkit converts both ways
  --timeout D         give up connecting after D (500ms, 5s, 1m; default none)
  --idle-timeout D    close the connection after D with no traffic either way
  --no-shutdown       keep sending side open at the end of stdin (like ncat --no-shutdown)
  --hex               show what arrives as a hex dump
  --unix PATH         connect to a Unix domain socket instead of HOST PORT
  --tls               speak TLS, checking the server against the system's CAs and HOST
  --ca FILE           trust this CA certificate (PEM) instead of the system's; implies --tls
  --servername NAME   the name the server's certificate must cover (default HOST); implies --tls
  --verbose           log the connection on stderr
  -h, --help          show this help

Examples:
  echo hello | tcpkit connect 127.0.0.1 7788
  tcpkit connect 127.0.0.1 7788 --send "你好,我是客户端!"
  tcpkit connect 127.0.0.1 7788 --encoding gbk
  tcpkit connect`;

interface ConnectCli {
  encoding: Encoding;
  eol: string;
  hex: boolean;
  log: Logger;
  /** What the server sends: a stdout that does not keep up holds reading back. */
  out: OutputWriter;
}

/**
 * Runs `tcpkit connect`.
 *
 * @param args The arguments after `connect`.
 */
export async function runConnect(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      send: { type: "string" },
      wait: { type: "string", default: "2s" },
      crlf: { type: "boolean", default: false },
      encoding: { type: "string", default: "utf-8" },
      timeout: { type: "string" },
      "idle-timeout": { type: "string" },
      "no-shutdown": { type: "boolean", default: false },
      hex: { type: "boolean", default: false },
      verbose: { type: "boolean", default: false },
      unix: { type: "string" },
      tls: { type: "boolean", default: false },
      ca: { type: "string" },
      servername: { type: "string" },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(HELP);
  if (values.unix !== undefined && positionals.length > 0) {
    throw new UsageError("connect takes either HOST PORT or --unix PATH, not both");
  }
  if (positionals.length !== 0 && positionals.length !== 2) {
    throw new UsageError(
      `connect needs HOST and PORT, or neither to be asked (got ${positionals.length} argument${
        positionals.length === 1 ? "" : "s"
      })`,
    );
  }
  const cli: ConnectCli = {
    encoding: parseEncoding(values.encoding),
    eol: values.crlf ? "\r\n" : "\n",
    hex: values.hex,
    log: new Logger({ verbose: values.verbose }),
    out: new OutputWriter(outputSink("stdout")),
  };
  const tls = values.tls || values.ca !== undefined || values.servername !== undefined
    ? {
      caCerts: values.ca === undefined ? undefined : [readPem(values.ca, "--ca")],
      serverName: values.servername,
    }
    : undefined;
  const wait = parseDuration(values.wait, "--wait");
  const timeout = values.timeout ? parseDuration(values.timeout, "--timeout") : undefined;
  const idleTimeout = values["idle-timeout"]
    ? parseDuration(values["idle-timeout"], "--idle-timeout")
    : undefined;
  // Ctrl-C: say so and exit 130, as shells expect of an interrupted command.
  const interrupted = () => {
    if (process.stdout.isTTY) process.stdout.write("\r\x1b[K");
    cli.log.warn("interrupted", "interrupted");
    void exitAfterLog(130, 500);
  };
  process.on("SIGINT", interrupted);
  // Made only when lines are wanted: a readline interface starts consuming stdin.
  let lines: Interface | undefined;
  const getLines = () => {
    if (lines) return lines;
    lines = createInterface({
      input: process.stdin,
      output: process.stdout,
      terminal: process.stdin.isTTY,
    });
    // On a terminal readline takes Ctrl-C itself.
    lines.on("SIGINT", interrupted);
    return lines;
  };
  try {
    let conn: Conn;
    if (values.unix !== undefined) {
      conn = await connect({ path: values.unix, timeout, idleTimeout, tls });
    } else {
      const [hostname, portText] = positionals.length === 2
        ? positionals
        : await askAddress(getLines());
      const port = parseCount(portText, "PORT", 1, 65535);
      conn = await connect({ hostname, port, timeout, idleTimeout, tls });
    }
    cli.log.debug(
      "connected",
      `connected to ${formatAddr(conn.remoteAddr)} from ${formatAddr(conn.localAddr)}`,
    );
    try {
      if (values.send !== undefined) await sendOnce(conn, cli, values.send, wait);
      else if (process.stdin.isTTY) await interactive(conn, cli, getLines());
      else await pipe(conn, cli, lines, !values["no-shutdown"]);
      await cli.out.flush();
    } finally {
      conn.abort();
    }
  } finally {
    process.removeListener("SIGINT", interrupted);
    lines?.close();
    process.stdin.destroy();
  }
}

async function askAddress(lines: Interface): Promise<[string, string]> {
  const ask = (question: string) =>
    new Promise<string>((resolve) => lines.question(question, resolve));
  const hostname = (await ask("Host [127.0.0.1]: ")).trim() || "127.0.0.1";
  for (;;) {
    const port = (await ask("Port [7788]: ")).trim() || "7788";
    if (/^\d+$/.test(port) && Number(port) >= 1 && Number(port) <= 65535) return [hostname, port];
    process.stdout.write(
      `The port must be a number between 1 and 65535 (got "${port}"); try again.\n`,
    );
  }
}

/** Prints what arrives until the server closes: raw bytes, transcoded text, or a hex dump. */
async function printIncoming(
  conn: Conn,
  cli: ConnectCli,
  onText?: (text: string) => void,
): Promise<void> {
  const decoder = cli.encoding.name === "utf-8" && !onText ? undefined : cli.encoding.decoder();
  let offset = 0;
  for await (const chunk of conn) {
    if (cli.hex) await cli.out.write(hexdump(chunk, offset));
    else if (!decoder) await cli.out.write(chunk);
    else if (onText) onText(decoder.decode(chunk, { stream: true }));
    else await cli.out.write(decoder.decode(chunk, { stream: true }));
    offset += chunk.length;
  }
  cli.log.debug("closed", "the server closed the connection");
}

async function sendOnce(conn: Conn, cli: ConnectCli, text: string, wait: number): Promise<void> {
  await conn.write(cli.encoding.encoder.encode(text + cli.eol));
  let quiet: ReturnType<typeof setTimeout> | undefined;
  let endsWithNewline = true;
  const timedOut = new Promise<void>((resolve) => {
    const arm = () => {
      clearTimeout(quiet);
      quiet = setTimeout(resolve, wait);
    };
    arm();
    conn.closed.finally(() => clearTimeout(quiet));
    printIncoming(conn, cli, (chunk) => {
      arm();
      if (chunk) endsWithNewline = chunk.endsWith("\n");
      void cli.out.write(chunk);
    }).then(resolve, resolve);
  });
  await timedOut;
  clearTimeout(quiet);
  // On a terminal the reply must not run into the shell's prompt.
  if (process.stdout.isTTY && !endsWithNewline) await cli.out.write("\n");
  await conn.close();
}

/** Sends stdin (as bytes, or line by line when the address was asked), prints what arrives. */
async function pipe(
  conn: Conn,
  cli: ConnectCli,
  lines: Interface | undefined,
  shutdown: boolean,
): Promise<void> {
  const sending = (async () => {
    const transcode = cli.encoding.name === "utf-8" ? undefined : new TextDecoder();
    if (lines) {
      for await (const line of lines) await conn.write(cli.encoding.encoder.encode(line + cli.eol));
    } else {
      for await (const chunk of process.stdin) {
        const bytes = new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
        await conn.write(
          transcode
            ? cli.encoding.encoder.encode(transcode.decode(bytes, { stream: true }))
            : bytes,
        );
      }
    }
    if (shutdown) await conn.closeWrite();
  })();
  sending.catch(() => {}); // a failed send shows up as a failed read below
  await printIncoming(conn, cli);
  await conn.close();
}

async function interactive(conn: Conn, cli: ConnectCli, lines: Interface): Promise<void> {
  const peer = formatAddr(conn.remoteAddr);
  process.stdout.write(`Connected to ${peer}. Type a line to send it; quit ends the session.\n`);
  lines.setPrompt("> ");
  lines.prompt();
  let quit = false;
  lines.on("line", (line) => {
    if (line.trim() === "quit") {
      quit = true;
      void conn.close();
      return;
    }
    conn.write(cli.encoding.encoder.encode(line + cli.eol)).catch(() => {});
    lines.prompt();
  });
  lines.on("close", () => void conn.closeWrite().catch(() => {}));
  await printIncoming(conn, cli, (text) => {
    process.stdout.write(`\r\x1b[K${text}${text.endsWith("\n") ? "" : "\n"}`);
    lines.prompt(true);
  }).catch((error) => {
    // The error is logged on stderr: first clear the prompt's line.
    process.stdout.write("\r\x1b[K");
    if (!quit) throw error;
  });
  process.stdout.write(quit ? "Bye.\n" : `\r\x1b[K${peer} closed the connection.\n`);
}
