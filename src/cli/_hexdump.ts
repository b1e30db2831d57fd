/**
 * A hex dump in the style of `ncat -x` and `hexdump -C`.
 *
 * @module
 */

/**
 * Formats bytes as hex dump lines: offset, 16 bytes in hex, and the printable ASCII.
 *
 * @param bytes The bytes.
 * @param offset The offset of the first byte in the stream.
 * @returns The lines, each ending with a newline.
 *
 * @example
 * ```ts
 * import assert from "node:assert/strict";
 * import { hexdump } from "./_hexdump.ts";
 *
 * assert.equal(hexdump(new TextEncoder().encode("hi\n")), "00000000  68 69 0a                                          hi.\n");
 * ```
 */
export function hexdump(bytes: Uint8Array, offset = 0): string {
  let out = "";
  for (let i = 0; i < bytes.length; i += 16) {
    const row = bytes.subarray(i, i + 16);
    const hex = Array.from(row, (b) => b.toString(16).padStart(2, "0"));
    const left = hex.slice(0, 8).join(" ");
    const right = hex.slice(8).join(" ");
    const ascii = String.fromCharCode(
      ...Array.from(row, (b) => (b >= 0x20 && b < 0x7f ? b : 0x2e)),
    );
    out += `${(offset + i).toString(16).padStart(8, "0")}  ${left.padEnd(23)}  ${
      right.padEnd(23)
    }  ${ascii}\n`;
  }
  return out;
}
