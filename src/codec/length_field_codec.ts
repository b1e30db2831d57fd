/**
 * Byte frames with a length field, as Netty's `LengthFieldBasedFrameDecoder`.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";
import type { Codec, Decoder } from "./codec.ts";
import { CorruptFrameError, FrameTooLargeError, TruncatedFrameError } from "../errors.ts";
import { protocolHint } from "./_hint.ts";

/** Options of {@linkcode LengthFieldCodec}, with Netty's meaning for each. */
export interface LengthFieldCodecOptions {
  /** The size of the length field in bytes; 8-byte values above 2^53 - 1 are too large. */
  lengthFieldLength: 1 | 2 | 3 | 4 | 8;
  /**
   * Where the length field starts; `encode()` writes zeros before it.
   * @default {0}
   */
  lengthFieldOffset?: number;
  /**
   * Added to the length field to get the number of bytes after the field:
   * frame length = `lengthFieldOffset + lengthFieldLength + value + lengthAdjustment`.
   * @default {0}
   */
  lengthAdjustment?: number;
  /**
   * A shorthand: `true` means the value counts the whole frame, header
   * included (`lengthAdjustment = -(lengthFieldOffset + lengthFieldLength)`).
   * Give this or `lengthAdjustment`, not both.
   */
  lengthIncludesHeader?: boolean;
  /**
   * How many bytes to remove from the start of each decoded frame.
   * @default {lengthFieldOffset + lengthFieldLength}
   */
  initialBytesToStrip?: number;
  /**
   * The byte order of the length field.
   * @default {"big"}
   */
  byteOrder?: "big" | "little";
  /**
   * The longest frame in bytes, **header included**, before stripping.
   * @default {8388608}
   */
  maxFrameLength?: number;
}

function checkInteger(name: string, value: number, min: number): void {
  if (typeof value !== "number") {
    throw new TypeError(`LengthFieldCodec ${name} must be a number (got ${typeof value})`);
  }
  if (!Number.isSafeInteger(value) || value < min) {
    throw new RangeError(
      `LengthFieldCodec ${name} must be an integer of at least ${min} (got ${value})`,
    );
  }
}

/**
 * Frames bytes by a length field. The decoder reads the field as soon as it
 * has arrived and throws `FrameTooLargeError` right away when the frame
 * exceeds `maxFrameLength` (header included), without allocating the
 * announced length; it throws `CorruptFrameError` when the frame would be
 * shorter than its header or than `initialBytesToStrip`.
 *
 * `encode()` takes the body (the bytes after the length field) and writes the
 * header before it. Decoding returns the frame without its first
 * `initialBytesToStrip` bytes, so decoding what `encode()` wrote gives the
 * body back when `initialBytesToStrip` is the header length (the default).
 *
 * @example A 2-byte big-endian length prefix
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, LengthFieldCodec } from "./mod.ts";
 *
 * const codec = new LengthFieldCodec({ lengthFieldLength: 2 });
 * const bytes = codec.encode(new Uint8Array([7, 8, 9]));
 * assert.deepEqual(bytes, new Uint8Array([0, 3, 7, 8, 9]));
 * const buffer = new ByteBuffer();
 * buffer.push(bytes);
 * assert.deepEqual(codec.createDecoder().decode(buffer), new Uint8Array([7, 8, 9]));
 * ```
 */
export class LengthFieldCodec implements Codec<Uint8Array> {
  #size: number;
  #offset: number;
  #headerLength: number;
  #adjustment: number;
  #strip: number;
  #little: boolean;
  #max: number;

  /**
   * Makes a length field codec.
   *
   * @param options The layout of the header and the limit.
   * @throws {RangeError} When a value is out of range, or `maxFrameLength` is
   *   shorter than the header.
   * @throws {TypeError} When a value has the wrong type, or both
   *   `lengthAdjustment` and `lengthIncludesHeader` are given.
   */
  constructor(options: LengthFieldCodecOptions) {
    const { lengthFieldLength: size, lengthFieldOffset: offset = 0, byteOrder = "big" } = options;
    if (![1, 2, 3, 4, 8].includes(size)) {
      throw new RangeError(
        `LengthFieldCodec lengthFieldLength must be 1, 2, 3, 4 or 8 (got ${size})`,
      );
    }
    checkInteger("lengthFieldOffset", offset, 0);
    if (options.lengthIncludesHeader && options.lengthAdjustment !== undefined) {
      throw new TypeError(
        "LengthFieldCodec takes lengthAdjustment or lengthIncludesHeader, not both",
      );
    }
    const adjustment = options.lengthIncludesHeader
      ? -(offset + size)
      : options.lengthAdjustment ?? 0;
    checkInteger("lengthAdjustment", adjustment, Number.MIN_SAFE_INTEGER);
    const { initialBytesToStrip: strip = offset + size, maxFrameLength: max = 8 * 1024 * 1024 } =
      options;
    checkInteger("initialBytesToStrip", strip, 0);
    checkInteger("maxFrameLength", max, offset + size);
    if (byteOrder !== "big" && byteOrder !== "little") {
      throw new TypeError(
        `LengthFieldCodec byteOrder must be "big" or "little" (got ${JSON.stringify(byteOrder)})`,
      );
    }
    this.#size = size;
    this.#offset = offset;
    this.#headerLength = offset + size;
    this.#adjustment = adjustment;
    this.#strip = strip;
    this.#little = byteOrder === "little";
    this.#max = max;
  }

  /**
   * Makes a decoder for one stream.
   *
   * @returns The decoder.
   */
  createDecoder(): Decoder<Uint8Array> {
    return {
      decode: (buffer) => this.#decode(buffer),
      decodeEof: (buffer) => this.#decodeEof(buffer),
    };
  }

  /**
   * Writes the header (zeros, then the length field) before a body.
   *
   * @param body The bytes after the length field.
   * @returns The frame.
   * @throws {RangeError} When the frame exceeds `maxFrameLength` or its
   *   length does not fit the field.
   */
  encode(body: Uint8Array): Uint8Array {
    const frameLength = this.#headerLength + body.length;
    const value = body.length - this.#adjustment;
    if (frameLength > this.#max) {
      throw new RangeError(
        `Cannot encode frame: length ${frameLength} exceeds maxFrameLength ${this.#max}`,
      );
    }
    if (value < 0 || value >= 2 ** (8 * this.#size)) {
      throw new RangeError(
        `Cannot encode frame: length field value ${value} does not fit ${this.#size} bytes`,
      );
    }
    const out = new Uint8Array(frameLength);
    if (this.#size === 8) {
      new DataView(out.buffer).setBigUint64(this.#offset, BigInt(value), this.#little);
    } else {
      for (let i = 0; i < this.#size; i++) {
        out[this.#offset + (this.#little ? i : this.#size - 1 - i)] = Math.floor(value / 256 ** i) %
          256;
      }
    }
    out.set(body, this.#headerLength);
    return out;
  }

  #decode(buffer: ByteBuffer): Uint8Array | null {
    if (buffer.length < this.#headerLength) return null;
    const frameLength = this.#frameLength(buffer);
    if (buffer.length < frameLength) return null;
    buffer.skip(this.#strip);
    return buffer.take(frameLength - this.#strip);
  }

  #decodeEof(buffer: ByteBuffer): Uint8Array | null {
    const frame = this.#decode(buffer);
    if (frame !== null || buffer.length === 0) return frame;
    const expected = buffer.length < this.#headerLength
      ? `${this.#headerLength} header bytes`
      : `${this.#frameLength(buffer)} bytes`;
    throw new TruncatedFrameError(
      `Cannot read frame: stream ended after ${buffer.length} of ${expected}`,
    );
  }

  /** Reads the header at the start of the buffer and checks the frame length. */
  #frameLength(buffer: ByteBuffer): number {
    const field = buffer.copy(this.#offset, this.#headerLength);
    let value = 0;
    if (this.#size === 8) {
      const big = new DataView(field.buffer).getBigUint64(0, this.#little);
      if (big > BigInt(Number.MAX_SAFE_INTEGER)) {
        throw this.#error(
          FrameTooLargeError,
          `length field value ${big} exceeds maxFrameLength ${this.#max}`,
          buffer,
        );
      }
      value = Number(big);
    } else {
      for (let i = 0; i < this.#size; i++) {
        value = value * 256 + field[this.#little ? this.#size - 1 - i : i];
      }
    }
    const frameLength = this.#headerLength + value + this.#adjustment;
    const detail =
      `length field value ${value} with lengthAdjustment ${this.#adjustment} gives length ${frameLength}`;
    if (frameLength < this.#headerLength) {
      throw this.#error(
        CorruptFrameError,
        `${detail}, less than the ${this.#headerLength}-byte header`,
        buffer,
      );
    }
    if (frameLength > this.#max) {
      throw this.#error(
        FrameTooLargeError,
        `length ${frameLength} exceeds maxFrameLength ${this.#max}`,
        buffer,
      );
    }
    if (frameLength < this.#strip) {
      throw this.#error(
        CorruptFrameError,
        `${detail}, less than initialBytesToStrip ${this.#strip}`,
        buffer,
      );
    }
    return frameLength;
  }

  #error<E extends Error>(type: new (message: string) => E, detail: string, buffer: ByteBuffer): E {
    return new type(`Cannot read frame: ${detail}${protocolHint(buffer)}`);
  }
}
