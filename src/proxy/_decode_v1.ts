/**
 * The v1 (text) half of the PROXY header decoder.
 *
 * @module
 */

import type { ByteBuffer } from "../codec/byte_buffer.ts";
import type { ProxyHeader, ProxyInetAddress } from "./header.ts";
import { fail, V1_MAX_LENGTH } from "./_wire.ts";
import { formatIPv4, formatIPv6, parseDecimal, parseIPv4, parseIPv6 } from "./_ip.ts";

const FAMILIES = ["TCP4 ", "TCP6 ", "UNKNOWN ", "UNKNOWN\r"];
const ADDRESS_CHARS = /^[0-9A-Fa-f.: \r]$/;
const FIELDS = ["", "", "source address", "destination address", "source port", "destination port"];

/**
 * Decodes a v1 header from a buffer that starts with `"PROXY "` (or a prefix
 * of it). Rejects as soon as the bytes so far cannot start a valid line.
 *
 * @param buffer The buffer; the line and its CRLF are removed on success.
 * @param head A copy of the first `min(buffer.length, 107)` bytes.
 * @returns The header, or `null` while the line is incomplete and shorter than 107 bytes.
 * @throws {ProxyProtocolError} When the line is invalid or too long.
 */
export function decodeV1(buffer: ByteBuffer, head: Uint8Array): ProxyHeader | null {
  const lf = head.indexOf(0x0a);
  const text = String.fromCharCode(...head.subarray(0, lf === -1 ? head.length : lf));
  const family = text.slice(6, 14);
  if (!FAMILIES.some((name) => name.startsWith(family.slice(0, name.length)))) {
    const got = family.split(/[ \r]/)[0];
    if (got === "TCP4" || got === "TCP6") {
      throw fail(`v1 ${got} line ends after its family: ${JSON.stringify(text)}`);
    }
    throw fail(`v1 family must be TCP4, TCP6 or UNKNOWN (got ${JSON.stringify(got)})`);
  }
  const inet = text.startsWith("PROXY TCP");
  const at = inet ? badCharAt(text) : -1;
  if (at !== -1) {
    throw fail(
      `v1 ${text.slice(6, 10)} line has ${JSON.stringify(text[at])} at byte ${at}: ${
        JSON.stringify(text.slice(0, at + 1))
      }`,
    );
  }
  if (lf === -1) {
    if (head.length < V1_MAX_LENGTH) return null;
    throw fail(`v1 line longer than ${V1_MAX_LENGTH} bytes`);
  }
  if (!text.endsWith("\r")) throw fail(`v1 line ends with LF without CR: ${JSON.stringify(text)}`);
  const line = text.slice(0, -1);
  const header = inet
    ? parseInet(line)
    : { version: 1, command: "PROXY", family: "UNKNOWN" } as const;
  buffer.skip(lf + 1);
  return header;
}

/** Finds the first byte of a TCP4 or TCP6 line that no valid line has there, or -1. */
function badCharAt(text: string): number {
  for (let i = 11; i < text.length; i++) {
    if (!ADDRESS_CHARS.test(text[i]) || (text[i] === "\r" && i !== text.length - 1)) return i;
  }
  return -1;
}

/** Parses `PROXY TCP4|TCP6 <source> <destination> <source port> <destination port>`. */
function parseInet(line: string): ProxyHeader {
  const fields = line.split(" ");
  const family = fields[1] as "TCP4" | "TCP6";
  if (fields.length !== 6 || fields.includes("")) {
    const found = fields.length === 6 ? "an empty field" : `${fields.length} fields`;
    throw fail(
      `v1 ${family} line must have 6 fields separated by single spaces, found ${found}: ${
        JSON.stringify(line)
      }`,
    );
  }
  const address = (i: number, j: number): ProxyInetAddress => {
    const bytes = family === "TCP4" ? parseIPv4(fields[i]) : parseIPv6(fields[i]);
    if (bytes === null) {
      const kind = family === "TCP4" ? "IPv4" : "IPv6";
      throw fail(`v1 ${FIELDS[i]} ${JSON.stringify(fields[i])} is not an ${kind} address`);
    }
    const port = parseDecimal(fields[j], 0xffff);
    if (port === null) {
      throw fail(
        `v1 ${FIELDS[j]} ${
          JSON.stringify(fields[j])
        } must be a decimal number from 0 to 65535 without leading zeros`,
      );
    }
    return { hostname: family === "TCP4" ? formatIPv4(bytes) : formatIPv6(bytes), port };
  };
  return {
    version: 1,
    command: "PROXY",
    family,
    source: address(2, 4),
    destination: address(3, 5),
  };
}
