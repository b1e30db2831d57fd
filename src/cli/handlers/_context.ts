/**
 * What every `serve` handler gets: the options the user gave, the logger,
 * and helpers to read messages and print what arrives.
 *
 * @module
 */
import { formatAddr } from "../../_address.ts";
import { DelimitedDecoder } from "../../codec/_delimited.ts";
import type { Codec } from "../../codec/codec.ts";
import type { Conn } from "../../conn/conn.ts";
import type { Server } from "../../serve.ts";
import type { Addr } from "../../transport.ts";
import { escapeControls } from "../_escape.ts";
import { hexdump } from "../_hexdump.ts";
import type { Encoding } from "../_options.ts";
import type { Logger } from "../_output.ts";
import type { OutputWriter } from "../_stdout.ts";

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
  /** Where what arrives is shown: stdout, bounded and asynchronous. */
  out: OutputWriter;
  /** `--raw`: show peers' text as sent, control characters included, even on a terminal. */
  raw: boolean;
  /** The server, once it runs (for handlers that stop it). */
  server?: Server<Addr>;
}

/** A message from a client: a chunk (`--framing raw`) or a line (`--framing line`). */
export interface Message {
  /** The bytes as they arrived, a line's delimiter included. */
  bytes: Uint8Array;
  /** The bytes decoded with `--encoding`, for display (a line without its `\n` or `\r\n`). */
  text: string;
}

/** Lines as the exact bytes that arrived, `\n` included; the last may lack it. */
function wireLines(maxLength: number): Codec<Uint8Array> {
  return {
    createDecoder() {
      const lines = new DelimitedDecoder({
        delimiters: [new Uint8Array([0x0a])],
        maxLength,
        skip: false,
        stripDelimiter: false,
        stripCR: true, // a "\r" before the "\n" does not count towards maxLength
        allowUnterminatedLast: true,
        what: "line",
        missing: "a newline",
      });
      return { decode: (b) => lines.decodeWhole(b), decodeEof: (b) => lines.decodeWholeEof(b) };
    },
    encode: (line) => line,
  };
}

/**
 * Reads a connection's messages: the bytes as they arrived, and their text
 * decoded with `--encoding` (invalid bytes become U+FFFD in the text only).
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
  const decoder = ctx.encoding.decoder();
  if (framing === "line") {
    for await (const bytes of conn.frames(wireLines(ctx.maxLine))) {
      const text = decoder.decode(bytes);
      yield {
        bytes,
        text: text.endsWith("\n") ? text.slice(0, text.endsWith("\r\n") ? -2 : -1) : text,
      };
    }
    return;
  }
  for await (const bytes of conn) yield { bytes, text: decoder.decode(bytes, { stream: true }) };
}

/**
 * A peer's text as it is shown: control characters escaped on a terminal,
 * unless `--raw`; as decoded on a pipe or a file.
 *
 * @param text The text.
 * @param ctx The handler context.
 * @returns The text to write.
 */
export function shown(text: string, ctx: HandlerContext): string {
  return ctx.out.isTerminal && !ctx.raw ? escapeControls(text) : text;
}

/**
 * Prints a message on stdout, prefixed with the peer's address: as text, or
 * as a hex dump of the bytes that arrived with `--hex`. Waits while this
 * connection's earlier output is still queued (backpressure on it alone).
 *
 * @param conn The connection it came from.
 * @param message The message.
 * @param ctx The handler context.
 */
export function printMessage(conn: Conn, message: Message, ctx: HandlerContext): Promise<void> {
  const peer = formatAddr(conn.remoteAddr);
  if (ctx.hex) {
    return ctx.out.write(
      `${peer} sent ${message.bytes.length} bytes:\n${hexdump(message.bytes)}`,
      conn,
    );
  }
  const text = message.text.endsWith("\n") ? message.text : `${message.text}\n`;
  return ctx.out.write(`${peer}: ${shown(text, ctx)}`, conn);
}
