/**
 * The bounded, ordered queue of a connection's writes: what `Conn.write()`
 * hands over and one pump sends, slice by slice, to the transport.
 *
 * @module
 */
import type { Watchdog } from "../_watchdog.ts";
import { Fifo } from "../_fifo.ts";
import type { WriteHandler } from "../transport.ts";

interface PendingWrite {
  bytes: Uint8Array;
  /** Bytes already handed to the transport. */
  offset: number;
  resolve?: () => void;
  reject?: (error: unknown) => void;
}

/**
 * The subclass's method that sends bytes: `true` when the transport took them
 * at once, else `false`, and the queue (a {@linkcode WriteHandler}) is told later.
 */
export const SEND = Symbol("send");
/** The subclass's method called after each slice the transport took. */
export const SENT = Symbol("sent");
/** The subclass's method that turns a send failure into the connection's error. */
export const SEND_FAILED = Symbol("sendFailed");

/** How a {@linkcode WriteQueue} is bounded. */
export interface WriteQueueOptions {
  /** A write resolves at once while no more than this many bytes wait. */
  highWaterMark: number;
  /** Sent at most this many bytes at a time (so that a write timeout sees progress). */
  sliceSize: number;
  /** Armed while a slice waits for the transport. */
  watchdog?: Watchdog;
}

/**
 * What `write()` returns when the caller need not wait: a settled promise that
 * `forEach()` recognises, so that an echo costs no promise reaction per chunk.
 */
export const RESOLVED: Promise<void> = Promise.resolve();

/** Writes made while corked are sent as one buffer up to this size. */
const COALESCE_MAX = 64 * 1024;

/**
 * Writes in order, with a count of the bytes waiting. The pump is a loop
 * while the transport takes bytes at once (the usual case on Bun and Node)
 * and the transport's callbacks while it does not (the queue is the
 * transport's {@linkcode WriteHandler}): a write costs the queue no promise.
 * A subclass says how bytes are sent and hears about each slice sent: the
 * connection's write side is one, so that a queue costs no extra object.
 */
export abstract class WriteQueue implements WriteHandler {
  /** Hands bytes to the transport: `true` when it took them at once, else it tells the queue. */
  protected abstract [SEND](bytes: Uint8Array): boolean;
  /** The transport took `length` bytes. */
  protected abstract [SENT](length: number): void;
  /** A send failed: the error the waiting writes get. */
  protected abstract [SEND_FAILED](error: unknown): unknown;
  #highWaterMark: number;
  #sliceSize: number;
  #watchdog: Watchdog | undefined;
  /** The write whose bytes go to the transport now. */
  #current: PendingWrite | undefined;
  /** The writes waiting behind it: made when writes first pile up. */
  #queue: Fifo<PendingWrite> | undefined;
  #pending = 0;
  /** Whether a slice is with the transport. */
  #pumping = false;
  /** Bytes of the slice with the transport. */
  #inFlight = 0;
  #idleWaiters: (() => void)[] | undefined;
  /** While above 0, writes wait for `uncork()`, which sends them together. */
  #corked = 0;

  /** @param options The bounds. */
  constructor(options: WriteQueueOptions) {
    this.#highWaterMark = options.highWaterMark;
    this.#sliceSize = options.sliceSize;
    this.#watchdog = options.watchdog;
  }

  /** Bytes queued and not yet taken by the transport. */
  get pending(): number {
    return this.#pending;
  }

  /** Whether bytes are with the transport or queued: `idle` would wait. */
  get busy(): boolean {
    return this.#pumping || this.#current !== undefined;
  }

  /** Settles once every queued write has been sent or has failed. */
  get idle(): Promise<void> {
    if (!this.busy) return RESOLVED;
    return new Promise((resolve) => (this.#idleWaiters ??= []).push(resolve));
  }

  /**
   * Queues bytes; resolves at once below the high-water mark, else once they are sent.
   *
   * @param bytes The bytes (not empty).
   * @returns When the caller may go on.
   */
  push(bytes: Uint8Array): Promise<void> {
    // What corking holds back goes out before it could make this write wait.
    if (this.#pending + bytes.length > this.#highWaterMark) this.sendHeld();
    this.#pending += bytes.length;
    const item: PendingWrite = { bytes, offset: 0 };
    let done = RESOLVED;
    if (this.#pending > this.#highWaterMark) {
      done = new Promise((resolve, reject) => {
        item.resolve = resolve;
        item.reject = reject;
      });
    }
    if (this.#current !== undefined) (this.#queue ??= new Fifo()).push(item);
    else {
      this.#current = item;
      // A slice still with the transport (the queue was cleared meanwhile) goes on to this one.
      if (!this.#pumping && this.#corked === 0) this.#pump();
    }
    return done;
  }

  /**
   * Drops every queued write, failing the waiting ones with `error`.
   *
   * @param error Why.
   */
  clear(error: unknown): void {
    const current = this.#current;
    this.#current = undefined;
    current?.reject?.(error);
    for (const pending of this.#queue?.clear() ?? []) pending.reject?.(error);
    this.#pending = 0;
    // Corked writes had no pump to end their wait.
    if (!this.#pumping) this.#stopped();
  }

  /**
   * Holds writes back until the matching {@linkcode WriteQueue.uncork}: the
   * answers to several frames decoded from one chunk (pipelined requests)
   * then go to the transport as one buffer, one system call instead of one each.
   */
  cork(): void {
    this.#corked++;
  }

  /** Sends what was written while corked, the small writes as one buffer. */
  uncork(): void {
    if (--this.#corked === 0) this.sendHeld();
  }

  /** Sends what corking holds back now, as one buffer (a limit would otherwise count it). */
  protected sendHeld(): void {
    if (this.#pumping || this.#current === undefined) return;
    this.#coalesce();
    this.#pump();
  }

  /**
   * Joins the writes that wait into the first, while nobody waits on them
   * (each resolved at once) and they fit in `COALESCE_MAX` bytes.
   */
  #coalesce(): void {
    const queue = this.#queue;
    const first = this.#current!;
    if (queue === undefined || queue.length === 0 || first.resolve || first.offset > 0) return;
    const parts = [first.bytes];
    let size = parts[0].length;
    for (let next; (next = queue.peek()) !== undefined && next.resolve === undefined;) {
      if (size + next.bytes.length > COALESCE_MAX) break;
      size += next.bytes.length;
      parts.push(queue.shift()!.bytes);
    }
    if (parts.length === 1) return;
    const joined = new Uint8Array(size);
    let at = 0;
    for (const part of parts) {
      joined.set(part, at);
      at += part.length;
    }
    this.#current = { bytes: joined, offset: 0 };
  }

  /**
   * Hands slices to the transport while it takes them at once; a slice it
   * takes later resumes the pump from {@linkcode WriteQueue.written}.
   */
  #pump(): void {
    this.#pumping = true;
    do {
      const item = this.#current!;
      const end = Math.min(item.bytes.length, item.offset + this.#sliceSize);
      const slice = item.offset === 0 && end === item.bytes.length
        ? item.bytes
        : item.bytes.subarray(item.offset, end);
      item.offset = end;
      this.#inFlight = slice.length;
      if (!this[SEND](slice)) {
        // Only a slice the transport did not take at once waits, and has a deadline.
        this.#watchdog?.arm();
        return;
      }
    } while (this.#sent());
  }

  /** The transport took the slice that waited (its deadline is over): the pump goes on. */
  written(): void {
    this.#watchdog?.disarm();
    if (this.#sent()) this.#pump();
  }

  /** Accounts for the slice the transport took; tells whether more waits. */
  #sent(): boolean {
    this[SENT](this.#inFlight);
    const item = this.#current;
    // clear() emptied the queue meanwhile.
    if (item === undefined) return this.#stopped();
    if (item.offset < item.bytes.length) return true;
    this.#pending -= item.bytes.length;
    item.resolve?.();
    this.#current = this.#queue?.shift();
    return this.#current !== undefined || this.#stopped();
  }

  /** The slice that waited failed: so does every queued write. */
  error(error: unknown): void {
    this.#watchdog?.disarm();
    this.clear(this[SEND_FAILED](error));
    this.#stopped();
  }

  /** The pump stops: nothing waits. @returns false, for `#sent()`. */
  #stopped(): false {
    this.#pumping = false;
    const waiters = this.#idleWaiters;
    this.#idleWaiters = undefined;
    if (waiters) { for (const resolve of waiters) resolve(); }
    return false;
  }
}
