/**
 * The write side of a connection: its queue of writes (bounded by
 * `maxWriteBuffer`), the bytes written, FIN once asked for, and the write
 * timeout, which the queue arms while a slice waits for the transport.
 *
 * @module
 */
import { BufferFullError, ConnectionClosedError } from "../errors.ts";
import type { RawConn } from "../transport.ts";
import type { Watchdog } from "../_watchdog.ts";
import { type ConnCore, CUT, FAIL, PEER, STATE, UNTIL_END } from "./_core.ts";
import { RESOLVED, SEND, SEND_FAILED, SENT, WriteQueue } from "./_write_queue.ts";

const encoder = new TextEncoder();

/** How a {@linkcode WriteSide} is bounded. */
export interface WriteSideOptions {
  /** A write resolves at once while no more than this many bytes wait. */
  highWaterMark: number;
  /** The most bytes that may wait to be sent. */
  maxWriteBuffer: number;
  /** The write timeout's watchdog: armed while a slice waits for the transport. */
  writeDog: Watchdog | undefined;
  /** The idle timeout's watchdog: re-armed by each slice sent. */
  idle: Watchdog | undefined;
}

/** A connection's writes, in order. */
export class WriteSide extends WriteQueue {
  /** The transport written to (replaced by a TLS upgrade). */
  raw: RawConn;
  /** Bytes the transport took so far. */
  bytesWritten = 0;
  #core: ConnCore;
  #maxWriteBuffer: number;
  #writeDog: Watchdog | undefined;
  #idle: Watchdog | undefined;
  /** FIN was asked for. */
  #closed = false;

  /** @param core The connection. @param raw The transport. @param options The bounds and the watchdogs. */
  constructor(core: ConnCore, raw: RawConn, options: WriteSideOptions) {
    super({
      highWaterMark: options.highWaterMark,
      // With a write timeout, large writes go out in slices so that progress is seen.
      sliceSize: options.writeDog ? 256 * 1024 : Infinity,
      watchdog: options.writeDog,
    });
    this.#core = core;
    this.raw = raw;
    this.#maxWriteBuffer = options.maxWriteBuffer;
    this.#writeDog = options.writeDog;
    this.#idle = options.idle;
  }

  /** `conn.write()`. @param data The bytes or text. */
  write(data: Uint8Array | string): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    const core = this.#core;
    if (core[STATE] !== "open" || this.#closed) {
      return Promise.reject(
        core[CUT] ??
          new ConnectionClosedError(`Cannot write to ${core[PEER]}: writing is closed`),
      );
    }
    let waiting = this.pending;
    if (waiting + bytes.length > this.#maxWriteBuffer) {
      // What corking holds back is sent first: the limit counts what really waits.
      this.sendHeld();
      waiting = this.pending;
    }
    if (waiting + bytes.length > this.#maxWriteBuffer) {
      return Promise.reject(
        new BufferFullError(
          `Cannot write ${bytes.length} bytes to ${core[PEER]}: ${waiting} bytes already wait, ` +
            `maxWriteBuffer is ${this.#maxWriteBuffer}`,
        ),
      );
    }
    return bytes.length === 0 ? RESOLVED : this.push(bytes);
  }

  /** `conn.flush()`. */
  async flush(): Promise<void> {
    const core = this.#core;
    if (this.busy) await core[UNTIL_END](this.idle);
    if (core[STATE] === "failed") throw core[CUT];
    try {
      await core[UNTIL_END](this.raw.flush?.());
    } catch (error) {
      throw core[FAIL](error);
    }
  }

  /** `conn.closeWrite()`. */
  async closeWrite(): Promise<void> {
    const core = this.#core;
    if (this.#closed || core[STATE] !== "open") return;
    this.#closed = true;
    try {
      await core[UNTIL_END](this.idle);
      if (core[CUT]) throw core[CUT];
      await core[UNTIL_END](this.raw.closeWrite());
    } catch (error) {
      throw core[FAIL](error);
    }
  }

  /**
   * The connection ended: the write timeout stops, and writes that wait
   * fail with `cut` (or as closed).
   *
   * @param cut Why, if it was cut.
   */
  end(cut: unknown): void {
    this.#writeDog?.stop();
    // An error (and its stack trace, some microseconds) only for writes that wait.
    if (this.pending > 0) {
      this.clear(
        cut ??
          new ConnectionClosedError(
            `Cannot write to ${this.#core[PEER]}: the connection is closed`,
          ),
      );
    }
  }

  protected [SEND](bytes: Uint8Array): boolean {
    return this.raw.write(bytes, this);
  }

  protected [SENT](length: number): void {
    this.bytesWritten += length;
    this.#idle?.arm();
  }

  protected [SEND_FAILED](error: unknown): unknown {
    return this.#core[FAIL](error);
  }
}
