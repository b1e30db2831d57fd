/**
 * `Conn`: one TCP connection with buffered reads, ordered and bounded writes,
 * timeouts and Web Streams views, the same on every runtime.
 *
 * @module
 */
import { formatAddr } from "./_address.ts";
import { Watchdog } from "./_watchdog.ts";
import { WriteQueue } from "./_write_queue.ts";
import { ByteBuffer } from "./codec/byte_buffer.ts";
import type { Codec, Decoder } from "./codec/codec.ts";
import { DelimiterCodec } from "./codec/delimiter_codec.ts";
import { LineCodec, type LineCodecOptions } from "./codec/line_codec.ts";
import {
  AbortError,
  BufferFullError,
  ConnectionClosedError,
  FrameTooLargeError,
  TcpError,
  TimeoutError,
  type TimeoutKind,
  TlsError,
  TruncatedFrameError,
  UnsupportedError,
} from "./errors.ts";
import { decodeProxyHeader, type DecodeProxyHeaderOptions } from "./proxy/decode.ts";
import type { ProxyHeader } from "./proxy/header.ts";
import type { Addr, RawConn, TlsClientOptions, TlsServerOptions } from "./transport.ts";

const encoder = new TextEncoder();

/** Options of {@linkcode Conn.startTls}: the client's checks, or the server's certificate. */
export type StartTlsOptions =
  | (TlsClientOptions & { isServer?: false })
  | (TlsServerOptions & { isServer: true });

/** Bytes, or text that is sent as UTF-8. */
export type WriteData = Uint8Array | string;

/** Limits and timeouts of one connection. Timeouts are in milliseconds; unset means none. */
export interface ConnOptions {
  /** Closes the connection when no byte moves either way for this long. */
  idleTimeout?: number;
  /** Closes the connection when one read call (a chunk, a line, a frame) waits this long. */
  readTimeout?: number;
  /** Closes the connection when the runtime takes none of a pending write's bytes for this long. */
  writeTimeout?: number;
  /**
   * `write()` resolves at once while no more than this many bytes wait to be
   * sent; past it, once its own bytes are sent.
   * @default {65536}
   */
  writeHighWaterMark?: number;
  /**
   * The most bytes that may wait to be sent; a write past it fails with `BufferFullError`.
   * @default {16777216}
   */
  maxWriteBuffer?: number;
  /**
   * The most bytes `readExact()` and `readFrame()` may buffer; past it, `FrameTooLargeError`.
   * @default {16777216}
   */
  maxReadBuffer?: number;
}

/**
 * One TCP connection. Reads are buffered (bytes read past a frame stay for
 * the next call), writes go out in the order they are made with bounded
 * queueing, and every failure is a {@linkcode TcpError}.
 *
 * @example Echo every chunk back
 * ```ts ignore
 * for await (const chunk of conn) await conn.write(chunk);
 * ```
 */
export class Conn implements AsyncIterable<Uint8Array>, AsyncDisposable {
  /** This side's address. */
  readonly localAddr: Addr;
  /** Settles once the connection is closed: rejects if it failed first. */
  readonly closed: Promise<void>;

  #raw: RawConn;
  #alpnProtocol: string | null = null;
  #remoteAddr: Addr;
  #proxiedBy: Addr | undefined;
  #buffer = new ByteBuffer();
  #eof = false;
  #reading = false;
  #inFrame = false;
  #writes: WriteQueue;
  #writeClosed = false;
  #done = false;
  #failure: TcpError | undefined;
  #settle!: (error?: TcpError) => void;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  /** Made on first use: most connections never need one. */
  #controller: AbortController | undefined;
  #bytesRead = 0;
  #bytesWritten = 0;
  #maxWriteBuffer: number;
  #maxReadBuffer: number;
  #idle: Watchdog | undefined;
  #readDog: Watchdog | undefined;
  #writeDog: Watchdog | undefined;

  /**
   * Wraps a transport's connection. Users get `Conn`s from `serve()` and `connect()`.
   *
   * @param raw The transport's connection.
   * @param options Limits and timeouts.
   */
  constructor(raw: RawConn, options: ConnOptions = {}) {
    this.#raw = raw;
    this.localAddr = raw.localAddr;
    this.#remoteAddr = raw.remoteAddr;
    this.closed = new Promise<void>((resolve, reject) => {
      this.#settle = (error) => (error ? reject(error) : resolve());
    });
    this.closed.catch(() => {});
    checkConnOptions(options);
    this.#maxWriteBuffer = options.maxWriteBuffer ?? 16 * 1024 * 1024;
    this.#maxReadBuffer = options.maxReadBuffer ?? 16 * 1024 * 1024;
    this.#idle = this.#watchdog("idle", options.idleTimeout, "no bytes moved either way");
    this.#readDog = this.#watchdog("read", options.readTimeout, "a read waited");
    this.#writeDog = this.#watchdog("write", options.writeTimeout, "the peer took no bytes");
    this.#writes = new WriteQueue({
      send: (bytes) => this.#raw.write(bytes),
      onSent: (length) => {
        this.#bytesWritten += length;
        this.#idle?.arm();
      },
      onError: (error) => this.#fail(error),
      highWaterMark: options.writeHighWaterMark ?? 64 * 1024,
      // With a write timeout, large writes go out in slices so that progress is seen.
      sliceSize: options.writeTimeout ? 256 * 1024 : Infinity,
      watchdog: this.#writeDog,
    });
    this.#idle?.arm();
  }

  /** The ALPN protocol agreed on in the TLS handshake, or `null`. */
  get alpnProtocol(): string | null {
    return this.#alpnProtocol;
  }

  /** Whether the connection is TLS. */
  get secure(): boolean {
    return this.#raw.handshake !== undefined;
  }

  /**
   * Completes the TLS handshake (`serve()` does it before the handler runs;
   * `connect()` before it resolves). Does nothing on a plain connection.
   *
   * @throws {TlsError} When the handshake fails; the connection is then closed.
   */
  async handshake(): Promise<void> {
    if (!this.#raw.handshake) return;
    try {
      ({ alpnProtocol: this.#alpnProtocol } = await this.#raw.handshake());
    } catch (error) {
      // A timeout that aborted the handshake is the better reason.
      const failure = this.#failure ?? this.#fail(error);
      this.abort(failure);
      throw failure;
    }
  }

  /**
   * Upgrades this plaintext connection to TLS in place (STARTTLS): as the
   * client by default, or as the server with `isServer: true`, `cert` and
   * `key`. Refused with `TlsError` while plaintext that arrived before the
   * upgrade is unread: it would otherwise be taken as sent over TLS (STARTTLS
   * command injection). Pending writes go out first, in plaintext.
   *
   * @param options The client's checks (`caCerts`, `serverName`, `alpn`), or
   *   the server's certificate and key.
   * @throws {TlsError} When plaintext is buffered or the handshake fails.
   * @throws {UnsupportedError} When the transport cannot (`caps.startTlsServer`).
   */
  async startTls(options: StartTlsOptions = {}): Promise<void> {
    if (this.#buffer.length > 0) {
      throw new TlsError(
        `Cannot start TLS with ${this.#peer}: ${this.#buffer.length} bytes of plaintext arrived before the ` +
          `upgrade and are unread (refused: they would be taken as sent over TLS)`,
      );
    }
    if (this.#reading) {
      throw new TypeError(`Cannot start TLS with ${this.#peer}: a read is pending`);
    }
    await this.#writes.idle;
    const raw = this.#raw;
    const upgrade = options.isServer
      ? raw.startTlsServer?.bind(raw, options)
      : raw.startTls?.bind(raw, {
        ...options,
        hostname: options.serverName ?? this.#tlsHostname(),
      });
    if (!upgrade) {
      throw new UnsupportedError(
        `Cannot start TLS as the ${options.isServer ? "server" : "client"} with ${this.#peer}: ` +
          `this runtime's transport cannot (see caps.startTls${
            options.isServer ? "Server" : "Client"
          })`,
      );
    }
    this.#raw = await upgrade();
    await this.handshake();
  }

  /** The peer's address: the real client's when a PROXY header named it. */
  get remoteAddr(): Addr {
    return this.#remoteAddr;
  }

  /** The load balancer's address when a PROXY header named the client, else `undefined`. */
  get proxiedBy(): Addr | undefined {
    return this.#proxiedBy;
  }

  /**
   * Reads a PROXY protocol header (v1 or v2) from the start of the
   * connection; with a `PROXY` command naming a TCP client, `remoteAddr`
   * becomes that client and `proxiedBy` the balancer. Bytes after the header
   * stay buffered. Call it only for peers you trust to send one.
   *
   * @param options `maxV2Length`: the largest v2 header accepted (default 4096).
   * @returns The header.
   * @throws {ProxyProtocolError} When the bytes are not a valid header.
   */
  async readProxyHeader(options: DecodeProxyHeaderOptions = {}): Promise<ProxyHeader> {
    const header = await this.readFrame({
      decode: (buffer) => decodeProxyHeader(buffer, options),
      decodeEof: (buffer) => decodeProxyHeader(buffer, { ...options, eof: true }),
    });
    if (header === null) {
      throw new ConnectionClosedError(
        `Cannot read PROXY header from ${this.#peer}: the connection closed first`,
      );
    }
    if (header.command === "PROXY" && (header.family === "TCP4" || header.family === "TCP6")) {
      this.#proxiedBy = this.#remoteAddr;
      this.#remoteAddr = {
        transport: "tcp",
        hostname: header.source.hostname,
        port: header.source.port,
      };
    }
    return header;
  }

  /** Aborted when the connection must end (server shutdown, a timeout, `abort()`); its reason says why. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Bytes received but not yet read. */
  get buffered(): number {
    return this.#buffer.length;
  }

  /** Bytes written but not yet taken by the runtime. */
  get pendingWrite(): number {
    return this.#writes.pending;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#bytesRead;
  }

  /** Bytes the runtime has taken for sending so far. */
  get bytesWritten(): number {
    return this.#bytesWritten;
  }

  /**
   * Reads the next chunk of bytes.
   *
   * @returns The bytes, or `null` once the peer has finished sending.
   * @throws {ConnectionResetError} When the peer reset the connection.
   * @throws {TimeoutError} When a timeout closed the connection.
   */
  read(): Promise<Uint8Array | null> {
    const chunk = this.#buffer.shift();
    if (chunk) return Promise.resolve(chunk);
    const dog = this.#readDog;
    if (!dog) return this.#pull();
    dog.arm();
    return this.#pull().finally(() => dog.disarm());
  }

  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many bytes.
   * @returns The bytes.
   * @throws {TruncatedFrameError} When the stream ends first.
   * @throws {FrameTooLargeError} When `length` exceeds `maxReadBuffer`.
   */
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
    return await this.#readWhole(async () => {
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
    });
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
  readFrame<T>(decoder: Decoder<T>): Promise<T | null> {
    return this.#readWhole(async () => {
      for (;;) {
        const frame = decoder.decode(this.#buffer);
        if (frame !== null) return frame;
        if (this.#buffer.length > this.#maxReadBuffer) {
          throw new FrameTooLargeError(
            `Cannot read frame: ${this.#buffer.length} bytes buffered, more than maxReadBuffer ${this.#maxReadBuffer}`,
          );
        }
        const chunk = await this.#pull();
        if (chunk === null) return decoder.decodeEof(this.#buffer);
        this.#buffer.push(chunk);
      }
    });
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
   * Writes bytes, or text as UTF-8. Writes go out in the order they are made.
   * The promise resolves at once while few bytes wait (`writeHighWaterMark`),
   * else once these bytes are taken by the runtime. Bytes passed in must not
   * change afterwards.
   *
   * @param data The bytes or text.
   * @throws {BufferFullError} When the bytes waiting would pass `maxWriteBuffer`.
   * @throws {ConnectionClosedError} After `closeWrite()` or `close()`.
   */
  write(data: WriteData): Promise<void> {
    const bytes = typeof data === "string" ? encoder.encode(data) : data;
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#writeClosed || this.#done) {
      return Promise.reject(
        new ConnectionClosedError(`Cannot write to ${this.#peer}: writing is closed`),
      );
    }
    const waiting = this.#writes.pending;
    if (waiting + bytes.length > this.#maxWriteBuffer) {
      return Promise.reject(
        new BufferFullError(
          `Cannot write ${bytes.length} bytes to ${this.#peer}: ${waiting} bytes already wait, ` +
            `maxWriteBuffer is ${this.#maxWriteBuffer}`,
        ),
      );
    }
    return bytes.length === 0 ? Promise.resolve() : this.#writes.push(bytes);
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
    await this.#writes.idle;
    if (this.#failure) throw this.#failure;
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
    await this.#writes.idle;
    await this.#raw.close();
    this.#finish();
  }

  /**
   * Closes at once, discarding pending writes (with a TCP reset where the
   * runtime allows it), and aborts `signal` with `reason`. When `reason` is a
   * `TcpError`, reads and writes fail with it and `closed` rejects with it.
   *
   * @param reason Why; becomes `signal.reason`.
   */
  abort(reason?: unknown): void {
    // A tcpkit error as the reason is why the connection failed: `closed` rejects with it.
    if (reason instanceof TcpError) this.#fail(reason);
    this.requestEnd(reason ?? new AbortError(`Connection to ${this.#peer} aborted`));
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
    this.#controller ??= new AbortController();
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
      cancel: (reason) => this.abort(reason),
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

  /**
   * Iterates over the chunks the peer sends until it finishes. A plain
   * iterator, not an async generator: it is what an idle echo handler holds.
   */
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array> {
    const step = (chunk: Uint8Array | null): IteratorResult<Uint8Array> =>
      chunk === null ? { done: true, value: undefined } : { done: false, value: chunk };
    const iterator: AsyncIterableIterator<Uint8Array> = {
      next: () => this.read().then(step),
      [Symbol.asyncIterator]: () => iterator,
    };
    return iterator;
  }

  /** Closes the connection (`await using conn = await connect(...)`). */
  [Symbol.asyncDispose](): Promise<void> {
    return this.close();
  }

  #tlsHostname(): string {
    return this.#remoteAddr.transport === "tcp" ? this.#remoteAddr.hostname : "localhost";
  }

  get #peer(): string {
    return formatAddr(this.remoteAddr);
  }

  /** Runs a whole-frame read under one read timeout. */
  async #readWhole<T>(read: () => Promise<T>): Promise<T> {
    if (this.#inFrame) return await read();
    this.#inFrame = true;
    this.#readDog?.arm();
    try {
      return await read();
    } finally {
      this.#inFrame = false;
      this.#readDog?.disarm();
    }
  }

  /**
   * The next chunk from the transport. Plain promise chaining, not an async
   * function: an idle connection holds this pending read, so it is kept small.
   */
  #pull(): Promise<Uint8Array | null> {
    if (this.#failure) return Promise.reject(this.#failure);
    if (this.#eof) return Promise.resolve(null);
    if (this.#reading) {
      return Promise.reject(
        new TypeError(`Cannot read from ${this.#peer}: another read is pending`),
      );
    }
    this.#reading = true;
    return this.#raw.read().then(this.#onChunk, this.#onReadError);
  }

  #onChunk = (chunk: Uint8Array | null): Uint8Array | null => {
    this.#reading = false;
    // A timeout or abort while the read waited wins over what the runtime said.
    if (this.#failure) throw this.#failure;
    if (chunk === null) {
      if (this.#done) {
        throw new ConnectionClosedError(`Cannot read from ${this.#peer}: the connection is closed`);
      }
      this.#eof = true;
    } else {
      this.#bytesRead += chunk.length;
      this.#idle?.arm();
    }
    return chunk;
  };

  #onReadError = (error: unknown): never => {
    this.#reading = false;
    throw this.#fail(error);
  };

  #watchdog(kind: TimeoutKind, ms: number | undefined, what: string): Watchdog | undefined {
    if (!ms) return undefined;
    return new Watchdog(ms, () => {
      const error = new TimeoutError(
        `Connection to ${this.#peer} timed out: ${what} for ${ms} ms (${kind}Timeout)`,
        {
          timeout: kind,
        },
      );
      this.abort(error);
    });
  }

  #fail(error: unknown): TcpError {
    if (this.#failure) return this.#failure;
    const failure = error instanceof TcpError
      ? error
      : new ConnectionClosedError(`Cannot use ${this.#peer}: ${error}`, { cause: error });
    this.#failure = failure;
    this.#settle(failure);
    return failure;
  }

  #finish(): void {
    this.#idle?.stop();
    this.#readDog?.stop();
    this.#writeDog?.stop();
    this.#writes.clear(
      this.#failure ??
        new ConnectionClosedError(`Cannot write to ${this.#peer}: the connection is closed`),
    );
    this.#settle();
  }
}

/**
 * Checks the limits and timeouts of {@linkcode ConnOptions}.
 *
 * @param options The options.
 * @throws {RangeError} When one is not a non-negative number.
 */
export function checkConnOptions(options: ConnOptions): void {
  for (
    const name of [
      "idleTimeout",
      "readTimeout",
      "writeTimeout",
      "writeHighWaterMark",
      "maxWriteBuffer",
      "maxReadBuffer",
    ] as const
  ) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
      throw new RangeError(
        `Cannot use ${name}: it must be a non-negative number (got ${JSON.stringify(value)})`,
      );
    }
  }
}
