import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer, DelimiterCodec } from "./mod.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

function decodeAll(codec: DelimiterCodec, chunks: string[]): string[] {
  const decoder = codec.createDecoder();
  const buffer = new ByteBuffer();
  const frames: string[] = [];
  for (const chunk of chunks) {
    buffer.push(utf8(chunk));
    for (let frame; (frame = decoder.decode(buffer)) !== null;) frames.push(text(frame));
  }
  for (let frame; (frame = decoder.decodeEof(buffer)) !== null;) frames.push(text(frame));
  return frames;
}

test("DelimiterCodec.decode() returns null until a delimiter arrives", () => {
  const decoder = new DelimiterCodec({ delimiters: "\r\n" }).createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(utf8("ab\r"));
  assert.equal(decoder.decode(buffer), null);
  buffer.push(utf8("\n"));
  assert.deepEqual(decoder.decode(buffer), utf8("ab"));
});

test("DelimiterCodec picks the match that ends first, then the longest", () => {
  const codec = new DelimiterCodec({ delimiters: ["\n", "\r\n"] });
  assert.deepEqual(decodeAll(codec, ["a\r\nb\nc\r", "\n"]), ["a", "b", "c"]);
  const overlapping = new DelimiterCodec({ delimiters: ["bc", "abc", "d"] });
  assert.deepEqual(decodeAll(overlapping, ["xabcyb", "cz", "d"]), ["x", "y", "z"]);
});

test("DelimiterCodec keeps the delimiter when stripDelimiter is false", () => {
  const codec = new DelimiterCodec({
    delimiters: ["\0", new Uint8Array([0xff, 0xfe])],
    stripDelimiter: false,
  });
  const decoder = codec.createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array([1, 0xff, 0xfe, 2, 0]));
  assert.deepEqual(decoder.decode(buffer), new Uint8Array([1, 0xff, 0xfe]));
  assert.deepEqual(decoder.decode(buffer), new Uint8Array([2, 0]));
});

test("DelimiterCodec enforces maxLength with an error or by skipping", () => {
  const strict = new DelimiterCodec({ delimiters: "\n", maxLength: 3 });
  assert.throws(() => decodeAll(strict, ["abcd"]), {
    name: "FrameTooLargeError",
    message: "Cannot read frame: more than 3 bytes without a delimiter",
  });
  assert.throws(() => decodeAll(strict, ["abcd\n"]), {
    message: "Cannot read frame: length 4 exceeds maxLength 3",
  });
  const skipping = new DelimiterCodec({ delimiters: ["\n"], maxLength: 3, onTooLong: "skip" });
  assert.deepEqual(decodeAll(skipping, ["ab\nabcdefg", "hij", "\ncd\nabcd"]), ["ab", "cd"]);
});

test("DelimiterCodec.decodeEof() throws TruncatedFrameError inside a frame", () => {
  const codec = new DelimiterCodec({ delimiters: "\n" });
  assert.throws(() => decodeAll(codec, ["a\nbc"]), {
    name: "TruncatedFrameError",
    message: "Cannot read frame: stream ended after 2 bytes without a delimiter",
  });
});

test("DelimiterCodec.encode() appends the first delimiter and refuses frames containing one", () => {
  const codec = new DelimiterCodec({ delimiters: ["\r\n", "\n"], maxLength: 4 });
  assert.deepEqual(codec.encode(utf8("ab")), utf8("ab\r\n"));
  assert.throws(() => codec.encode(utf8("a\nb")), RangeError);
  assert.deepEqual(codec.encode(utf8("a\r")), utf8("a\r\r\n"));
  // "a\r" + "\n" would decode as "a" ending with "\r\n"
  assert.throws(() => new DelimiterCodec({ delimiters: ["\n", "\r\n"] }).encode(utf8("a\r")), {
    name: "RangeError",
    message: "Cannot encode frame: it contains a delimiter ending at byte 3",
  });
  assert.throws(() => codec.encode(utf8("abcde")), {
    message: "Cannot encode frame: length 5 exceeds maxLength 4",
  });
});

test("DelimiterCodec constructor rejects bad delimiters and limits", () => {
  assert.throws(() => new DelimiterCodec({ delimiters: [] }), RangeError);
  assert.throws(() => new DelimiterCodec({ delimiters: "" }), RangeError);
  assert.throws(() => new DelimiterCodec({ delimiters: ["\r", "\r\n"] }), {
    name: "RangeError",
    message: "DelimiterCodec delimiter [13,10] can never match: [13] ends inside it",
  });
  assert.throws(() => new DelimiterCodec({ delimiters: "\n", maxLength: 1.5 }), RangeError);
  new DelimiterCodec({ delimiters: ["\n", "\r\n"] });
});
