/**
 * Names the protocol that rejected bytes look like, to explain a frame error.
 *
 * @module
 */

import type { ByteBuffer } from "./byte_buffer.ts";

const HTTP = /^(?:GET|POST|PUT|HEAD|DELETE|OPTIONS|PATCH|CONNECT|TRACE) (?:[\x21-\x7e]|$)/;
const PROXY_V1 = [0x50, 0x52, 0x4f, 0x58, 0x59, 0x20]; // "PROXY "
const PROXY_V2 = [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a];
const PEEK = 16;

function startsWith(bytes: Uint8Array, prefix: number[], min: number): boolean {
  if (bytes.length < min) return false;
  return bytes.every((byte, i) => i >= prefix.length || byte === prefix[i]);
}

/**
 * Returns a hint to append to an error message when the first bytes look like
 * an HTTP request line, a TLS ClientHello or a PROXY protocol header.
 *
 * @param source The rejected bytes, or the buffer that starts with them.
 * @returns `" (the bytes look like ...)"`, or `""`.
 */
export function protocolHint(source: ByteBuffer | Uint8Array): string {
  const bytes = source instanceof Uint8Array
    ? source.subarray(0, PEEK)
    : source.copy(0, Math.min(PEEK, source.length));
  if (HTTP.test(String.fromCharCode(...bytes))) {
    return " (the bytes look like an HTTP request: is a web client talking to this port?)";
  }
  if (bytes.length >= 3 && bytes[0] === 0x16 && bytes[1] === 0x03 && bytes[2] <= 0x04) {
    return " (the bytes look like a TLS ClientHello: is the client using TLS on a plaintext port?)";
  }
  if (startsWith(bytes, PROXY_V1, 5) || startsWith(bytes, PROXY_V2, 5)) {
    return " (the bytes look like a PROXY protocol header: is a load balancer sending PROXY headers this server does not expect?)";
  }
  return "";
}
