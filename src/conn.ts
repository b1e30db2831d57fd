/**
 * `Conn`: one TCP connection with buffered reads, ordered writes and Web
 * Streams views, the same on every runtime.
 *
 * @module
 */
import { formatAddr } from "./_address.ts";
import { ByteBuffer } from "./codec/byte_buffer.ts";
import type { Codec, Decoder } from "./codec/codec.ts";
import { DelimiterCodec } from "./codec/delimiter_codec.ts";
import { LineCodec, type LineCodecOptions } from "./codec/line_codec.ts";
import { AbortError, ConnectionClosedError, TcpError, TruncatedFrameError } from "./errors.ts";
import type { NetAddr, RawConn } from "./transport.ts";

const encoder = new TextEncoder();

/** Bytes, or text that is sent as UTF-8. */
export type WriteData = Uint8Array | string;

/**
 * One TCP connection. Reads are buffered (bytes read past a frame stay for
 * the next call), writes are sent in the order they are made, and every
 * failure is a {@linkcode TcpError}.
 *
 * @example Echo every chunk back
 * ```ts ignore
 * for await (const chunk of conn) await conn.write(chunk);
 * ```
 */
export class Conn implements AsyncIterable<Uint8Array>, AsyncDisposable {
  /** This side's address. */
  readonly localAddr: NetAddr;
  /** The peer's address. */
  readonly remoteAddr: NetAddr;
  /** Settles once the connection is closed: rejects if it failed first. */
  readonly closed: Promise<void>;

  #raw: RawConn;
  #buffer = new ByteBuffer();
  #eof = false;
  #reading = false;
  #writes = 0;
  #lastWrite: Promise<void> = Promise.resolve();
  #writeClosed = false;
  #done = false;
  #failure: TcpError | undefined;
  #settle!: (error?: TcpError) => void;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  #controller = new AbortController();

  /**
   * Wraps a transport's connection. Users get `Conn`s from `serve()` and `connect()`.
   *
   * @param raw The transport's connection.
   */
  constructor(raw: RawConn) {
    this.#raw = raw;
    this.localAddr = raw.localAddr;
    this.remoteAddr = raw.remoteAddr;
    this.closed = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
    this.closed.catch(() => {});
  }

  /** Aborted when the connection must end, such as at server shutdown; its reason says why. */
  get signal(): AbortSignal {
    return this.#controller.signal;
  }

  /** Bytes received but not yet read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /**
   * Reads the next chunk of bytes.
   *
   * @returns The bytes, or `null` once the peer has finished sending.
   * @throws {ConnectionResetError} When the peer reset the connection.
   */
  async read(): Promise<Uint8Array | null> {
    const chunk = this.#buffer.shift();
    if (chunk) return chunk;
    return await this.#pull();
  }

  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many bytes.
   * @returns The bytes.
   * @throws {TruncatedFrameError} When the stream ends first.
   */
  async readExact(length: number): Promise<Uint8Array> {
    if (!Number.isInteger(length) || length < 0) {
      throw new RangeError(
        `Cannot read exactly ${length} bytes: length must be a non-negative integer`,
      );
    }
    while (this.#buffer.length < length) {
      const chunk = await this.#pull();
      if (chunk === null) {
        throw new TruncatedFrameError(
          `Cannot read ${length} bytes: stream ended after ${this.#buffer.length} bytes`,
        );
      }
      this.#buffer.push(chunk);
    }
    return this.#buffer.take(length);
  }

  /**
   * Reads up to a delimiter, which is consumed and left out.
   *
   * @param delimiter The delimiter (text is UTF-8).
   * @param options `maxLength`: the most bytes before the delimiter (default 64 KiB).
   * @returns The bytes before the delimiter, or `null` at the end of the stream.
   * @throws {FrameTooLargeError} When `maxLength` bytes pass with no delimiter.
   * @throws {TruncatedFrameError} When the stream ends after some bytes but no delimiter.
   */
  readUntil(
    delimiter: string | Uint8Array,
    options: { maxLength?: number } = {},
  ): Promise<Uint8Array | null> {
    return this.readFrame(
      new DelimiterCodec({ delimiters: delimiter, ...options }).createDecoder(),
    );
  }

  /**
   * Reads one line of text (`\n` or `\r\n`, left out).
   *
   * @param options As {@linkcode LineCodec}'s: `maxLength` (64 KiB), `encoding` (UTF-8),
   *   `allowUnterminatedLast` (false) ...
   * @returns The line, or `null` at the end of the stream.
   * @throws {FrameTooLargeError} When the line is longer than `maxLength`.
   * @throws {TruncatedFrameError} When the stream ends inside a line.
   */
  readLine(options: LineCodecOptions = {}): Promise<string | null> {
    return this.readFrame(new LineCodec(options).createDecoder());
  }

  /**
   * Reads one frame with a decoder; bytes past the frame stay buffered.
   *
   * @param decoder A decoder from a codec's `createDecoder()`.
   * @returns The frame, or `null` at the end of the stream.
   */
  async readFrame<T>(decoder: Decoder<T>): Promise<T | null> {
    for (;;) {
      const frame = decoder.decode(this.#buffer);
      if (frame !== null) return frame;
      const chunk = await this.#pull();
      if (chunk === null) return decoder.decodeEof(this.#buffer);
      this.#buffer.push(chunk);
    }
  }

  /**
   * Iterates over the frames a codec reads from the connection until the end of the stream.
   *
   * @param codec The codec.
   * @returns The frames.
   */
  async *frames<T>(codec: Codec<T>): AsyncGenerator<T, void, undefined> {
    const decoder = codec.createDecoder();
    for (;;) {
      const frame = await this.readFrame(decoder);
      if (frame === null) return;
      yield frame;
    }
  }

  /**
   * Writes bytes, or text as UTF-8. Writes go out in the order they are made;
   * the promise resolves once the runtime has taken every byte. Bytes passed
   * in must not change afterwards.
   *
   * @param data The bytes or text.
   * @throws {ConnectionClosedError} After `closeWrite()` or `close()`.
   */
  write(data: WriteData): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#writeClosed || this.#done) {
      return Promise.reject(
        this.#failure ??
          new ConnectionClosedError(`Cannot write to ${this.#peer}: writing is closed`),
      );
    }
    const write = this.#writes++ === 0
      ? this.#raw.write(bytes)
      : this.#lastWrite.then(() => this.#raw.write(bytes));
    const done = write.then(
      () => void this.#writes--,
      (error) => {
        this.#writes--;
        throw this.#fail(error);
      },
    );
    this.#lastWrite = done.catch(() => {});
    return done;
  }

  /**
   * Writes one frame with a codec.
   *
   * @param codec The codec.
   * @param frame The frame.
   */
  writeFrame<T>(codec: Codec<T>, frame: T): Promise<void> {
    return this.write(codec.encode(frame));
  }

  /** Sends FIN once pending writes are out; reading goes on. */
  async closeWrite(): Promise<void> {
    if (this.#writeClosed || this.#done) return;
    this.#writeClosed = true;
    await this.#lastWrite;
    try {
      await this.#raw.closeWrite();
    } catch (error) {
      throw this.#fail(error);
    }
  }

  /** Closes the connection once pending writes are out. Safe to call twice. */
  async close(): Promise<void> {
    if (this.#done) return;
    this.#done = true;
    await this.#lastWrite;
    await this.#raw.close();
    this.#finish();
  }

  /**
   * Closes at once, discarding pending writes (with a TCP reset where the
   * runtime allows it), and aborts `signal` with `reason`.
   *
   * @param reason Why; becomes `signal.reason`.
   */
  abort(reason?: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason ?? this.#abortReason());
    if (this.#done) return;
    this.#done = true;
    this.#raw.abort();
    this.#finish();
  }

  /**
   * Tells whoever handles this connection that it must end, without closing
   * it: `signal` aborts with `reason`.
   *
   * @param reason Why.
   */
  requestEnd(reason: unknown): void {
    if (!this.#controller.signal.aborted) this.#controller.abort(reason);
  }

  /** The bytes the peer sends, as a Web Stream (pulled only while read). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ReadableStream<Uint8Array>({
      pull: async (controller) => {
        const chunk = await this.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      cancel: () => this.#raw.abort(),
    }, { highWaterMark: 0 });
  }

  /** A Web Stream that writes to the connection; closing it sends FIN. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new WritableStream<Uint8Array>({
      write: (chunk) => this.write(chunk),
      close: () => this.closeWrite(),
      abort: (reason) => this.abort(reason),
    });
  }

  /** Turns Nagle's algorithm off (`true`, the default) or on. @param on */
  setNoDelay(on = true): void {
    this.#raw.setNoDelay(on);
  }

  /** Turns TCP keep-alive on or off. @param on @param delayMs Idle time before the first probe. */
  setKeepAlive(on = true, delayMs?: number): void {
    this.#raw.setKeepAlive(on, delayMs);
  }

  /** Lets this connection keep the process alive (the default). */
  ref(): void {
    this.#raw.ref();
  }

  /** Lets the process exit while this connection is open. */
  unref(): void {
    this.#raw.unref();
  }

  /** Iterates over the chunks the peer sends until it finishes. */
  async *[Symbol.asyncIterator](): AsyncGenerator<Uint8Array, void, undefined> {
    for (let chunk = await this.read(); chunk !== null; chunk = await this.read()) yield chunk;
  }

  /** Closes the connection (`await using conn = await connect(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  get #peer(): string {
    return formatAddr(this.remoteAddr);
  }

  async #pull(): Promise<Uint8Array | null> {
    if (this.#eof) return null;
    if (this.#failure) throw this.#failure;
    if (this.#reading) {
      throw new TypeError(`Cannot read from ${this.#peer}: another read is pending`);
    }
    this.#reading = true;
    try {
      const chunk = await this.#raw.read();
      if (chunk === null) this.#eof = true;
      return chunk;
    } catch (error) {
      throw this.#fail(error);
    } finally {
      this.#reading = false;
    }
  }

  #fail(error: unknown): TcpError {
    const failure = error instanceof TcpError
      ? error
      : new ConnectionClosedError(`Cannot use ${this.#peer}: ${error}`, { cause: error });
    if (!this.#failure && !this.#done) {
      this.#failure = failure;
      this.#settle(failure);
    }
    return failure;
  }

  #finish(): void {
    this.#settle();
  }

  #abortReason(): AbortError {
    return new AbortError(`Connection to ${this.#peer} aborted`);
  }
}
