/**
 * A first-in first-out queue whose `shift()` is O(1): `Array.prototype.shift()`
 * copies the whole array on V8 past a few thousand items (5 µs per call on
 * Node and 94 µs on Deno at 100,000), so a queue of many small writes or
 * one-byte chunks would cost quadratic time.
 *
 * @module
 */

/** Items in order; the array is compacted once half of it has been taken. */
export class Fifo<T> {
  #items: (T | undefined)[] = [];
  #head = 0;

  /** How many items wait. */
  get length(): number {
    return this.#items.length - this.#head;
  }

  /** @param item Goes last. */
  push(item: T): void {
    this.#items.push(item);
  }

  /** @returns The first item, left in place; `undefined` when empty. */
  peek(): T | undefined {
    return this.#head === this.#items.length ? undefined : this.#items[this.#head];
  }

  /** @returns The first item, removed; `undefined` when empty. */
  shift(): T | undefined {
    const items = this.#items;
    if (this.#head === items.length) return undefined;
    const item = items[this.#head];
    items[this.#head++] = undefined;
    if (this.#head === items.length) {
      items.length = 0;
      this.#head = 0;
    } else if (this.#head >= 1024 && this.#head * 2 >= items.length) {
      items.splice(0, this.#head);
      this.#head = 0;
    }
    return item;
  }

  /** @returns Every item, removed, in order. */
  clear(): T[] {
    const rest = this.#items.slice(this.#head) as T[];
    this.#items = [];
    this.#head = 0;
    return rest;
  }
}
