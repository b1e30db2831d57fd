/**
 * Who gets into a server: its connection limits (`maxConnections`, and
 * `maxConnectionsPerAddress` counted per client address), and the waits of
 * its accept loop (at a limit, after a failed accept), which shutdown ends.
 *
 * @module
 */

/** At a limit, how long the accept loop waits for an open connection to close before refusing. */
const LIMIT_GRACE_MS = 100;

/** A server's admission: the counts its limits need, and the waits. */
export class Admission {
  #maxConnections: number;
  #maxPerAddress: number | undefined;
  /** How many connections are open (the server's registry). */
  #open: () => number;
  #perAddress = new Map<string, number>();
  #stopped = false;
  /** Ends the pauses when the server stops. */
  #wakers = new Set<() => void>();
  /** Ends the waits at a limit when a connection closes. */
  #closeWaiters = new Set<() => void>();

  /**
   * @param maxConnections The most connections open at once.
   * @param maxPerAddress The most from one client address, or `undefined` for no limit.
   * @param open How many connections are open now.
   */
  constructor(maxConnections: number, maxPerAddress: number | undefined, open: () => number) {
    this.#maxConnections = maxConnections;
    this.#maxPerAddress = maxPerAddress;
    this.#open = open;
  }

  /** Whether connections are counted per address. */
  get perAddress(): boolean {
    return this.#maxPerAddress !== undefined;
  }

  /**
   * Whether `address` (when counted per address) is at its limit, or with
   * `total` the server at `maxConnections`. Synchronous: the accept loop
   * admits a connection without an await when there is room.
   *
   * @param address The client's key, when counted.
   * @param total Whether the total counts too.
   * @returns Whether it is full.
   */
  full(address: string | undefined, total: boolean): boolean {
    return (total && this.#open() >= this.#maxConnections) ||
      (address !== undefined && (this.#perAddress.get(address) ?? 0) >= this.#maxPerAddress!);
  }

  /**
   * At a limit, whether room comes soon. Peers that closed in the burst just
   * accepted are seen closed only a few turns later (Deno, Bun): a slot they
   * hold is no reason to refuse, so this waits up to `LIMIT_GRACE_MS` for
   * closes. Stopping ends the wait.
   *
   * @param address The client's key, when counted.
   * @param total Whether the total counts too.
   * @returns Whether there is room now.
   */
  async roomFor(address: string | undefined, total: boolean): Promise<boolean> {
    const end = Date.now() + LIMIT_GRACE_MS;
    while (this.full(address, total) && Date.now() < end && !this.#stopped) {
      await this.pause(end - Date.now(), true);
    }
    return !this.full(address, total) && !this.#stopped;
  }

  /** A connection from `address` is in. @param address The client's key. */
  countIn(address: string): void {
    this.#perAddress.set(address, (this.#perAddress.get(address) ?? 0) + 1);
  }

  /** A connection from `address` is gone. @param address The client's key. */
  countOut(address: string): void {
    const left = (this.#perAddress.get(address) ?? 1) - 1;
    if (left > 0) this.#perAddress.set(address, left);
    else this.#perAddress.delete(address);
  }

  /** A connection closed: the waits at a limit look again. */
  closed(): void {
    for (const wake of this.#closeWaiters) wake();
  }

  /**
   * Waits `ms`, or less: until {@linkcode Admission.stop} or, with
   * `untilClose`, a connection closes.
   *
   * @param ms How long at most.
   * @param untilClose Whether a close ends the wait.
   */
  pause(ms: number, untilClose = false): Promise<void> {
    return new Promise<void>((resolve) => {
      const wake = () => {
        clearTimeout(timer);
        this.#wakers.delete(wake);
        this.#closeWaiters.delete(wake);
        resolve();
      };
      const timer = setTimeout(wake, ms);
      this.#wakers.add(wake);
      if (untilClose) this.#closeWaiters.add(wake);
    });
  }

  /** The server stops: every wait ends, and no room comes any more. */
  stop(): void {
    this.#stopped = true;
    for (const wake of this.#wakers) wake();
  }
}
