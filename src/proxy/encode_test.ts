import { test } from "node:test";
import assert from "node:assert/strict";
import { encodeProxyHeader, type ProxyHeader } from "./mod.ts";

const SIGNATURE = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);
const v4 = (hostname: string, port: number) => ({ hostname, port });

test("encodeProxyHeader() writes v1 lines with canonical addresses", () => {
  assert.equal(
    text(encodeProxyHeader({
      version: 1,
      command: "PROXY",
      family: "TCP4",
      source: v4("192.168.0.1", 56324),
      destination: v4("192.168.0.11", 443),
    })),
    "PROXY TCP4 192.168.0.1 192.168.0.11 56324 443\r\n",
  );
  assert.equal(
    text(encodeProxyHeader({
      version: 1,
      command: "PROXY",
      family: "TCP6",
      source: v4("2001:DB8:0:0:0:0:0:1", 1),
      destination: v4("0:0:0:0:0:ffff:c0a8:1", 2),
    })),
    "PROXY TCP6 2001:db8::1 ::ffff:192.168.0.1 1 2\r\n",
  );
  const unknown = { version: 1, command: "PROXY", family: "UNKNOWN" } as const;
  assert.equal(text(encodeProxyHeader(unknown)), "PROXY UNKNOWN\r\n");
  assert.equal(text(encodeProxyHeader({ ...unknown, tlvs: [] })), "PROXY UNKNOWN\r\n");
});

test("encodeProxyHeader() writes v2 headers byte for byte", () => {
  const local = encodeProxyHeader({ version: 2, command: "LOCAL", family: "UNKNOWN" });
  assert.deepEqual([...local], [...SIGNATURE, 0x20, 0x00, 0x00, 0x00]);
  const tcp6 = encodeProxyHeader({
    version: 2,
    command: "PROXY",
    family: "TCP6",
    source: v4("::1", 0x1234),
    destination: v4("2001:db8::2", 443),
    tlvs: [{ type: 0x01, value: new TextEncoder().encode("h2") }],
  });
  assert.deepEqual([...tcp6.subarray(12, 16)], [0x21, 0x21, 0x00, 36 + 5]);
  assert.deepEqual([...tcp6.subarray(16, 32)], [...new Array(15).fill(0), 1]);
  assert.deepEqual([...tcp6.subarray(32, 36)], [0x20, 0x01, 0x0d, 0xb8]);
  assert.deepEqual([...tcp6.subarray(48)], [0x12, 0x34, 0x01, 0xbb, 0x01, 0x00, 0x02, 0x68, 0x32]);
  const unix = encodeProxyHeader({
    version: 2,
    command: "PROXY",
    family: "UNIX",
    source: { path: "/run/a.sock" },
    destination: { path: "\0abstract" },
  });
  assert.equal(unix.length, 16 + 216);
  assert.deepEqual([...unix.subarray(12, 16)], [0x21, 0x31, 0x00, 216]);
  assert.equal(text(unix.subarray(16, 27)), "/run/a.sock");
  assert.equal(unix[27], 0);
  assert.deepEqual([...unix.subarray(124, 127)], [0, 0x61, 0x62]);
});

test("encodeProxyHeader() throws RangeError on headers it cannot encode", () => {
  const tcp4 = {
    version: 1,
    command: "PROXY",
    family: "TCP4",
    source: v4("10.0.0.1", 1),
    destination: v4("10.0.0.2", 2),
  } as const;
  const long = "/".repeat(109);
  const cases: [unknown, string][] = [
    [{ ...tcp4, version: 3 }, "version must be 1 or 2 (got 3)"],
    [{ ...tcp4, command: "proxy" }, 'command must be "PROXY" or "LOCAL" (got "proxy")'],
    [{ ...tcp4, family: "UDP4" }, 'family must be TCP4, TCP6, UNIX or UNKNOWN (got "UDP4")'],
    [{ ...tcp4, command: "LOCAL" }, "v1 has no LOCAL command; use v2, or v1 UNKNOWN"],
    [
      { ...tcp4, tlvs: [{ type: 1, value: new Uint8Array(1) }] },
      "v1 cannot carry TLVs (got 1); use v2",
    ],
    [{ ...tcp4, family: "UNIX" }, "v1 has no UNIX family; use v2"],
    [{ ...tcp4, family: "UNKNOWN" }, "an UNKNOWN header carries no addresses"],
    [{ ...tcp4, source: v4("::1", 1) }, 'TCP4 source hostname "::1" is not an IPv4 address'],
    [
      { ...tcp4, source: v4("010.0.0.1", 1) },
      'TCP4 source hostname "010.0.0.1" is not an IPv4 address',
    ],
    [{ ...tcp4, family: "TCP6" }, 'TCP6 source hostname "10.0.0.1" is not an IPv6 address'],
    [{ ...tcp4, destination: undefined }, "TCP4 destination address is missing"],
    [
      { ...tcp4, source: v4("10.0.0.1", 65536) },
      "source port must be an integer from 0 to 65535 (got 65536)",
    ],
    [
      { ...tcp4, source: v4("10.0.0.1", -1) },
      "source port must be an integer from 0 to 65535 (got -1)",
    ],
    [
      { ...tcp4, destination: v4("10.0.0.1", 1.5) },
      "destination port must be an integer from 0 to 65535 (got 1.5)",
    ],
    [
      { ...tcp4, destination: { hostname: "10.0.0.1", port: "80" } },
      'destination port must be an integer from 0 to 65535 (got "80")',
    ],
    [
      {
        version: 2,
        command: "PROXY",
        family: "UNIX",
        source: { path: long },
        destination: { path: "" },
      },
      `UNIX source path ${
        JSON.stringify(long)
      } must be at most 108 bytes in UTF-8, with no NUL but a leading one`,
    ],
    [
      {
        version: 2,
        command: "PROXY",
        family: "UNIX",
        source: { path: "" },
        destination: { path: "a\0b" },
      },
      'UNIX destination path "a\\u0000b" must be at most 108 bytes in UTF-8, with no NUL but a leading one',
    ],
    [
      { ...tcp4, version: 2, tlvs: [{ type: 256, value: new Uint8Array(0) }] },
      "TLV 0 type must be an integer from 0 to 255 (got 256)",
    ],
    [{ ...tcp4, version: 2, tlvs: [{ type: 1, value: [1] }] }, "TLV 0 value must be a Uint8Array"],
    [
      { ...tcp4, version: 2, tlvs: [{ type: 1, value: new Uint8Array(65535 - 12 - 3 + 1) }] },
      "v2 addresses and TLVs take 65536 bytes, more than the 65535 allowed",
    ],
  ];
  for (const [header, detail] of cases) {
    assert.throws(() => encodeProxyHeader(header as ProxyHeader), {
      name: "RangeError",
      message: `Cannot encode PROXY header: ${detail}`,
    }, detail);
  }
  assert.throws(() => encodeProxyHeader(null as unknown as ProxyHeader), TypeError);
  const max = { ...tcp4, version: 2, tlvs: [{ type: 1, value: new Uint8Array(65535 - 12 - 3) }] };
  assert.equal(encodeProxyHeader(max as ProxyHeader).length, 16 + 65535);
});
