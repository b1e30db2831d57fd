/**
 * `serve --handler echo`: sends every byte back (or every line, with `--framing line`).
 *
 * @module
 */
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, printMessage } from "./_context.ts";

/** @param ctx The handler context. @returns The handler. */
export function echoHandler(ctx: HandlerContext): Handler {
  return async (conn) => {
    if (!ctx.print && !ctx.hex && ctx.framing === "raw") {
      // tcpkit's own loop; on Deno it reads bulk into one reused buffer.
      return conn.readable.pipeTo(conn.writable);
    }
    for await (const message of messages(conn, ctx)) {
      if (ctx.print || ctx.hex) await printMessage(conn, message, ctx);
      await conn.write(message.bytes);
    }
  };
}
