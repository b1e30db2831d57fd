/**
 * The sans-I/O PROXY header decoder: bytes in, a header out, no socket.
 *
 * @module
 */

import type { ByteBuffer } from "../codec/byte_buffer.ts";
import type { ProxyProtocolError } from "../errors.ts";
import type { ProxyHeader } from "./header.ts";
import {
  fail,
  V1_MAX_LENGTH,
  V1_PREFIX,
  V2_FIXED_LENGTH,
  V2_LIMIT,
  V2_SIGNATURE,
} from "./_wire.ts";
import { decodeV1 } from "./_decode_v1.ts";
import { decodeV2 } from "./_decode_v2.ts";

const HTTP_METHODS = ["GET", "POST", "PUT", "HEAD", "DELETE", "OPTIONS", "PATCH", "CONNECT", "PRI"];

/** Options of {@linkcode decodeProxyHeader}. */
export interface DecodeProxyHeaderOptions {
  /**
   * The longest v2 header accepted, in bytes, its 16-byte fixed part
   * included; from 16 to 65551. A longer announced length is an error as soon
   * as the 16 fixed bytes have arrived. A TCP4 header without TLVs takes 28
   * bytes, TCP6 52, UNIX 232.
   * @default {4096}
   */
  maxV2Length?: number;
  /**
   * The stream has ended: throw instead of returning `null` when the buffer
   * holds part of a header. An empty buffer still gives `null`.
   * @default {false}
   */
  eof?: boolean;
}

function checkMax(max: unknown = 4096): number {
  if (typeof max !== "number") {
    throw new TypeError(`PROXY header maxV2Length must be a number (got ${typeof max})`);
  }
  if (!Number.isInteger(max) || max < V2_FIXED_LENGTH || max > V2_LIMIT) {
    throw new RangeError(
      `PROXY header maxV2Length must be an integer from 16 to 65551 (got ${max})`,
    );
  }
  return max;
}

/** Tells whether the bytes so far could still be the start of `signature`. */
function startsLike(head: Uint8Array, signature: readonly number[]): boolean {
  const n = Math.min(head.length, signature.length);
  for (let i = 0; i < n; i++) if (head[i] !== signature[i]) return false;
  return true;
}

/** Says what bytes that are not a PROXY header look like. */
function notProxy(head: Uint8Array): ProxyProtocolError {
  const bytes = head.subarray(0, 16);
  const text = String.fromCharCode(...bytes);
  const printable = /^[\x20-\x7e\r\n\t]*$/.test(text);
  const like = (word: string) => word.startsWith(text.slice(0, word.length));
  let what = printable ? "plain text" : "binary data";
  if (bytes[0] === 0x16 && (bytes.length < 2 || bytes[1] === 0x03)) {
    what = "a TLS ClientHello: is the client using TLS on a plaintext port?";
  } else if (HTTP_METHODS.some((method) => like(`${method} `))) {
    what = "an HTTP request: is a web client talking to this port directly?";
  } else if (like("SSH-")) {
    what = "an SSH client";
  }
  const shown = printable
    ? JSON.stringify(text)
    : [...bytes].map((byte) => byte.toString(16).padStart(2, "0")).join(" ");
  return fail(`the client did not send a PROXY header: its first bytes ${shown} look like ${what}`);
}

/**
 * Returns the most bytes {@linkcode decodeProxyHeader} needs to decide:
 * `max(107, maxV2Length)`. While it returns `null` the buffer holds fewer.
 *
 * @param options The options you pass to the decoder.
 * @returns The bound, 4096 by default.
 * @throws {RangeError} When `maxV2Length` is out of range.
 * @throws {TypeError} When `maxV2Length` is not a number.
 *
 * @example The bound for the default options
 * ```ts
 * import assert from "node:assert/strict";
 * import { maxProxyHeaderLength } from "./mod.ts";
 *
 * assert.equal(maxProxyHeaderLength(), 4096);
 * assert.equal(maxProxyHeaderLength({ maxV2Length: 28 }), 107);
 * ```
 */
export function maxProxyHeaderLength(options: DecodeProxyHeaderOptions = {}): number {
  return Math.max(V1_MAX_LENGTH, checkMax(options.maxV2Length));
}

/**
 * Removes a PROXY protocol header (v1 or v2) from the front of a buffer and
 * returns it, leaving the bytes after it (the client's own) in the buffer.
 *
 * It rejects bad bytes as soon as a prefix proves them bad: a byte that
 * cannot start either signature (the message says whether the bytes look like
 * HTTP, TLS, SSH, text or binary), a v1 family other than TCP4, TCP6 or
 * UNKNOWN, a character no TCP4 or TCP6 line has, a bad v2 version, command or
 * family byte, a v2 length over `maxV2Length` or too short for the family's
 * addresses. The fields of a v1 line are checked once its CRLF arrives.
 *
 * The bound: it returns `null` only while the buffer holds fewer than 107
 * bytes (the longest v1 line, CRLF included), or fewer than the length a v2
 * header announces, which is at most `maxV2Length`. So a caller that reads
 * one chunk at a time while it gets `null` buffers at most
 * {@linkcode maxProxyHeaderLength} - 1 bytes plus one chunk. No byte after
 * the header affects the result, and exactly the header is removed. It keeps
 * no state: call it again with the same buffer after pushing each chunk.
 *
 * A LOCAL v2 header (a balancer's health check) whose address block does not
 * parse gives family `UNKNOWN` with no TLVs: the spec has receivers ignore
 * that block. v2 datagram families (UDP, unix datagram) are rejected.
 *
 * @param buffer The bytes received so far.
 * @param options `maxV2Length`: the cap on v2 headers; `eof`: the stream has ended.
 * @returns The header, or `null` when more bytes are needed (or, with `eof`, when the buffer is empty).
 * @throws {ProxyProtocolError} When the bytes are not a valid PROXY header,
 *   or, with `eof`, when they are only the start of one.
 * @throws {RangeError} When `maxV2Length` is out of range.
 * @throws {TypeError} When `maxV2Length` is not a number.
 *
 * @example Read a v1 header that arrives in two chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer } from "../codec/byte_buffer.ts";
 * import { decodeProxyHeader } from "./mod.ts";
 *
 * const buffer = new ByteBuffer();
 * buffer.push(new TextEncoder().encode("PROXY TCP4 192.168.0.1 192.168"));
 * assert.equal(decodeProxyHeader(buffer), null);
 * buffer.push(new TextEncoder().encode(".0.11 56324 443\r\nHELLO"));
 * assert.deepEqual(decodeProxyHeader(buffer), {
 *   version: 1,
 *   command: "PROXY",
 *   family: "TCP4",
 *   source: { hostname: "192.168.0.1", port: 56324 },
 *   destination: { hostname: "192.168.0.11", port: 443 },
 * });
 * assert.equal(buffer.length, 5); // "HELLO" is left for the application
 * ```
 */
export function decodeProxyHeader(
  buffer: ByteBuffer,
  options: DecodeProxyHeaderOptions = {},
): ProxyHeader | null {
  const max = checkMax(options.maxV2Length);
  const head = buffer.copy(0, Math.min(buffer.length, V1_MAX_LENGTH));
  let header: ProxyHeader | null;
  if (startsLike(head, V1_PREFIX)) header = decodeV1(buffer, head);
  else if (startsLike(head, V2_SIGNATURE)) header = decodeV2(buffer, head, max);
  else throw notProxy(head);
  if (header !== null || !options.eof || buffer.length === 0) return header;
  const n = buffer.length;
  if (head[0] === V1_PREFIX[0]) {
    throw fail(`the stream ended after ${n} bytes of a v1 header, before its CRLF`);
  }
  if (n < V2_FIXED_LENGTH) {
    throw fail(`the stream ended after ${n} bytes of a v2 header, inside its 16 fixed bytes`);
  }
  const total = V2_FIXED_LENGTH + (head[14] << 8 | head[15]);
  throw fail(`the stream ended after ${n} of the ${total} bytes of a v2 header`);
}
