/**
 * The things alive now (a server's open connections), in a doubly linked list.
 *
 * Not a `Map` or `Set`: on V8, a long-lived `Map` or `Set` that many
 * short-lived objects pass through keeps them alive until the next full
 * collection, so each scavenge promotes them to the old generation. Measured
 * on Node 24 with `serve()` under a connection-rate load: each scavenge took
 * 10 ms and promoted ~6 MB with a `Map` of open connections, 0.5 ms and
 * nothing with this list (about 2 µs of CPU per connection).
 *
 * @module
 */

/** A place in a {@linkcode LiveList}, for {@linkcode LiveList.delete}. */
export interface Link<T> {
  readonly value: T;
}

class Node<T> implements Link<T> {
  prev: Node<T> | null = null;
  next: Node<T> | null = null;
  constructor(readonly value: T) {}
}

/**
 * A list of values with O(1) add and delete by link. Iterates newest first;
 * copy it (`[...list]`) before a loop that deletes.
 */
export class LiveList<T> implements Iterable<T> {
  #head: Node<T> | null = null;
  #size = 0;

  /** How many values are in the list. */
  get size(): number {
    return this.#size;
  }

  /** @param value Added. @returns Its link, to delete it with. */
  add(value: T): Link<T> {
    const node = new Node(value);
    node.next = this.#head;
    if (this.#head) this.#head.prev = node;
    this.#head = node;
    this.#size++;
    return node;
  }

  /** @param link From `add()`; deleting it again does nothing. */
  delete(link: Link<T>): void {
    const node = link as Node<T>;
    if (node.prev) node.prev.next = node.next;
    else if (this.#head === node) this.#head = node.next;
    else return; // deleted already
    if (node.next) node.next.prev = node.prev;
    // A deleted node must not keep its neighbours alive (see the module doc).
    node.prev = node.next = null;
    this.#size--;
  }

  *[Symbol.iterator](): Iterator<T> {
    for (let node = this.#head; node; node = node.next) yield node.value;
  }
}
