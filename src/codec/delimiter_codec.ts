/**
 * Byte frames ended by one of several delimiters.
 *
 * @module
 */

import { ByteBuffer } from "./byte_buffer.ts";
import type { Codec, Decoder } from "./codec.ts";
import { DelimitedDecoder, type DelimitedOptions, findDelimiter } from "./_delimited.ts";

function indexOfBytes(haystack: Uint8Array, needle: Uint8Array): number {
  for (let i = 0; i + needle.length <= haystack.length; i++) {
    if (needle.every((byte, j) => haystack[i + j] === byte)) return i;
  }
  return -1;
}

/** Options of {@linkcode DelimiterCodec}. */
export interface DelimiterCodecOptions {
  /** The delimiter or delimiters; strings are encoded as UTF-8. `encode()` uses the first. */
  delimiters: string | Uint8Array | (string | Uint8Array)[];
  /**
   * The longest frame in bytes, not counting the delimiter.
   * @default {65536}
   */
  maxLength?: number;
  /**
   * Whether decoded frames leave out their delimiter.
   * @default {true}
   */
  stripDelimiter?: boolean;
  /**
   * What to do with a frame longer than `maxLength`: throw a
   * `FrameTooLargeError`, or discard it up to the next delimiter and go on.
   * @default {"error"}
   */
  onTooLong?: "error" | "skip";
}

/**
 * Frames bytes at delimiters, as Netty's `DelimiterBasedFrameDecoder`. When
 * several delimiters match, the match that ends first wins, and of those the
 * longest, so the frame is the shortest: with `"\r\n"` and `"\n"`, `"a\r\n"`
 * gives `"a"`. So a delimiter must not contain another one except at its
 * end (`"\r"` with `"\r\n"` is refused: `"\r"` would always end first). The
 * end of stream inside a frame is a `TruncatedFrameError`.
 *
 * @example Split at NUL or CRLF
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, DelimiterCodec } from "./mod.ts";
 *
 * const codec = new DelimiterCodec({ delimiters: ["\0", "\r\n"] });
 * const decoder = codec.createDecoder();
 * const buffer = new ByteBuffer();
 * buffer.push(new TextEncoder().encode("a\0b\r\n"));
 * assert.deepEqual(decoder.decode(buffer), new Uint8Array([97]));
 * assert.deepEqual(decoder.decode(buffer), new Uint8Array([98]));
 * assert.deepEqual(codec.encode(new Uint8Array([99])), new Uint8Array([99, 0]));
 * ```
 */
export class DelimiterCodec implements Codec<Uint8Array> {
  #options: DelimitedOptions;

  /**
   * Makes a delimiter codec.
   *
   * @param options The delimiters and limits.
   * @throws {RangeError} When there is no delimiter, one is empty or contains
   *   another one before its end, or `maxLength` is not a positive integer.
   */
  constructor(options: DelimiterCodecOptions) {
    const { maxLength = 65536, onTooLong = "error" } = options;
    const list = Array.isArray(options.delimiters) ? options.delimiters : [options.delimiters];
    const delimiters = list.map((d) =>
      typeof d === "string" ? new TextEncoder().encode(d) : d.slice()
    );
    if (delimiters.length === 0 || delimiters.some((d) => d.length === 0)) {
      throw new RangeError("DelimiterCodec needs at least one delimiter, none empty");
    }
    for (const a of delimiters) {
      for (const b of delimiters) {
        const at = indexOfBytes(b, a);
        if (at !== -1 && at + a.length < b.length) {
          throw new RangeError(
            `DelimiterCodec delimiter [${b}] can never match: [${a}] ends inside it`,
          );
        }
      }
    }
    if (!Number.isSafeInteger(maxLength) || maxLength < 1) {
      throw new RangeError(
        `DelimiterCodec maxLength must be a positive integer (got ${maxLength})`,
      );
    }
    if (onTooLong !== "error" && onTooLong !== "skip") {
      throw new TypeError(
        `DelimiterCodec onTooLong must be "error" or "skip" (got ${JSON.stringify(onTooLong)})`,
      );
    }
    this.#options = {
      delimiters,
      maxLength,
      skip: onTooLong === "skip",
      stripDelimiter: options.stripDelimiter ?? true,
      stripCR: false,
      allowUnterminatedLast: false,
      what: "frame",
      missing: "a delimiter",
    };
  }

  /**
   * Makes a decoder for one stream.
   *
   * @returns The decoder.
   */
  createDecoder(): Decoder<Uint8Array> {
    return new DelimitedDecoder(this.#options);
  }

  /**
   * Appends the first delimiter to a frame.
   *
   * @param frame The frame, without delimiter (also when `stripDelimiter` is false).
   * @returns The bytes.
   * @throws {RangeError} When the frame is longer than `maxLength` or a
   *   delimiter would end it early.
   */
  encode(frame: Uint8Array): Uint8Array {
    const { delimiters, maxLength } = this.#options;
    if (frame.length > maxLength) {
      throw new RangeError(
        `Cannot encode frame: length ${frame.length} exceeds maxLength ${maxLength}`,
      );
    }
    const out = new Uint8Array(frame.length + delimiters[0].length);
    out.set(frame);
    out.set(delimiters[0], frame.length);
    const probe = new ByteBuffer();
    probe.push(out);
    const match = findDelimiter(probe, delimiters, 0)!;
    if (match.end !== out.length || match.start !== frame.length) {
      throw new RangeError(
        `Cannot encode frame: it contains a delimiter ending at byte ${match.end}`,
      );
    }
    return out;
  }
}
