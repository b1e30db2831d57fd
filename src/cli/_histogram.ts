/**
 * The latency histogram of `tcpkit bench` (and of the benchmark harness's
 * clients, so that both record the same way).
 *
 * @module
 */

/** Round-trip latency in milliseconds. */
export interface LatencySummary {
  p50: number;
  p90: number;
  p99: number;
  max: number;
}

const SUB = 128;

/**
 * A latency histogram with bounded memory: 128 log-linear sub-buckets per
 * power of two of nanoseconds, so a percentile is within 1% of the truth.
 *
 * @example Record and read percentiles
 * ```ts
 * import assert from "node:assert/strict";
 * import { LatencyHistogram } from "./_histogram.ts";
 *
 * const histogram = new LatencyHistogram();
 * for (let ms = 1; ms <= 100; ms++) histogram.record(ms);
 * assert.ok(Math.abs(histogram.percentile(0.5) - 50) < 1);
 * assert.equal(histogram.max, 100);
 * ```
 */
export class LatencyHistogram {
  #buckets = new Float64Array(SUB * 26);
  #count = 0;
  #max = 0;

  /** Samples recorded. */
  get count(): number {
    return this.#count;
  }

  /** The largest sample, in milliseconds. */
  get max(): number {
    return this.#max;
  }

  /**
   * Records one sample.
   *
   * @param ms The latency in milliseconds.
   */
  record(ms: number): void {
    const ns = Math.min(Math.max(Math.round(ms * 1e6), 0), 0xffffffff);
    let index = ns;
    if (ns >= SUB) {
      const shift = 31 - Math.clz32(ns) - 7;
      index = (shift + 1) * SUB + ((ns >>> shift) & (SUB - 1));
    }
    this.#buckets[index]++;
    this.#count++;
    if (ms > this.#max) this.#max = ms;
  }

  /**
   * The latency under which a fraction of the samples fall.
   *
   * @param q The fraction, 0 to 1.
   * @returns Milliseconds, or 0 with no samples.
   */
  percentile(q: number): number {
    if (this.#count === 0) return 0;
    const rank = Math.min(Math.floor(q * this.#count), this.#count - 1);
    let seen = 0;
    for (let i = 0; i < this.#buckets.length; i++) {
      seen += this.#buckets[i];
      if (seen > rank) {
        if (i < SUB) return i / 1e6;
        const shift = Math.floor(i / SUB) - 1;
        return Math.min(((SUB + (i % SUB)) * 2 ** shift + 2 ** shift / 2) / 1e6, this.#max);
      }
    }
    return this.#max;
  }

  /** @returns p50, p90, p99 and max. */
  summary(): LatencySummary {
    return {
      p50: this.percentile(0.5),
      p90: this.percentile(0.9),
      p99: this.percentile(0.99),
      max: this.#max,
    };
  }
}
