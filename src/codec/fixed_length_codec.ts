/**
 * Frames of one fixed length.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";
import type { Codec, Decoder } from "./codec.ts";
import { TruncatedFrameError } from "../errors.ts";

/** Options of {@linkcode FixedLengthCodec}. */
export interface FixedLengthCodecOptions {
  /** The length of every frame in bytes. */
  frameLength: number;
}

/**
 * Frames bytes in blocks of `frameLength` bytes. The end of stream inside a
 * block is a `TruncatedFrameError`.
 *
 * @example Read 4-byte records
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, FixedLengthCodec } from "./mod.ts";
 *
 * const decoder = new FixedLengthCodec({ frameLength: 4 }).createDecoder();
 * const buffer = new ByteBuffer();
 * buffer.push(new Uint8Array([1, 2, 3, 4, 5]));
 * assert.deepEqual(decoder.decode(buffer), new Uint8Array([1, 2, 3, 4]));
 * assert.equal(decoder.decode(buffer), null);
 * ```
 */
export class FixedLengthCodec implements Codec<Uint8Array> {
  #frameLength: number;

  /**
   * Makes a fixed length codec.
   *
   * @param options The frame length.
   * @throws {RangeError} When `frameLength` is not a positive integer.
   */
  constructor(options: FixedLengthCodecOptions) {
    const { frameLength } = options;
    if (!Number.isSafeInteger(frameLength) || frameLength < 1) {
      throw new RangeError(
        `FixedLengthCodec frameLength must be a positive integer (got ${frameLength})`,
      );
    }
    this.#frameLength = frameLength;
  }

  /**
   * Makes a decoder for one stream.
   *
   * @returns The decoder.
   */
  createDecoder(): Decoder<Uint8Array> {
    const n = this.#frameLength;
    const decode = (buffer: ByteBuffer): Uint8Array | null =>
      buffer.length >= n ? buffer.take(n) : null;
    return {
      decode,
      decodeEof(buffer: ByteBuffer): Uint8Array | null {
        const frame = decode(buffer);
        if (frame !== null || buffer.length === 0) return frame;
        throw new TruncatedFrameError(
          `Cannot read frame: stream ended after ${buffer.length} of ${n} bytes`,
        );
      },
    };
  }

  /**
   * Checks a frame's length and returns it as is.
   *
   * @param frame Exactly `frameLength` bytes.
   * @returns The same bytes.
   * @throws {RangeError} When the frame has another length.
   */
  encode(frame: Uint8Array): Uint8Array {
    if (frame.length !== this.#frameLength) {
      throw new RangeError(
        `Cannot encode frame: length ${frame.length} is not frameLength ${this.#frameLength}`,
      );
    }
    return frame;
  }
}
