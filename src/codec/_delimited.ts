/**
 * The byte-level decoder shared by `LineCodec` and `DelimiterCodec`.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";
import type { Decoder } from "./codec.ts";
import { FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { protocolHint } from "./_hint.ts";

/** Where a delimiter was found. */
export interface DelimiterMatch {
  /** The position of its first byte. */
  start: number;
  /** The position after its last byte. */
  end: number;
}

/**
 * Finds the delimiter match that ends first; among matches ending at the same
 * byte, the longest (so the frame is the shortest). Because the first match to
 * end wins, the result does not depend on how the bytes were cut into chunks.
 *
 * @param buffer The bytes.
 * @param delimiters The delimiters, none empty.
 * @param searched A buffer length already searched without a match.
 * @returns The match, or `null`.
 */
export function findDelimiter(
  buffer: ByteBuffer,
  delimiters: Uint8Array[],
  searched: number,
): DelimiterMatch | null {
  let match: DelimiterMatch | null = null;
  for (const delimiter of delimiters) {
    const start = buffer.indexOf(delimiter, searched - delimiter.length + 1);
    const end = start + delimiter.length;
    if (
      start !== -1 &&
      (match === null || end < match.end || (end === match.end && start < match.start))
    ) {
      match = { start, end };
    }
  }
  return match;
}

/** How a {@linkcode DelimitedDecoder} works. */
export interface DelimitedOptions {
  delimiters: Uint8Array[];
  maxLength: number;
  skip: boolean;
  stripDelimiter: boolean;
  stripCR: boolean;
  allowUnterminatedLast: boolean;
  /** `"line"` or `"frame"`, for messages. */
  what: string;
  /** Such as `"a newline"`, for messages. */
  missing: string;
}

/** Splits bytes at delimiters, bounded by `maxLength` (not counting the delimiter or a stripped CR). */
export class DelimitedDecoder implements Decoder<Uint8Array> {
  #options: DelimitedOptions;
  #longest: number;
  #slack: number; // a stripped "\r" does not count towards maxLength
  #searched = 0;
  #skipping = false;
  /** Whether the last whole frame ends with the delimiter that `decode()` strips. */
  strippedDelimiter = false;
  /** Its length in bytes. */
  #delimiterLength = 0;
  /** Whether it ends with a `\r` that `decode()` strips (before the delimiter, if any). */
  strippedCR = false;

  constructor(options: DelimitedOptions) {
    this.#options = options;
    this.#longest = Math.max(...options.delimiters.map((d) => d.length));
    this.#slack = options.stripCR ? 1 : 0;
  }

  decode(buffer: ByteBuffer): Uint8Array | null {
    return this.strip(this.decodeWhole(buffer));
  }

  decodeEof(buffer: ByteBuffer): Uint8Array | null {
    return this.strip(this.decodeWholeEof(buffer));
  }

  /**
   * As `decode()`, but the frame keeps what `decode()` strips (see
   * `strippedDelimiter`, `strippedCR`): a view made only to strip it costs
   * ~250 ns on JavaScriptCore, and a text decoder can drop it from the text.
   */
  decodeWhole(buffer: ByteBuffer): Uint8Array | null {
    const { maxLength, skip } = this.#options;
    for (;;) {
      if (this.#searched > buffer.length) this.#searched = 0;
      const match = findDelimiter(buffer, this.#options.delimiters, this.#searched);
      this.#searched = match === null ? buffer.length : 0;
      if (this.#skipping) {
        if (match === null) {
          const keep = Math.min(buffer.length, this.#longest - 1);
          buffer.skip(buffer.length - keep);
          this.#searched = keep;
          return null;
        }
        buffer.skip(match.end);
        this.#skipping = false;
      } else if (match === null) {
        // The earliest a delimiter can still start.
        if (buffer.length - this.#longest + 1 - this.#slack <= maxLength) return null;
        if (!skip) {
          throw this.#tooLarge(
            buffer,
            `more than ${maxLength} bytes without ${this.#options.missing}`,
          );
        }
        this.#skipping = true;
      } else if (match.start - this.#slack > maxLength) {
        const error = this.#tooLarge(
          buffer,
          `length ${match.start} exceeds maxLength ${maxLength}`,
        );
        buffer.skip(match.end);
        if (!skip) throw error;
      } else {
        const frame = buffer.take(match.end);
        const length = this.#contentLength(frame, match.start);
        if (length <= maxLength) {
          this.strippedDelimiter = this.#options.stripDelimiter;
          this.#delimiterLength = match.end - match.start;
          this.strippedCR = this.strippedDelimiter && length < match.start;
          return frame;
        }
        if (!skip) throw this.#tooLarge(frame, `length ${length} exceeds maxLength ${maxLength}`);
      }
    }
  }

  /** As `decodeEof()`, keeping what it strips, as {@linkcode decodeWhole} does. */
  decodeWholeEof(buffer: ByteBuffer): Uint8Array | null {
    const frame = this.decodeWhole(buffer);
    if (frame !== null) return frame;
    if (this.#skipping) {
      this.#skipping = false;
      buffer.clear();
    }
    if (buffer.length === 0) return null;
    const { what, missing, maxLength } = this.#options;
    if (!this.#options.allowUnterminatedLast) {
      throw new TruncatedFrameError(
        `Cannot read ${what}: stream ended after ${buffer.length} bytes without ${missing}`,
      );
    }
    const rest = buffer.take(buffer.length);
    const length = this.#contentLength(rest, rest.length);
    if (length <= maxLength) {
      this.strippedDelimiter = false;
      this.strippedCR = length < rest.length;
      return rest;
    }
    if (this.#options.skip) return null;
    throw this.#tooLarge(rest, `length ${length} exceeds maxLength ${maxLength}`);
  }

  /** The last whole frame without what `decode()` strips. */
  strip(frame: Uint8Array | null): Uint8Array | null {
    if (frame === null || !(this.strippedDelimiter || this.strippedCR)) return frame;
    const end = this.strippedDelimiter ? frame.length - this.#delimiterLength : frame.length;
    return frame.subarray(0, this.strippedCR ? end - 1 : end);
  }

  #contentLength(frame: Uint8Array, length: number): number {
    return this.#slack && length > 0 && frame[length - 1] === 0x0d ? length - 1 : length;
  }

  #tooLarge(bytes: ByteBuffer | Uint8Array, detail: string): FrameTooLargeError {
    return new FrameTooLargeError(
      `Cannot read ${this.#options.what}: ${detail}${protocolHint(bytes)}`,
    );
  }
}
