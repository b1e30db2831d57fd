/**
 * Framing and text codecs: bytes in, frames out, no I/O. A connection pushes
 * what it reads into a {@linkcode ByteBuffer} and asks a codec's decoder for
 * frames; every codec is bounded by a maximum frame length.
 *
 * - {@linkcode LineCodec}: lines of text (UTF-8, GBK, ...), `\n` or `\r\n`.
 * - {@linkcode DelimiterCodec}: byte frames ended by one of several delimiters.
 * - {@linkcode LengthFieldCodec}: byte frames with a length field (Netty's knobs).
 * - {@linkcode FixedLengthCodec}: byte frames of one length.
 * - {@linkcode DecoderStream}, {@linkcode EncoderStream}: the same as Web Streams.
 * - {@linkcode createTextDecoder}, {@linkcode encodeText}: streaming text in
 *   every WHATWG encoding; encoding in UTF-8, GBK and GB18030.
 *
 * @example Decode length-prefixed frames that arrive byte by byte
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer, LengthFieldCodec } from "./mod.ts";
 *
 * const codec = new LengthFieldCodec({ lengthFieldLength: 4 });
 * const decoder = codec.createDecoder();
 * const buffer = new ByteBuffer();
 * const frames: Uint8Array[] = [];
 * for (const byte of codec.encode(new TextEncoder().encode("hello"))) {
 *   buffer.push(new Uint8Array([byte]));
 *   const frame = decoder.decode(buffer);
 *   if (frame) frames.push(frame);
 * }
 * assert.deepEqual(frames, [new TextEncoder().encode("hello")]);
 * ```
 *
 * @module
 */

export * from "./byte_buffer.ts";
export * from "./codec.ts";
export * from "./line_codec.ts";
export * from "./delimiter_codec.ts";
export * from "./length_field_codec.ts";
export * from "./fixed_length_codec.ts";
export * from "./text.ts";
export * from "./streams.ts";
