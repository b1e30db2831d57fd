/**
 * The PROXY protocol header as HAProxy's spec defines it ("The PROXY protocol,
 * Versions 1 & 2"): what a load balancer tells a server about the client
 * before the client's own bytes.
 *
 * @module
 */

/** An IP address and port, as carried by a TCP4 or TCP6 header. */
export interface ProxyInetAddress {
  /** Dotted-quad IPv4, or IPv6 in canonical form (`::1`, `2001:db8::1`, `::ffff:192.0.2.1`). */
  hostname: string;
  /** From 0 to 65535. */
  port: number;
}

/** A unix socket address, as carried by a v2 UNIX header. */
export interface ProxyUnixAddress {
  /**
   * The socket path; a Linux abstract socket name starts with `"\0"`; `""`
   * when the sender sent zeros (an unnamed socket). At most 108 bytes in UTF-8.
   */
  path: string;
}

/**
 * A type-length-value extension of a v2 header. Types are listed in
 * {@linkcode PROXY_TLV}; the value is kept as sent (the SSL TLV's nested
 * TLVs and the CRC32C checksum are not interpreted).
 */
export interface ProxyTlv {
  /** From 0 to 255. */
  type: number;
  /** At most 65535 bytes, less what the rest of the header takes. */
  value: Uint8Array;
}

/** What every header has. */
export interface ProxyHeaderBase {
  /** 1: the text format, 2: the binary format. */
  version: 1 | 2;
  /**
   * `"PROXY"`: the connection is relayed and the addresses are the client's.
   * `"LOCAL"` (v2 only): the balancer itself connected, for a health check;
   * use the socket's own addresses.
   */
  command: "PROXY" | "LOCAL";
  /** The v2 TLVs. Decoded v2 headers always have the array, v1 headers never. */
  tlvs?: ProxyTlv[];
}

/** A header for a TCP connection over IPv4 (`TCP4`) or IPv6 (`TCP6`). */
export interface ProxyInetHeader extends ProxyHeaderBase {
  /** The address family. */
  family: "TCP4" | "TCP6";
  /** The client, as the balancer saw it. */
  source: ProxyInetAddress;
  /** The address the client connected to, on the balancer. */
  destination: ProxyInetAddress;
}

/** A v2 header for a unix stream socket connection. */
export interface ProxyUnixHeader extends ProxyHeaderBase {
  /** Only v2 carries unix addresses. */
  version: 2;
  /** The address family. */
  family: "UNIX";
  /** The client's socket. */
  source: ProxyUnixAddress;
  /** The socket the client connected to. */
  destination: ProxyUnixAddress;
}

/** A header without addresses: v1 `UNKNOWN`, v2 `AF_UNSPEC`. */
export interface ProxyUnknownHeader extends ProxyHeaderBase {
  /** The address family. */
  family: "UNKNOWN";
  /** Absent: use the socket's own addresses. */
  source?: undefined;
  /** Absent: use the socket's own addresses. */
  destination?: undefined;
}

/**
 * A PROXY protocol header, v1 or v2. Narrow on `family` to reach the
 * addresses.
 *
 * @example Find the client address
 * ```ts
 * import assert from "node:assert/strict";
 * import type { ProxyHeader } from "./mod.ts";
 *
 * function clientOf(header: ProxyHeader): string | undefined {
 *   if (header.command !== "PROXY") return undefined;
 *   if (header.family === "TCP4" || header.family === "TCP6") return header.source.hostname;
 *   return undefined;
 * }
 * assert.equal(
 *   clientOf({
 *     version: 1,
 *     command: "PROXY",
 *     family: "TCP6",
 *     source: { hostname: "2001:db8::1", port: 56324 },
 *     destination: { hostname: "2001:db8::2", port: 443 },
 *   }),
 *   "2001:db8::1",
 * );
 * ```
 */
export type ProxyHeader = ProxyInetHeader | ProxyUnixHeader | ProxyUnknownHeader;

/**
 * The TLV types the spec assigns (`PP2_TYPE_*`). Types 0xE0 to 0xEF are for
 * private use, 0xF0 is reserved for experiments.
 *
 * @example Read the host name the client asked for (SNI)
 * ```ts
 * import assert from "node:assert/strict";
 * import { PROXY_TLV, type ProxyTlv } from "./mod.ts";
 *
 * const tlvs: ProxyTlv[] = [{ type: 0x02, value: new TextEncoder().encode("example.com") }];
 * const authority = tlvs.find((tlv) => tlv.type === PROXY_TLV.AUTHORITY);
 * assert.equal(new TextDecoder().decode(authority?.value), "example.com");
 * ```
 */
export const PROXY_TLV: {
  readonly ALPN: 0x01;
  readonly AUTHORITY: 0x02;
  readonly CRC32C: 0x03;
  readonly NOOP: 0x04;
  readonly UNIQUE_ID: 0x05;
  readonly SSL: 0x20;
  readonly NETNS: 0x30;
} = Object.freeze({
  ALPN: 0x01,
  AUTHORITY: 0x02,
  CRC32C: 0x03,
  NOOP: 0x04,
  UNIQUE_ID: 0x05,
  SSL: 0x20,
  NETNS: 0x30,
});
