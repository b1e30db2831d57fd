/**
 * The read side of a connection: its buffer, the end of stream, the one read
 * in progress (a pending read or an each-loop) and the read timeout. It is
 * what the transport delivers to; the connection's read methods are its.
 *
 * @module
 */
import { ByteBuffer } from "../codec/byte_buffer.ts";
import type { Decoder } from "../codec/codec.ts";
import { FrameTooLargeError, type TcpError } from "../errors.ts";
import { type ConnCore, CUT, FAIL, PEER } from "./_core.ts";
import type { RawConn, ReadHandler } from "../transport.ts";
import type { Watchdog } from "../_watchdog.ts";
import {
  CHUNK_ARRIVED,
  CORK,
  DECODE_FRAME,
  DONE,
  EachLoop,
  exactly,
  into,
  type Loop,
  LOOP_ENDED,
  NEXT,
  ON_READ,
  ON_READ_ERROR,
  PendingRead,
  PULL_CHUNK,
  type ReadHost,
  type ReadTarget,
  toResult,
} from "./_reads.ts";

/** How a {@linkcode ReadSide} is bounded. */
export interface ReadSideOptions {
  /** The most bytes a frame may buffer. */
  maxReadBuffer: number;
  /** The read timeout's watchdog: armed while a read call waits. */
  readDog: Watchdog | undefined;
  /** The idle timeout's watchdog: re-armed by each chunk. */
  idle: Watchdog | undefined;
  /** The connection's writes, held back while a loop hands over the frames of one chunk. */
  writes: { cork(): void; uncork(): void };
}

/** A connection's reads, one at a time. */
export class ReadSide implements ReadHost {
  /** The transport read from (replaced by a TLS upgrade). */
  raw: RawConn;
  /** Bytes received and not yet read. */
  readonly buffer: ByteBuffer = new ByteBuffer();
  /** Bytes received so far. */
  bytesRead = 0;
  #owner: ConnCore;
  #maxReadBuffer: number;
  #readDog: Watchdog | undefined;
  #idle: Watchdog | undefined;
  #writes: ReadSideOptions["writes"];
  /** The peer has sent FIN. */
  #eof = false;
  /** A read call is in progress (one at a time). */
  #reading = false;
  /**
   * The handler the transport will deliver to, while a read waits on it; or,
   * while an orphan is with the transport, the read that waits for its bytes.
   */
  #inflight: ReadHandler | undefined;
  /** A read its caller gave up ({@linkcode ReadSide.abandon}) that the transport still has. */
  #orphan: PendingRead | Loop | undefined;
  /** The each-loop in progress, whether it waits on the transport or on its `fn`. */
  #loop: EachLoop<unknown> | undefined;

  /**
   * @param owner The connection.
   * @param raw The transport.
   * @param options The bounds and the watchdogs.
   */
  constructor(owner: ConnCore, raw: RawConn, options: ReadSideOptions) {
    this.#owner = owner;
    this.raw = raw;
    this.#maxReadBuffer = options.maxReadBuffer;
    this.#readDog = options.readDog;
    this.#idle = options.idle;
    this.#writes = options.writes;
  }

  /** Whether a read call is in progress. */
  get reading(): boolean {
    return this.#reading;
  }

  /** `conn.read()`. */
  read(): Promise<Uint8Array | null> {
    return this.#readChunk(false);
  }

  /** `conn.readInto()`. @param buffer Not empty. */
  readInto(buffer: Uint8Array): Promise<number | null> {
    if (!(buffer instanceof Uint8Array) || buffer.length === 0) {
      return Promise.reject(
        new TypeError("Cannot read into buffer: it must be a Uint8Array of at least one byte"),
      );
    }
    // The transport reads into the buffer where it can; else the decoder copies.
    return this.#readFrame(into(buffer), false, this.raw.readInto ? buffer : undefined);
  }

  /** `conn.readExact()`. @param length How many bytes. */
  async readExact(length: number): Promise<Uint8Array> {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(
        `Cannot read exactly ${length} bytes: length must be a non-negative integer`,
      );
    }
    if (length > this.#maxReadBuffer) {
      throw new FrameTooLargeError(
        `Cannot read ${length} bytes: more than maxReadBuffer ${this.#maxReadBuffer}`,
      );
    }
    return (await this.readFrame(exactly(length)))!;
  }

  /** `conn.readFrame()`. @param decoder The decoder. */
  readFrame<T>(decoder: Decoder<T>): Promise<T | null> {
    return this.#readFrame(decoder, false);
  }

  /**
   * Gives up the read in progress (a pipe stopped by its signal): a read
   * settles now as the end of the stream, a loop ends, and what the
   * transport brings either is kept for the next read. Nothing is lost.
   */
  abandon(): void {
    const read = this.#inflight;
    const loop = this.#loop;
    if (loop === undefined && !(read instanceof PendingRead)) return;
    if (read !== undefined) {
      this.#inflight = undefined;
      // A read that waited for an orphan's bytes leaves them to the next read.
      this.#orphan ??= read as PendingRead | Loop;
    }
    this.#endRead();
    if (loop !== undefined) loop.stop();
    else if (read instanceof PendingRead) read.resolve(read.asResult ? DONE : null);
  }

  /**
   * The connection ended: the read timeout stops, and a read that waits
   * fails at once with `cut`, when the connection was cut.
   *
   * @param cut Why, if it was cut.
   */
  end(cut: TcpError | undefined): void {
    this.#readDog?.stop();
    const read = this.#inflight;
    if (cut && read) {
      this.#inflight = undefined;
      read.error(cut);
    }
  }

  /** For the iterators: the next chunk, or frame with a decoder, as an iterator result. */
  [NEXT]<T>(decoder?: Decoder<T>): Promise<IteratorResult<T | Uint8Array, undefined>> {
    return decoder ? this.#readFrame(decoder, true) : this.#readChunk(true);
  }

  /**
   * For {@linkcode PendingRead}: a chunk, or the end of the stream, arrived.
   * A frame that needs more asks the transport again, in a loop: a transport
   * that answers at once (from many small chunks queued) must not recurse.
   */
  [ON_READ](given: PendingRead | Loop, bytes: Uint8Array | null): void {
    if (given === this.#orphan) return this.#adopt(given, bytes);
    const read = given as PendingRead;
    if (this.#inflight === read) this.#inflight = undefined;
    if (read.looping) {
      read.next = bytes;
      read.arrived = true;
      return;
    }
    read.looping = true;
    let value: unknown;
    try {
      for (;;) {
        const chunk = this.#onChunk(bytes);
        const decoder = read.decoder;
        if (decoder === undefined) value = chunk;
        else if (chunk === null) value = decoder.decodeEof(this.buffer);
        else if (read.into !== undefined) {
          value = chunk.length; // the transport read into the caller's buffer
        } else {
          this.buffer.push(chunk);
          value = decoder.decode(this.buffer);
        }
        if (value !== null || chunk === null) break;
        this.#checkReadBuffer();
        read.arrived = false;
        this.#request(read);
        if (!read.arrived) {
          read.looping = false;
          if (this.#inflight === read) this.#readDog?.armOnce();
          return;
        }
        bytes = read.next;
      }
    } catch (error) {
      this.#endRead();
      return read.reject(error);
    }
    this.#endRead();
    read.resolve(read.asResult ? toResult(value) : value);
  }

  /** For {@linkcode EachLoop}: its next chunk, buffered (chunks) or from the transport. */
  [PULL_CHUNK](loop: Loop): void {
    if (this.#owner[CUT]) return loop.error(this.#owner[CUT]);
    const buffered = loop.decoder === undefined ? this.buffer.shift() : undefined;
    if (buffered !== undefined) return loop.chunk(buffered, true);
    if (this.#eof) return loop.chunk(null, true);
    this.#inflight = loop;
    // With an orphan, the transport has its read: its bytes come to this loop (#adopt).
    if (this.#orphan === undefined) {
      if (loop.into !== undefined) this.raw.readInto!(loop.into, loop);
      else this.raw.read(loop);
    }
    // Only a read left waiting has a deadline: a chunk's is its own, a frame's covers its chunks.
    if (this.#inflight !== loop || this.#readDog === undefined) return;
    if (loop.decoder === undefined) this.#readDog.arm();
    else this.#readDog.armOnce();
  }

  /** For {@linkcode EachLoop}: a chunk from the transport, accounted for (buffered for frames). */
  [CHUNK_ARRIVED](bytes: Uint8Array | null, loop: Loop): Uint8Array | null {
    this.#inflight = undefined;
    const chunk = this.#onChunk(bytes);
    if (loop.decoder === undefined) this.#readDog?.disarm();
    else if (chunk !== null) this.buffer.push(chunk);
    return chunk;
  }

  /** For {@linkcode EachLoop}: the next frame in the buffer, or `null`. */
  [DECODE_FRAME]<T>(decoder: Decoder<T>, eof: boolean): T | null {
    const buffer = this.buffer;
    const frame = buffer.length > 0 ? decoder.decode(buffer) : null;
    if (frame !== null) {
      this.#readDog?.disarm();
      return frame;
    }
    if (eof) return decoder.decodeEof(buffer);
    this.#checkReadBuffer();
    return null;
  }

  /** For {@linkcode EachLoop}: holds writes back while it hands over frames, then sends them together. */
  [CORK](on: boolean): void {
    if (on) this.#writes.cork();
    else this.#writes.uncork();
  }

  /** For {@linkcode EachLoop}: the loop is over. */
  [LOOP_ENDED](): void {
    this.#endRead();
  }

  /** For {@linkcode PendingRead} and {@linkcode EachLoop}: the transport's read failed. */
  [ON_READ_ERROR](read: { reject(error: unknown): void }, error: unknown): void {
    if (read === this.#orphan) {
      // The read that waits for the orphan's bytes gets its error instead.
      this.#orphan = undefined;
      const waiting = this.#inflight;
      if (waiting !== undefined) waiting.error(error);
      else this.#owner[FAIL](error);
      return;
    }
    if (this.#inflight === (read as unknown)) this.#inflight = undefined;
    this.#endRead();
    read.reject(this.#owner[FAIL](error));
  }

  /**
   * `forEach()`, `forEachFrame()` and pipes: a loop that reads until the end
   * of the stream; a pipe's `readTarget` says where (see {@linkcode ReadTarget}).
   */
  each<T>(
    decoder: Decoder<T> | undefined,
    fn: (item: T) => unknown,
    readTarget?: ReadTarget,
  ): Promise<void> {
    if (typeof fn !== "function") {
      return Promise.reject(new TypeError("Cannot read: forEach needs a function"));
    }
    const refused = this.#refuseRead();
    if (refused) return refused;
    this.#reading = true;
    return new Promise((resolve, reject) => {
      const loop = new EachLoop(this, decoder, fn, resolve, reject, readTarget);
      this.#loop = loop as EachLoop<unknown>;
      loop.start();
    });
  }

  /** A chunk: from the buffer, else from the transport. */
  #readChunk(asResult: boolean): Promise<never> {
    const chunk = this.#reading ? undefined : this.buffer.shift();
    if (chunk) return Promise.resolve(asResult ? { done: false, value: chunk } : chunk) as never;
    const refused = this.#refuseRead();
    if (refused) return refused;
    if (this.#eof) return Promise.resolve(asResult ? DONE : null) as never;
    return this.#startRead(undefined, asResult);
  }

  /**
   * A frame: decoded from the buffer when it holds one, else read until it
   * does (`into`: `readInto()`'s buffer, for a transport that reads into it).
   */
  #readFrame<T>(decoder: Decoder<T>, asResult: boolean, into?: Uint8Array): Promise<never> {
    if (!this.#reading && (this.buffer.length > 0 || this.#eof)) {
      try {
        let frame = this.buffer.length > 0 ? decoder.decode(this.buffer) : null;
        if (frame === null && this.#eof && !this.#owner[CUT]) {
          frame = decoder.decodeEof(this.buffer);
        }
        if (frame !== null || (this.#eof && !this.#owner[CUT])) {
          return Promise.resolve(asResult ? toResult(frame) : frame) as never;
        }
        this.#checkReadBuffer();
      } catch (error) {
        return Promise.reject(error);
      }
    }
    return this.#refuseRead() ?? this.#startRead(decoder, asResult, into);
  }

  /** Why no read can start now, as a rejected promise; `undefined` when one can. */
  #refuseRead(): Promise<never> | undefined {
    if (this.#owner[CUT]) return Promise.reject(this.#owner[CUT]);
    if (this.#reading) {
      return Promise.reject(
        new TypeError(`Cannot read from ${this.#owner[PEER]}: another read is pending`),
      );
    }
  }

  /** Reads from the transport until a chunk, or a whole frame, is in; under one read timeout. */
  #startRead(
    decoder: Decoder<unknown> | undefined,
    asResult: boolean,
    into?: Uint8Array,
  ): Promise<never> {
    this.#reading = true;
    return new Promise((resolve, reject) => {
      const read = new PendingRead(
        this,
        decoder,
        asResult,
        resolve as (v: unknown) => void,
        reject,
        into,
      );
      this.#request(read);
      // One deadline for the whole read, from when it first waits: one answered at once has none.
      if (this.#inflight === read) this.#readDog?.arm();
    });
  }

  /** Asks the transport for bytes; into `readInto()`'s buffer when set (nothing is buffered then). */
  #request(read: PendingRead): void {
    this.#inflight = read;
    // The transport has the orphan's read: its bytes come to this one (#adopt).
    if (this.#orphan !== undefined) return;
    if (read.into !== undefined) {
      this.raw.readInto!(read.into, read);
    } else this.raw.read(read);
  }

  /**
   * What the transport brought an orphan: kept for the next read, which gets
   * it now if it waits (and asks the transport for more when it needs more).
   */
  #adopt(orphan: PendingRead | Loop, bytes: Uint8Array | null): void {
    this.#orphan = undefined;
    // An orphan that read into a pipe's buffer: its bytes are copied out of it.
    const kept = bytes !== null && orphan.into !== undefined ? bytes.slice() : bytes;
    try {
      this.#onChunk(kept);
    } catch {
      return; // cut meanwhile: the waiting read failed with it already
    }
    if (kept !== null) this.buffer.push(kept);
    const waiting = this.#inflight;
    this.#inflight = undefined;
    if (waiting instanceof PendingRead) this.#resume(waiting);
    else (waiting as Loop | undefined)?.start();
  }

  /** A read that waited for an orphan's bytes: served from the buffer, else from the transport. */
  #resume(read: PendingRead): void {
    const decoder = read.decoder;
    let value: unknown = null;
    try {
      if (decoder === undefined) value = this.buffer.shift() ?? null;
      else {
        if (this.buffer.length > 0) value = decoder.decode(this.buffer);
        if (value === null && this.#eof) value = decoder.decodeEof(this.buffer);
      }
      if (value === null && !this.#eof) {
        this.#checkReadBuffer();
        return this.#request(read);
      }
    } catch (error) {
      this.#endRead();
      return read.reject(error);
    }
    this.#endRead();
    read.resolve(read.asResult ? toResult(value) : value);
  }

  #endRead(): void {
    this.#reading = false;
    this.#loop = undefined;
    this.#readDog?.disarm();
  }

  #checkReadBuffer(): void {
    if (this.buffer.length > this.#maxReadBuffer) {
      throw new FrameTooLargeError(
        `Cannot read frame: ${this.buffer.length} bytes buffered, more than maxReadBuffer ${this.#maxReadBuffer}`,
      );
    }
  }

  /** Accounts for what the transport delivered; throws when the connection failed meanwhile. */
  #onChunk(chunk: Uint8Array | null): Uint8Array | null {
    // A timeout or abort while the read waited wins over what the runtime said.
    if (this.#owner[CUT]) throw this.#owner[CUT];
    if (chunk === null) {
      this.#eof = true;
    } else {
      this.bytesRead += chunk.length;
      this.#idle?.arm();
    }
    return chunk;
  }
}
