/**
 * `serve --handler chat`: a chat room on one event loop. Every line a client
 * sends goes to all the others, prefixed with its name (its address until
 * `/nick NAME`); joins and leaves are announced; `/who` lists who is here,
 * `/help` the commands; `quit` or `/quit` says goodbye and disconnects. At
 * shutdown every member is told before the room closes. The operator's
 * terminal (stdout) sees everything.
 *
 * @module
 */
import { formatAddr } from "../../_address.ts";
import { BufferFullError } from "../../errors.ts";
import type { Conn } from "../../conn/conn.ts";
import { type Handler, ShutdownSignal } from "../../serve.ts";
import { type HandlerContext, messages, shown } from "./_context.ts";
import { untilEnd } from "./_until_end.ts";

const HELP = "Commands: /nick NAME renames you, /who lists who is here, quit leaves.\n";

const others = (n: number) => `${n} ${n === 1 ? "other" : "others"} here`;

/** @param ctx The handler context. @returns The handler. */
export function chatHandler(ctx: HandlerContext): Handler {
  const members = new Map<Conn, string>();
  const dropped = new Set<Conn>();
  const send = (conn: Conn, text: string) => {
    // Not awaited: a slow member must not hold up the room. Its queue is bounded
    // (maxWriteBuffer); one that overflows it is dropped, and logged once.
    conn.write(ctx.encoding.encoder.encode(text)).catch((error) => {
      if (error instanceof BufferFullError && !dropped.has(conn)) {
        dropped.add(conn);
        ctx.log.warn("chat-drop", `${members.get(conn)} reads too slowly: dropped`);
        conn.abort(error);
      }
    });
  };
  const broadcast = (from: Conn | undefined, text: string) => {
    for (const member of members.keys()) {
      if (member !== from && !dropped.has(member)) send(member, text);
    }
    // Never waits: a stalled operator's stdout must not stall the room (dropped, counted).
    ctx.out.offer(shown(text, ctx));
  };
  return async (conn) => {
    let name = formatAddr(conn.remoteAddr);
    members.set(conn, name);
    send(
      conn,
      `Welcome, ${name}! ${others(members.size - 1)}. /help for commands, quit to leave.\n`,
    );
    broadcast(conn, `* ${name} joined\n`);
    let said = "left";
    try {
      for await (const { text } of untilEnd(messages(conn, ctx, "line"), conn.signal, conn)) {
        const line = text.trim();
        if (line === "quit" || line === "/quit") {
          said = "quit";
          send(conn, `Goodbye, ${name}!\n`);
          break;
        }
        if (line === "/help") {
          send(conn, HELP);
        } else if (line === "/who") {
          send(conn, `Here: ${[...members.values()].join(", ")}\n`);
        } else if (line === "/nick" || line.startsWith("/nick ")) {
          const next = line.slice(5).trim();
          if (!next) {
            send(conn, `You are ${name}. /nick NAME renames you.\n`);
            continue;
          }
          broadcast(undefined, `* ${name} is now ${next}\n`);
          name = next;
          members.set(conn, name);
        } else if (line.startsWith("/")) {
          send(conn, `Unknown command ${line.split(/\s/)[0]}. ${HELP}`);
        } else {
          broadcast(conn, `${name}: ${text}\n`);
        }
      }
      if (said !== "quit" && conn.signal.reason instanceof ShutdownSignal) {
        said = "shutdown";
        send(conn, "* The server is shutting down. Goodbye!\n");
      }
    } finally {
      members.delete(conn);
      dropped.delete(conn);
      if (said !== "shutdown") broadcast(conn, `* ${name} ${said === "quit" ? "quit" : "left"}\n`);
    }
  };
}
