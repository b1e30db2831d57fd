/**
 * `tcpkit connect HOST PORT`: like netcat, stdin goes to the socket and the
 * socket to stdout, byte for byte. At the end of stdin it half-closes and keeps
 * printing until the server closes.
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { connect } from "../adapters/native.ts";
import type { Conn } from "../conn.ts";
import { UsageError, writeStdout } from "./_output.ts";

const HELP = `Usage: tcpkit connect HOST PORT

Connects to HOST:PORT; stdin goes to the server, what it sends goes to stdout.
At the end of stdin the sending side is closed (half-close) and tcpkit keeps
printing until the server closes. Exit code 0 on a clean close, 1 on an error.

Options:
  -h, --help   show this help

Example:
  echo hello | tcpkit connect 127.0.0.1 7788`;

/**
 * Runs `tcpkit connect`.
 *
 * @param args The arguments after `connect`.
 */
export async function runConnect(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: { help: { type: "boolean", short: "h" } },
  });
  if (values.help) return void console.log(HELP);
  if (positionals.length !== 2) {
    throw new UsageError(`connect needs HOST and PORT (got ${positionals.length} arguments)`);
  }
  const [hostname, portText] = positionals;
  const port = Number(portText);
  if (!/^\d+$/.test(portText) || port < 1 || port > 65535) {
    throw new UsageError(`PORT must be a number between 1 and 65535 (got "${portText}")`);
  }
  const conn = await connect({ hostname, port });
  try {
    void sendStdin(conn);
    for await (const chunk of conn) await writeStdout(chunk);
    await conn.close();
  } finally {
    // The server has finished (or failed): stop reading stdin too.
    process.stdin.destroy();
    conn.abort();
  }
}

async function sendStdin(conn: Conn): Promise<void> {
  try {
    for await (const chunk of process.stdin) {
      await conn.write(new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength));
    }
    await conn.closeWrite();
  } catch {
    // The connection ended while sending: reading it reports why.
  }
}
