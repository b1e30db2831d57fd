// decodeProxyHeader() across versions: what non-PROXY bytes look like, end of stream.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer } from "../codec/byte_buffer.ts";
import { ProxyProtocolError } from "../errors.ts";
import { decodeProxyHeader } from "./mod.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

function bufferOf(...chunks: (string | number[] | Uint8Array)[]): ByteBuffer {
  const buffer = new ByteBuffer();
  for (const c of chunks) buffer.push(typeof c === "string" ? ascii(c) : new Uint8Array(c));
  return buffer;
}

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

test("decodeProxyHeader() says what the bytes look like when there is no PROXY header", () => {
  const cases: [string | number[], RegExp][] = [
    [
      "GET / HTTP/1.1\r\nHost: x\r\n",
      /its first bytes "GET \/ HTTP\/1.1\\r\\n" look like an HTTP request: is a web client/,
    ],
    ["G", /"G" look like an HTTP request/],
    ["PRI * HTTP/2.0", /an HTTP request/],
    [[0x16, 0x03, 0x01, 0x02, 0x00], /first bytes 16 03 01 02 00 look like a TLS ClientHello/],
    [[0x16], /a TLS ClientHello/],
    ["SSH-2.0-OpenSSH_9.6\r\n", /an SSH client/],
    ["hello\n", /"hello\\n" look like plain text/],
    [[0x00, 0xff], /first bytes 00 ff look like binary data/],
    ["PROXI", /"PROXI" look like plain text/],
    [[...SIGNATURE.slice(0, 7), 0x52], /0d 0a 0d 0a 00 0d 0a 52 look like binary data/],
  ];
  for (const [bytes, message] of cases) {
    assert.throws(() => decodeProxyHeader(bufferOf(bytes)), (error) => {
      assert.ok(error instanceof ProxyProtocolError);
      assert.equal(error.code, "EPROXYPROTOCOL");
      assert.match(
        error.message,
        /^Cannot read PROXY header: the client did not send a PROXY header: /,
      );
      assert.match(error.message, message);
      return true;
    });
  }
});

test("decodeProxyHeader() with eof throws on part of a header, and returns null on nothing", () => {
  const v2 = [...SIGNATURE, 0x21, 0x11, 0x00, 0x0c, 1, 2, 3, 4];
  const cases: [string | number[], string][] = [
    ["PROXY TCP4 1.2", "the stream ended after 14 bytes of a v1 header, before its CRLF"],
    ["PROXY UNKNOWN\r", "the stream ended after 14 bytes of a v1 header, before its CRLF"],
    [
      SIGNATURE.slice(0, 3),
      "the stream ended after 3 bytes of a v2 header, inside its 16 fixed bytes",
    ],
    [v2, "the stream ended after 20 of the 28 bytes of a v2 header"],
  ];
  for (const [bytes, detail] of cases) {
    const buffer = bufferOf(bytes);
    assert.equal(decodeProxyHeader(buffer), null);
    assert.throws(() => decodeProxyHeader(buffer, { eof: true }), {
      name: "ProxyProtocolError",
      message: `Cannot read PROXY header: ${detail}`,
    });
  }
  assert.equal(decodeProxyHeader(new ByteBuffer(), { eof: true }), null);
  assert.deepEqual(decodeProxyHeader(bufferOf("PROXY UNKNOWN\r\n"), { eof: true }), {
    version: 1,
    command: "PROXY",
    family: "UNKNOWN",
  });
});
