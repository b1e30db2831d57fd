/**
 * One shared timer that probes sockets for a reset, for a runtime that
 * reports a dead socket only to a read or write that waits (Deno): a socket
 * nobody reads would otherwise never be seen gone. Reading ahead instead is
 * not possible there: `Deno.startTls` refuses a connection with a read
 * pending ("TCP stream is currently in use").
 *
 * The timer runs only while some socket is swept, and never keeps the
 * process alive by itself.
 *
 * @module
 */

/** A socket in the sweep. */
export interface Probed {
  /** Checks, cheaply and without sending anything, whether the socket is gone. */
  probe(): void;
}

/** Calls `probe()` on every member once per interval. */
export class Sweep {
  readonly #members = new Set<Probed>();
  readonly #intervalMs: number;
  readonly #unref: (timer: ReturnType<typeof setInterval>) => void;
  #timer: ReturnType<typeof setInterval> | undefined;

  /**
   * @param intervalMs How often each member is probed.
   * @param unref Lets the timer not keep the process alive (the runtime's way).
   */
  constructor(intervalMs: number, unref: (timer: ReturnType<typeof setInterval>) => void) {
    this.#intervalMs = intervalMs;
    this.#unref = unref;
  }

  add(member: Probed): void {
    this.#members.add(member);
    if (this.#timer === undefined) {
      this.#timer = setInterval(() => {
        for (const m of this.#members) m.probe();
      }, this.#intervalMs);
      this.#unref(this.#timer);
    }
  }

  delete(member: Probed): void {
    if (this.#members.delete(member) && this.#members.size === 0) {
      clearInterval(this.#timer);
      this.#timer = undefined;
    }
  }
}
