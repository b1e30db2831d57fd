/**
 * `serve --handler stdio`: like `nc -l`, the first client is joined to the
 * terminal: what the operator types goes to the client, what the client
 * sends is printed. `quit` typed on either side ends the session (the classic
 * two-way terminal chat); with `--keep-open` the server waits for the next
 * client, else it stops. Others are told the line is busy.
 *
 * @module
 */
import process from "node:process";
import { createInterface } from "node:readline";
import { formatAddr } from "../../_address.ts";
import type { Conn } from "../../conn/conn.ts";
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, shown } from "./_context.ts";
import { untilEnd } from "./_until_end.ts";

/** @param ctx The handler context. @returns The handler. */
export function stdioHandler(ctx: HandlerContext): Handler {
  let current: Conn | undefined;
  /** Ends the current session's read loop: the operator typed quit. */
  let quit: AbortController | undefined;
  let stdinEnded = false;
  const lines = createInterface({ input: process.stdin, terminal: false });
  lines.on("line", (line) => {
    if (!current) return ctx.log.warn("stdio-idle", "no client yet: the line was not sent");
    if (line.trim() === "quit") {
      ctx.log.info("stdio-quit", "you typed quit: ending the session");
      // The handler ends its loop and returns; the server then closes the connection.
      return void quit?.abort();
    }
    void current.write(ctx.encoding.encoder.encode(`${line}\n`)).catch(() => {});
  });
  lines.on("close", () => {
    stdinEnded = true;
    void current?.closeWrite().catch(() => {});
  });
  const stopIfDone = () => {
    if (!ctx.keepOpen) {
      lines.close();
      process.stdin.destroy();
      void ctx.server?.shutdown({ deadlineMs: 1000 });
    }
  };
  return async (conn) => {
    if (current) {
      await conn.write("tcpkit: busy with another client, try later\n");
      return;
    }
    current = conn;
    quit = new AbortController();
    const peer = formatAddr(conn.remoteAddr);
    ctx.log.info(
      "stdio-join",
      `${formatAddr(conn.remoteAddr)} is connected to this terminal; type quit to end`,
    );
    if (stdinEnded) await conn.closeWrite();
    try {
      const end = AbortSignal.any([conn.signal, quit.signal]);
      for await (const { text } of untilEnd(messages(conn, ctx, "line"), end)) {
        if (text.trim() === "quit") {
          ctx.log.info(
            "stdio-quit",
            `${formatAddr(conn.remoteAddr)} typed quit: ending the session`,
          );
          break;
        }
        // On a terminal, what arrives is marked with the peer, apart from what the operator types.
        const line = shown(`${text}\n`, ctx);
        await ctx.out.write(ctx.out.isTerminal ? `${peer}: ${line}` : line, conn);
      }
    } finally {
      current = undefined;
      stopIfDone();
    }
  };
}
