/**
 * Lines of text, in UTF-8, GBK or any encoding the runtime decodes.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";
import type { Codec, Decoder } from "./codec.ts";
import { DecodeError } from "../errors.ts";
import { DelimitedDecoder, type DelimitedOptions } from "./_delimited.ts";
import { protocolHint } from "./_hint.ts";
import {
  createTextDecoder,
  createTextEncoder,
  resolveEncoding,
  type TextChunkDecoder,
  type TextChunkEncoder,
} from "./text.ts";

/** Lines up to this many characters are tried as ASCII first in `encode()`. */
const SHORT_LINE = 128;
// Encodings with multi-byte characters whose trailing bytes include printable ASCII.
const MULTI_BYTE = ["gbk", "gb18030", "big5", "euc-jp", "iso-2022-jp", "shift_jis", "euc-kr"];

/** Options of {@linkcode LineCodec}. */
export interface LineCodecOptions {
  /**
   * The longest line in bytes, not counting the delimiter or a stripped `\r`.
   * @default {65536}
   */
  maxLength?: number;
  /**
   * What ends a line. With a multi-byte legacy encoding such as GBK it must be
   * made of ASCII control characters (such as `"\n"` or `"\0"`), because
   * printable ASCII bytes occur inside multi-byte characters.
   * @default {"\n"}
   */
  delimiter?: string;
  /**
   * Whether a `\r` before the delimiter is removed, so `\r\n` also ends a line.
   * @default {true}
   */
  stripCR?: boolean;
  /**
   * What to do with a line longer than `maxLength`: throw a
   * `FrameTooLargeError`, or discard it up to the next delimiter and go on.
   * @default {"error"}
   */
  onTooLong?: "error" | "skip";
  /**
   * Whether text after the last delimiter is a line at end of stream, instead
   * of a `TruncatedFrameError`.
   * @default {false}
   */
  allowUnterminatedLast?: boolean;
  /**
   * The encoding. Decoding takes any encoding the runtime's `TextDecoder`
   * knows except UTF-16; encoding takes UTF-8, GBK and GB18030.
   * @default {"utf-8"}
   */
  encoding?: string;
  /**
   * Whether invalid bytes throw a `DecodeError` (the line is consumed, so
   * decoding may go on) instead of becoming U+FFFD.
   * @default {true}
   */
  fatal?: boolean;
}

/**
 * Frames text as lines. A byte order mark is kept as U+FEFF, like any other
 * character.
 *
 * @example Read lines split across chunks, CRLF or LF, in GBK
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, LineCodec } from "./mod.ts";
 *
 * const codec = new LineCodec({ encoding: "gbk" });
 * const decoder = codec.createDecoder();
 * const buffer = new ByteBuffer();
 * buffer.push(new Uint8Array([0xc4, 0xe3, 0xba]));
 * assert.equal(decoder.decode(buffer), null);
 * buffer.push(new Uint8Array([0xc3, 0x0d, 0x0a]));
 * assert.equal(decoder.decode(buffer), "你好");
 * assert.deepEqual(codec.encode("你好"), new Uint8Array([0xc4, 0xe3, 0xba, 0xc3, 0x0a]));
 * ```
 */
export class LineCodec implements Codec<string> {
  #options: DelimitedOptions;
  #encoding: string;
  #fatal: boolean;
  #delimiter: string;
  #encoder: TextChunkEncoder | undefined;

  /**
   * Makes a line codec.
   *
   * @param options The limits, delimiter and encoding.
   * @throws {RangeError} When `maxLength` is not a positive integer, the delimiter
   *   is empty or unusable in the encoding, or the encoding is unknown or UTF-16.
   */
  constructor(options: LineCodecOptions = {}) {
    const { maxLength = 65536, delimiter = "\n", onTooLong = "error" } = options;
    if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
      throw new RangeError(`LineCodec maxLength must be a positive integer (got ${maxLength})`);
    }
    if (onTooLong !== "error" && onTooLong !== "skip") {
      throw new TypeError(
        `LineCodec onTooLong must be "error" or "skip" (got ${JSON.stringify(onTooLong)})`,
      );
    }
    this.#encoding = resolveEncoding(options.encoding ?? "utf-8");
    if (this.#encoding.startsWith("utf-16")) {
      throw new RangeError(`LineCodec needs an ASCII-compatible encoding (got ${this.#encoding})`);
    }
    this.#delimiter = delimiter;
    this.#fatal = options.fatal ?? true;
    this.#options = {
      delimiters: [this.#delimiterBytes(delimiter)],
      maxLength,
      skip: onTooLong === "skip",
      stripDelimiter: true,
      stripCR: options.stripCR ?? true,
      allowUnterminatedLast: options.allowUnterminatedLast ?? false,
      what: "line",
      missing: delimiter === "\n" ? "a newline" : `the delimiter ${JSON.stringify(delimiter)}`,
    };
  }

  /**
   * Makes a decoder for one stream.
   *
   * @returns The decoder.
   */
  createDecoder(): Decoder<string> {
    const text = createTextDecoder(this.#encoding, { fatal: this.#fatal, ignoreBOM: true });
    return new LineDecoder(new DelimitedDecoder(this.#options), text, this.#delimiter);
  }

  /**
   * Encodes a line and appends the delimiter.
   *
   * @param line The line, without delimiter.
   * @returns The bytes.
   * @throws {RangeError} When the line contains the delimiter, ends with `\r`
   *   (which `stripCR` would remove), is longer than `maxLength`, has a
   *   character the encoding lacks, or the encoding cannot be encoded.
   */
  encode(line: string): Uint8Array {
    const { delimiters: [delimiter], maxLength, stripCR } = this.#options;
    const encoder = this.#encoder ??= createTextEncoder(this.#encoding);
    const n = line.length;
    // A short ASCII line (most protocol lines) is copied char by char into the
    // output: ASCII is itself in every encoding here, and on V8 this costs a
    // third of TextEncoder plus a copy (BENCHMARKS.md). Anything else: below.
    if (n <= SHORT_LINE && n <= maxLength && delimiter.length === 1) {
      const out = new Uint8Array(n + 1);
      const end = delimiter[0];
      let i = 0;
      for (let c; i < n && (c = line.charCodeAt(i)) < 0x80 && c !== end; i++) out[i] = c;
      if (i === n && !(stripCR && out[n - 1] === 0x0d)) {
        out[n] = end;
        return out;
      }
    }
    if ((line + this.#delimiter).indexOf(this.#delimiter) !== line.length) {
      throw new RangeError(
        `Cannot encode line: it contains the delimiter ${JSON.stringify(this.#delimiter)}`,
      );
    }
    if (stripCR && line.endsWith("\r")) {
      throw new RangeError(`Cannot encode line: it ends with "\\r", which stripCR removes`);
    }
    const bytes = encoder.encode(line);
    if (bytes.length > maxLength) {
      throw new RangeError(
        `Cannot encode line: length ${bytes.length} exceeds maxLength ${maxLength}`,
      );
    }
    const out = new Uint8Array(bytes.length + delimiter.length);
    out.set(bytes);
    out.set(delimiter, bytes.length);
    return out;
  }

  #delimiterBytes(delimiter: string): Uint8Array {
    if (delimiter === "") throw new RangeError("LineCodec delimiter must not be empty");
    if (this.#encoding === "utf-8") return new TextEncoder().encode(delimiter);
    const limit = MULTI_BYTE.includes(this.#encoding) ? 0x21 : 0x80;
    const bytes = Uint8Array.from(delimiter, (c) => c.charCodeAt(0));
    if (
      bytes.length !== delimiter.length ||
      bytes.some((b, i) => b !== delimiter.charCodeAt(i) || b >= limit)
    ) {
      throw new RangeError(
        `LineCodec delimiter ${JSON.stringify(delimiter)} cannot be used with ${this.#encoding}: ` +
          `use ${limit === 0x21 ? "ASCII control characters" : "ASCII characters"}`,
      );
    }
    return bytes;
  }
}

class LineDecoder implements Decoder<string> {
  #bytes: DelimitedDecoder;
  #text: TextChunkDecoder;
  #delimiter: string;

  constructor(bytes: DelimitedDecoder, text: TextChunkDecoder, delimiter: string) {
    this.#bytes = bytes;
    this.#text = text;
    this.#delimiter = delimiter;
  }

  decode(buffer: ByteBuffer): string | null {
    return this.#toText(this.#bytes.decodeWhole(buffer));
  }

  decodeEof(buffer: ByteBuffer): string | null {
    return this.#toText(this.#bytes.decodeWholeEof(buffer));
  }

  /**
   * Decodes the whole frame and cuts the delimiter and CR off the text: the
   * same text (both are ASCII or whole UTF-8 characters, which end any partial
   * character before them), without a view of the bytes to cut them first.
   */
  #toText(frame: Uint8Array | null): string | null {
    if (frame === null) return null;
    let text: string;
    try {
      text = this.#text.decode(frame);
    } catch (error) {
      if (!(error instanceof DecodeError)) throw error;
      const line = this.#bytes.strip(frame)!;
      const detail = `${line.length} bytes are not valid ${this.#text.encoding}`;
      throw new DecodeError(`Cannot read line: its ${detail}${protocolHint(line)}`, {
        cause: error.cause,
      });
    }
    const cut = (this.#bytes.strippedDelimiter ? this.#delimiter.length : 0) +
      (this.#bytes.strippedCR ? 1 : 0);
    return cut === 0 ? text : text.slice(0, text.length - cut);
  }
}
