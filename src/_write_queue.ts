/**
 * The bounded, ordered queue of a connection's writes: what `Conn.write()`
 * hands over and one pump sends, slice by slice, to the transport.
 *
 * @module
 */
import type { Watchdog } from "./_watchdog.ts";

interface PendingWrite {
  bytes: Uint8Array;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/** How a {@linkcode WriteQueue} sends and reports. */
export interface WriteQueueOptions {
  /** Sends bytes; resolves once the transport has taken them all. */
  send(bytes: Uint8Array): Promise<void>;
  /** Called after each slice the transport took. */
  onSent(length: number): void;
  /** Turns a send failure into the connection's error. */
  onError(error: unknown): unknown;
  /** A write resolves at once while no more than this many bytes wait. */
  highWaterMark: number;
  /** Sent at most this many bytes at a time (so that a write timeout sees progress). */
  sliceSize: number;
  /** Armed while a slice waits for the transport. */
  watchdog?: Watchdog;
}

/** Writes in order, with a count of the bytes waiting. */
export class WriteQueue {
  #options: WriteQueueOptions;
  #queue: PendingWrite[] = [];
  #pending = 0;
  #pumping: Promise<void> | undefined;

  /** @param options How to send and report. */
  constructor(options: WriteQueueOptions) {
    this.#options = options;
  }

  /** Bytes queued and not yet taken by the transport. */
  get pending(): number {
    return this.#pending;
  }

  /** Settles once every queued write has been sent or has failed. */
  get idle(): Promise<void> {
    return this.#pumping ?? Promise.resolve();
  }

  /**
   * Queues bytes; resolves at once below the high-water mark, else once they are sent.
   *
   * @param bytes The bytes (not empty).
   * @returns When the caller may go on.
   */
  push(bytes: Uint8Array): Promise<void> {
    this.#pending += bytes.length;
    let done: Promise<void>;
    if (this.#pending <= this.#options.highWaterMark) {
      this.#queue.push({ bytes });
      done = Promise.resolve();
    } else {
      done = new Promise((resolve, reject) => this.#queue.push({ bytes, resolve, reject }));
    }
    this.#pumping ??= this.#pump();
    return done;
  }

  /**
   * Drops every queued write, failing the waiting ones with `error`.
   *
   * @param error Why.
   */
  clear(error: unknown): void {
    for (const pending of this.#queue.splice(0)) pending.reject?.(error);
    this.#pending = 0;
  }

  async #pump(): Promise<void> {
    const { send, onSent, onError, sliceSize, watchdog } = this.#options;
    while (this.#queue.length > 0) {
      const item = this.#queue[0];
      try {
        for (let offset = 0; offset < item.bytes.length; offset += sliceSize) {
          const slice = item.bytes.subarray(offset, offset + sliceSize);
          watchdog?.arm();
          await send(slice);
          watchdog?.disarm();
          onSent(slice.length);
        }
      } catch (error) {
        watchdog?.disarm();
        this.clear(onError(error));
        break;
      }
      this.#queue.shift();
      this.#pending -= item.bytes.length;
      item.resolve?.();
    }
    this.#pumping = undefined;
  }
}
