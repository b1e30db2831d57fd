import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { formatIPv6, parseIPv4, parseIPv6 } from "./_ip.ts";

test("parseIPv4() takes dotted quads without leading zeros only", () => {
  assert.deepEqual(parseIPv4("192.168.0.1"), new Uint8Array([192, 168, 0, 1]));
  assert.deepEqual(parseIPv4("0.0.0.0"), new Uint8Array(4));
  for (
    const bad of [
      "",
      "1.2.3",
      "1.2.3.4.5",
      "1.2.3.256",
      "01.2.3.4",
      "1.2.3.-4",
      "1.2.3.+4",
      "1..3.4",
      " 1.2.3.4",
      "1.2.3.4 ",
      "0x1.2.3.4",
      "1e2.2.3.4",
    ]
  ) {
    assert.equal(parseIPv4(bad), null, bad);
  }
});

test("parseIPv6() takes what inet_pton takes, zones excepted", () => {
  const good: [string, string][] = [
    ["::", "::"],
    ["::1", "::1"],
    ["1::", "1::"],
    ["2001:DB8::1", "2001:db8::1"],
    ["2001:0db8:0000:0000:0000:0000:0000:0001", "2001:db8::1"],
    ["1:2:3:4:5:6:7::", "1:2:3:4:5:6:7:0"],
    ["::2:3:4:5:6:7:8", "0:2:3:4:5:6:7:8"],
    ["::ffff:1.2.3.4", "::ffff:1.2.3.4"],
    ["::1.2.3.4", "::102:304"],
    ["1:2:3:4:5:6:1.2.3.4", "1:2:3:4:5:6:102:304"],
  ];
  for (const [text, canonical] of good) {
    const bytes = parseIPv6(text);
    assert.ok(bytes, text);
    assert.equal(formatIPv6(bytes), canonical, text);
  }
  const bad = [
    "",
    ":",
    ":::",
    "1:::2",
    "1::2::3",
    ":1::",
    "1::2:",
    "1:2:3:4:5:6:7",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4:5:6:7:8::",
    "12345::",
    "g::",
    "::1.2.3",
    "::1.2.3.4:5",
    "1.2.3.4::",
    "fe80::1%eth0",
    "[::1]",
    " ::1",
  ];
  for (const text of bad) assert.equal(parseIPv6(text), null, text);
});

test("formatIPv6() writes RFC 5952 canonical text", () => {
  const words = (...w: number[]) => new Uint8Array(w.flatMap((x) => [x >> 8, x & 0xff]));
  const cases: [Uint8Array, string][] = [
    [words(0, 0, 0, 0, 0, 0, 0, 0), "::"],
    [words(0, 0, 0, 0, 0, 0, 0, 1), "::1"],
    [words(0x2001, 0xdb8, 0, 0, 0, 0, 0, 1), "2001:db8::1"],
    [words(0x2001, 0xdb8, 0, 1, 1, 1, 1, 1), "2001:db8:0:1:1:1:1:1"], // one zero group stays
    [words(0x2001, 0, 0, 1, 0, 0, 0, 1), "2001:0:0:1::1"], // the longest run
    [words(0x2001, 0xdb8, 0, 0, 1, 0, 0, 1), "2001:db8::1:0:0:1"], // the first of equals
    [words(1, 0, 0, 0, 0, 0, 0, 0), "1::"],
    [words(0xabcd, 0xef, 0, 0, 0, 0, 0xffff, 0), "abcd:ef::ffff:0"],
    [words(0, 0, 0, 0, 0, 0xffff, 0x7f00, 1), "::ffff:127.0.0.1"],
  ];
  for (const [bytes, text] of cases) assert.equal(formatIPv6(bytes), text);
});

test("formatIPv6() output parses back to the same bytes", () => {
  const word = fc.oneof(fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
  fc.assert(
    fc.property(fc.array(word, { minLength: 8, maxLength: 8 }), (w) => {
      const bytes = new Uint8Array(w.flatMap((x) => [x >> 8, x & 0xff]));
      const text = formatIPv6(bytes);
      assert.deepEqual(parseIPv6(text), bytes);
      assert.ok(!/(^|:)0[0-9a-f]|[A-F]/.test(text), text); // no leading zeros, lowercase
      if (!text.includes("::")) assert.ok(!/(^|:)0:0(:|$)/.test(text), text); // runs compressed
    }),
    { numRuns: 200 },
  );
});
