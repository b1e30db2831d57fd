/**
 * The contracts every codec implements: a {@linkcode Decoder} turns buffered
 * bytes into frames, a {@linkcode Codec} makes decoders and encodes frames.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";

/**
 * Turns the bytes at the front of a {@linkcode ByteBuffer} into frames. A
 * decoder may keep state between calls (where it stopped scanning, whether it
 * is skipping a frame that is too long), so it expects to be the only one
 * removing bytes from the buffer; use a fresh decoder after taking bytes
 * yourself. Decoders are bounded: they throw as soon as the buffered bytes
 * prove a frame too long, and never allocate an announced length up front.
 *
 * @typeParam T The frame type.
 *
 * @example Decode every frame a chunk completes
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, LineCodec } from "./mod.ts";
 *
 * const decoder = new LineCodec().createDecoder();
 * const buffer = new ByteBuffer();
 * buffer.push(new TextEncoder().encode("a\nb\nc"));
 * const lines: string[] = [];
 * for (let line; (line = decoder.decode(buffer)) !== null;) lines.push(line);
 * assert.deepEqual(lines, ["a", "b"]);
 * assert.equal(buffer.length, 1);
 * ```
 */
export interface Decoder<T> {
  /**
   * Removes one frame from the front of the buffer and returns it.
   *
   * @param buffer The bytes received so far.
   * @returns The frame, or `null` when more bytes are needed.
   * @throws {FrameTooLargeError} When the frame exceeds the codec's maximum.
   * @throws {CorruptFrameError} When a header is invalid.
   * @throws {DecodeError} When a text frame is not valid in its encoding.
   */
  decode(buffer: ByteBuffer): T | null;
  /**
   * At end of stream: returns the next frame, or `null` once the buffer is
   * empty. Call it until it returns `null`.
   *
   * @param buffer The bytes left when the peer ended the stream.
   * @returns A frame, or `null` when no bytes remain.
   * @throws {TruncatedFrameError} When the stream ended inside a frame.
   */
  decodeEof(buffer: ByteBuffer): T | null;
}

/**
 * A framing: makes decoders and encodes frames.
 *
 * @typeParam T The frame type.
 *
 * @example Encode a frame
 * ```ts
 * import assert from "node:assert/strict";
 * import { type Codec, LineCodec } from "./mod.ts";
 *
 * const codec: Codec<string> = new LineCodec();
 * assert.deepEqual(codec.encode("hi"), new Uint8Array([104, 105, 10]));
 * ```
 */
export interface Codec<T> {
  /**
   * Makes a decoder for one stream.
   *
   * @returns A fresh decoder (it may hold per-stream state).
   */
  createDecoder(): Decoder<T>;
  /**
   * Encodes one frame.
   *
   * @param frame The frame.
   * @returns The bytes to send.
   * @throws {RangeError} When the frame cannot be encoded, such as a frame too
   *   long for its length field.
   */
  encode(frame: T): Uint8Array;
}
