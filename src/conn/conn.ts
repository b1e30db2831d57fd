/**
 * `Conn`: one TCP connection with buffered reads, ordered and bounded writes,
 * timeouts and Web Streams views, the same on every runtime.
 *
 * @module
 */
import { formatAddr } from "../_address.ts";
import { Watchdog } from "../_watchdog.ts";
import { type ConnCore, type ConnState, CUT, FAIL, PEER, STATE, UNTIL_END } from "./_core.ts";
import { WriteSide } from "./_write_side.ts";
import {
  ABANDON_READ,
  ConnReadable,
  ConnWritable,
  ON_ABORT,
  PIPE_EACH,
  READS_INTO,
} from "./_streams.ts";
import { ReadIterator, type ReadTarget } from "./_reads.ts";
import { ReadSide } from "./_read_side.ts";
import type { Codec, Decoder } from "../codec/codec.ts";
import { DelimiterCodec } from "../codec/delimiter_codec.ts";
import { LineCodec, type LineCodecOptions } from "../codec/line_codec.ts";
import {
  AbortError,
  ConnectionClosedError,
  TcpError,
  TimeoutError,
  type TimeoutKind,
  toTlsError,
} from "../errors.ts";
import type { DecodeProxyHeaderOptions } from "../proxy/decode.ts";
import { proxiedClient, proxyHeaderDecoder, tlsUpgrade } from "./_upgrade.ts";
import type { ProxyHeader } from "../proxy/header.ts";
import type { Addr, CloseWatcher, RawConn } from "../transport.ts";
import {
  checkConnOptions,
  type ConnOptions,
  type StartTlsOptions,
  type WriteData,
} from "./options.ts";

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
export class Conn implements AsyncIterable<Uint8Array>, AsyncDisposable, ConnCore {
  /** This side's address. */
  readonly localAddr: Addr;

  #raw: RawConn;
  #alpnProtocol: string | null = null;
  #remoteAddr: Addr;
  #proxiedBy: Addr | undefined;
  #state: ConnState = "open";
  /**
   * Once the connection is cut (failed, aborted, closed by this side): the
   * error every read and write gets; when `failed`, the failure. A socket
   * that ended by itself (`closed`, nothing cut) still delivers what it holds.
   */
  #cut: TcpError | undefined;
  /** What `close()` returns, once called. */
  #closing: Promise<void> | undefined;
  #closeTimeout: number;
  /** Transport calls raced against the connection's end ({@linkcode Conn.#untilEnd}). */
  #waiters: Set<() => void> | undefined;
  #reads: ReadSide;
  #writes: WriteSide;
  #closed: Promise<void> | undefined;
  #settle: ((error?: TcpError) => void) | undefined;
  #readable: ReadableStream<Uint8Array> | undefined;
  #writable: WritableStream<Uint8Array> | undefined;
  /** Made on first use: most connections never need one. */
  #controller: AbortController | undefined;
  /** Called when `signal` aborts, in place of listeners on it ({@linkcode onAbort}). */
  #onAbort: (() => void)[] | undefined;
  #idle: Watchdog | undefined;

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
    checkConnOptions(options);
    this.#closeTimeout = options.closeTimeout ?? 30_000;
    this.#idle = this.#watchdog("idle", options.idleTimeout, "no bytes moved either way");
    const writes = this.#writes = new WriteSide(this, raw, {
      highWaterMark: options.writeHighWaterMark ?? 64 * 1024,
      maxWriteBuffer: options.maxWriteBuffer ?? 16 * 1024 * 1024,
      writeDog: this.#watchdog("write", options.writeTimeout, "the peer took no bytes"),
      idle: this.#idle,
    });
    this.#reads = new ReadSide(this, raw, {
      maxReadBuffer: options.maxReadBuffer ?? 16 * 1024 * 1024,
      readDog: this.#watchdog("read", options.readTimeout, "a read waited"),
      idle: this.#idle,
      writes,
    });
    this.#idle?.arm();
    this.#watch(raw);
  }

  /**
   * Settles once the connection is closed: rejects if it failed first. Made on
   * first use: an idle connection that nobody asks about holds no promise.
   * It settles when the socket ends even while nobody reads (a peer's reset).
   */
  get closed(): Promise<void> {
    if (this.#closed) return this.#closed;
    if (this.#state === "failed") this.#closed = Promise.reject(this.#cut);
    else if (this.#state === "closed") this.#closed = Promise.resolve();
    else {
      this.#closed = new Promise<void>((resolve, reject) => {
        this.#settle = (error) => (error ? reject(error) : resolve());
      });
    }
    this.#closed.catch(() => {});
    return this.#closed;
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
      ({ alpnProtocol: this.#alpnProtocol } = await this.#untilEnd(this.#raw.handshake()));
    } catch (error) {
      // A timeout that aborted the handshake is the better reason (#fail keeps the first).
      throw this.#fail(toTlsError(error, `complete TLS with ${this.#peer}`));
    }
  }

  /**
   * Upgrades this plaintext connection to TLS in place (STARTTLS): as the
   * client by default, or as the server with `isServer: true`, `cert` and
   * `key`. Refused with `TlsError` while plaintext that arrived before the
   * upgrade is unread: it would otherwise be taken as sent over TLS (STARTTLS
   * command injection). Pending writes go out first, in plaintext.
   *
   * @example TLS after a PROXY header (what `serve({ tls, proxyProtocol })` does)
   * ```ts ignore
   * await conn.readProxyHeader();
   * await conn.startTls({ isServer: true, cert, key, handOverBuffered: true });
   * ```
   *
   * @param options The client's checks (`caCerts`, `serverName`, `alpn`), or
   *   the server's certificate and key (and `handOverBuffered`).
   * @throws {TlsError} When plaintext is buffered or the handshake fails.
   * @throws {UnsupportedError} When the transport cannot (`caps.startTlsServer`).
   */
  async startTls(options: StartTlsOptions = {}): Promise<void> {
    const reads = this.#reads;
    const upgrade = tlsUpgrade(
      this.#raw,
      options,
      reads.buffer,
      reads.reading,
      this.#peer,
      this.#tlsHostname(),
    );
    if (this.#writes.busy) await this.#untilEnd(this.#writes.idle);
    if (this.#cut) throw this.#cut;
    let upgraded: RawConn;
    try {
      upgraded = await this.#untilEnd(upgrade());
    } catch (error) {
      // The plaintext connection's listeners went to the upgrade: it cannot go on.
      throw this.#fail(toTlsError(error, `start TLS with ${this.#peer}`));
    }
    this.#raw = this.#reads.raw = this.#writes.raw = upgraded;
    this.#watch(upgraded);
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
    const header = await this.readFrame(proxyHeaderDecoder(options));
    const client = proxiedClient(header, this.#peer);
    if (client) {
      this.#proxiedBy = this.#remoteAddr;
      this.#remoteAddr = client;
    }
    return header!;
  }

  /** Aborted when the connection must end (server shutdown, a timeout, `abort()`); its reason says why. */
  get signal(): AbortSignal {
    return (this.#controller ??= new AbortController()).signal;
  }

  /** Bytes received but not yet read. */
  get buffered(): number {
    return this.#reads.buffer.length;
  }

  /** Bytes written but not yet taken by the runtime. */
  get pendingWrite(): number {
    return this.#writes.pending;
  }

  /** Bytes received so far. */
  get bytesRead(): number {
    return this.#reads.bytesRead;
  }

  /** Bytes the runtime has taken for sending so far. */
  get bytesWritten(): number {
    return this.#writes.bytesWritten;
  }

  /**
   * Reads the next chunk of bytes. The bytes are the caller's, but their
   * `ArrayBuffer` may hold other chunks too (small reads share a slab): copy
   * a chunk before transferring its buffer to a worker.
   *
   * @returns The bytes, or `null` once the peer has finished sending.
   * @throws {ConnectionResetError} When the peer reset the connection.
   * @throws {TimeoutError} When a timeout closed the connection.
   */
  read(): Promise<Uint8Array | null> {
    return this.#reads.read();
  }

  /**
   * Reads the next bytes into `buffer`, up to its length: a read/write loop
   * over one buffer allocates nothing per read. On Deno the runtime reads
   * into `buffer` itself; on Bun and Node the bytes it received are copied
   * in, and what does not fit stays buffered for the next read.
   *
   * @example An echo loop that reuses one buffer
   * ```ts
   * import { connect, serve } from "../../mod.ts";
   *
   * await using server = await serve({
   *   port: 0,
   *   handler: async (conn) => {
   *     const buffer = new Uint8Array(64 * 1024);
   *     for (let n; (n = await conn.readInto(buffer)) !== null;) {
   *       await conn.write(buffer.subarray(0, n));
   *       await conn.flush(); // the runtime is done with the bytes: buffer is free
   *     }
   *   },
   * });
   * await using conn = await connect({ port: server.addr.port });
   * await conn.write("hello");
   * await conn.closeWrite();
   * if ((await new Response(conn.readable).text()) !== "hello") throw new Error("no echo");
   * ```
   *
   * @param buffer Where the bytes go (at its start); at least one byte long.
   * @returns How many bytes were read, or `null` once the peer has finished sending.
   * @throws {ConnectionResetError} When the peer reset the connection.
   * @throws {TimeoutError} When a timeout closed the connection.
   */
  readInto(buffer: Uint8Array): Promise<number | null> {
    return this.#reads.readInto(buffer);
  }

  /**
   * Reads exactly `length` bytes.
   *
   * @param length How many bytes.
   * @returns The bytes.
   * @throws {TruncatedFrameError} When the stream ends first.
   * @throws {FrameTooLargeError} When `length` exceeds `maxReadBuffer`.
   */
  readExact(length: number): Promise<Uint8Array> {
    return this.#reads.readExact(length);
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
    return this.#reads.readFrame(decoder);
  }

  /**
   * Calls `fn` with each chunk as it arrives, until the peer has finished
   * sending: the fastest way to answer small messages. On Bun and Node `fn`
   * runs inside the runtime's own data callback, so what it writes goes out
   * before the event loop turns, with no promise per chunk (`for await` pays
   * one). When `fn` returns a promise, the next chunk waits until it settles
   * (backpressure: return `conn.write()`'s). No other read may run meanwhile.
   *
   * @example Echo
   * ```ts ignore
   * await conn.forEach((chunk) => conn.write(chunk));
   * ```
   *
   * @param fn Called with each chunk; the chunk is the caller's.
   * @returns Settles once the peer has finished sending; rejects with what
   *   `fn` threw or rejected with, or as `read()` would.
   */
  forEach(fn: (chunk: Uint8Array) => unknown): Promise<void> {
    return this.#reads.each(undefined, fn);
  }

  /**
   * As {@linkcode Conn.forEach}, with each frame the codec decodes: a
   * request/response protocol answers from inside the runtime's data
   * callback. Frames are bounded as in `frames()`; the stream ending inside
   * a frame is a `TruncatedFrameError`.
   *
   * @example A line protocol
   * ```ts ignore
   * const lines = new LineCodec();
   * await conn.forEachFrame(lines, (line) => conn.writeFrame(lines, `you said: ${line}`));
   * ```
   *
   * @param codec The codec.
   * @param fn Called with each frame.
   * @returns Settles at the end of the stream; rejects as `forEach()` does, or
   *   with the codec's error.
   */
  forEachFrame<T>(codec: Codec<T>, fn: (frame: T) => unknown): Promise<void> {
    return this.#reads.each(codec.createDecoder(), fn);
  }

  /**
   * Iterates over the frames a codec reads from the connection until the end of the stream.
   *
   * @param codec The codec.
   * @returns The frames.
   */
  frames<T>(codec: Codec<T>): AsyncIterableIterator<T, undefined, undefined> {
    // A plain iterator over readFrame(): an async generator costs several promises per frame.
    return new ReadIterator(this.#reads, codec.createDecoder());
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
    return this.#writes.write(data);
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

  /**
   * Settles once the runtime is done with every byte written so far: sent, or
   * copied into its own buffers. After it, the memory of those bytes may be
   * reused (`write()` resolves earlier while few bytes wait).
   *
   * @throws {ConnectionClosedError} (or the error that ended it) When the connection failed.
   */
  flush(): Promise<void> {
    return this.#writes.flush();
  }

  /** Sends FIN once pending writes are out; reading goes on. */
  closeWrite(): Promise<void> {
    return this.#writes.closeWrite();
  }

  /**
   * Closes the connection once pending writes are out, within `closeTimeout`
   * (then it aborts, and rejects with `TimeoutError`). Rejects when the
   * connection is cut meanwhile (`abort()`, a timeout, a reset): what was
   * pending was not all sent. Safe to call twice; resolves at once on a
   * connection already closed.
   *
   * @example A close bounded by closeTimeout, cut at once by abort()
   * ```ts
   * import { connect, serve } from "../../mod.ts";
   *
   * const server = await serve({ port: 0, handler: () => new Promise(() => {}) });
   * const conn = await connect({ port: server.addr.port, closeTimeout: 5000 });
   * // The server never reads: 32 MiB cannot all go out, so close() waits...
   * void conn.write(new Uint8Array(32 * 1024 * 1024)).catch(() => {});
   * const closing = conn.close();
   * conn.abort(); // ...until abort() cuts it.
   * if (await closing.then(() => "sent", () => "cut") !== "cut") throw new Error("not cut");
   * await server.shutdown({ deadlineMs: 0 });
   * ```
   */
  close(): Promise<void> {
    if (this.#closing) return this.#closing;
    if (this.#state !== "open") {
      // The socket ended by itself: what remains is releasing it.
      if (this.#state === "closed" && !this.#cut) this.#cutAt("closed");
      return Promise.resolve();
    }
    this.#state = "closing";
    this.#closing = this.#closeGracefully();
    this.#closing.catch(() => {});
    return this.#closing;
  }

  /**
   * Closes at once, discarding pending writes (with a TCP reset where the
   * runtime allows it), and aborts `signal` with `reason`. When `reason` is a
   * `TcpError`, reads and writes fail with it and `closed` rejects with it.
   * It always cuts, a `close()` under way included.
   *
   * @param reason Why; becomes `signal.reason`.
   */
  abort(reason?: unknown): void {
    // A tcpkit error as the reason is why the connection failed: `closed` rejects with it.
    if (reason instanceof TcpError) this.#fail(reason);
    else if (this.#state === "open" || this.#state === "closing" || !this.#cut) {
      this.#cutAt("closed");
    }
    this.requestEnd(reason ?? new AbortError(`Connection to ${this.#peer} aborted`));
  }

  /**
   * Tells whoever handles this connection that it must end, without closing
   * it: `signal` aborts with `reason`.
   *
   * @param reason Why.
   */
  requestEnd(reason: unknown): void {
    this.#controller ??= new AbortController();
    if (this.#controller.signal.aborted) return;
    this.#controller.abort(reason);
    const waiting = this.#onAbort;
    this.#onAbort = undefined;
    for (const fn of waiting ?? []) fn();
  }

  /** @internal See {@linkcode onAbort}: `undefined` unless `signal` is this connection's own. */
  [ON_ABORT](signal: AbortSignal, fn: () => void): (() => void) | undefined {
    if (signal !== this.#controller?.signal || signal.aborted) return undefined;
    const waiting = this.#onAbort ??= [];
    waiting.push(fn);
    return () => {
      const i = waiting.indexOf(fn);
      if (i >= 0) waiting.splice(i, 1);
    };
  }

  /** The bytes the peer sends, as a Web Stream (pulled only while read). */
  get readable(): ReadableStream<Uint8Array> {
    return this.#readable ??= new ConnReadable(this);
  }

  /** A Web Stream that writes to the connection; closing it sends FIN. */
  get writable(): WritableStream<Uint8Array> {
    return this.#writable ??= new ConnWritable(this);
  }

  /** Turns Nagle's algorithm off (`true`, the default) or on. @param on */
  setNoDelay(on = true): void {
    this.#raw.setNoDelay(on);
  }

  /**
   * Turns TCP keep-alive on or off.
   *
   * @param on
   * @param delayMs Idle time before the first probe (the system's when not given).
   * @throws {UnsupportedError} For a delay the transport cannot set (`caps.keepAliveDelay`).
   */
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
  [Symbol.asyncIterator](): AsyncIterableIterator<Uint8Array, undefined, undefined> {
    return new ReadIterator<Uint8Array>(this.#reads);
  }

  /** For pipes: see {@linkcode ReadSide.abandon}. @internal */
  [ABANDON_READ](): void {
    this.#reads.abandon();
  }

  /** For pipes: `forEach()`, reading where `readTarget` says. @internal */
  [PIPE_EACH](fn: (chunk: Uint8Array) => unknown, readTarget: ReadTarget): Promise<void> {
    return this.#reads.each(undefined, fn, readTarget);
  }

  /** For pipes: whether the runtime reads into memory it is given (Deno). @internal */
  get [READS_INTO](): boolean {
    return this.#raw.readInto !== undefined;
  }

  /** For its sides: where the connection is in its life. @internal */
  get [STATE](): ConnState {
    return this.#state;
  }

  /** For its sides: why the connection was cut, once it was. @internal */
  get [CUT](): TcpError | undefined {
    return this.#cut;
  }

  /** For its sides: a transport's error as the connection's failure. @internal */
  [FAIL](error: unknown): TcpError {
    return this.#fail(error);
  }

  /** For its sides: the peer, as error messages name it. @internal */
  get [PEER](): string {
    return this.#peer;
  }

  /** For its sides: {@linkcode Conn.#untilEnd}. @internal */
  [UNTIL_END]<T>(promise: Promise<T> | undefined): Promise<T> {
    return this.#untilEnd(promise);
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
    }, (timer) => this.#raw.unrefTimer(timer));
  }

  /** A transport's error as the connection's failure: it ends `failed` unless it ended already. */
  #fail(error: unknown): TcpError {
    // Ended, or being cut (a transport may report inside the abort that cuts it): the first reason stands.
    if (this.#cut) return this.#cut;
    const failure = error instanceof TcpError
      ? error
      : new ConnectionClosedError(`Cannot use ${this.#peer}: ${error}`, { cause: error });
    // Closed by the socket's own clean end: nothing is left to cut.
    if (this.#state !== "closed") this.#cutAt("failed", failure);
    return failure;
  }

  /** Cuts the socket (abort: nothing more is sent) and ends the connection. */
  #cutAt(state: "closed" | "failed", failure?: TcpError): void {
    this.#cut = failure ?? new ConnectionClosedError(`Connection to ${this.#peer} is closed`);
    this.#raw.abort();
    this.#end(state);
  }

  /**
   * The one way to the end: timers stop, pending writes fail, a waiting read
   * is rejected at once (when cut), transport calls raced against the end
   * give up, and `closed` settles.
   */
  #end(state: "closed" | "failed"): void {
    const first = this.#state === "open" || this.#state === "closing";
    this.#state = state;
    const cut = this.#cut;
    if (first) {
      this.#idle?.stop();
    }
    this.#writes.end(cut);
    this.#reads.end(cut);
    if (this.#waiters) { for (const wake of this.#waiters) wake(); }
    this.#waiters = undefined;
    if (first) this.#settle?.(state === "failed" ? cut : undefined);
  }

  /** Closes gracefully (what `close()` returns): pending writes, then the socket, within closeTimeout. */
  async #closeGracefully(): Promise<void> {
    const ms = this.#closeTimeout;
    const timer = ms > 0
      ? setTimeout(() => {
        const unsent = this.#writes.pending;
        this.abort(
          new TimeoutError(
            `Cannot close ${this.#peer} in time: ${unsent} bytes still unsent after ${ms} ms (closeTimeout)`,
            { timeout: "close" },
          ),
        );
      }, ms)
      : undefined;
    if (timer !== undefined) this.#raw.unrefTimer(timer);
    try {
      if (this.#writes.busy) await this.#untilEnd(this.#writes.idle);
      if (this.#state === "closing") await this.#untilEnd(this.#raw.close());
    } catch (error) {
      this.#fail(error);
    } finally {
      clearTimeout(timer);
    }
    if (this.#state !== "closing") throw this.#cut;
    this.#cut = new ConnectionClosedError(`Connection to ${this.#peer} is closed`);
    this.#end("closed");
  }

  /**
   * Settles as `promise` does, or rejects once the connection is cut first:
   * a transport call that may wait on the network never outlives the
   * connection (a destroyed socket may never answer).
   */
  #untilEnd<T>(promise: Promise<T> | undefined): Promise<T> {
    if (promise === undefined) return Promise.resolve(undefined as T);
    const over = () =>
      this.#cut ?? new ConnectionClosedError(`Connection to ${this.#peer} is closed`);
    if (this.#state === "closed" || this.#state === "failed") {
      promise.catch(() => {});
      return Promise.reject(over());
    }
    return new Promise<T>((resolve, reject) => {
      const wake = () => reject(over());
      (this.#waiters ??= new Set()).add(wake);
      promise.then(resolve, reject).finally(() => this.#waiters?.delete(wake));
    });
  }

  /** Asks `raw` to say when its socket is gone; once replaced (TLS), it speaks no more. */
  #watch(raw: RawConn): void {
    const watcher: CloseWatcher = {
      socketClosed: (error) => {
        if (this.#raw !== raw) return;
        if (error) this.#fail(error);
        // Ended by itself while open: reads still get what the transport holds.
        else if (this.#state === "open") this.#end("closed");
      },
    };
    raw.watch(watcher);
  }
}
