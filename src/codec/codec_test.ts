// The contract every codec keeps, checked with the same properties for each:
// any chunking decodes the same frames; random bytes give frames or typed
// errors only, and the buffer stays bounded.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import {
  ByteBuffer,
  type Codec,
  DelimiterCodec,
  FixedLengthCodec,
  LengthFieldCodec,
  type LengthFieldCodecOptions,
  LineCodec,
} from "./mod.ts";
import {
  CorruptFrameError,
  DecodeError,
  FrameTooLargeError,
  TruncatedFrameError,
} from "../errors.ts";

const RUNS = { numRuns: 150 };
const sizes = fc.array(fc.integer({ min: 1, max: 9 }), { minLength: 1, maxLength: 8 });

/** Cuts bytes into chunks whose sizes cycle through `sizes`. */
function cut(bytes: Uint8Array, sizes: number[]): Uint8Array[] {
  const chunks = [];
  for (let at = 0, i = 0; at < bytes.length; at += sizes[i++ % sizes.length]) {
    chunks.push(bytes.slice(at, at + sizes[i % sizes.length]));
  }
  return chunks;
}

function concat(parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/** Feeds chunks to a fresh decoder, checking the bound after each; returns every frame. */
function decodeChunks<T>(codec: Codec<T>, chunks: Uint8Array[], bound = Infinity): T[] {
  const decoder = codec.createDecoder();
  const buffer = new ByteBuffer();
  const frames: T[] = [];
  for (const chunk of chunks) {
    buffer.push(chunk);
    for (let frame; (frame = decoder.decode(buffer)) !== null;) frames.push(frame);
    assert.ok(buffer.length <= bound, `buffer holds ${buffer.length} bytes, bound ${bound}`);
  }
  for (let frame; (frame = decoder.decodeEof(buffer)) !== null;) frames.push(frame);
  assert.equal(buffer.length, 0);
  return frames;
}

interface Case<T> {
  name: string;
  codec: Codec<T>;
  frames: fc.Arbitrary<T>;
  /** What decoding an encoded frame gives. */
  expected?: (frame: T, encoded: Uint8Array) => T;
  /** The most bytes a decoder may leave buffered. */
  bound: number;
}

const lineChars = fc.constantFrom(..."ab \r\t你好,我是客户端!€é😀\uFEFF");
const gbkChars = fc.constantFrom(..."ab \r\t你好,我是客户端!€é\u3000");
const alphabet = (bytes: number[]) =>
  fc.uint8Array({ maxLength: 24 }).map((a) => a.map((b) => bytes[b % bytes.length]));
const encodable = <T>(codec: Codec<T>) => (frame: T) => {
  try {
    codec.encode(frame);
    return true;
  } catch {
    return false;
  }
};
const lengthField = (options: LengthFieldCodecOptions) => new LengthFieldCodec(options);

/** Checks one case's types, then forgets its frame type. */
const check = <T>(c: Case<T>) => c as unknown as Case<unknown>;

const lineCodec = new LineCodec({ maxLength: 40 });
const gbkCodec = new LineCodec({ maxLength: 40, encoding: "gbk", delimiter: "\r\n" });
const skipCodec = new LineCodec({ maxLength: 40, delimiter: "\0\0", onTooLong: "skip" });
const delimiters = new DelimiterCodec({ delimiters: ["\r\n", "\n"], maxLength: 24 });
const overlapping = new DelimiterCodec({ delimiters: ["bc", "abc", "cab", "d"], maxLength: 24 });
const keepDelimiter = new DelimiterCodec({ delimiters: ["ab", "ca"], stripDelimiter: false });
const cases: Case<unknown>[] = [
  check({
    name: "LineCodec",
    codec: lineCodec,
    frames: fc.string({ unit: lineChars, maxLength: 12 }),
    bound: 41,
  }),
  check({
    name: "LineCodec(binary)",
    codec: lineCodec,
    frames: fc.string({ unit: "binary", maxLength: 10 }),
    bound: 41,
  }),
  check({
    name: "LineCodec(gbk)",
    codec: gbkCodec,
    frames: fc.string({ unit: gbkChars, maxLength: 12 }),
    bound: 42,
  }),
  check({
    name: "LineCodec(skip)",
    codec: skipCodec,
    frames: fc.string({ unit: lineChars, maxLength: 12 }),
    bound: 42,
  }),
  check({
    name: "DelimiterCodec",
    codec: delimiters,
    frames: alphabet([10, 13, 0, 97]),
    bound: 25,
  }),
  check({
    name: "DelimiterCodec(overlapping)",
    codec: overlapping,
    frames: alphabet([97, 98, 99, 100]),
    bound: 26,
  }),
  check({
    name: "DelimiterCodec(stripDelimiter false)",
    codec: keepDelimiter,
    frames: alphabet([97, 98, 99]),
    expected: (_, encoded) => encoded,
    bound: 65537,
  }),
  check({
    name: "LengthFieldCodec",
    codec: lengthField({ lengthFieldLength: 1 }),
    frames: fc.uint8Array({ maxLength: 30 }),
    bound: 256,
  }),
  check({
    name: "LengthFieldCodec(8, little, offset)",
    codec: lengthField({
      lengthFieldLength: 8,
      byteOrder: "little",
      lengthFieldOffset: 3,
      maxFrameLength: 64,
    }),
    frames: fc.uint8Array({ maxLength: 30 }),
    bound: 64,
  }),
  check({
    name: "LengthFieldCodec(3, adjustment, no strip)",
    codec: lengthField({
      lengthFieldLength: 3,
      lengthAdjustment: 2,
      initialBytesToStrip: 0,
      maxFrameLength: 64,
    }),
    frames: fc.uint8Array({ minLength: 2, maxLength: 30 }),
    expected: (_, encoded) => encoded,
    bound: 64,
  }),
  check({
    name: "LengthFieldCodec(4, includes header, strip 1)",
    codec: lengthField({
      lengthFieldLength: 4,
      lengthIncludesHeader: true,
      initialBytesToStrip: 1,
      maxFrameLength: 64,
    }),
    frames: fc.uint8Array({ maxLength: 30 }),
    expected: (_, encoded) => encoded.subarray(1),
    bound: 64,
  }),
  check({
    name: "LengthFieldCodec(2, little)",
    codec: lengthField({ lengthFieldLength: 2, byteOrder: "little", maxFrameLength: 64 }),
    frames: fc.uint8Array({ maxLength: 30 }),
    bound: 64,
  }),
  check({
    name: "FixedLengthCodec",
    codec: new FixedLengthCodec({ frameLength: 3 }),
    frames: fc.uint8Array({ minLength: 3, maxLength: 3 }),
    bound: 2,
  }),
];

for (const { name, codec, frames, expected, bound } of cases) {
  test(`${name} decodes what it encodes, however the bytes are cut`, () => {
    const list = fc.array(frames.filter(encodable(codec)), { maxLength: 8 });
    fc.assert(
      fc.property(list, sizes, (list, sizes) => {
        const encoded = list.map((frame) => codec.encode(frame));
        const want = list.map((frame, i) => expected ? expected(frame, encoded[i]) : frame);
        const bytes = concat(encoded);
        assert.deepEqual(decodeChunks(codec, cut(bytes, sizes), bound), want);
        assert.deepEqual(decodeChunks(codec, cut(bytes, [1]), bound), want);
      }),
      RUNS,
    );
  });

  test(`${name} turns random bytes into frames or typed errors, with a bounded buffer`, () => {
    const typed = [FrameTooLargeError, CorruptFrameError, TruncatedFrameError, DecodeError];
    const bytes = fc.oneof(fc.uint8Array({ maxLength: 200 }), alphabet([0, 10, 13, 97, 98, 99]));
    fc.assert(
      fc.property(bytes, sizes, (bytes, sizes) => {
        try {
          decodeChunks(codec, cut(bytes, sizes), bound);
        } catch (error) {
          if (!typed.some((type) => error instanceof type)) throw error;
        }
      }),
      RUNS,
    );
  });
}
