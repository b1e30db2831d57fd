/**
 * CIDR ranges and a matcher over them, such as the addresses a server trusts
 * to send PROXY headers.
 *
 * @module
 */

import { formatIPv4, formatIPv6, parseDecimal, parseIp } from "./_ip.ts";

/** A parsed CIDR range. */
export interface Cidr {
  /** 4 for IPv4, 6 for IPv6. */
  family: 4 | 6;
  /** The network address in canonical form, such as `10.0.0.0` or `fd00::`. */
  address: string;
  /** The prefix length: 0-32 for IPv4, 0-128 for IPv6. */
  prefix: number;
}

/** Tells whether an IP address is in one of the ranges. */
export type AddressMatcher = (ip: string) => boolean;

/** A range as 16 bytes (IPv4 as IPv4-mapped IPv6) and a prefix over them. */
interface Range {
  bytes: Uint8Array;
  bits: number;
}

/** Returns 16 bytes: IPv6 as is, IPv4 as `::ffff:a.b.c.d`. */
function toIPv6(bytes: Uint8Array): Uint8Array {
  if (bytes.length === 16) return bytes;
  const out = new Uint8Array(16);
  out[10] = out[11] = 0xff;
  out.set(bytes, 12);
  return out;
}

function inRange(bytes: Uint8Array, range: Range): boolean {
  const whole = range.bits >> 3;
  for (let i = 0; i < whole; i++) if (bytes[i] !== range.bytes[i]) return false;
  const rest = range.bits & 7;
  return rest === 0 || ((bytes[whole] ^ range.bytes[whole]) & (0xff << (8 - rest)) & 0xff) === 0;
}

/**
 * Parses a CIDR range such as `10.0.0.0/8` or `fd00::/8`. A bare address is
 * a single host: `/32` for IPv4, `/128` for IPv6.
 *
 * @param text The range.
 * @returns The family, network address and prefix length.
 * @throws {TypeError} When `text` is not a string.
 * @throws {RangeError} When it is not a CIDR range, the prefix is out of
 *   range, or the address has bits set after the prefix (`10.0.0.1/8`).
 *
 * @example Parse IPv4 and IPv6 ranges
 * ```ts
 * import assert from "node:assert/strict";
 * import { parseCidr } from "./mod.ts";
 *
 * assert.deepEqual(parseCidr("10.0.0.0/8"), { family: 4, address: "10.0.0.0", prefix: 8 });
 * assert.deepEqual(parseCidr("FD00:0::/8"), { family: 6, address: "fd00::", prefix: 8 });
 * assert.deepEqual(parseCidr("::1"), { family: 6, address: "::1", prefix: 128 });
 * assert.throws(() => parseCidr("10.0.0.0/33"), RangeError);
 * ```
 */
export function parseCidr(text: string): Cidr {
  if (typeof text !== "string") {
    throw new TypeError(`Cannot parse CIDR: expected a string (got ${typeof text})`);
  }
  const say = (detail: string) =>
    new RangeError(`Cannot parse CIDR ${JSON.stringify(text)}: ${detail}`);
  const slash = text.indexOf("/");
  const addressText = slash === -1 ? text : text.slice(0, slash);
  const bytes = parseIp(addressText);
  if (bytes === null) {
    throw say(`${JSON.stringify(addressText)} is not an IPv4 or IPv6 address`);
  }
  const family = bytes.length === 4 ? 4 : 6;
  const max = 8 * bytes.length;
  const prefix = slash === -1 ? max : parseDecimal(text.slice(slash + 1), max);
  if (prefix === null) throw say(`prefix must be 0-${max} for IPv${family}`);
  const network = bytes.map((byte, i) => byte & 0xff00 >> Math.min(8, Math.max(0, prefix - 8 * i)));
  const format = family === 4 ? formatIPv4 : formatIPv6;
  if (network.some((byte, i) => byte !== bytes[i])) {
    throw say(
      `the address has bits set after the first ${prefix} (the range is ${
        format(network)
      }/${prefix})`,
    );
  }
  return { family, address: format(network), prefix };
}

/**
 * Makes a matcher that tells whether an address is in any of the ranges.
 * IPv4 and IPv4-mapped IPv6 are one address: `::ffff:127.0.0.1` (how Node
 * reports IPv4 clients of a dual-stack socket) matches `127.0.0.0/8`, and
 * `127.0.0.1` matches `::ffff:0:0/96` and `::/0`. A zone (`fe80::1%eth0`) is
 * ignored. Text that is not an IP address, such as a unix socket path,
 * matches nothing.
 *
 * @param cidrs The ranges, each as {@linkcode parseCidr} takes it.
 * @returns The matcher.
 * @throws {TypeError} When a range is not a string.
 * @throws {RangeError} When a range is invalid.
 *
 * @example Trust loopback and a private network
 * ```ts
 * import assert from "node:assert/strict";
 * import { createAddressMatcher } from "./mod.ts";
 *
 * const trusted = createAddressMatcher(["127.0.0.1/32", "10.0.0.0/8", "::1/128", "fd00::/8"]);
 * assert.equal(trusted("10.1.2.3"), true);
 * assert.equal(trusted("::ffff:127.0.0.1"), true);
 * assert.equal(trusted("fd12::5"), true);
 * assert.equal(trusted("192.168.0.1"), false);
 * ```
 */
export function createAddressMatcher(cidrs: Iterable<string>): AddressMatcher {
  const ranges: Range[] = [];
  for (const text of cidrs) {
    const { family, address, prefix } = parseCidr(text);
    const bytes = toIPv6(parseIp(address)!);
    ranges.push({ bytes, bits: family === 4 ? 96 + prefix : prefix });
  }
  return (ip: string): boolean => {
    if (typeof ip !== "string") return false;
    const zone = ip.indexOf("%");
    const parsed = parseIp(zone === -1 ? ip : ip.slice(0, zone));
    if (parsed === null) return false;
    const bytes = toIPv6(parsed);
    return ranges.some((range) => inRange(bytes, range));
  };
}
