/**
 * A connection's reads in progress: {@linkcode PendingRead}, which the
 * transport delivers to, and the decoders and iterators that `Conn`'s read
 * methods are made of.
 *
 * @module
 */
import type { Decoder } from "../codec/codec.ts";
import { TruncatedFrameError } from "../errors.ts";
import type { ReadHandler } from "../transport.ts";
import { RESOLVED } from "./_write_queue.ts";

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
/** The host's method that gives a loop its next chunk: buffered (chunks only), or the transport's. */
export const PULL_CHUNK = Symbol("pullChunk");
/** The host's method that accounts for a chunk the transport delivered to a loop (and buffers it for frames). */
export const CHUNK_ARRIVED = Symbol("chunkArrived");
/** The host's method that decodes the next frame from its buffer for a loop. */
export const DECODE_FRAME = Symbol("decodeFrame");
/** The host's method called when a loop is over: reads may start again. */
export const LOOP_ENDED = Symbol("loopEnded");
/** The host's method that holds the connection's writes back (`true`) and sends them together (`false`). */
export const CORK = Symbol("cork");

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
  /** Also a stopped loop's, whose read was given up: its bytes are kept for the next read. */
  [ON_READ](read: PendingRead | Loop, bytes: Uint8Array | null): void;
  [ON_READ_ERROR](read: { reject(error: unknown): void }, error: unknown): void;
  [PULL_CHUNK](loop: Loop): void;
  [CHUNK_ARRIVED](bytes: Uint8Array | null, loop: Loop): Uint8Array | null;
  [DECODE_FRAME]<T>(decoder: Decoder<T>, eof: boolean): T | null;
  [LOOP_ENDED](): void;
  [CORK](on: boolean): void;
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

/** What the host sees of an {@linkcode EachLoop}. */
export interface Loop extends ReadHandler {
  /** For frames: the decoder (chunks go through the host's buffer). */
  readonly decoder: Decoder<unknown> | undefined;
  /** Where the transport reads the next chunk into, when set (a pipe's reused buffer). */
  readonly into: Uint8Array | undefined;
  /** @param counted Whether the host counted the bytes already (it had buffered them). */
  chunk(bytes: Uint8Array | null, counted?: boolean): void;
  /** Takes what is buffered, then asks for more. */
  start(): void;
}

/**
 * A pipe's choice of where the transport reads the next chunk into, after
 * each chunk (`null` at the end): a buffer of its own, reused, or
 * `undefined` for a new chunk of the transport's. A chunk read into the
 * buffer is a view of it: `fn`'s promise settles once its bytes are out.
 */
export type ReadTarget = (last: Uint8Array | null) => Uint8Array | undefined;

/**
 * `conn.forEach(fn)` and `conn.forEachFrame(codec, fn)`: each chunk, or each
 * frame decoded from the connection's buffer, goes to `fn` as the transport
 * delivers the bytes, inside the runtime's own data callback where it has
 * one (Bun, Node), with no promise per item. A promise `fn` returns holds the
 * next item back until it settles. A chunk delivered while the loop runs (a
 * transport answering at once from its queue) waits for it instead of
 * recursing.
 */
export class EachLoop<T> implements Loop {
  readonly decoder: Decoder<T> | undefined;
  readonly reject: (error: unknown) => void;
  into: Uint8Array | undefined;
  readonly #host: ReadHost;
  readonly #fn: (item: T) => unknown;
  readonly #resolve: () => void;
  readonly #readTarget: ReadTarget | undefined;
  #stopped = false;
  #eof = false;
  #busy = false;
  #arrived = false;
  #next: Uint8Array | null = null;
  #nextCounted = false;

  constructor(
    host: ReadHost,
    decoder: Decoder<T> | undefined,
    fn: (item: T) => unknown,
    resolve: () => void,
    reject: (error: unknown) => void,
    readTarget?: ReadTarget,
  ) {
    this.#host = host;
    this.decoder = decoder;
    this.#fn = fn;
    this.#resolve = resolve;
    this.reject = reject;
    this.#readTarget = readTarget;
  }

  /** Hands over what is buffered already (frames), then asks for more. */
  start(): void {
    if (this.#stopped) return;
    try {
      if (this.decoder !== undefined && !this.#drain()) return;
    } catch (error) {
      this.#end(error, true);
      return;
    }
    this.#host[PULL_CHUNK](this);
  }

  /**
   * @param bytes The next chunk, or `null` at the end of the stream.
   * @param counted Whether the host counted it already (bytes it had buffered).
   */
  chunk(bytes: Uint8Array | null, counted = false): void {
    // The read was given up ({@linkcode EachLoop.stop}): what it brought is the connection's.
    if (this.#stopped) return this.#host[ON_READ](this, bytes);
    if (this.#busy) {
      this.#next = bytes;
      this.#nextCounted = counted;
      this.#arrived = true;
      return;
    }
    this.#busy = true;
    try {
      for (;;) {
        const chunk = counted ? bytes : this.#host[CHUNK_ARRIVED](bytes, this);
        if (chunk === null) this.#eof = true;
        if (this.#readTarget) this.into = this.#readTarget(chunk);
        const go = this.decoder !== undefined
          ? this.#drain()
          : chunk === null
          ? this.#end()
          : this.#call(chunk as T);
        if (!go || this.#stopped) return;
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

  /**
   * Ends the loop now (a pipe stopped by its signal): nothing more goes to
   * `fn`, and its promise resolves. The host has given up its read already.
   */
  stop(): void {
    this.#stopped = true;
    this.#resolve();
  }

  /**
   * Every whole frame in the host's buffer to `fn`; false when the loop ended
   * or waits. What `fn` writes meanwhile goes out together (pipelined requests).
   */
  #drain(): boolean {
    const host = this.#host;
    host[CORK](true);
    try {
      for (;;) {
        const frame = host[DECODE_FRAME](this.decoder!, this.#eof);
        if (frame === null) return this.#eof ? this.#end() : true;
        if (!this.#call(frame)) return false;
      }
    } finally {
      host[CORK](false);
    }
  }

  /**
   * `fn(item)`; false when it returned a promise still to settle (the loop
   * goes on then). `write()`'s settled `RESOLVED` is not one: an echo waits for nothing.
   */
  #call(item: T): boolean {
    const pending = this.#fn(item) as PromiseLike<unknown> | undefined;
    if (pending === RESOLVED || typeof pending?.then !== "function") return true;
    pending.then(() => this.start(), (error) => this.#end(error, true));
    return false;
  }

  #end(error?: unknown, failed = false): false {
    if (this.#stopped) return false;
    this.#host[LOOP_ENDED]();
    if (failed) this.reject(error);
    else this.#resolve();
    return false;
  }
}
