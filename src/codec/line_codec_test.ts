import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteBuffer, LineCodec } from "./mod.ts";
import { DecodeError, FrameTooLargeError } from "../errors.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** Pushes each chunk and decodes; returns the lines, then the end-of-stream ones. */
function decodeAll(codec: LineCodec, chunks: (string | Uint8Array)[]): string[] {
  const decoder = codec.createDecoder();
  const buffer = new ByteBuffer();
  const lines: string[] = [];
  for (const chunk of chunks) {
    buffer.push(typeof chunk === "string" ? utf8(chunk) : chunk);
    for (let line; (line = decoder.decode(buffer)) !== null;) lines.push(line);
  }
  for (let line; (line = decoder.decodeEof(buffer)) !== null;) lines.push(line);
  return lines;
}

test("LineCodec.decode() returns null until a newline arrives", () => {
  const decoder = new LineCodec().createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(utf8("hel"));
  assert.equal(decoder.decode(buffer), null);
  buffer.push(utf8("lo\r"));
  assert.equal(decoder.decode(buffer), null);
  buffer.push(utf8("\nnext"));
  assert.equal(decoder.decode(buffer), "hello");
  assert.equal(buffer.length, 4);
});

test("LineCodec strips one \\r before the delimiter unless stripCR is false", () => {
  assert.deepEqual(decodeAll(new LineCodec(), ["a\r\n\r\r\nb\n"]), ["a", "\r", "b"]);
  assert.deepEqual(decodeAll(new LineCodec({ stripCR: false }), ["a\r\n"]), ["a\r"]);
  assert.deepEqual(decodeAll(new LineCodec({ delimiter: "\0" }), ["a\0b\n\0"]), ["a", "b\n"]);
});

test("LineCodec counts maxLength in bytes, without the delimiter or a stripped \\r", () => {
  const codec = new LineCodec({ maxLength: 4 });
  assert.deepEqual(decodeAll(codec, ["abcd\n", "abcd\r\n", "éab\n"]), ["abcd", "abcd", "éab"]);
  assert.throws(() => decodeAll(codec, ["abcde\n"]), {
    name: "FrameTooLargeError",
    message: "Cannot read line: length 5 exceeds maxLength 4",
  });
  assert.throws(() => decodeAll(codec, ["ab€\n"]), FrameTooLargeError);
});

test("LineCodec.decode() throws as soon as the buffer proves a line too long", () => {
  const decoder = new LineCodec({ maxLength: 1024 }).createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array(1025).fill(97));
  assert.equal(decoder.decode(buffer), null); // a "\r\n" may still come
  buffer.push(utf8("b"));
  assert.throws(() => decoder.decode(buffer), {
    name: "FrameTooLargeError",
    message: "Cannot read line: more than 1024 bytes without a newline",
  });
});

test("LineCodec with onTooLong skip drops long lines, however the bytes are cut", () => {
  const codec = new LineCodec({ maxLength: 5, onTooLong: "skip" });
  const line = fc.string({ unit: fc.constantFrom("a", "é", "\r"), maxLength: 9 });
  fc.assert(
    fc.property(fc.array(line, { maxLength: 6 }), fc.integer({ min: 1, max: 7 }), (lines, size) => {
      const bytes = utf8(lines.map((l) => l + "\n").join(""));
      const chunks = [];
      for (let i = 0; i < bytes.length; i += size) chunks.push(bytes.slice(i, i + size));
      const kept = lines.map((l) => l.replace(/\r$/, "")).filter((l) => utf8(l).length <= 5);
      assert.deepEqual(decodeAll(codec, chunks), kept);
    }),
    { numRuns: 150 },
  );
});

test("LineCodec.decodeEof() refuses an unterminated last line unless allowed", () => {
  assert.throws(() => decodeAll(new LineCodec(), ["a\nbc"]), {
    name: "TruncatedFrameError",
    message: "Cannot read line: stream ended after 2 bytes without a newline",
  });
  const codec = new LineCodec({ allowUnterminatedLast: true });
  assert.deepEqual(decodeAll(codec, ["a\nbc\r"]), ["a", "bc"]);
  assert.deepEqual(decodeAll(codec, []), []);
});

test("LineCodec decodes GBK and UTF-8 lines split at every byte offset", () => {
  const text = "你好,我是客户端!";
  for (const encoding of ["gbk", "utf-8"]) {
    const codec = new LineCodec({ encoding });
    const bytes = codec.encode(text);
    for (let at = 0; at <= bytes.length; at++) {
      assert.deepEqual(
        decodeAll(codec, [bytes.slice(0, at), bytes.slice(at)]),
        [text],
        `${encoding} at ${at}`,
      );
    }
  }
});

test("LineCodec throws DecodeError for invalid bytes, consumes the line and goes on", () => {
  const decoder = new LineCodec().createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array([0x61, 0xff, 0x0a, 0x62, 0x0a]));
  assert.throws(() => decoder.decode(buffer), {
    name: "DecodeError",
    message: "Cannot read line: its 2 bytes are not valid utf-8",
  });
  assert.equal(decoder.decode(buffer), "b");
  assert.deepEqual(decodeAll(new LineCodec({ fatal: false }), [new Uint8Array([0xff, 0x0a])]), [
    "\ufffd",
  ]);
});

test("LineCodec names a TLS ClientHello that reaches a line server", () => {
  const hello = new Uint8Array([0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x0a]);
  assert.throws(() => decodeAll(new LineCodec(), [hello]), (error) => {
    assert.ok(error instanceof DecodeError);
    assert.match(
      error.message,
      /look like a TLS ClientHello: is the client using TLS on a plaintext port\?\)$/,
    );
    return true;
  });
});

test("LineCodec keeps a byte order mark as U+FEFF", () => {
  assert.deepEqual(decodeAll(new LineCodec(), ["\uFEFFa\n\uFEFFb\n"]), ["\uFEFFa", "\uFEFFb"]);
});

test("LineCodec.encode() appends the delimiter and refuses what would not decode back", () => {
  const codec = new LineCodec({ maxLength: 4 });
  assert.deepEqual(codec.encode("ab"), utf8("ab\n"));
  assert.deepEqual(new LineCodec({ delimiter: "\r\n" }).encode("a"), utf8("a\r\n"));
  assert.throws(() => codec.encode("a\nb"), {
    name: "RangeError",
    message: 'Cannot encode line: it contains the delimiter "\\n"',
  });
  assert.throws(() => codec.encode("a\r"), RangeError);
  assert.throws(() => codec.encode("abcde"), {
    message: "Cannot encode line: length 5 exceeds maxLength 4",
  });
  assert.throws(() => new LineCodec({ delimiter: "aa" }).encode("xa"), RangeError);
  assert.throws(() => new LineCodec({ encoding: "gbk" }).encode("😀"), {
    name: "RangeError",
    message: 'Cannot encode text: "😀" (U+1F600) has no gbk code',
  });
  assert.throws(() => new LineCodec({ encoding: "big5" }).encode("a"), RangeError);
  assert.deepEqual(
    decodeAll(new LineCodec({ encoding: "big5" }), [new Uint8Array([0xa4, 0x40, 0x0a])]),
    ["一"],
  );
});

test("LineCodec constructor rejects bad options", () => {
  assert.throws(() => new LineCodec({ maxLength: 0 }), RangeError);
  assert.throws(() => new LineCodec({ delimiter: "" }), RangeError);
  assert.throws(() => new LineCodec({ encoding: "utf-16le" }), RangeError);
  assert.throws(() => new LineCodec({ encoding: "no-such-encoding" }), RangeError);
  assert.throws(() => new LineCodec({ encoding: "gbk", delimiter: "|" }), {
    message: 'LineCodec delimiter "|" cannot be used with gbk: use ASCII control characters',
  });
  assert.throws(() => new LineCodec({ onTooLong: "drop" as "skip" }), TypeError);
  new LineCodec({ encoding: "gbk", delimiter: "\r\n" });
  new LineCodec({ encoding: "windows-1252", delimiter: "|" });
});

test("LineCodec's text is the runtime decoder's text of each line's bytes, valid or not", () => {
  // LineCodec decodes a line with its delimiter and cuts it off the text: it must be the same text.
  const pick = [0x0d, 0x61, 0x80, 0x81, 0xa4, 0xc3, 0xe2, 0x82, 0xac, 0xf0, 0x9f, 0xfe];
  const line = fc.uint8Array({ minLength: 1, maxLength: 16 }).map((a) =>
    a.map((b) => pick[b % 12])
  );
  const cases = [
    ["utf-8", "\n"],
    ["utf-8", "\r\n"],
    ["utf-8", "€"],
    ["gbk", "\n"],
    ["gbk", "\0"],
  ] as const;
  fc.assert(
    fc.property(
      fc.constantFrom(...cases),
      fc.boolean(),
      line,
      ([encoding, delimiter], fatal, bytes) => {
        const end = utf8(delimiter);
        const frame = new Uint8Array([...bytes, ...end]);
        const found = new ByteBuffer();
        found.push(frame);
        // A line that holds the delimiter is two lines; a CR before the delimiter is stripped.
        fc.pre(found.indexOf(end) === bytes.length);
        const content = bytes.at(-1) === 0x0d ? bytes.subarray(0, -1) : bytes;
        const reference = encoding === "gbk" ? "gb18030" : encoding;
        let expected: string | undefined;
        try {
          expected = new TextDecoder(reference, { fatal, ignoreBOM: true }).decode(content);
        } catch { /* invalid: LineCodec must throw DecodeError */ }
        const buffer = new ByteBuffer();
        buffer.push(frame);
        const decoder = new LineCodec({ encoding, delimiter, fatal }).createDecoder();
        if (expected === undefined) assert.throws(() => decoder.decode(buffer), DecodeError);
        else assert.equal(decoder.decode(buffer), expected);
      },
    ),
    { numRuns: 1000 },
  );
});
