// decodeProxyHeader() on v2 (binary) headers: HAProxy's bytes, LOCAL, TLVs, each rejection.
import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer } from "../codec/byte_buffer.ts";
import { decodeProxyHeader, encodeProxyHeader, maxProxyHeaderLength } from "./mod.ts";

const ascii = (text: string) => new TextEncoder().encode(text);

function bufferOf(...chunks: (string | number[] | Uint8Array)[]): ByteBuffer {
  const buffer = new ByteBuffer();
  for (const c of chunks) buffer.push(typeof c === "string" ? ascii(c) : new Uint8Array(c));
  return buffer;
}

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];

test("decodeProxyHeader() decodes the 28-byte v2 header HAProxy's send-proxy-v2 sends", () => {
  // Captured from HAProxy: TCP over IPv4, no TLVs, then the client's request.
  const header = [0x21, 0x11, 0x00, 0x0c, 172, 19, 0, 1, 172, 19, 0, 3, 0xa6, 0x52, 0x00, 0x50];
  const buffer = bufferOf([...SIGNATURE, ...header], "GET / HTTP/1.1\r\n");
  assert.deepEqual(decodeProxyHeader(buffer), {
    version: 2,
    command: "PROXY",
    family: "TCP4",
    source: { hostname: "172.19.0.1", port: 42578 },
    destination: { hostname: "172.19.0.3", port: 80 },
    tlvs: [],
  });
  assert.equal(buffer.length, 16);
});

test("decodeProxyHeader() decodes a v2 LOCAL header (a health check) and TLVs", () => {
  const buffer = bufferOf([...SIGNATURE, 0x20, 0x00, 0x00, 0x00, 0x2a]);
  assert.deepEqual(decodeProxyHeader(buffer), {
    version: 2,
    command: "LOCAL",
    family: "UNKNOWN",
    tlvs: [],
  });
  assert.equal(buffer.length, 1);
  const tlvs = [0x01, 0x00, 0x02, 0x68, 0x32, 0xea, 0x00, 0x00];
  const withTlvs = bufferOf([...SIGNATURE, 0x21, 0x00, 0x00, tlvs.length, ...tlvs]);
  assert.deepEqual(decodeProxyHeader(withTlvs), {
    version: 2,
    command: "PROXY",
    family: "UNKNOWN",
    tlvs: [{ type: 0x01, value: ascii("h2") }, { type: 0xea, value: new Uint8Array(0) }],
  });
});

test("decodeProxyHeader() ignores the address block of a LOCAL header it cannot parse", () => {
  for (
    const rest of [
      [0x11, 0x00, 0x04, 1, 2, 3, 4], // shorter than TCP4 needs
      [0x45, 0x00, 0x00], // unknown family
      [0x12, 0x00, 0x00], // UDP
      [0x00, 0x00, 0x02, 0x01, 0x00], // TLV cut short
    ]
  ) {
    const buffer = bufferOf([...SIGNATURE, 0x20, ...rest, 0x2a]);
    assert.deepEqual(decodeProxyHeader(buffer), {
      version: 2,
      command: "LOCAL",
      family: "UNKNOWN",
      tlvs: [],
    });
    assert.deepEqual(buffer.copy(0, buffer.length), new Uint8Array([0x2a]));
  }
});

test("decodeProxyHeader() rejects bad v2 headers with the reason", () => {
  const v2 = (...bytes: number[]) => [...SIGNATURE, ...bytes];
  const cases: [number[], string][] = [
    [v2(0x11), "v2 version must be 2 (got 1 in byte 0x11)"],
    [v2(0x22), "v2 command must be LOCAL (0) or PROXY (1) (got 2 in byte 0x22)"],
    [
      v2(0x21, 0x41),
      "v2 family byte 0x41 is not UNSPEC (0x00), TCP4 (0x11), TCP6 (0x21) or UNIX (0x31)",
    ],
    [
      v2(0x21, 0x01),
      "v2 family byte 0x01 is not UNSPEC (0x00), TCP4 (0x11), TCP6 (0x21) or UNIX (0x31)",
    ],
    [
      v2(0x21, 0x12),
      "v2 family byte 0x12 announces UDP over IPv4; only stream connections are accepted",
    ],
    [v2(0x21, 0x11, 0x0f, 0xf1), "v2 header of 4097 bytes exceeds maxV2Length 4096"],
    [v2(0x21, 0x11, 0x00, 0x0b), "v2 TCP4 address block needs 12 bytes, the header has 11"],
    [v2(0x21, 0x21, 0x00, 0x0c), "v2 TCP6 address block needs 36 bytes, the header has 12"],
    [v2(0x21, 0x31, 0x00, 0x00), "v2 UNIX address block needs 216 bytes, the header has 0"],
    [
      v2(0x21, 0x00, 0x00, 0x02, 0x01, 0x00),
      "v2 TLV at byte 16 is cut short: 2 bytes left, a TLV header takes 3",
    ],
    [
      v2(0x21, 0x00, 0x00, 0x05, 0x01, 0x00, 0x03, 0x68, 0x32),
      "v2 TLV of type 0x01 at byte 16 announces 3 bytes, 2 are left in the header",
    ],
  ];
  for (const [bytes, detail] of cases) {
    assert.throws(() => decodeProxyHeader(bufferOf(bytes)), {
      name: "ProxyProtocolError",
      message: `Cannot read PROXY header: ${detail}`,
    }, detail);
  }
});

test("decodeProxyHeader() rejects a v2 header as soon as its bytes prove it bad", () => {
  // Each input is the shortest that proves the header bad; one byte less is null.
  const inputs = [
    [...SIGNATURE.slice(0, 5), 0x0a],
    [...SIGNATURE, 0x31],
    [...SIGNATURE, 0x21, 0x45],
    [...SIGNATURE, 0x21, 0x11, 0x10, 0x00],
    [...SIGNATURE, 0x21, 0x11, 0x00, 0x00],
  ];
  for (const input of inputs) {
    assert.equal(decodeProxyHeader(bufferOf(input.slice(0, -1))), null, String(input));
    assert.throws(() => decodeProxyHeader(bufferOf(input)), { name: "ProxyProtocolError" });
  }
});

test("decodeProxyHeader() honours maxV2Length and checks it", () => {
  const bytes = encodeProxyHeader({
    version: 2,
    command: "PROXY",
    family: "TCP4",
    source: { hostname: "10.0.0.1", port: 1 },
    destination: { hostname: "10.0.0.2", port: 2 },
    tlvs: [{ type: 0xe0, value: new Uint8Array(2) }],
  });
  assert.equal(bytes.length, 33);
  assert.ok(decodeProxyHeader(bufferOf(bytes), { maxV2Length: 33 }));
  assert.throws(() => decodeProxyHeader(bufferOf(bytes.subarray(0, 16)), { maxV2Length: 32 }), {
    message: "Cannot read PROXY header: v2 header of 33 bytes exceeds maxV2Length 32",
  });
  for (const maxV2Length of [15, 65552, 100.5, NaN]) {
    assert.throws(() => decodeProxyHeader(bufferOf(bytes), { maxV2Length }), RangeError);
  }
  assert.throws(() => maxProxyHeaderLength({ maxV2Length: "99" as unknown as number }), TypeError);
  assert.equal(maxProxyHeaderLength({ maxV2Length: 65551 }), 65551);
});
