/**
 * `serve --handler chat`: a chat room on one event loop. Every line a client
 * sends goes to all the others, prefixed with its name (its address until
 * `/nick NAME`); joins and leaves are announced; `quit` or `/quit` says goodbye
 * and disconnects. The operator's terminal (stdout) sees everything.
 *
 * @module
 */
import { formatAddr } from "../../_address.ts";
import { BufferFullError } from "../../errors.ts";
import type { Conn } from "../../conn.ts";
import type { Handler } from "../../serve.ts";
import { type HandlerContext, messages, shown } from "./_context.ts";

/** @param ctx The handler context. @returns The handler. */
export function chatHandler(ctx: HandlerContext): Handler {
  const members = new Map<Conn, string>();
  const send = (conn: Conn, text: string) => {
    // Not awaited: a slow member must not hold up the room. Its queue is bounded
    // (maxWriteBuffer); one that overflows it is dropped.
    conn.write(ctx.encoding.encoder.encode(text)).catch((error) => {
      if (error instanceof BufferFullError) {
        ctx.log.warn("chat-drop", `${members.get(conn)} reads too slowly: dropped`);
        conn.abort(error);
      }
    });
  };
  const broadcast = (from: Conn | undefined, text: string) => {
    for (const member of members.keys()) if (member !== from) send(member, text);
    // Never waits: a stalled operator's stdout must not stall the room (dropped, counted).
    ctx.out.offer(shown(text, ctx));
  };
  return async (conn) => {
    let name = formatAddr(conn.remoteAddr);
    members.set(conn, name);
    send(
      conn,
      `Welcome, ${name}! ${members.size - 1} others here. /nick NAME to rename, quit to leave.\n`,
    );
    broadcast(conn, `* ${name} joined\n`);
    let said = "left";
    try {
      for await (const { text } of messages(conn, ctx, "line")) {
        const line = text.trim();
        if (line === "quit" || line === "/quit") {
          said = "quit";
          send(conn, `Goodbye, ${name}!\n`);
          break;
        }
        if (line.startsWith("/nick ")) {
          const next = line.slice(6).trim();
          if (!next) continue;
          broadcast(undefined, `* ${name} is now ${next}\n`);
          name = next;
          members.set(conn, name);
          continue;
        }
        broadcast(conn, `${name}: ${text}\n`);
      }
    } finally {
      members.delete(conn);
      broadcast(conn, `* ${name} ${said === "quit" ? "quit" : "left"}\n`);
    }
  };
}
