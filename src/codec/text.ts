/**
 * Text in every WHATWG encoding, in chunks: decoding never splits a
 * multi-byte character across chunk boundaries, and encoding covers UTF-8,
 * GBK and GB18030 with no dependency: their tables are built on first use
 * from the runtime's own GB18030 decoder, once per process (measured: 6-11 ms
 * for GBK, 6-18 ms more for GB18030's four-byte codes, on Deno, Bun and Node).
 *
 * @module
 */

import { DecodeError } from "../errors.ts";
import { encodeGb } from "./_gb18030.ts";

/** Options of {@linkcode createTextDecoder}. */
export interface CreateTextDecoderOptions {
  /**
   * Whether invalid bytes throw a `DecodeError` instead of becoming U+FFFD.
   * @default {true}
   */
  fatal?: boolean;
  /**
   * Whether a byte order mark at the start is kept as U+FEFF.
   * @default {false}
   */
  ignoreBOM?: boolean;
}

/** Decodes text that arrives in chunks. */
export interface TextChunkDecoder {
  /** The encoding's canonical name, such as `"gbk"`. */
  readonly encoding: string;
  /**
   * Decodes a chunk.
   *
   * @param bytes The chunk; omit it to end the text.
   * @param options `stream: true` while more chunks follow: an incomplete
   *   character at the end waits for the next chunk.
   * @returns The text decoded so far.
   * @throws {DecodeError} When the bytes are invalid and the decoder is fatal.
   */
  decode(bytes?: Uint8Array, options?: { stream?: boolean }): string;
}

/** Options of {@linkcode createTextEncoder} and {@linkcode encodeText}. */
export interface EncodeTextOptions {
  /**
   * What to do with a character the encoding lacks (GBK has no emoji, for
   * example): throw a `RangeError`, or write `?`.
   * @default {"error"}
   */
  unencodable?: "error" | "replace";
}

/** Encodes text in one encoding. */
export interface TextChunkEncoder {
  /** The encoding's canonical name, such as `"gbk"`. */
  readonly encoding: string;
  /**
   * Encodes text.
   *
   * @param text The text.
   * @returns The bytes.
   * @throws {RangeError} When a character cannot be encoded.
   */
  encode(text: string): Uint8Array;
}

/**
 * Returns the canonical name of an encoding label.
 *
 * @param label A WHATWG label, such as `"GB2312"` or `"utf8"`.
 * @returns The canonical name, such as `"gbk"` or `"utf-8"`.
 * @throws {RangeError} When the label is unknown or the runtime lacks the encoding.
 *
 * @example Resolve a label
 * ```ts
 * import assert from "node:assert/strict";
 * import { resolveEncoding } from "./text.ts";
 *
 * assert.equal(resolveEncoding("GB2312"), "gbk");
 * ```
 */
export function resolveEncoding(label: string): string {
  try {
    return new TextDecoder(label).encoding;
  } catch (error) {
    const message =
      `Unknown or unsupported encoding "${label}": this runtime's TextDecoder lacks it`;
    throw new RangeError(message, { cause: error });
  }
}

/**
 * Makes a decoder for text that arrives in chunks, in any encoding the
 * runtime's `TextDecoder` supports (UTF-8, GBK, GB18030, Big5, Shift_JIS...).
 * GBK is decoded by the GB18030 decoder, as the Encoding Standard defines it
 * (Node 20's own `"gbk"` decoder differs: it lacks four-byte codes).
 *
 * @param encoding The encoding label.
 * @param options Whether invalid bytes throw, whether to keep a BOM.
 * @returns The decoder; after a `DecodeError` it starts afresh.
 * @throws {RangeError} When the label is unknown or the runtime lacks the encoding.
 *
 * @example Decode GBK split inside a character
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTextDecoder } from "./text.ts";
 *
 * const decoder = createTextDecoder("gbk");
 * let text = decoder.decode(new Uint8Array([0xc4, 0xe3, 0xba]), { stream: true });
 * text += decoder.decode(new Uint8Array([0xc3]));
 * assert.equal(text, "你好");
 * ```
 */
export function createTextDecoder(
  encoding = "utf-8",
  options: CreateTextDecoderOptions = {},
): TextChunkDecoder {
  const name = resolveEncoding(encoding);
  // The standard's GBK decoder is the GB18030 one; Node 20's "gbk" is not.
  const label = name === "gbk" ? "gb18030" : name;
  const settings = { fatal: options.fatal ?? true, ignoreBOM: options.ignoreBOM ?? false };
  let decoder = new TextDecoder(label, settings);
  return {
    encoding: name,
    decode(bytes?: Uint8Array, options?: { stream?: boolean }): string {
      if (!settings.fatal) return decoder.decode(bytes, options);
      try {
        return decoder.decode(bytes, options);
      } catch (error) {
        decoder = new TextDecoder(label, settings);
        throw new DecodeError(`Cannot decode text: the bytes are not valid ${name}`, {
          cause: error,
        });
      }
    },
  };
}

/**
 * Makes an encoder for UTF-8 (the platform's `TextEncoder`), GBK or GB18030.
 * GBK and GB18030 follow the WHATWG Encoding Standard; their tables are built
 * on first use from the runtime's own decoder.
 *
 * @param encoding The encoding label.
 * @param options What to do with unencodable characters.
 * @returns The encoder.
 * @throws {RangeError} When the encoding is not UTF-8, GBK or GB18030.
 *
 * @example Encode GBK
 * ```ts
 * import assert from "node:assert/strict";
 * import { createTextEncoder } from "./text.ts";
 *
 * const encoder = createTextEncoder("gbk", { unencodable: "replace" });
 * assert.deepEqual(encoder.encode("你好😀"), new Uint8Array([0xc4, 0xe3, 0xba, 0xc3, 0x3f]));
 * ```
 */
export function createTextEncoder(
  encoding = "utf-8",
  options: EncodeTextOptions = {},
): TextChunkEncoder {
  const name = resolveEncoding(encoding);
  const replace = options.unencodable === "replace";
  if (name === "utf-8") {
    const encoder = new TextEncoder();
    return { encoding: name, encode: (text: string): Uint8Array => encoder.encode(text) };
  }
  if (name === "gbk" || name === "gb18030") {
    const gbk = name === "gbk";
    return { encoding: name, encode: (text: string): Uint8Array => encodeGb(text, gbk, replace) };
  }
  throw new RangeError(
    `Cannot encode text in ${name}: tcpkit encodes only utf-8, gbk and gb18030`,
  );
}

/**
 * Encodes text in UTF-8, GBK or GB18030.
 *
 * @param text The text.
 * @param encoding The encoding label.
 * @param options What to do with unencodable characters.
 * @returns The bytes.
 * @throws {RangeError} When the encoding is not supported or a character cannot be encoded.
 *
 * @example Encode a greeting in GB18030
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeText } from "./text.ts";
 *
 * assert.deepEqual(encodeText("你好", "gb18030"), new Uint8Array([0xc4, 0xe3, 0xba, 0xc3]));
 * ```
 */
export function encodeText(
  text: string,
  encoding = "utf-8",
  options?: EncodeTextOptions,
): Uint8Array {
  return createTextEncoder(encoding, options).encode(text);
}
