/**
 * `tcpkit serve`: an echo server that logs each connection and shuts down
 * gracefully on Ctrl-C or SIGTERM (a second Ctrl-C forces it).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { formatAddr } from "../_address.ts";
import { serve } from "../adapters/native.ts";
import type { Conn } from "../conn.ts";
import { log, logError, UsageError } from "./_output.ts";

const HELP = `Usage: tcpkit serve [options]

Runs an echo server: every byte a client sends is sent back.

Options:
  --hostname H   address to listen on (default 127.0.0.1; 0.0.0.0 for every IPv4 interface)
  --port P       port to listen on (default 7788; 0 picks a free one)
  -h, --help     show this help

Example:
  tcpkit serve --port 7788
  tcpkit connect 127.0.0.1 7788`;

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
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(HELP);
  const port = Number(values.port);
  if (!/^\d+$/.test(values.port) || port > 65535) {
    throw new UsageError(`--port must be a number between 0 and 65535 (got "${values.port}")`);
  }
  const server = await serve({
    hostname: values.hostname,
    port,
    handler: echo,
    onError: (error, conn) =>
      logError(new Error(`${formatAddr(conn.remoteAddr)}: ${(error as Error).message}`)),
  });
  const where = formatAddr(server.addr);
  log(`tcpkit: echo server listening on ${where}`);
  log(`tcpkit: try: tcpkit connect ${server.addr.hostname} ${server.addr.port}`);
  let stopping = false;
  const stop = async (signal: string) => {
    if (stopping) {
      log(`tcpkit: ${signal} again: stopping now`);
      process.exit(130);
    }
    stopping = true;
    log(
      `tcpkit: ${signal}: shutting down (${server.stats.active} open connections; again to force)`,
    );
    const { finished, aborted } = await server.shutdown({ deadlineMs: 5000 });
    log(
      `tcpkit: stopped: ${server.stats.accepted} connections served, ${finished} finished, ${aborted} aborted`,
    );
    process.removeListener("SIGINT", onInt);
    process.removeListener("SIGTERM", onTerm);
  };
  const onInt = () => void stop("SIGINT");
  const onTerm = () => void stop("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  await server.finished;
}

async function echo(conn: Conn): Promise<void> {
  const peer = formatAddr(conn.remoteAddr);
  const started = Date.now();
  let bytes = 0;
  log(`tcpkit: open ${peer}`);
  try {
    for await (const chunk of conn) {
      bytes += chunk.length;
      await conn.write(chunk);
    }
  } finally {
    log(
      `tcpkit: close ${peer}: echoed ${bytes} bytes in ${
        ((Date.now() - started) / 1000).toFixed(1)
      } s`,
    );
  }
}
