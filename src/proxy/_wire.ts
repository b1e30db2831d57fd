/**
 * The wire constants of the PROXY protocol and helpers the decoder and the
 * encoder share.
 *
 * @module
 */

import { ProxyProtocolError } from "../errors.ts";
import type { ProxyHeader } from "./header.ts";

const ascii = (text: string): readonly number[] => [...text].map((c) => c.charCodeAt(0));

/** `"PROXY "`: how a v1 header starts. */
export const V1_PREFIX: readonly number[] = ascii("PROXY ");
/** The longest v1 line, CRLF included (`PROXY UNKNOWN` with two full IPv6 addresses). */
export const V1_MAX_LENGTH = 107;
/** How a v2 header starts. */
export const V2_SIGNATURE: readonly number[] = ascii("\r\n\r\n\0\r\nQUIT\n");
/** Signature, version and command, family and transport, length. */
export const V2_FIXED_LENGTH = 16;
/** The largest v2 header: the fixed part and a 16-bit length. */
export const V2_LIMIT: number = V2_FIXED_LENGTH + 0xffff;
/** The size of `sun_path` in a v2 UNIX address block. */
export const UNIX_PATH_LENGTH = 108;

/** The v2 family-and-transport byte of each family (all stream transports). */
export const FAMILY_BYTE: Readonly<Record<ProxyHeader["family"], number>> = {
  UNKNOWN: 0x00,
  TCP4: 0x11,
  TCP6: 0x21,
  UNIX: 0x31,
};

/** The v2 address block length of each family. */
export const ADDRESS_LENGTH: Readonly<Record<ProxyHeader["family"], number>> = {
  UNKNOWN: 0,
  TCP4: 12,
  TCP6: 36,
  UNIX: 2 * UNIX_PATH_LENGTH,
};

/**
 * Makes the decoder's error.
 *
 * @param detail What is wrong, with the values involved.
 * @returns `Cannot read PROXY header: <detail>`.
 */
export function fail(detail: string): ProxyProtocolError {
  return new ProxyProtocolError(`Cannot read PROXY header: ${detail}`);
}

/**
 * Formats a byte as `0x0a`.
 *
 * @param byte The byte.
 * @returns The hex text.
 */
export function hex(byte: number): string {
  return `0x${byte.toString(16).padStart(2, "0")}`;
}

/**
 * Reads a `sun_path` field: the bytes before the first NUL, as UTF-8 (invalid
 * bytes become U+FFFD). A leading NUL followed by more bytes is a Linux
 * abstract name, kept as `"\0name"`.
 *
 * @param field The 108-byte field.
 * @returns The path.
 */
export function readUnixPath(field: Uint8Array): string {
  const abstract = field[0] === 0 && field.some((byte) => byte !== 0);
  const start = abstract ? 1 : 0;
  const end = field.indexOf(0, start);
  const name = new TextDecoder().decode(field.subarray(start, end === -1 ? field.length : end));
  return abstract ? `\0${name}` : name;
}

/**
 * Writes a path as a zero-padded `sun_path` field.
 *
 * @param path The path; a leading `"\0"` for an abstract name.
 * @param what Which address, for the message.
 * @returns The 108 bytes.
 * @throws {RangeError} When the path is longer than 108 bytes in UTF-8 or has a NUL after its first byte.
 */
export function writeUnixPath(path: unknown, what: string): Uint8Array {
  if (typeof path !== "string") {
    throw new RangeError(`Cannot encode PROXY header: UNIX ${what} path must be a string`);
  }
  const bytes = new TextEncoder().encode(path);
  if (bytes.length > UNIX_PATH_LENGTH || bytes.indexOf(0, 1) !== -1) {
    throw new RangeError(
      `Cannot encode PROXY header: UNIX ${what} path ${
        JSON.stringify(path)
      } must be at most 108 bytes in UTF-8, with no NUL but a leading one`,
    );
  }
  const field = new Uint8Array(UNIX_PATH_LENGTH);
  field.set(bytes);
  return field;
}
