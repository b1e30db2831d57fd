/**
 * The PROXY header encoder, for clients and balancers that send one.
 *
 * @module
 */

import type { ProxyHeader, ProxyInetAddress, ProxyTlv } from "./header.ts";
import {
  ADDRESS_LENGTH,
  FAMILY_BYTE,
  V2_FIXED_LENGTH,
  V2_SIGNATURE,
  writeUnixPath,
} from "./_wire.ts";
import { formatIPv4, formatIPv6, parseIPv4, parseIPv6 } from "./_ip.ts";

const FAMILIES = ["TCP4", "TCP6", "UNIX", "UNKNOWN"];

function invalid(detail: string): RangeError {
  return new RangeError(`Cannot encode PROXY header: ${detail}`);
}

/** Checks an address of a TCP4 or TCP6 header; returns its bytes. */
function inet(address: ProxyInetAddress | undefined, family: string, what: string): Uint8Array {
  if (typeof address !== "object" || address === null) {
    throw invalid(`${family} ${what} address is missing`);
  }
  const hostname = address.hostname;
  const bytes = typeof hostname !== "string"
    ? null
    : family === "TCP4"
    ? parseIPv4(hostname)
    : parseIPv6(hostname);
  if (bytes === null) {
    const kind = family === "TCP4" ? "IPv4" : "IPv6";
    throw invalid(
      `${family} ${what} hostname ${JSON.stringify(hostname)} is not an ${kind} address`,
    );
  }
  const port = address.port;
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 0xffff) {
    throw invalid(`${what} port must be an integer from 0 to 65535 (got ${JSON.stringify(port)})`);
  }
  return bytes;
}

function encodeV1(header: ProxyHeader): Uint8Array {
  const { command, family } = header;
  if (command !== "PROXY") throw invalid("v1 has no LOCAL command; use v2, or v1 UNKNOWN");
  if (header.tlvs !== undefined && header.tlvs.length > 0) {
    throw invalid(`v1 cannot carry TLVs (got ${header.tlvs.length}); use v2`);
  }
  if (family === "UNIX") throw invalid("v1 has no UNIX family; use v2");
  if (family === "UNKNOWN") return new TextEncoder().encode("PROXY UNKNOWN\r\n");
  const text = (bytes: Uint8Array) => bytes.length === 4 ? formatIPv4(bytes) : formatIPv6(bytes);
  const source = text(inet(header.source, family, "source"));
  const destination = text(inet(header.destination, family, "destination"));
  const { port: sourcePort } = header.source;
  const { port: destinationPort } = header.destination;
  return new TextEncoder().encode(
    `PROXY ${family} ${source} ${destination} ${sourcePort} ${destinationPort}\r\n`,
  );
}

/** Writes the address block of a v2 header. */
function addressBlock(header: ProxyHeader): Uint8Array {
  const block = new Uint8Array(ADDRESS_LENGTH[header.family]);
  if (header.family === "UNIX") {
    block.set(writeUnixPath(header.source?.path, "source"), 0);
    block.set(writeUnixPath(header.destination?.path, "destination"), 108);
  } else if (header.family !== "UNKNOWN") {
    const source = inet(header.source, header.family, "source");
    const destination = inet(header.destination, header.family, "destination");
    const n = source.length;
    block.set(source, 0);
    block.set(destination, n);
    for (const [at, port] of [[2 * n, header.source.port], [2 * n + 2, header.destination.port]]) {
      block[at] = port >> 8;
      block[at + 1] = port & 0xff;
    }
  }
  return block;
}

function checkTlv(tlv: ProxyTlv, i: number): void {
  if (!Number.isInteger(tlv?.type) || tlv.type < 0 || tlv.type > 0xff) {
    throw invalid(
      `TLV ${i} type must be an integer from 0 to 255 (got ${JSON.stringify(tlv?.type)})`,
    );
  }
  if (!(tlv.value instanceof Uint8Array)) throw invalid(`TLV ${i} value must be a Uint8Array`);
}

function encodeV2(header: ProxyHeader): Uint8Array {
  const block = addressBlock(header);
  const tlvs = header.tlvs ?? [];
  tlvs.forEach(checkTlv);
  const length = tlvs.reduce((sum, tlv) => sum + 3 + tlv.value.length, block.length);
  if (length > 0xffff) {
    throw invalid(`v2 addresses and TLVs take ${length} bytes, more than the 65535 allowed`);
  }
  const out = new Uint8Array(V2_FIXED_LENGTH + length);
  out.set(V2_SIGNATURE);
  out[12] = header.command === "LOCAL" ? 0x20 : 0x21;
  out[13] = FAMILY_BYTE[header.family];
  out[14] = length >> 8;
  out[15] = length & 0xff;
  out.set(block, V2_FIXED_LENGTH);
  let at = V2_FIXED_LENGTH + block.length;
  for (const { type, value } of tlvs) {
    out.set([type, value.length >> 8, value.length & 0xff], at);
    out.set(value, at + 3);
    at += 3 + value.length;
  }
  return out;
}

/**
 * Encodes a PROXY protocol header: v1 as its text line, v2 as binary with its
 * TLVs. IP addresses are written in canonical form whatever form they are given in.
 *
 * @param header The header.
 * @returns The bytes to send before anything else on the connection.
 * @throws {TypeError} When the header is not an object.
 * @throws {RangeError} When the header cannot be encoded: v1 with TLVs, LOCAL
 *   or UNIX; an address that does not match the family; a port outside
 *   0-65535; a UNIX path over 108 bytes; TLVs over the 65535-byte v2 length.
 *
 * @example Encode the v2 header HAProxy sends for an IPv4 client
 * ```ts
 * import assert from "node:assert/strict";
 * import { encodeProxyHeader } from "./mod.ts";
 *
 * const bytes = encodeProxyHeader({
 *   version: 2,
 *   command: "PROXY",
 *   family: "TCP4",
 *   source: { hostname: "172.19.0.1", port: 42578 },
 *   destination: { hostname: "172.19.0.3", port: 80 },
 * });
 * assert.equal(bytes.length, 28);
 * assert.deepEqual([...bytes.subarray(12, 16)], [0x21, 0x11, 0x00, 0x0c]);
 * ```
 */
export function encodeProxyHeader(header: ProxyHeader): Uint8Array {
  if (typeof header !== "object" || header === null) {
    throw new TypeError(`Cannot encode PROXY header: expected an object (got ${header})`);
  }
  const { version, command, family } = header;
  if (version !== 1 && version !== 2) {
    throw invalid(`version must be 1 or 2 (got ${JSON.stringify(version)})`);
  }
  if (command !== "PROXY" && command !== "LOCAL") {
    throw invalid(`command must be "PROXY" or "LOCAL" (got ${JSON.stringify(command)})`);
  }
  if (!FAMILIES.includes(family)) {
    throw invalid(`family must be TCP4, TCP6, UNIX or UNKNOWN (got ${JSON.stringify(family)})`);
  }
  if (family === "UNKNOWN" && (header.source !== undefined || header.destination !== undefined)) {
    throw invalid("an UNKNOWN header carries no addresses");
  }
  return version === 1 ? encodeV1(header) : encodeV2(header);
}
