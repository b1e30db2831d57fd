/**
 * The command line's output (what peers send, on stdout; the logs, on
 * stderr): written asynchronously and bounded, so that an output nobody
 * drains (`| less` left unscrolled, a terminal paused with Ctrl-S, a slow
 * ssh session) never blocks the event loop, never grows memory without
 * bound, and never delays signals. Each runtime's own does one of those things:
 * `node:process` stdout on Deno writes synchronously (a full pipe or a
 * paused terminal freezes the whole process), Node's blocks on a terminal,
 * Bun's blocks on a terminal and buffers without bound on a pipe.
 *
 * @module
 */
import { write as fsWrite } from "node:fs";
import process from "node:process";
import { isatty } from "node:tty";
import type { Logger } from "./_output.ts";

/** Where the bytes go: one write at a time, resolved once every byte is taken. */
export interface OutputSink {
  /** Whether it is a terminal (then text is shown with control characters escaped). */
  readonly isTerminal: boolean;
  /** Writes all the bytes. */
  write(bytes: Uint8Array): Promise<void>;
}

/** Options of {@linkcode OutputWriter}. */
export interface OutputWriterOptions {
  /**
   * Bytes one producer (a connection) may have queued before its `write()`
   * waits: the backpressure that stops reading that connection only.
   * @default {65536}
   */
  perProducer?: number;
  /**
   * Bytes queued in all: above it every `write()` waits and `offer()` drops.
   * @default {1048576}
   */
  maxQueued?: number;
  /** Tells the operator when output is dropped, and how much. */
  log?: Logger;
}

interface Waiter {
  producer: object;
  resolve: () => void;
}

const encoder = new TextEncoder();
/** Bytes handed to the sink in one write, at most (small chunks are joined). */
const BATCH = 65536;

/**
 * A bounded, asynchronous writer in front of an {@linkcode OutputSink}.
 * `write()` applies backpressure to the producer that wrote (it waits while
 * that producer has more than `perProducer` bytes queued), so one connection
 * flooding a stalled stdout stops only itself; `offer()` never waits and
 * drops what does not fit, counted in `dropped` (for output shared by many,
 * such as a chat room). Bytes keep their order.
 *
 * @example Backpressure and dropping
 * ```ts
 * import assert from "node:assert/strict";
 * import { OutputWriter } from "./_stdout.ts";
 *
 * const written: string[] = [];
 * const out = new OutputWriter({
 *   isTerminal: false,
 *   write: async (bytes) => void written.push(new TextDecoder().decode(bytes)),
 * }, { maxQueued: 4 });
 * assert.equal(out.offer("abc"), true);
 * assert.equal(out.offer("defg"), false); // 3 + 4 bytes would exceed maxQueued
 * await out.write("h");
 * assert.equal(await out.flush(1000), true);
 * assert.deepEqual([written.join(""), out.dropped], ["abch", 4]);
 * ```
 */
export class OutputWriter {
  #sink: OutputSink;
  #perProducer: number;
  #maxQueued: number;
  #log: Logger | undefined;
  #queue: { bytes: Uint8Array; producer: object }[] = [];
  #queued = 0;
  #byProducer = new Map<object, number>();
  #waiters: Waiter[] = [];
  #flushed: (() => void)[] = [];
  #writing = false;
  #broken = false;
  #dropped = 0;
  #droppedInBurst = 0;

  /**
   * @param sink Where the bytes go.
   * @param options The bounds, and the logger that reports drops.
   */
  constructor(sink: OutputSink, options: OutputWriterOptions = {}) {
    this.#sink = sink;
    this.#perProducer = options.perProducer ?? 65536;
    this.#maxQueued = options.maxQueued ?? 1 << 20;
    this.#log = options.log;
  }

  /** Whether the output is a terminal. */
  get isTerminal(): boolean {
    return this.#sink.isTerminal;
  }

  /** Bytes dropped so far: by `offer()`, or because the output is closed. */
  get dropped(): number {
    return this.#dropped;
  }

  /**
   * Queues bytes or text (as UTF-8); resolves once `producer` has at most
   * `perProducer` bytes queued and the whole queue is within `maxQueued`.
   *
   * @param data The bytes or text.
   * @param producer Who wrote it, such as the connection it came from.
   */
  write(data: Uint8Array | string, producer: object = this): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#broken) {
      this.#dropped += bytes.length;
      return Promise.resolve();
    }
    this.#enqueue(bytes, producer);
    if (this.#fits(producer)) return Promise.resolve();
    return new Promise((resolve) => this.#waiters.push({ producer, resolve }));
  }

  /**
   * Queues bytes or text if they fit within `maxQueued`, else drops and counts them.
   *
   * @param data The bytes or text.
   * @returns Whether it was queued.
   */
  offer(data: Uint8Array | string): boolean {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#broken || this.#queued + bytes.length > this.#maxQueued) {
      if (!this.#broken && this.#droppedInBurst === 0) {
        this.#log?.warn(
          "output-drop",
          "stdout is not keeping up: dropping output until it does (the server goes on; the totals count it)",
        );
      }
      this.#dropped += bytes.length;
      this.#droppedInBurst += bytes.length;
      return false;
    }
    this.#enqueue(bytes, this);
    return true;
  }

  /**
   * Waits until everything queued is written, for at most `timeoutMs`.
   *
   * @param timeoutMs The longest wait (none by default).
   * @returns Whether everything was written.
   */
  flush(timeoutMs = Infinity): Promise<boolean> {
    if (this.#queued === 0 && !this.#writing) return Promise.resolve(true);
    return new Promise((resolve) => {
      const timer = timeoutMs === Infinity
        ? undefined
        : setTimeout(() => resolve(false), timeoutMs);
      this.#flushed.push(() => {
        clearTimeout(timer);
        resolve(true);
      });
    });
  }

  #enqueue(bytes: Uint8Array, producer: object): void {
    if (bytes.length === 0) return;
    this.#queue.push({ bytes, producer });
    this.#queued += bytes.length;
    this.#byProducer.set(producer, (this.#byProducer.get(producer) ?? 0) + bytes.length);
    if (!this.#writing) void this.#pump();
  }

  #fits(producer: object): boolean {
    return (this.#byProducer.get(producer) ?? 0) <= this.#perProducer &&
      this.#queued <= this.#maxQueued;
  }

  async #pump(): Promise<void> {
    this.#writing = true;
    while (this.#queue.length > 0) {
      const batch = this.#takeBatch();
      try {
        await this.#sink.write(batch.bytes);
        this.#release(batch.counts);
      } catch (error) {
        this.#release(batch.counts);
        this.#close(error);
      }
      if (this.#droppedInBurst > 0 && this.#queued === 0) {
        this.#log?.warn(
          "output-drop",
          `dropped ${this.#droppedInBurst} bytes of output: stdout is not keeping up`,
          { dropped: this.#droppedInBurst },
        );
        this.#droppedInBurst = 0;
      }
    }
    this.#writing = false;
    for (const done of this.#flushed.splice(0)) done();
  }

  /** Takes queued chunks up to BATCH bytes (at least one), joined into one array. */
  #takeBatch(): { bytes: Uint8Array; counts: Map<object, number> } {
    const counts = new Map<object, number>();
    let n = 0;
    let i = 0;
    while (i < this.#queue.length && (i === 0 || n + this.#queue[i].bytes.length <= BATCH)) {
      const { bytes, producer } = this.#queue[i++];
      n += bytes.length;
      counts.set(producer, (counts.get(producer) ?? 0) + bytes.length);
    }
    const taken = this.#queue.splice(0, i);
    if (taken.length === 1) return { bytes: taken[0].bytes, counts };
    const bytes = new Uint8Array(n);
    let offset = 0;
    for (const chunk of taken) {
      bytes.set(chunk.bytes, offset);
      offset += chunk.bytes.length;
    }
    return { bytes, counts };
  }

  #release(counts: Map<object, number>): void {
    for (const [producer, n] of counts) {
      this.#queued -= n;
      const left = this.#byProducer.get(producer)! - n;
      if (left === 0) this.#byProducer.delete(producer);
      else this.#byProducer.set(producer, left);
    }
    this.#waiters = this.#waiters.filter((waiter) => {
      if (!this.#fits(waiter.producer)) return true;
      waiter.resolve();
      return false;
    });
  }

  /** The output is gone (EPIPE): what is queued and what comes is dropped, once said. */
  #close(error: unknown): void {
    if (this.#broken) return;
    this.#broken = true;
    this.#log?.warn(
      "output-closed",
      `stdout is closed (${(error as Error)?.message ?? error}): output is discarded from now on`,
    );
    const counts = new Map<object, number>();
    for (const { bytes, producer } of this.#queue.splice(0)) {
      this.#dropped += bytes.length;
      counts.set(producer, (counts.get(producer) ?? 0) + bytes.length);
    }
    this.#release(counts);
  }
}

interface DenoOutput {
  write(bytes: Uint8Array): Promise<number>;
  isTerminal(): boolean;
}

/**
 * This process's stdout or stderr as a sink that never blocks the event
 * loop: Deno's `Deno.stdout.write()` (asynchronous on pipes and terminals),
 * Node's `process.stdout` (asynchronous on pipes; on a terminal, once
 * switched to non-blocking), and on Bun `fs.write()` to the descriptor
 * (done off the event loop).
 *
 * @param name Which output.
 * @returns The sink.
 */
export function outputSink(name: "stdout" | "stderr"): OutputSink {
  const deno = (globalThis as unknown as { Deno?: Record<typeof name, DenoOutput> }).Deno;
  if (deno) {
    const output = deno[name];
    return {
      isTerminal: output.isTerminal(),
      async write(bytes) {
        for (let n = 0; n < bytes.length;) n += await output.write(bytes.subarray(n));
      },
    };
  }
  const fd = name === "stdout" ? 1 : 2;
  const isTerminal = isatty(fd);
  // A pipe or file: fs.write, since Node's stdio stream may never call back
  // once a stalled pipe drains (the log stopped for good).
  if ("Bun" in globalThis || !isTerminal) {
    return {
      isTerminal,
      write: (bytes) => writeFd(fd, bytes),
    };
  }
  const stream = process[name] as typeof process.stdout & {
    _handle?: { setBlocking?(on: boolean): void };
  };
  // Node makes a terminal's output blocking: a paused terminal would stop the event loop.
  stream._handle?.setBlocking?.(false);
  let failure: Error | undefined;
  stream.on("error", (error) => (failure = error));
  return {
    isTerminal,
    write: (bytes) =>
      new Promise((resolve, reject) => {
        if (failure) return reject(failure);
        stream.write(bytes, (error) => (error ? reject(error) : resolve()));
      }),
  };
}

/** Writes all bytes to `fd` with `fs.write()`, retrying partial writes and `EAGAIN`. */
async function writeFd(fd: number, bytes: Uint8Array): Promise<void> {
  for (let n = 0; n < bytes.length;) {
    n += await new Promise<number>((resolve, reject) =>
      fsWrite(fd, bytes, n, bytes.length - n, null, (error, written) => {
        if (error?.code === "EAGAIN") setTimeout(() => resolve(0), 10);
        else if (error) reject(error);
        else resolve(written);
      })
    );
  }
}
