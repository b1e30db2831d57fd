/**
 * A cheap timeout for hot paths: arming it is an assignment. Timeouts of a
 * second or more (the usual read, write and idle timeouts) share one ticking
 * timer, as undici's fast timers do, so that thousands of connections cost
 * one native timer and no clock read per arm; shorter ones keep a timer of
 * their own.
 *
 * @module
 */

type Timer = ReturnType<typeof setTimeout>;

/**
 * Counts ticks for the watchdogs armed on it; runs only while one is armed.
 * Counting ticks instead of reading the clock means a busy event loop (late
 * ticks) makes a deadline late, never early.
 */
export class Ticker {
  /** How many ticks have passed. */
  ticks = 0;
  readonly tickMs: number;
  #armed = new Set<Watchdog>();
  #timer: Timer | undefined;
  #unref: ((timer: Timer) => void) | undefined;

  /** @param tickMs The time between ticks. */
  constructor(tickMs: number) {
    this.tickMs = tickMs;
  }

  /** Whether it is stopped: no watchdog is armed on it. */
  get idle(): boolean {
    return this.#timer === undefined;
  }

  /** Checks `dog` at every tick until it is disarmed or expires. @param dog @param unref */
  add(dog: Watchdog, unref: ((timer: Timer) => void) | undefined): void {
    this.#armed.add(dog);
    if (unref) this.#unref = unref;
    if (this.#timer === undefined) this.#start();
  }

  /** Stops checking `dog`. @param dog */
  delete(dog: Watchdog): void {
    this.#armed.delete(dog);
  }

  #tick = (): void => {
    this.#timer = undefined;
    this.ticks++;
    for (const dog of this.#armed) dog.check(this.ticks);
    if (this.#armed.size > 0) this.#start();
  };

  #start(): void {
    this.#timer = setTimeout(this.#tick, this.tickMs);
    this.#unref?.(this.#timer);
  }
}

/** The ticker of the watchdogs of a second or more: a deadline is 0-0.5 s late. */
export const SHARED_TICKER: Ticker = new Ticker(250);
/** Shorter timeouts than this get a timer of their own (as undici's `setFastTimeout`). */
const SHARED_FROM_MS = 1000;

/** Calls `onExpire` once a deadline set by `arm()` passes without `disarm()`. */
export class Watchdog {
  #ms: number;
  #onExpire: () => void;
  #unref: ((timer: Timer) => void) | undefined;
  /** The shared ticker, or `undefined` for a timer of this watchdog's own. */
  #ticker: Ticker | undefined;
  /** The ticker's ticks the deadline takes: enough that it never comes early. */
  #span = 0;
  /** On the ticker: the tick at which it expires; on its own timer: the time. */
  #deadline = Infinity;
  #listed = false;
  #timer: Timer | undefined;

  /**
   * @param ms How long an armed watchdog waits.
   * @param onExpire Called when it expires.
   * @param unref Given each timer it sets, so that the timer alone does not keep the process alive.
   * @param ticker The ticker for timeouts of a second or more (tests give their own).
   */
  constructor(
    ms: number,
    onExpire: () => void,
    unref?: (timer: Timer) => void,
    ticker: Ticker | undefined = ms >= SHARED_FROM_MS ? SHARED_TICKER : undefined,
  ) {
    this.#ms = ms;
    this.#onExpire = onExpire;
    this.#unref = unref;
    this.#ticker = ticker;
    // Armed between two ticks: one more tick than the time needs.
    if (ticker) this.#span = Math.ceil(ms / ticker.tickMs) + 1;
  }

  /** Starts (or restarts) the countdown from now. */
  arm(): void {
    const ticker = this.#ticker;
    if (ticker === undefined) {
      this.#deadline = performance.now() + this.#ms;
      if (this.#timer === undefined) this.#start(this.#ms);
      return;
    }
    this.#deadline = ticker.ticks + this.#span;
    if (!this.#listed) {
      this.#listed = true;
      ticker.add(this, this.#unref);
    }
  }

  /** Starts the countdown unless it runs already: one deadline for a whole call. */
  armOnce(): void {
    if (this.#deadline === Infinity) this.arm();
  }

  /** Stops the countdown; the timer, if running, finds nothing to do. */
  disarm(): void {
    this.#deadline = Infinity;
  }

  /** Stops for good. */
  stop(): void {
    this.#deadline = Infinity;
    clearTimeout(this.#timer);
    this.#timer = undefined;
    this.#listed = false;
    this.#ticker?.delete(this);
  }

  /**
   * The ticker's check at tick `ticks`: leaves the ticker when disarmed, and
   * expires if the deadline passed.
   *
   * @param ticks The ticker's count.
   */
  check(ticks: number): void {
    if (this.#deadline > ticks && this.#deadline !== Infinity) return;
    const expired = this.#deadline !== Infinity;
    this.#deadline = Infinity;
    this.#listed = false;
    this.#ticker!.delete(this);
    if (expired) this.#onExpire();
  }

  #expireIfDue(): void {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    const left = this.#deadline - performance.now();
    if (left > 0) this.#start(left);
    else this.#onExpire();
  }

  #start(ms: number): void {
    this.#timer = setTimeout(() => this.#expireIfDue(), ms);
    this.#unref?.(this.#timer);
  }
}
