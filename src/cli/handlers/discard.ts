/**
 * `serve --handler discard`: reads and drops; `--print` shows what arrives.
 *
 * @module
 */
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, printMessage } from "./_context.ts";
import { untilEnd } from "./_until_end.ts";

/** @param ctx The handler context. @returns The handler. */
export function discardHandler(ctx: HandlerContext): Handler {
  return async (conn) => {
    for await (const message of untilEnd(messages(conn, ctx), conn.signal, conn)) {
      if (ctx.print || ctx.hex) await printMessage(conn, message, ctx);
    }
  };
}
