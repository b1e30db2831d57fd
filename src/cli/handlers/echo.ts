/**
 * `serve --handler echo`: sends every byte back (or every line, with `--framing line`).
 *
 * @module
 */
import { READS_INTO } from "../../conn/_streams.ts";
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, printMessage } from "./_context.ts";
import { untilAborted, untilEnd } from "./_until_end.ts";

/** @param ctx The handler context. @returns The handler. */
export function echoHandler(ctx: HandlerContext): Handler {
  return async (conn) => {
    if (!ctx.print && !ctx.hex && ctx.framing === "raw") {
      // At shutdown (conn.signal) the handler returns; what was read is still sent before the close.
      const { signal } = conn;
      if (conn[READS_INTO]) {
        // Deno's own transport: the pipe reads bulk into one reused buffer (forEach cannot).
        return conn.readable.pipeTo(conn.writable, {
          signal,
          preventAbort: true,
          preventCancel: true,
        })
          .catch((error) => {
            if (!signal.aborted || error !== signal.reason) throw error;
          });
      }
      // Each chunk is answered from the runtime's data callback, with no promise per read.
      return untilAborted(conn.forEach((chunk) => conn.write(chunk)), signal, conn);
    }
    for await (const message of untilEnd(messages(conn, ctx), conn.signal, conn)) {
      if (ctx.print || ctx.hex) await printMessage(conn, message, ctx);
      await conn.write(message.bytes);
    }
  };
}
