/**
 * What every `serve` handler gets: the options the user gave, the logger,
 * and helpers to read messages and print what arrives.
 *
 * @module
 */
import { formatAddr } from "../../_address.ts";
import { LineCodec } from "../../codec/line_codec.ts";
import type { Conn } from "../../conn.ts";
import type { Server } from "../../serve.ts";
import type { Addr } from "../../transport.ts";
import { hexdump } from "../_hexdump.ts";
import type { Encoding } from "../_options.ts";
import { type Logger, writeStdout } from "../_output.ts";

/** The options and tools of a `serve` handler. */
export interface HandlerContext {
  log: Logger;
  encoding: Encoding;
  /** Print what arrives (`--print`). */
  print: boolean;
  /** Print what arrives as a hex dump (`--hex`). */
  hex: boolean;
  framing: "raw" | "line";
  maxLine: number;
  /** `--text` for `reply`. */
  text: string;
  /** `--close` for `reply`. */
  closeAfterReply: boolean;
  /** `--keep-open` for `stdio`. */
  keepOpen: boolean;
  /** The server, once it runs (for handlers that stop it). */
  server?: Server<Addr>;
}

/** A message from a client: a chunk (`--framing raw`) or a line (`--framing line`). */
export interface Message {
  bytes: Uint8Array;
  text: string;
}

/**
 * Reads a connection's messages, decoded with `--encoding`.
 *
 * @param conn The connection.
 * @param ctx The handler context.
 * @param framing Overrides `--framing`.
 */
export async function* messages(
  conn: Conn,
  ctx: HandlerContext,
  framing: "raw" | "line" = ctx.framing,
): AsyncGenerator<Message> {
  if (framing === "line") {
    const codec = new LineCodec({
      maxLength: ctx.maxLine,
      encoding: ctx.encoding.name,
      fatal: false,
      allowUnterminatedLast: true,
    });
    for await (const text of conn.frames(codec)) {
      yield { text, bytes: ctx.encoding.encoder.encode(`${text}\n`) };
    }
    return;
  }
  const decoder = ctx.encoding.decoder();
  for await (const bytes of conn) yield { bytes, text: decoder.decode(bytes, { stream: true }) };
}

/**
 * Prints a message on stdout, prefixed with the peer's address: as text, or
 * as a hex dump with `--hex`.
 *
 * @param conn The connection it came from.
 * @param message The message.
 * @param ctx The handler context.
 */
export function printMessage(conn: Conn, message: Message, ctx: HandlerContext): Promise<void> {
  const peer = formatAddr(conn.remoteAddr);
  if (ctx.hex) {
    return writeStdout(`${peer} sent ${message.bytes.length} bytes:\n${hexdump(message.bytes)}`);
  }
  const text = message.text.endsWith("\n") ? message.text : `${message.text}\n`;
  return writeStdout(`${peer}: ${text}`);
}
