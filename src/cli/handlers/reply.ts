/**
 * `serve --handler reply --text TEXT [--close]`: prints each message a client
 * sends, prefixed with its address, and answers TEXT (in `--encoding`); with
 * `--close`, closes after the first answer. The classic "print and reply" server.
 *
 * @module
 */
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, printMessage } from "./_context.ts";
import { untilEnd } from "./_until_end.ts";

/** @param ctx The handler context. @returns The handler. */
export function replyHandler(ctx: HandlerContext): Handler {
  const reply = ctx.encoding.encoder.encode(ctx.text);
  return async (conn) => {
    for await (const message of untilEnd(messages(conn, ctx), conn.signal, conn)) {
      await printMessage(conn, message, ctx);
      await conn.write(reply);
      if (ctx.closeAfterReply) return;
    }
  };
}
