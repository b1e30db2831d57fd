/**
 * The read buffer a connection owns: a queue of chunks that decoders consume
 * from the front.
 *
 * @module
 */

const EMPTY = new Uint8Array(0);
/** The chunk list of an empty buffer: shared, so that emptying one allocates nothing. */
const NONE: Uint8Array[] = Object.freeze([]) as unknown as Uint8Array[];

function checkCount(what: string, n: number, max: number): void {
  if (!Number.isInteger(n) || n < 0 || n > max) {
    throw new RangeError(`Cannot ${what} ${n} bytes: ${max} are buffered`);
  }
}

/**
 * A queue of byte chunks. `push()` keeps each chunk as is (no copy); reads
 * cross chunk boundaries; `take()` returns a view without copying when the
 * bytes lie in one chunk. Positions are relative to the first buffered byte.
 *
 * @example Read a line that arrived in two chunks
 * ```ts
 * import assert from "node:assert/strict";
 * import { ByteBuffer } from "./byte_buffer.ts";
 *
 * const buffer = new ByteBuffer();
 * buffer.push(new TextEncoder().encode("hel"));
 * buffer.push(new TextEncoder().encode("lo\nrest"));
 * const end = buffer.indexOf(new Uint8Array([10]));
 * assert.equal(new TextDecoder().decode(buffer.take(end)), "hello");
 * buffer.skip(1);
 * assert.equal(buffer.length, 4);
 * ```
 */
export class ByteBuffer {
  #chunks: Uint8Array[] = NONE;
  #head = 0; // index of the first live chunk
  #length = 0;
  #consumed = 0; // bytes removed so far: the stream offset of the first byte
  #cursor = 0; // a chunk index whose stream offset is #cursorStart, for locating
  #cursorStart = 0;

  /** The number of bytes buffered. */
  get length(): number {
    return this.#length;
  }

  /**
   * Appends a chunk. The buffer takes ownership: the caller must not modify
   * the chunk afterwards. Empty chunks are ignored.
   *
   * @param chunk The bytes to append.
   */
  push(chunk: Uint8Array): void {
    if (chunk.length === 0) return;
    if (this.#chunks === NONE) this.#chunks = [chunk];
    else this.#chunks.push(chunk);
    this.#length += chunk.length;
  }

  /**
   * Returns the byte at a position.
   *
   * @param index From 0 to `length - 1`.
   * @returns The byte.
   * @throws {RangeError} When the index is outside the buffer.
   */
  byteAt(index: number): number {
    if (!Number.isInteger(index) || index < 0 || index >= this.#length) {
      throw new RangeError(`Cannot read byte ${index}: ${this.#length} are buffered`);
    }
    const i = this.#locate(index);
    return this.#chunks[i][this.#consumed + index - this.#cursorStart];
  }

  /**
   * Finds a byte sequence, also across chunk boundaries.
   *
   * @param pattern The bytes to look for.
   * @param fromIndex Where to start looking; pass where a previous search
   *   stopped to avoid scanning the same bytes again.
   * @returns The position of the first match at or after `fromIndex`, or -1.
   */
  indexOf(pattern: Uint8Array, fromIndex = 0): number {
    const n = pattern.length;
    let from = Math.max(0, Math.trunc(fromIndex) || 0);
    if (n === 0) return Math.min(from, this.#length);
    if (from + n > this.#length) return -1;
    let i = this.#locate(from);
    let base = this.#cursorStart - this.#consumed;
    from -= base;
    for (; i < this.#chunks.length; i++) {
      const chunk = this.#chunks[i];
      for (
        let j = chunk.indexOf(pattern[0], from);
        j !== -1;
        j = chunk.indexOf(pattern[0], j + 1)
      ) {
        if (base + j + n > this.#length) return -1;
        if (n === 1 || this.#matches(i, j, pattern)) return base + j;
      }
      base += chunk.length;
      from = 0;
    }
    return -1;
  }

  /**
   * Removes and returns the first `n` bytes: a view of the first chunk when
   * they lie in it, one copy otherwise.
   *
   * @param n How many bytes.
   * @returns The bytes.
   * @throws {RangeError} When fewer than `n` bytes are buffered.
   */
  take(n: number): Uint8Array {
    checkCount("take", n, this.#length);
    const first = this.#chunks[this.#head];
    if (n === 0) return new Uint8Array(0);
    if (n <= first.length) {
      this.#drop(n);
      // A whole chunk is returned as is: a view costs ~250 ns on JavaScriptCore.
      return n === first.length ? first : first.subarray(0, n);
    }
    const out = new Uint8Array(n);
    this.takeInto(out);
    return out;
  }

  /**
   * Removes as many bytes as fit in `target` and copies them to its start.
   *
   * @param target Where the bytes go.
   * @returns How many bytes were moved: `min(target.length, this.length)`.
   */
  takeInto(target: Uint8Array): number {
    const n = Math.min(target.length, this.#length);
    for (let k = 0; k < n;) {
      const chunk = this.#chunks[this.#head];
      const m = Math.min(chunk.length, n - k);
      target.set(m === chunk.length ? chunk : chunk.subarray(0, m), k);
      this.#drop(m);
      k += m;
    }
    return n;
  }

  /**
   * Removes the first `n` bytes.
   *
   * @param n How many bytes.
   * @throws {RangeError} When fewer than `n` bytes are buffered.
   */
  skip(n: number): void {
    checkCount("skip", n, this.#length);
    while (n > 0) {
      const m = Math.min(this.#chunks[this.#head].length, n);
      this.#drop(m);
      n -= m;
    }
  }

  /**
   * Removes and returns the first chunk (what remains of it), without copying.
   *
   * @returns The chunk, or `undefined` when the buffer is empty.
   */
  shift(): Uint8Array | undefined {
    if (this.#length === 0) return undefined;
    const chunk = this.#chunks[this.#head];
    this.#drop(chunk.length);
    return chunk;
  }

  /**
   * Copies bytes without removing them, such as a header to inspect.
   *
   * @param start The first position.
   * @param end The position after the last byte.
   * @returns A new array of `end - start` bytes.
   * @throws {RangeError} When the range is not inside the buffer.
   */
  copy(start: number, end: number): Uint8Array {
    if (
      !Number.isInteger(start) || !Number.isInteger(end) || start < 0 || start > end ||
      end > this.#length
    ) {
      throw new RangeError(`Cannot copy bytes ${start} to ${end}: ${this.#length} are buffered`);
    }
    const out = new Uint8Array(end - start);
    if (start === end) return out;
    let i = this.#locate(start);
    let offset = this.#consumed + start - this.#cursorStart;
    for (let k = 0; k < out.length; i++, offset = 0) {
      const part = this.#chunks[i].subarray(offset, offset + out.length - k);
      out.set(part, k);
      k += part.length;
    }
    return out;
  }

  /** Removes every byte. */
  clear(): void {
    this.skip(this.#length);
  }

  /** Returns the index of the chunk holding a position, and leaves the cursor on it. */
  #locate(index: number): number {
    const target = this.#consumed + index;
    if (this.#cursor < this.#head || this.#cursorStart > target) {
      this.#cursor = this.#head;
      this.#cursorStart = this.#consumed;
    }
    while (this.#cursorStart + this.#chunks[this.#cursor].length <= target) {
      this.#cursorStart += this.#chunks[this.#cursor++].length;
    }
    return this.#cursor;
  }

  /** Tells whether `pattern` starts at byte `offset` of chunk `index`. */
  #matches(index: number, offset: number, pattern: Uint8Array): boolean {
    let chunk = this.#chunks[index];
    for (let k = 0; k < pattern.length; k++, offset++) {
      if (offset === chunk.length) {
        chunk = this.#chunks[++index];
        offset = 0;
      }
      if (chunk[offset] !== pattern[k]) return false;
    }
    return true;
  }

  /** Removes `n` bytes, at most the whole first chunk. */
  #drop(n: number): void {
    const chunk = this.#chunks[this.#head];
    this.#length -= n;
    this.#consumed += n;
    if (this.#length === 0) {
      this.#chunks = NONE;
      this.#head = this.#cursor = 0;
      this.#cursorStart = this.#consumed;
      return;
    }
    if (n < chunk.length) {
      this.#chunks[this.#head] = chunk.subarray(n);
    } else {
      this.#chunks[this.#head++] = EMPTY;
      if (this.#head >= 1024 && this.#head * 2 >= this.#chunks.length) {
        this.#chunks = this.#chunks.slice(this.#head);
        this.#cursor -= this.#head;
        this.#head = 0;
      }
    }
    if (this.#cursor <= this.#head) {
      this.#cursor = this.#head;
      this.#cursorStart = this.#consumed;
    }
  }
}
