/**
 * Web Streams over a codec: bytes to frames and frames to bytes.
 *
 * @module
 */

import { ByteBuffer } from "./byte_buffer.ts";
import type { Codec } from "./codec.ts";

/**
 * Turns a stream of byte chunks into frames. Each chunk is buffered without
 * a copy, so its producer must not reuse it. At the end of the stream the
 * decoder's end-of-stream rule applies: a partial frame errors the stream with
 * a `TruncatedFrameError`.
 *
 * @typeParam T The frame type.
 *
 * @example Read lines from a byte stream
 * ```ts
 * import assert from "node:assert/strict";
 * import { DecoderStream, LineCodec } from "./mod.ts";
 *
 * const bytes = ReadableStream.from([new TextEncoder().encode("a\nb"), new TextEncoder().encode("\n")]);
 * const lines = await Array.fromAsync(bytes.pipeThrough(new DecoderStream(new LineCodec())));
 * assert.deepEqual(lines, ["a", "b"]);
 * ```
 */
export class DecoderStream<T> extends TransformStream<Uint8Array, T> {
  /**
   * Makes a stream that decodes with a fresh decoder of a codec.
   *
   * @param codec The framing.
   */
  constructor(codec: Codec<T>) {
    const buffer = new ByteBuffer();
    const decoder = codec.createDecoder();
    super({
      transform(chunk, controller) {
        buffer.push(chunk);
        for (let frame; (frame = decoder.decode(buffer)) !== null;) controller.enqueue(frame);
      },
      flush(controller) {
        for (let frame; (frame = decoder.decodeEof(buffer)) !== null;) controller.enqueue(frame);
      },
    });
  }
}

/**
 * Turns a stream of frames into bytes.
 *
 * @typeParam T The frame type.
 *
 * @example Write length-prefixed frames
 * ```ts
 * import assert from "node:assert/strict";
 * import { EncoderStream, LengthFieldCodec } from "./mod.ts";
 *
 * const frames = ReadableStream.from([new Uint8Array([1]), new Uint8Array([2, 3])]);
 * const stream = frames.pipeThrough(new EncoderStream(new LengthFieldCodec({ lengthFieldLength: 1 })));
 * const chunks = await Array.fromAsync(stream);
 * assert.deepEqual(chunks, [new Uint8Array([1, 1]), new Uint8Array([2, 2, 3])]);
 * ```
 */
export class EncoderStream<T> extends TransformStream<T, Uint8Array> {
  /**
   * Makes a stream that encodes with a codec.
   *
   * @param codec The framing.
   */
  constructor(codec: Codec<T>) {
    super({ transform: (frame, controller) => controller.enqueue(codec.encode(frame)) });
  }
}
