// decodeProxyHeader() on v1 (text) headers: the spec's examples and each rejection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer } from "../codec/byte_buffer.ts";
import { decodeProxyHeader, type ProxyHeader } from "./mod.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

function bufferOf(...chunks: (string | number[] | Uint8Array)[]): ByteBuffer {
  const buffer = new ByteBuffer();
  for (const c of chunks) buffer.push(typeof c === "string" ? ascii(c) : new Uint8Array(c));
  return buffer;
}

test("decodeProxyHeader() decodes the spec's v1 examples and leaves the bytes after them", () => {
  const examples: [string, ProxyHeader][] = [
    ["PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n", {
      version: 1,
      command: "PROXY",
      family: "TCP4",
      source: { hostname: "192.168.0.1", port: 56324 },
      destination: { hostname: "192.168.0.11", port: 443 },
    }],
    ["PROXY TCP6 2001:DB8:0:0:0:0:0:1 ::FFFF:192.168.0.1 0 65535\r\n", {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: { hostname: "2001:db8::1", port: 0 },
      destination: { hostname: "::ffff:192.168.0.1", port: 65535 },
    }],
    ["PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff ::1 65535 65535\r\n", {
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: { hostname: "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", port: 65535 },
      destination: { hostname: "::1", port: 65535 },
    }],
    ["PROXY UNKNOWN\r\n", { version: 1, command: "PROXY", family: "UNKNOWN" }],
    [`PROXY UNKNOWN ${"ffff:".repeat(7)}ffff ${"ffff:".repeat(7)}ffff 65535 65535\r\n`, {
      version: 1,
      command: "PROXY",
      family: "UNKNOWN",
    }],
  ];
  for (const [line, header] of examples) {
    const buffer = bufferOf(line, "GET / HTTP/1.1\r\n");
    assert.ok(line.length <= 107);
    assert.deepEqual(decodeProxyHeader(buffer), header, line);
    assert.equal(new TextDecoder().decode(buffer.take(buffer.length)), "GET / HTTP/1.1\r\n");
  }
});

test("decodeProxyHeader() rejects bad v1 lines with the reason", () => {
  const long = `PROXY UNKNOWN ${"x".repeat(93)}`;
  const cases: [string, string][] = [
    ["PROXY TCP5 ", 'v1 family must be TCP4, TCP6 or UNKNOWN (got "TCP5")'],
    ["PROXY tcp4 ", 'v1 family must be TCP4, TCP6 or UNKNOWN (got "tcp4")'],
    ["PROXY UNKNOWNX", 'v1 family must be TCP4, TCP6 or UNKNOWN (got "UNKNOWNX")'],
    ["PROXY TCP6\r\n", 'v1 TCP6 line ends after its family: "PROXY TCP6\\r"'],
    ["PROXY  TCP4", 'v1 family must be TCP4, TCP6 or UNKNOWN (got "")'],
    [long, "v1 line longer than 107 bytes"],
    ["PROXY UNKNOWN\n", 'v1 line ends with LF without CR: "PROXY UNKNOWN"'],
    ["PROXY TCP4 1.2.3.4\t", 'v1 TCP4 line has "\\t" at byte 18: "PROXY TCP4 1.2.3.4\\t"'],
    ["PROXY TCP4 1.2.3.4\rx", 'v1 TCP4 line has "\\r" at byte 18: "PROXY TCP4 1.2.3.4\\r"'],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n",
      'v1 TCP4 line must have 6 fields separated by single spaces, found 5 fields: "PROXY TCP4 1.2.3.4 5.6.7.8 1"',
    ],
    [
      "PROXY TCP4 1.2.3.4  5.6.7.8 1 2\r\n",
      'v1 TCP4 line must have 6 fields separated by single spaces, found 7 fields: "PROXY TCP4 1.2.3.4  5.6.7.8 1 2"',
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
      'v1 TCP4 line must have 6 fields separated by single spaces, found 7 fields: "PROXY TCP4 1.2.3.4 5.6.7.8 1 2 "',
    ],
    [
      "PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n",
      'v1 source address "1.2.3.256" is not an IPv4 address',
    ],
    [
      "PROXY TCP4 1.2.3.4 05.6.7.8 1 2\r\n",
      'v1 destination address "05.6.7.8" is not an IPv4 address',
    ],
    ["PROXY TCP4 ::1 ::1 1 2\r\n", 'v1 source address "::1" is not an IPv4 address'],
    ["PROXY TCP6 1.2.3.4 ::1 1 2\r\n", 'v1 source address "1.2.3.4" is not an IPv6 address'],
    ["PROXY TCP6 ::1 1::2::3 1 2\r\n", 'v1 destination address "1::2::3" is not an IPv6 address'],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n",
      'v1 source port "65536" must be a decimal number from 0 to 65535 without leading zeros',
    ],
    [
      "PROXY TCP4 1.2.3.4 5.6.7.8 1 080\r\n",
      'v1 destination port "080" must be a decimal number from 0 to 65535 without leading zeros',
    ],
  ];
  for (const [line, detail] of cases) {
    assert.throws(() => decodeProxyHeader(bufferOf(line)), {
      name: "ProxyProtocolError",
      message: `Cannot read PROXY header: ${detail}`,
    }, line);
  }
});

test("decodeProxyHeader() rejects a v1 line as soon as its bytes prove it bad", () => {
  // Each input is the shortest that proves the line bad; one byte less is null.
  for (const input of ["PROXY X", "PROXY TCP4 G", "PROXY TCP6 ::1 \0", "PROXY TCP4 1\r1"]) {
    assert.equal(decodeProxyHeader(bufferOf(input.slice(0, -1))), null, input);
    assert.throws(() => decodeProxyHeader(bufferOf(input)), { name: "ProxyProtocolError" }, input);
  }
  const line = ascii(`PROXY UNKNOWN ${"x".repeat(93)}`);
  assert.equal(line.length, 107);
  assert.equal(decodeProxyHeader(bufferOf(line.subarray(0, 106))), null);
  assert.throws(() => decodeProxyHeader(bufferOf(line)), /longer than 107 bytes/);
});
