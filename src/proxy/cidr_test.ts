import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { createAddressMatcher, parseCidr } from "./mod.ts";

test("parseCidr() parses IPv4 and IPv6 ranges into canonical form", () => {
  const cases: [string, ReturnType<typeof parseCidr>][] = [
    ["10.0.0.0/8", { family: 4, address: "10.0.0.0", prefix: 8 }],
    ["0.0.0.0/0", { family: 4, address: "0.0.0.0", prefix: 0 }],
    ["127.0.0.1", { family: 4, address: "127.0.0.1", prefix: 32 }],
    ["192.168.1.128/25", { family: 4, address: "192.168.1.128", prefix: 25 }],
    ["::1", { family: 6, address: "::1", prefix: 128 }],
    ["::/0", { family: 6, address: "::", prefix: 0 }],
    ["FD00:0:0::/8", { family: 6, address: "fd00::", prefix: 8 }],
    ["2001:db8:0:0:1:0:0:0/80", { family: 6, address: "2001:db8:0:0:1::", prefix: 80 }],
    ["::ffff:10.0.0.0/104", { family: 6, address: "::ffff:10.0.0.0", prefix: 104 }],
  ];
  for (const [text, cidr] of cases) assert.deepEqual(parseCidr(text), cidr, text);
});

test("parseCidr() throws RangeError on bad ranges, saying why", () => {
  const cases: [string, string][] = [
    ["10.0.0.0/33", "prefix must be 0-32 for IPv4"],
    ["::/129", "prefix must be 0-128 for IPv6"],
    ["10.0.0.0/", "prefix must be 0-32 for IPv4"],
    ["10.0.0.0/08", "prefix must be 0-32 for IPv4"],
    ["10.0.0.0/-1", "prefix must be 0-32 for IPv4"],
    ["10.0.0.0/8/8", "prefix must be 0-32 for IPv4"],
    ["10.0.0/8", '"10.0.0" is not an IPv4 or IPv6 address'],
    ["", '"" is not an IPv4 or IPv6 address'],
    ["localhost/8", '"localhost" is not an IPv4 or IPv6 address'],
    ["fe80::1%eth0/64", '"fe80::1%eth0" is not an IPv4 or IPv6 address'],
    [" 10.0.0.0/8", '" 10.0.0.0" is not an IPv4 or IPv6 address'],
    ["10.0.0.1/8", "the address has bits set after the first 8 (the range is 10.0.0.0/8)"],
    ["fd00::1/8", "the address has bits set after the first 8 (the range is fd00::/8)"],
  ];
  for (const [text, detail] of cases) {
    assert.throws(() => parseCidr(text), {
      name: "RangeError",
      message: `Cannot parse CIDR ${JSON.stringify(text)}: ${detail}`,
    }, text);
  }
  assert.throws(() => parseCidr(8 as unknown as string), TypeError);
  assert.throws(() => createAddressMatcher(["10.0.0.0/8", "nope"]), RangeError);
});

test("createAddressMatcher() matches IPv4, IPv6 and IPv4-mapped IPv6 addresses", () => {
  const trusted = createAddressMatcher(["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"]);
  const cases: [string, boolean][] = [
    ["127.0.0.1", true],
    ["127.0.0.2", false],
    ["10.0.0.0", true],
    ["10.255.255.255", true],
    ["11.0.0.0", false],
    ["9.255.255.255", false],
    ["::ffff:127.0.0.1", true], // Node's view of an IPv4 client on a dual-stack socket
    ["::FFFF:10.1.2.3", true],
    ["::ffff:a01:203", true], // the same address in hex
    ["::ffff:192.168.0.1", false],
    ["::1", true],
    ["0:0:0:0:0:0:0:1", true],
    ["::2", false],
    ["fd12:3456::1", true],
    ["fe80::1", false],
    ["fdff:ffff:ffff:ffff:ffff:ffff:ffff:ffff", true],
    ["fd00::1%eth0", true], // a zone is ignored
    ["::127.0.0.1", false], // IPv4-compatible, not mapped
    ["localhost", false],
    ["/tmp/server.sock", false],
    ["", false],
    ["10.0.0.1:80", false],
  ];
  for (const [ip, expected] of cases) assert.equal(trusted(ip), expected, ip);
  assert.equal(createAddressMatcher([])("127.0.0.1"), false);
  assert.equal(trusted(undefined as unknown as string), false);
});

test("createAddressMatcher() treats IPv4 as IPv4-mapped IPv6 on both sides", () => {
  assert.equal(createAddressMatcher(["::ffff:0:0/96"])("192.0.2.1"), true);
  assert.equal(createAddressMatcher(["::ffff:192.0.2.0/120"])("192.0.2.9"), true);
  assert.equal(createAddressMatcher(["::/0"])("192.0.2.1"), true);
  assert.equal(createAddressMatcher(["0.0.0.0/0"])("::1"), false);
  assert.equal(createAddressMatcher(["0.0.0.0/0"])("::ffff:8.8.8.8"), true);
  assert.equal(createAddressMatcher(new Set(["192.0.2.0/24"]))("192.0.2.200"), true);
});

test("createAddressMatcher() agrees with arithmetic on random IPv4 ranges", () => {
  const ipv4 = fc.integer({ min: 0, max: 2 ** 32 - 1 });
  const text = (n: number) => [24, 16, 8, 0].map((shift) => (n >>> shift) & 0xff).join(".");
  fc.assert(
    fc.property(ipv4, ipv4, fc.integer({ min: 0, max: 32 }), (a, b, prefix) => {
      const mask = prefix === 0 ? 0 : (~0 << (32 - prefix)) >>> 0;
      const matcher = createAddressMatcher([`${text((a & mask) >>> 0)}/${prefix}`]);
      const inside = ((a ^ b) & mask) === 0;
      assert.equal(matcher(text(b)), inside);
      assert.equal(matcher(`::ffff:${text(b)}`), inside);
      assert.equal(matcher(text(a)), true);
    }),
    { numRuns: 200 },
  );
});
