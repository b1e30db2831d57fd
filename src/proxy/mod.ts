/**
 * The PROXY protocol, v1 and v2 (HAProxy's spec): how an L4 load balancer
 * such as HAProxy or nginx stream tells a server the client's address, in a
 * header before the client's bytes. Pure: bytes in, headers out, no I/O.
 *
 * - {@linkcode decodeProxyHeader}: sans-I/O, bounded, decides as early as
 *   the bytes allow; {@linkcode maxProxyHeaderLength} is its bound.
 * - {@linkcode encodeProxyHeader}: for clients, balancers and tests.
 * - {@linkcode createAddressMatcher}, {@linkcode parseCidr}: accept headers
 *   only from trusted addresses, IPv4-mapped IPv6 included.
 *
 * @example Accept a header from a trusted balancer, then read the client's bytes
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer } from "../codec/byte_buffer.ts";
 * import { createAddressMatcher, decodeProxyHeader, encodeProxyHeader } from "./mod.ts";
 *
 * const trusted = createAddressMatcher(["10.0.0.0/8"]);
 * assert.equal(trusted("::ffff:10.0.0.2"), true); // the balancer, as Node reports it
 * const buffer = new ByteBuffer();
 * buffer.push(encodeProxyHeader({
 *   version: 2,
 *   command: "PROXY",
 *   family: "TCP6",
 *   source: { hostname: "2001:db8::1", port: 50000 },
 *   destination: { hostname: "2001:db8::2", port: 443 },
 * }));
 * buffer.push(new TextEncoder().encode("hello"));
 * const header = decodeProxyHeader(buffer);
 * assert.equal(header?.family === "TCP6" && header.source.hostname, "2001:db8::1");
 * assert.equal(new TextDecoder().decode(buffer.take(buffer.length)), "hello");
 * ```
 *
 * @module
 */

export * from "./header.ts";
export * from "./decode.ts";
export * from "./encode.ts";
export * from "./cidr.ts";
