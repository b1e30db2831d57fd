/**
 * Small byte arrays carved from shared slabs, as Node's `Buffer` pool does. On
 * V8 a typed array over 64 bytes (on Deno, any) lives outside the heap and
 * costs ~320 ns to allocate, a view of a slab ~30 ns (BENCHMARKS.md). An array
 * that is kept keeps its slab, 8 KiB at most; its bytes are its own.
 *
 * @module
 */

/** Arrays up to this size come from a slab. */
export const POOL_MAX = 512;
const SLAB_SIZE = 8192;

let slab = new ArrayBuffer(0);
let used = 0;

/**
 * Zeroed bytes: a view of the current slab when small, else an array of their own.
 *
 * @param length How many bytes.
 * @returns The bytes.
 */
export function allocate(length: number): Uint8Array {
  if (length > POOL_MAX) return new Uint8Array(length);
  if (slab.byteLength - used < length) {
    slab = new ArrayBuffer(SLAB_SIZE);
    used = 0;
  }
  // A view made from the buffer: subarray() costs a species lookup more (~8 ns on V8).
  const bytes = new Uint8Array(slab, used, length);
  used += length;
  return bytes;
}
