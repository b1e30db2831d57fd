/**
 * A cheap timeout for hot paths: arming it is an assignment, and one timer
 * per watchdog fires at most a little after the deadline.
 *
 * @module
 */

/** Calls `onExpire` once a deadline set by `arm()` passes without `disarm()`. */
export class Watchdog {
  #ms: number;
  #onExpire: () => void;
  #deadline = Infinity;
  #timer: ReturnType<typeof setTimeout> | undefined;

  /**
   * @param ms How long an armed watchdog waits.
   * @param onExpire Called when it expires.
   */
  constructor(ms: number, onExpire: () => void) {
    this.#ms = ms;
    this.#onExpire = onExpire;
  }

  /** Starts (or restarts) the countdown from now. */
  arm(): void {
    this.#deadline = performance.now() + this.#ms;
    this.#timer ??= setTimeout(this.#check, this.#ms);
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
  }

  #check = (): void => {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    const left = this.#deadline - performance.now();
    if (left > 0) this.#timer = setTimeout(this.#check, left);
    else this.#onExpire();
  };
}
