/**
 * A connection's reads in progress: {@linkcode PendingRead}, which the
 * transport delivers to, and the decoders and iterators that `Conn`'s read
 * methods are made of.
 *
 * @module
 */
import type { Decoder } from "./codec/codec.ts";
import { TruncatedFrameError } from "./errors.ts";
import type { ReadHandler } from "./transport.ts";

/** The result that ends an iteration. */
export const DONE: IteratorReturnResult<undefined> = Object.freeze({
  done: true,
  value: undefined,
});
/** The host's method that reads the next chunk or frame as an iterator result. */
export const NEXT = Symbol("next");
/** The host's method called when the transport delivered. */
export const ON_READ = Symbol("onRead");
/** The host's method called when the transport's read failed. */
export const ON_READ_ERROR = Symbol("onReadError");
/** The host's method that gives a chunk loop its next chunk: buffered, or the transport's. */
export const PULL_CHUNK = Symbol("pullChunk");
/** The host's method that accounts for a chunk the transport delivered to a chunk loop. */
export const CHUNK_ARRIVED = Symbol("chunkArrived");
/** The host's method called when a chunk loop is over: reads may start again. */
export const LOOP_ENDED = Symbol("loopEnded");

/** @param value A chunk or frame, or `null` at the end. @returns As an iterator result. */
export function toResult<T>(value: T | null): IteratorResult<T, undefined> {
  return value === null ? DONE : { done: false, value };
}

/**
 * What reads report to and iterate over: the connection itself, so that a
 * read costs no closures beyond its promise's.
 */
export interface ReadHost {
  [NEXT]<T>(decoder?: Decoder<T>): Promise<IteratorResult<T | Uint8Array, undefined>>;
  [ON_READ](read: PendingRead, bytes: Uint8Array | null): void;
  [ON_READ_ERROR](read: { reject(error: unknown): void }, error: unknown): void;
  [PULL_CHUNK](loop: ChunkLoop): void;
  [CHUNK_ARRIVED](bytes: Uint8Array | null): Uint8Array | null;
  [LOOP_ENDED](): void;
}

/**
 * One read in progress: what the transport delivers to, and what the
 * caller's promise settles from (the only promise a chunk or frame costs).
 */
export class PendingRead implements ReadHandler {
  readonly host: ReadHost;
  /** Absent for a chunk; a frame's decoder otherwise. */
  readonly decoder: Decoder<unknown> | undefined;
  /** Whether the promise resolves to an iterator result. */
  readonly asResult: boolean;
  readonly resolve: (value: unknown) => void;
  readonly reject: (error: unknown) => void;
  /** `readInto()`'s buffer, when the transport reads into it. */
  readonly into: Uint8Array | undefined;
  /** Inside the host's `[ON_READ]`: a chunk delivered meanwhile waits in `next`. */
  looping = false;
  arrived = false;
  next: Uint8Array | null = null;

  constructor(
    host: ReadHost,
    decoder: Decoder<unknown> | undefined,
    asResult: boolean,
    resolve: (value: unknown) => void,
    reject: (error: unknown) => void,
    into: Uint8Array | undefined,
  ) {
    this.host = host;
    this.decoder = decoder;
    this.asResult = asResult;
    this.resolve = resolve;
    this.reject = reject;
    this.into = into;
  }

  chunk(bytes: Uint8Array | null): void {
    this.host[ON_READ](this, bytes);
  }

  error(error: unknown): void {
    this.host[ON_READ_ERROR](this, error);
  }
}

/** `readInto(target)` as a decoder: whatever is buffered, as much as fits. */
export function into(target: Uint8Array): Decoder<number> {
  return {
    decode: (buffer) => buffer.length > 0 ? buffer.takeInto(target) : null,
    decodeEof: () => null,
  };
}

/** `readExact(length)` as a decoder: what the stream ends without is truncated. */
export function exactly(length: number): Decoder<Uint8Array> {
  return {
    decode: (buffer) => buffer.length >= length ? buffer.take(length) : null,
    decodeEof(buffer) {
      throw new TruncatedFrameError(
        `Cannot read ${length} bytes: stream ended after ${buffer.length} bytes`,
      );
    },
  };
}

/**
 * `for await (const chunk of conn)` and `conn.frames(codec)`: a plain
 * iterator, not an async generator (it is what an idle echo handler holds);
 * next() is one read of a chunk, or of a frame with a decoder.
 */
export class ReadIterator<T> implements AsyncIterableIterator<T, undefined, undefined> {
  #host: ReadHost;
  #decoder: Decoder<T> | undefined;

  /** @param host The connection. @param decoder For frames; chunks without. */
  constructor(host: ReadHost, decoder?: Decoder<T>) {
    this.#host = host;
    this.#decoder = decoder;
  }

  next(): Promise<IteratorResult<T, undefined>> {
    return this.#host[NEXT](this.#decoder) as Promise<IteratorResult<T, undefined>>;
  }

  return(): Promise<IteratorResult<T, undefined>> {
    return Promise.resolve(DONE);
  }

  [Symbol.asyncIterator](): this {
    return this;
  }
}

/**
 * `conn.forEach(fn)`: each chunk goes to `fn` as the transport delivers it,
 * inside the runtime's own data callback where it has one (Bun, Node), with
 * no promise per chunk. A promise `fn` returns holds the next chunk back
 * until it settles. A chunk delivered while `fn` runs (a transport answering
 * at once from its queue) waits for the loop instead of recursing.
 */
export class ChunkLoop implements ReadHandler {
  readonly #host: ReadHost;
  readonly #fn: (chunk: Uint8Array) => unknown;
  readonly #resolve: () => void;
  readonly reject: (error: unknown) => void;
  #busy = false;
  #arrived = false;
  #next: Uint8Array | null = null;
  #nextCounted = false;

  constructor(
    host: ReadHost,
    fn: (chunk: Uint8Array) => unknown,
    resolve: () => void,
    reject: (error: unknown) => void,
  ) {
    this.#host = host;
    this.#fn = fn;
    this.#resolve = resolve;
    this.reject = reject;
  }

  /**
   * @param bytes The next chunk, or `null` at the end of the stream.
   * @param counted Whether the host counted it already (bytes it had buffered).
   */
  chunk(bytes: Uint8Array | null, counted = false): void {
    if (this.#busy) {
      this.#next = bytes;
      this.#nextCounted = counted;
      this.#arrived = true;
      return;
    }
    this.#busy = true;
    try {
      for (;;) {
        const chunk = counted ? bytes : this.#host[CHUNK_ARRIVED](bytes);
        if (chunk === null) return this.#end();
        const pending = this.#fn(chunk) as PromiseLike<unknown> | undefined;
        if (typeof pending?.then === "function") {
          pending.then(() => this.#host[PULL_CHUNK](this), (error) => this.#end(error, true));
          return;
        }
        this.#arrived = false;
        this.#host[PULL_CHUNK](this);
        if (!this.#arrived) return;
        bytes = this.#next;
        counted = this.#nextCounted;
      }
    } catch (error) {
      this.#end(error, true);
    } finally {
      this.#busy = false;
    }
  }

  error(error: unknown): void {
    this.#host[ON_READ_ERROR](this, error);
  }

  #end(error?: unknown, failed = false): void {
    this.#host[LOOP_ENDED]();
    if (failed) this.reject(error);
    else this.#resolve();
  }
}
