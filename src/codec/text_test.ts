import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createTextDecoder, createTextEncoder, encodeText, resolveEncoding } from "./text.ts";

const GREETING = "你好,我是客户端!";
const hex = (bytes: Uint8Array) => [...bytes].map((b) => b.toString(16).padStart(2, "0")).join(" ");

test("createTextDecoder() never splits a character, at any byte offset, in UTF-8 and GBK", () => {
  for (const encoding of ["utf-8", "gbk", "gb18030"]) {
    const want = GREETING + (encoding === "gbk" ? "" : "😀");
    const bytes = encodeText(want, encoding);
    for (let at = 0; at <= bytes.length; at++) {
      const decoder = createTextDecoder(encoding);
      const text = decoder.decode(bytes.subarray(0, at), { stream: true }) +
        decoder.decode(bytes.subarray(at));
      assert.equal(text, want, `${encoding} split at ${at}`);
    }
    const decoder = createTextDecoder(encoding);
    let text = "";
    for (const byte of bytes) text += decoder.decode(new Uint8Array([byte]), { stream: true });
    assert.equal(text + decoder.decode(), want);
  }
});

test("createTextDecoder() throws DecodeError when fatal, then starts afresh", () => {
  const decoder = createTextDecoder("gbk");
  assert.equal(decoder.encoding, "gbk");
  assert.throws(() => decoder.decode(new Uint8Array([0xff, 0x41])), {
    name: "DecodeError",
    message: "Cannot decode text: the bytes are not valid gbk",
  });
  assert.equal(decoder.decode(new Uint8Array([0xc4, 0xe3])), "你");
  assert.equal(
    createTextDecoder("utf-8", { fatal: false }).decode(new Uint8Array([0xff])),
    "\ufffd",
  );
  assert.equal(createTextDecoder("utf-8").decode(new Uint8Array([0xef, 0xbb, 0xbf, 0x61])), "a");
  assert.equal(
    createTextDecoder("utf-8", { ignoreBOM: true }).decode(new Uint8Array([0xef, 0xbb, 0xbf])),
    "\ufeff",
  );
});

test("createTextDecoder() decodes GBK with the GB18030 decoder, as the Encoding Standard does", () => {
  const decoder = createTextDecoder("gbk");
  assert.equal(decoder.decode(new Uint8Array([0x81, 0x30, 0x81, 0x30, 0x80])), "\u0080€");
  assert.throws(() => decoder.decode(new Uint8Array([0xff])), { name: "DecodeError" });
});

test("resolveEncoding() names encodings and rejects unknown ones with RangeError", () => {
  assert.equal(resolveEncoding("GB2312"), "gbk");
  assert.equal(resolveEncoding("utf8"), "utf-8");
  assert.throws(() => resolveEncoding("klingon"), {
    name: "RangeError",
    message: `Unknown or unsupported encoding "klingon": this runtime's TextDecoder lacks it`,
  });
  assert.throws(() => encodeText("a", "big5"), {
    name: "RangeError",
    message: "Cannot encode text in big5: tcpkit encodes only utf-8, gbk and gb18030",
  });
});

test("encodeText() in GBK round-trips every two-byte code, except two documented duplicates", () => {
  const decoder = createTextDecoder("gbk");
  const encoder = createTextEncoder("gbk");
  const mismatches: string[] = [];
  for (let lead = 0x81; lead <= 0xfe; lead++) {
    for (let trail = 0x40; trail <= 0xfe; trail++) {
      if (trail === 0x7f) continue;
      const bytes = new Uint8Array([lead, trail]);
      const char = decoder.decode(bytes);
      if (hex(encoder.encode(char)) !== hex(bytes)) {
        mismatches.push(`${hex(bytes)} -> ${hex(encoder.encode(char))}`);
      }
    }
  }
  // 0xA3A0 decodes to U+3000 like 0xA1A1; GBK writes U+20AC (0xA2E3) as 0x80.
  assert.deepEqual(mismatches, ["a2 e3 -> 80", "a3 a0 -> a1 a1"]);
  assert.deepEqual(encoder.encode("€"), new Uint8Array([0x80]));
  assert.deepEqual(
    encodeText(GREETING, "gbk"),
    new Uint8Array([
      0xc4,
      0xe3,
      0xba,
      0xc3,
      0x2c,
      0xce,
      0xd2,
      0xca,
      0xc7,
      0xbf,
      0xcd,
      0xbb,
      0xa7,
      0xb6,
      0xcb,
      0x21,
    ]),
  );
});

test("encodeText() in GB18030 round-trips text across the BMP and the astral planes", () => {
  const decoder = new TextDecoder("gb18030", { fatal: true });
  const known: [string, number[]][] = [
    ["\u0080", [0x81, 0x30, 0x81, 0x30]],
    ["€", [0xa2, 0xe3]],
    ["\ue7c7", [0x81, 0x35, 0xf4, 0x37]],
    ["\ufffd", [0x84, 0x31, 0xa4, 0x37]],
    ["\u{10000}", [0x90, 0x30, 0x81, 0x30]],
    ["\u{10ffff}", [0xe3, 0x32, 0x9a, 0x35]],
    ["\ud800", [0x84, 0x31, 0xa4, 0x37]], // a lone surrogate is U+FFFD
  ];
  for (const [char, bytes] of known) {
    assert.deepEqual(encodeText(char, "gb18030"), new Uint8Array(bytes), char);
  }
  // U+E5E5 has no code; 18 private-use characters encode to codes that now decode to standard characters.
  const moved = [0xe81e, 0xe826, 0xe82b, 0xe82c, 0xe832, 0xe843, 0xe854, 0xe864];
  const skip = (cp: number) =>
    cp === 0xe5e5 || (cp >= 0xe78d && cp <= 0xe796) || moved.includes(cp);
  const scalar = fc.oneof(
    fc.integer({ min: 0, max: 0xffff }),
    fc.integer({ min: 0x10000, max: 0x10ffff }),
  )
    .filter((cp) => (cp < 0xd800 || cp > 0xdfff) && !skip(cp));
  fc.assert(
    fc.property(fc.array(scalar, { maxLength: 40 }), (cps) => {
      const text = String.fromCodePoint(...cps);
      assert.equal(decoder.decode(encodeText(text, "gb18030")), text);
    }),
    { numRuns: 200 },
  );
  for (let cp = 0x80; cp <= 0xffff; cp++) {
    if ((cp >= 0xd800 && cp <= 0xdfff) || skip(cp)) continue;
    const char = String.fromCharCode(cp);
    if (decoder.decode(encodeText(char, "gb18030")) !== char) {
      assert.fail(`U+${cp.toString(16)} does not round-trip`);
    }
  }
  assert.throws(() => encodeText("\ue5e5", "gb18030"), RangeError);
  assert.deepEqual(encodeText("\ue78d\ue864", "gb18030"), new Uint8Array([0xa6, 0xd9, 0xfe, 0xa0]));
});

test("encodeText() throws RangeError or writes ? for characters GBK lacks", () => {
  assert.throws(() => encodeText("a😀", "gbk"), {
    name: "RangeError",
    message: 'Cannot encode text: "😀" (U+1F600) has no gbk code',
  });
  assert.deepEqual(
    encodeText("a😀\ud800b", "gbk", { unencodable: "replace" }),
    new Uint8Array([0x61, 0x3f, 0x3f, 0x62]),
  );
  assert.deepEqual(encodeText("é", "utf-8"), new Uint8Array([0xc3, 0xa9]));
});
