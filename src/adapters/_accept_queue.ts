/**
 * The accepting half of a listener whose runtime pushes connections (Bun,
 * Node), as the pull interface of `RawListener.accept()`: a connection waits
 * here until accepted, a waiting `accept()` gets the next one straight from
 * the runtime's callback, and once closed nothing waits and nothing more
 * gets in.
 *
 * @module
 */
import { Fifo } from "../_fifo.ts";
import type { RawConn } from "../transport.ts";

/** Connections the runtime accepted, until `accept()` takes them; `T` is the runtime's socket. */
export class AcceptQueue<T> {
  #pending = new Fifo<T>();
  #waiter: ((conn: RawConn | null) => void) | null = null;
  #closed = false;
  #wrap: (socket: T) => RawConn;
  #drop: (socket: T) => void;

  /**
   * @param wrap Makes the transport's connection of a socket, when it is accepted.
   * @param drop Closes a socket nobody will accept (the listener closed).
   */
  constructor(wrap: (socket: T) => RawConn, drop: (socket: T) => void) {
    this.#wrap = wrap;
    this.#drop = drop;
  }

  /** A connection from the runtime: to the waiting `accept()`, else queued. @param socket */
  push(socket: T): void {
    if (this.#closed) return this.#drop(socket);
    const waiter = this.#waiter;
    if (waiter === null) return this.#pending.push(socket);
    this.#waiter = null;
    waiter(this.#wrap(socket));
  }

  /** `RawListener.accept()`: the next connection, or `null` once closed. */
  accept(): Promise<RawConn | null> {
    const socket = this.#pending.shift();
    if (socket !== undefined) return Promise.resolve(this.#wrap(socket));
    if (this.#closed) return Promise.resolve(null);
    return new Promise((resolve) => (this.#waiter = resolve));
  }

  /**
   * Closes: a waiting `accept()` gets `null`, queued connections are dropped.
   *
   * @returns Whether it was open (the listener's own close runs then, once).
   */
  close(): boolean {
    if (this.#closed) return false;
    this.#closed = true;
    this.#waiter?.(null);
    this.#waiter = null;
    for (const socket of this.#pending.clear()) this.#drop(socket);
    return true;
  }
}
