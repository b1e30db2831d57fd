/**
 * The reading half of a socket whose runtime pushes chunks (Bun, Node), as
 * the pull interface of `RawConn.read()`: chunks wait here until read, the
 * socket pauses once `READ_AHEAD` bytes wait, and a waiting reader gets the
 * next chunk straight from the runtime's callback.
 *
 * @module
 */
import { ConnectionClosedError, toTcpError } from "../errors.ts";
import { READ_AHEAD, type ReadHandler, type WriteHandler } from "../transport.ts";
import { Fifo } from "../_fifo.ts";

/** The queue and the waiting reader; subclasses feed it and say how the stream ends. */
export abstract class PushedReads {
  /** Made when a chunk first waits (a reader usually waits instead). */
  #queue: Fifo<Uint8Array> | undefined;
  #queued = 0;
  #paused: boolean;
  #reader: ReadHandler | null = null;

  /** @param paused Whether the socket starts paused (Node's `pauseOnConnect`). */
  constructor(paused = false) {
    this.#paused = paused;
  }

  /** Stops the runtime from reading. */
  protected abstract pauseSocket(): void;
  /** Lets the runtime read again. */
  protected abstract resumeSocket(): void;
  /**
   * How reading ends: `undefined` while more may come, `null` at a clean end
   * of stream, or the error reads fail with.
   */
  protected abstract endOfReads(): Error | null | undefined;

  /** Bytes received and not yet read. */
  protected get unread(): number {
    return this.#queued;
  }

  /** Takes every chunk received and not yet read, oldest first (for a hand-over to TLS). */
  protected takeUnread(): Uint8Array[] {
    const chunks: Uint8Array[] = [];
    for (let chunk; (chunk = this.#queue?.shift()) !== undefined;) chunks.push(chunk);
    this.#queued = 0;
    return chunks;
  }

  /**
   * Lets the runtime read while nobody reads (up to `READ_AHEAD`), so that
   * it sees the peer's reset or close: a socket that does not read is not
   * polled (libuv), and its end goes unnoticed.
   */
  protected readAhead(): void {
    if (this.#paused && this.#queued < READ_AHEAD) this.#resume();
  }

  /** A chunk from the runtime: to the waiting reader, else queued. */
  protected pushed(bytes: Uint8Array): void {
    const reader = this.#reader;
    // A reader waits only while nothing is queued.
    if (reader !== null) {
      this.#reader = null;
      return reader.chunk(bytes);
    }
    (this.#queue ??= new Fifo()).push(bytes);
    this.#queued += bytes.length;
    if (this.#queued >= READ_AHEAD && !this.#paused) {
      this.#paused = true;
      this.pauseSocket();
    }
  }

  /** Tells a waiting reader that the stream ended or failed, if it has. */
  protected wake(): void {
    const reader = this.#reader;
    if (reader === null) return;
    const end = this.endOfReads();
    if (end === undefined) return;
    this.#reader = null;
    if (end === null) reader.chunk(null);
    else reader.error(end);
  }

  read(reader: ReadHandler): void {
    const chunk = this.#queue?.shift();
    if (chunk !== undefined) {
      this.#queued -= chunk.length;
      if (this.#paused && this.#queued < READ_AHEAD) this.#resume();
      return reader.chunk(chunk);
    }
    this.#reader = reader;
    this.wake();
    if (this.#reader !== null && this.#paused) this.#resume();
  }

  #resume(): void {
    this.#paused = false;
    this.resumeSocket();
  }
}

/**
 * The error an operation on a socket gets: its failure, or that it is closed.
 *
 * @param failure What the runtime reported, if anything.
 * @param what The operation and peer, such as `"write to 127.0.0.1:7"`.
 * @returns A tcpkit error.
 */
export function socketError(failure: unknown, what: string): Error {
  return failure !== undefined
    ? toTcpError(failure, what)
    : new ConnectionClosedError(`Cannot ${what}: the connection is closed`);
}

/**
 * A write refused at once (the socket is gone), reported to its handler in a
 * microtask: after `write()` has returned, as the contract says.
 *
 * @param handler The write's handler.
 * @param error Why.
 * @returns `false`, for `write()`.
 */
export function failLater(handler: WriteHandler, error: Error): false {
  queueMicrotask(() => handler.error(error));
  return false;
}
