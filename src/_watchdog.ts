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
  #unref: ((timer: ReturnType<typeof setTimeout>) => void) | undefined;

  /**
   * @param ms How long an armed watchdog waits.
   * @param onExpire Called when it expires.
   * @param unref Given each timer it sets, so that the timer alone does not keep the process alive.
   */
  constructor(
    ms: number,
    onExpire: () => void,
    unref?: (timer: ReturnType<typeof setTimeout>) => void,
  ) {
    this.#ms = ms;
    this.#onExpire = onExpire;
    this.#unref = unref;
  }

  /** Starts (or restarts) the countdown from now. */
  arm(): void {
    this.#deadline = performance.now() + this.#ms;
    if (this.#timer === undefined) this.#start(this.#ms);
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
  }

  #check = (): void => {
    this.#timer = undefined;
    if (this.#deadline === Infinity) return;
    const left = this.#deadline - performance.now();
    if (left > 0) this.#start(left);
    else this.#onExpire();
  };

  #start(ms: number): void {
    this.#timer = setTimeout(this.#check, ms);
    this.#unref?.(this.#timer);
  }
}
