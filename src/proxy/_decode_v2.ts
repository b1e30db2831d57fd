/**
 * The v2 (binary) half of the PROXY header decoder.
 *
 * @module
 */

import type { ByteBuffer } from "../codec/byte_buffer.ts";
import { ProxyProtocolError } from "../errors.ts";
import type { ProxyHeader, ProxyTlv } from "./header.ts";
import { ADDRESS_LENGTH, fail, hex, readUnixPath, V2_FIXED_LENGTH } from "./_wire.ts";
import { formatIPv4, formatIPv6 } from "./_ip.ts";

const FAMILIES: Readonly<Record<number, ProxyHeader["family"]>> = {
  0x00: "UNKNOWN",
  0x11: "TCP4",
  0x21: "TCP6",
  0x31: "UNIX",
};
const DATAGRAMS: Readonly<Record<number, string>> = {
  0x12: "UDP over IPv4",
  0x22: "UDP over IPv6",
  0x32: "a unix datagram socket",
};

/**
 * Decodes a v2 header from a buffer that starts with the v2 signature (or a
 * prefix of it). Checks each fixed byte as soon as it arrives.
 *
 * @param buffer The buffer; the header is removed on success.
 * @param head A copy of at least the first `min(buffer.length, 16)` bytes.
 * @param max The longest header accepted, fixed part included.
 * @returns The header, or `null` while it is incomplete (then shorter than `max`).
 * @throws {ProxyProtocolError} When a byte is invalid or the header too long.
 */
export function decodeV2(buffer: ByteBuffer, head: Uint8Array, max: number): ProxyHeader | null {
  if (head.length > 12 && head[12] >> 4 !== 2) {
    throw fail(`v2 version must be 2 (got ${head[12] >> 4} in byte ${hex(head[12])})`);
  }
  if (head.length > 12 && (head[12] & 0x0f) > 1) {
    throw fail(
      `v2 command must be LOCAL (0) or PROXY (1) (got ${head[12] & 0x0f} in byte ${hex(head[12])})`,
    );
  }
  const local = head[12] === 0x20;
  const family = head.length > 13 && !local ? familyOf(head[13]) : "UNKNOWN";
  if (head.length < V2_FIXED_LENGTH) return null;
  const total = V2_FIXED_LENGTH + (head[14] << 8 | head[15]);
  if (total > max) throw fail(`v2 header of ${total} bytes exceeds maxV2Length ${max}`);
  if (!local) checkLength(family, total);
  if (buffer.length < total) return null;
  const bytes = buffer.copy(0, total);
  let header: ProxyHeader;
  try {
    header = parseBody(bytes, local ? "LOCAL" : "PROXY");
  } catch (error) {
    // The spec has receivers ignore the address block of a LOCAL header.
    if (!local || !(error instanceof ProxyProtocolError)) throw error;
    header = { version: 2, command: "LOCAL", family: "UNKNOWN", tlvs: [] };
  }
  buffer.skip(total);
  return header;
}

function familyOf(byte: number): ProxyHeader["family"] {
  const family = FAMILIES[byte];
  if (family !== undefined) return family;
  if (DATAGRAMS[byte] !== undefined) {
    throw fail(
      `v2 family byte ${hex(byte)} announces ${
        DATAGRAMS[byte]
      }; only stream connections are accepted`,
    );
  }
  throw fail(
    `v2 family byte ${hex(byte)} is not UNSPEC (0x00), TCP4 (0x11), TCP6 (0x21) or UNIX (0x31)`,
  );
}

function checkLength(family: ProxyHeader["family"], total: number): void {
  const length = total - V2_FIXED_LENGTH;
  if (length < ADDRESS_LENGTH[family]) {
    throw fail(
      `v2 ${family} address block needs ${ADDRESS_LENGTH[family]} bytes, the header has ${length}`,
    );
  }
}

function parseBody(bytes: Uint8Array, command: "PROXY" | "LOCAL"): ProxyHeader {
  const family = familyOf(bytes[13]);
  checkLength(family, bytes.length);
  const tlvs = parseTlvs(bytes, V2_FIXED_LENGTH + ADDRESS_LENGTH[family]);
  const at = (start: number, end: number) => bytes.subarray(start, end);
  const port = (i: number) => bytes[i] << 8 | bytes[i + 1];
  switch (family) {
    case "UNKNOWN":
      return { version: 2, command, family, tlvs };
    case "TCP4":
      return {
        version: 2,
        command,
        family,
        source: { hostname: formatIPv4(at(16, 20)), port: port(24) },
        destination: { hostname: formatIPv4(at(20, 24)), port: port(26) },
        tlvs,
      };
    case "TCP6":
      return {
        version: 2,
        command,
        family,
        source: { hostname: formatIPv6(at(16, 32)), port: port(48) },
        destination: { hostname: formatIPv6(at(32, 48)), port: port(50) },
        tlvs,
      };
    case "UNIX":
      return {
        version: 2,
        command,
        family,
        source: { path: readUnixPath(at(16, 124)) },
        destination: { path: readUnixPath(at(124, 232)) },
        tlvs,
      };
  }
}

function parseTlvs(bytes: Uint8Array, start: number): ProxyTlv[] {
  const tlvs: ProxyTlv[] = [];
  for (let at = start; at < bytes.length;) {
    const left = bytes.length - at;
    if (left < 3) {
      throw fail(`v2 TLV at byte ${at} is cut short: ${left} bytes left, a TLV header takes 3`);
    }
    const length = bytes[at + 1] << 8 | bytes[at + 2];
    if (length > left - 3) {
      throw fail(
        `v2 TLV of type ${hex(bytes[at])} at byte ${at} announces ${length} bytes, ${
          left - 3
        } are left in the header`,
      );
    }
    tlvs.push({ type: bytes[at], value: bytes.slice(at + 3, at + 3 + length) });
    at += 3 + length;
  }
  return tlvs;
}
