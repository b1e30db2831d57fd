// Properties of decodeProxyHeader() with encodeProxyHeader(): round trips for
// any chunking, truncation, garbled and random input, the buffer bound.
import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteBuffer } from "../codec/byte_buffer.ts";
import { ProxyProtocolError } from "../errors.ts";
import {
  decodeProxyHeader,
  type DecodeProxyHeaderOptions,
  encodeProxyHeader,
  maxProxyHeaderLength,
  type ProxyHeader,
} from "./mod.ts";
import { formatIPv4, formatIPv6 } from "./_ip.ts";

const RUNS = { numRuns: 150 };
const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const ascii = (text: string) => new TextEncoder().encode(text);

/** Cuts bytes into chunks whose sizes cycle through `sizes`. */
function cut(bytes: Uint8Array, sizes: readonly number[]): Uint8Array[] {
  const chunks = [];
  for (let at = 0, i = 0; at < bytes.length; at += sizes[i++ % sizes.length]) {
    chunks.push(bytes.slice(at, at + sizes[i % sizes.length]));
  }
  return chunks;
}

function concat(...parts: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(parts.reduce((n, p) => n + p.length, 0));
  parts.reduce((at, p) => (out.set(p, at), at + p.length), 0);
  return out;
}

/**
 * Feeds chunks until a header or an error, checking the bound while it gets
 * `null`; returns the header (or null) and the bytes left after it.
 */
function feed(chunks: Uint8Array[], options: DecodeProxyHeaderOptions = {}) {
  const bound = maxProxyHeaderLength(options);
  const buffer = new ByteBuffer();
  let header: ProxyHeader | null = null;
  let fed = 0;
  for (const chunk of chunks) {
    buffer.push(chunk);
    fed += chunk.length;
    if (header !== null) continue;
    header = decodeProxyHeader(buffer, options);
    if (header === null) assert.ok(fed < bound, `null with ${fed} bytes, bound ${bound}`);
  }
  return { header, rest: buffer.copy(0, buffer.length), consumed: fed - buffer.length };
}

// Arbitraries: every header encodeProxyHeader() accepts, in canonical form.
const port = fc.integer({ min: 0, max: 65535 });
const ipv4 = fc.uint8Array({ minLength: 4, maxLength: 4 }).map(formatIPv4);
const word = fc.oneof(fc.constant(0), fc.constant(0), fc.integer({ min: 0, max: 0xffff }));
const ipv6 = fc.oneof(
  fc.array(word, { minLength: 8, maxLength: 8 })
    .map((words) => formatIPv6(new Uint8Array(words.flatMap((w) => [w >> 8, w & 0xff])))),
  ipv4.map((v4) => `::ffff:${v4}`),
);
const utf8Length = (text: string) => new TextEncoder().encode(text).length;
const name = fc.string({ unit: "grapheme", maxLength: 40 })
  .filter((s) => !s.includes("\0") && utf8Length(s) <= 107);
const path = fc.oneof(name, name.filter((s) => s !== "").map((s) => `\0${s}`));
const pair = <T>(family: string, item: fc.Arbitrary<T>) =>
  fc.tuple(item, item).map(([source, destination]) => ({ family, source, destination }));
const inet = (host: fc.Arbitrary<string>) =>
  fc.tuple(host, port).map(([hostname, port]) => ({ hostname, port }));
const unknown = fc.constant({ family: "UNKNOWN" });
const tlv = fc.tuple(fc.integer({ min: 0, max: 255 }), fc.uint8Array({ maxLength: 40 }))
  .map(([type, value]) => ({ type, value }));
const headers: fc.Arbitrary<ProxyHeader> = fc.oneof(
  fc.oneof(pair("TCP4", inet(ipv4)), pair("TCP6", inet(ipv6)), unknown)
    .map((body) => ({ version: 1, command: "PROXY", ...body }) as ProxyHeader),
  fc.tuple(
    fc.oneof(
      pair("TCP4", inet(ipv4)),
      pair("TCP6", inet(ipv6)),
      pair("UNIX", path.map((path) => ({ path }))),
      unknown,
    ),
    fc.constantFrom("PROXY", "LOCAL"),
    fc.array(tlv, { maxLength: 4 }),
  ).map(([body, command, tlvs]) => ({ version: 2, command, ...body, tlvs }) as ProxyHeader),
);
const sizes = fc.oneof(
  fc.constant([1]),
  fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 8 }),
);
const app = fc.uint8Array({ maxLength: 30 });

test("decodeProxyHeader() decodes what encodeProxyHeader() encodes, however the bytes are cut", () => {
  fc.assert(
    fc.property(headers, app, sizes, (header, app, sizes) => {
      const encoded = encodeProxyHeader(header);
      const { header: decoded, rest, consumed } = feed(cut(concat(encoded, app), sizes));
      assert.deepEqual(decoded, header);
      assert.equal(consumed, encoded.length);
      assert.deepEqual(rest, app);
    }),
    RUNS,
  );
});

test("decodeProxyHeader() returns null on any truncated header, and throws at eof", () => {
  fc.assert(
    fc.property(headers, fc.nat(), (header, n) => {
      const encoded = encodeProxyHeader(header);
      const buffer = new ByteBuffer();
      buffer.push(encoded.slice(0, n % encoded.length));
      assert.equal(decodeProxyHeader(buffer), null);
      if (buffer.length === 0) return;
      assert.throws(() => decodeProxyHeader(buffer, { eof: true }), ProxyProtocolError);
    }),
    RUNS,
  );
});

/** Decodes chunks; only a header, null or ProxyProtocolError may come out. */
function decodesOrRejects(
  bytes: Uint8Array,
  sizes: readonly number[],
  options?: DecodeProxyHeaderOptions,
) {
  try {
    const { header, rest, consumed } = feed(cut(bytes, sizes), options);
    if (header !== null) assert.deepEqual(rest, bytes.subarray(consumed));
  } catch (error) {
    if (!(error instanceof ProxyProtocolError)) throw error;
  }
}

const maxV2Length = fc.option(fc.integer({ min: 16, max: 300 }), { nil: undefined });

test("decodeProxyHeader() turns garbled headers into headers or ProxyProtocolError, bounded", () => {
  const flips = fc.array(fc.tuple(fc.nat(), fc.integer({ min: 1, max: 255 })), {
    minLength: 1,
    maxLength: 4,
  });
  fc.assert(
    fc.property(headers, app, flips, sizes, maxV2Length, (header, app, flips, sizes, max) => {
      const bytes = concat(encodeProxyHeader(header), app);
      for (const [at, xor] of flips) bytes[at % bytes.length] ^= xor;
      decodesOrRejects(bytes, sizes, { maxV2Length: max });
    }),
    RUNS,
  );
});

test("decodeProxyHeader() turns random bytes into headers or ProxyProtocolError, bounded", () => {
  const prefix = fc.constantFrom(
    new Uint8Array(0),
    ascii("PROXY "),
    ascii("PROXY TCP4 "),
    ascii("PROXY TCP6 "),
    ascii("PROXY UNKNOWN"),
    new Uint8Array([...SIGNATURE, 0x21]),
    new Uint8Array([...SIGNATURE, 0x20]),
  );
  const tail = fc.oneof(
    fc.uint8Array({ maxLength: 300 }),
    fc.string({ unit: fc.constantFrom(..."0123456789abcdef.: \r\n"), maxLength: 120 }).map(ascii),
  );
  fc.assert(
    fc.property(prefix, tail, sizes, maxV2Length, (prefix, tail, sizes, max) => {
      decodesOrRejects(concat(prefix, tail), sizes, { maxV2Length: max });
    }),
    RUNS,
  );
});
