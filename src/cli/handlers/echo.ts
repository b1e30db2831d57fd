/**
 * `serve --handler echo`: sends every byte back (or every line, with `--framing line`).
 *
 * @module
 */
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, printMessage } from "./_context.ts";
import { untilEnd } from "./_until_end.ts";

/** @param ctx The handler context. @returns The handler. */
export function echoHandler(ctx: HandlerContext): Handler {
  return async (conn) => {
    if (!ctx.print && !ctx.hex && ctx.framing === "raw") {
      // tcpkit's own loop; on Deno it reads bulk into one reused buffer.
      // At shutdown (conn.signal) the loop stops; what was read is still sent before the close.
      const { signal } = conn;
      return conn.readable.pipeTo(conn.writable, {
        signal,
        preventAbort: true,
        preventCancel: true,
      })
        .catch((error) => {
          if (!signal.aborted || error !== signal.reason) throw error;
        });
    }
    for await (const message of untilEnd(messages(conn, ctx), conn.signal)) {
      if (ctx.print || ctx.hex) await printMessage(conn, message, ctx);
      await conn.write(message.bytes);
    }
  };
}
