/**
 * The Deno transport, on `Deno.listen` and `Deno.connect`. It uses the
 * connection's `read()`, `write()` and `closeWrite()` only: Deno's own
 * streams close the whole connection at EOF, which would break half-close.
 *
 * @example Pin the Deno transport
 * ```ts ignore
 * import { serve } from "@tcpkit/tcpkit/deno";
 * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
 * ```
 *
 * @module
 */
import { ConnectionClosedError, toTcpError, toTlsError, UnsupportedError } from "../errors.ts";
import { describeTarget } from "../_address.ts";
import { allocate, POOL_MAX } from "./_pool.ts";
import { type Probed, Sweep } from "./_sweep.ts";
import type {
  Addr,
  CloseWatcher,
  RawConn,
  RawListener,
  ReadHandler,
  Support,
  TlsClientOptions,
  Transport,
  WriteHandler,
} from "../transport.ts";
import { bindTransport, type BoundApi } from "../bind.ts";

type DenoAddr = { transport: "tcp"; hostname: string; port: number } | {
  transport: "unix";
  path: string | null;
};
interface DenoConn {
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  /** TCP only (not TLS). */
  setNoDelay?(on?: boolean): void;
  /** TCP only (not TLS). */
  setKeepAlive?(on?: boolean): void;
  ref(): void;
  unref(): void;
  /** TLS connections only. */
  handshake?(): Promise<{ alpnProtocol: string | null }>;
}
interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
  ref(): void;
  unref(): void;
}
interface DenoApi {
  build: { os: string };
  connect(
    options: { hostname: string; port: number; signal?: AbortSignal } | {
      transport: "unix";
      path: string;
    },
  ): Promise<DenoConn>;
  listen(
    options: { hostname: string; port: number; reusePort?: boolean } | {
      transport: "unix";
      path: string;
    },
  ): DenoListener;
  remove(path: string): Promise<void>;
  unrefTimer(id: number): void;
  listenTls(
    options: {
      hostname: string;
      port: number;
      cert: string;
      key: string;
      alpnProtocols?: string[];
    },
  ): DenoListener;
  startTls(
    conn: DenoConn,
    options: { hostname: string; caCerts?: string[]; alpnProtocols?: string[] },
  ): Promise<DenoConn>;
}

function deno(): DenoApi {
  const api = (globalThis as unknown as { Deno?: DenoApi }).Deno;
  if (!api) throw new UnsupportedError("Cannot use the Deno transport: this runtime is not Deno");
  return api;
}

/** Smallest and largest read buffers: idle connections hold the small one. */
const MIN_READ = 1024;
const MAX_READ = 256 * 1024;
/**
 * Reads up to this size are copied out (into a pooled array) and their room
 * read into again; larger ones hand their bytes over. A fresh buffer costs a
 * malloc and a memset (typed arrays live outside V8's heap on Deno).
 */
const COPY_MAX = POOL_MAX;
/**
 * Reads of at least SLAB_MIN bytes go into slabs with room for SLABS of them,
 * each read after the bytes the last one handed over: a chunk costs the bytes
 * it holds, not a whole read buffer (bulk echo: 0.82x the CPU per byte). A
 * chunk kept for long keeps its slab alive: 1 MiB at most.
 */
const SLAB_MIN = 16 * 1024;
const SLABS = 4;

const EMPTY = new Uint8Array(0);
/**
 * Watched sockets nobody reads are probed once a second with a zero-length
 * write, which fails at once on a socket the peer reset (Deno tells of a
 * reset only a read or write that waits). A socket with a read pending is
 * skipped: it learns of the reset itself. Measured with 4,000 idle sockets
 * (Deno 2.9): nobody reading, ~13 µs of CPU per socket per tick (1.3% of a
 * core per 1,000 such sockets); a read pending on each, no difference from
 * no sweep (10 ms of CPU in 5 s either way).
 */
const SWEEP = new Sweep(1000, (timer) => deno().unrefTimer(timer as unknown as number));

/** What `accept()` fails with when the peer reset before it was accepted: not the listener's fault. */
const GONE_BEFORE_ACCEPT = new Set(["ConnectionReset", "ConnectionAborted", "NotConnected"]);

function toAddr(addr: DenoAddr): Addr {
  return addr.transport === "unix"
    ? { transport: "unix", path: addr.path ?? "" }
    : { transport: "tcp", hostname: addr.hostname, port: addr.port };
}

/**
 * `reusePort` needs `--unstable-net` on Deno 2, and asking for it without
 * the flag ends the process. The flag also brings `Deno.listenDatagram`:
 * that is how to tell.
 */
function reusePortSupport(): Support {
  const api = (globalThis as unknown as { Deno?: DenoApi & { listenDatagram?: unknown } }).Deno;
  return api?.build.os === "linux" && typeof api.listenDatagram === "function"
    ? "native"
    : "unsupported";
}

/** Writes what a partial write left, from `offset` on. */
async function writeRest(conn: DenoConn, bytes: Uint8Array, offset: number): Promise<void> {
  while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
}

/**
 * A Deno socket as a {@linkcode RawConn}. A class, not an object of
 * closures: its methods are shared, so an idle connection holds its state
 * and nothing more (the closures were ~1 KB of each).
 */
class DenoRawConn implements RawConn, Probed {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  /** TLS only: see {@linkcode RawConn.handshake}. */
  handshake: (() => Promise<{ alpnProtocol: string | null }>) | undefined;
  #conn: DenoConn;
  #peer: string;
  #size = MIN_READ;
  #slab = new Uint8Array(0);
  #used = 0;
  #closed = false;
  /** The read that waits (it will see the socket gone, no probe is needed), and where it reads. */
  #reader: ReadHandler | undefined;
  #buffer: Uint8Array = EMPTY;
  /** The bytes of the write in flight (the core sends one at a time), and whom it tells. */
  #writing: Uint8Array = EMPTY;
  #writer: WriteHandler | undefined;
  /** Whether the read waiting is a `readInto()`: its bytes stay in the caller's buffer. */
  #into = false;
  /** A probe's zero-length write in flight (`Deno.startTls` must wait for it). */
  #probing: Promise<void> | undefined;
  /** Told when a read, a write or a probe finds the socket gone. */
  #watcher: CloseWatcher | undefined;

  /** @param conn The socket. @param tlsContext For a TLS socket: what its handshake errors say. */
  constructor(conn: DenoConn, tlsContext?: string) {
    this.#conn = conn;
    this.localAddr = toAddr(conn.localAddr);
    const remote = this.remoteAddr = toAddr(conn.remoteAddr);
    this.#peer = remote.transport === "unix" ? "unix socket" : `${remote.hostname}:${remote.port}`;
    if (tlsContext !== undefined) {
      this.handshake = async () => {
        try {
          return await conn.handshake!();
        } catch (error) {
          throw toTlsError(error, tlsContext);
        }
      };
    }
  }

  read(reader: ReadHandler): void {
    const size = this.#size;
    if (this.#slab.length - this.#used < size) {
      this.#slab = new Uint8Array(size < SLAB_MIN ? size : size * SLABS);
      this.#used = 0;
    }
    const slab = this.#slab;
    this.#start(
      reader,
      this.#used === 0 && slab.length === size
        ? slab
        : slab.subarray(this.#used, this.#used + size),
      false,
    );
  }

  readInto(buffer: Uint8Array, reader: ReadHandler): void {
    this.#start(reader, buffer, true);
  }

  #start(reader: ReadHandler, buffer: Uint8Array, into: boolean): void {
    this.#reader = reader;
    this.#buffer = buffer;
    this.#into = into;
    this.#conn.read(buffer).then(this.#readDone, this.#readFailed);
  }

  #readDone = (n: number | null): void => {
    const reader = this.#reader!;
    const buffer = this.#buffer;
    this.#reader = undefined;
    this.#buffer = EMPTY;
    if (n === null) reader.chunk(null);
    else if (this.#into) reader.chunk(buffer.subarray(0, n));
    else reader.chunk(this.#received(buffer, n));
  };

  #readFailed = (error: unknown): void => {
    const reader = this.#reader!;
    this.#reader = undefined;
    this.#buffer = EMPTY;
    reader.error(this.#gone(this.#failure(error, "read from")));
  };

  /** The `n` bytes a read into `buffer` brought, sized for the next read. */
  #received(buffer: Uint8Array, n: number): Uint8Array {
    // Grow when a read fills the buffer; shrink when reads are small again.
    if (n === this.#size) this.#size = Math.min(n * 2, MAX_READ);
    else if (n < this.#size / 4) this.#size = Math.max(this.#size / 2, MIN_READ);
    if (n <= COPY_MAX) {
      const bytes = allocate(n);
      bytes.set(n === buffer.length ? buffer : new Uint8Array(buffer.buffer, buffer.byteOffset, n));
      return bytes;
    }
    this.#used += n;
    return n === buffer.length ? buffer : buffer.subarray(0, n);
  }

  write(bytes: Uint8Array, handler: WriteHandler): boolean {
    // One reaction and no closure when the runtime takes every byte at once (the usual case).
    this.#writing = bytes;
    this.#writer = handler;
    this.#conn.write(bytes).then(this.#wrote, this.#writeFailed);
    return false;
  }

  #wrote = (n: number): void => {
    const bytes = this.#writing;
    this.#writing = EMPTY;
    if (n === bytes.length) return this.#endWrite()?.written();
    writeRest(this.#conn, bytes, n).then(() => this.#endWrite()?.written(), this.#writeFailed);
  };

  #writeFailed = (error: unknown): void => {
    this.#writing = EMPTY;
    this.#endWrite()?.error(this.#gone(this.#failure(error, "write to")));
  };

  /** The handler of the write that is over. */
  #endWrite(): WriteHandler | undefined {
    const writer = this.#writer;
    this.#writer = undefined;
    return writer;
  }

  async closeWrite(): Promise<void> {
    // A zero-length write after FIN fails (EPIPE): no more probes.
    SWEEP.delete(this);
    try {
      await this.#conn.closeWrite();
    } catch (error) {
      this.#fail(error, "close writing to");
    }
  }

  close(): Promise<void> {
    if (!this.#closed) {
      this.#closed = true;
      try {
        this.#conn.close();
      } catch { /* already closed by the runtime */ }
      this.#gone(undefined);
    }
    return Promise.resolve();
  }

  abort(): void {
    void this.close();
  }

  watch(watcher: CloseWatcher): void {
    this.#watcher = watcher;
    if (!this.#closed) SWEEP.add(this);
  }

  /** The sweep's check: a zero-length write, unless a read waits (it will see the socket gone). */
  probe(): void {
    if (this.#reader || this.#probing) return;
    this.#probing = this.#conn.write(EMPTY).then(
      () => void (this.#probing = undefined),
      (error) => {
        this.#probing = undefined;
        this.#gone(this.#failure(error, "use"));
      },
    );
  }

  setNoDelay(on: boolean): void {
    this.#conn.setNoDelay?.(on);
  }

  // Deno 2.9 takes no delay (op_set_keepalive is on/off): the system's applies, 2 h on
  // Linux. The node transport on Deno honours it. TLS connections have no setKeepAlive.
  setKeepAlive(on: boolean, delayMs?: number): void {
    if (on && delayMs !== undefined) {
      throw new UnsupportedError(
        "Cannot set a keep-alive delay: Deno's sockets take on/off only " +
          "(caps.keepAliveDelay; the node transport, tcpkit/node, can)",
      );
    }
    this.#conn.setKeepAlive?.(on);
  }

  ref(): void {
    this.#conn.ref();
  }

  unref(): void {
    this.#conn.unref();
  }

  unrefTimer(timer: ReturnType<typeof setTimeout>): void {
    deno().unrefTimer(timer as unknown as number);
  }

  startTlsServer(): Promise<RawConn> {
    const version = (globalThis as unknown as { Deno?: { version?: { deno?: string } } }).Deno
      ?.version?.deno;
    return Promise.reject(
      new UnsupportedError(
        `Cannot start TLS as the server on Deno ${version}: Deno.startTls is client-only; ` +
          `serve with the node transport (tcpkit/node), which runs on Deno's node:tls`,
      ),
    );
  }

  // Deno reads only when asked, so no plaintext waits here: the core checks its own buffer.
  async startTls(options: TlsClientOptions & { readonly hostname: string }): Promise<RawConn> {
    // Deno.startTls refuses a socket with an operation pending.
    SWEEP.delete(this);
    await this.#probing;
    const context = `start TLS with ${this.#peer}`;
    let raw: DenoRawConn | undefined;
    try {
      const secure = await deno().startTls(this.#conn, {
        hostname: options.serverName ?? options.hostname,
        caCerts: options.caCerts ? [...options.caCerts] : undefined,
        alpnProtocols: options.alpn ? [...options.alpn] : undefined,
      });
      raw = new DenoRawConn(secure, context);
      await raw.#handshakeDone();
      return raw;
    } catch (error) {
      // The socket is TLS's now: a failed upgrade ends it, and the watcher hears why.
      raw?.abort();
      throw this.#gone(toTlsError(error, context));
    }
  }

  /** Completes the handshake now; later calls report its outcome. */
  async #handshakeDone(): Promise<void> {
    const { alpnProtocol } = await this.handshake!();
    this.handshake = () => Promise.resolve({ alpnProtocol });
  }

  #failure(error: unknown, what: string): Error {
    return this.#closed
      ? new ConnectionClosedError(`Cannot ${what}: the connection is closed`)
      : toTcpError(error, `${what} ${this.#peer}`);
  }

  #fail(error: unknown, what: string): never {
    throw this.#gone(this.#failure(error, what));
  }

  /** Tells the watcher, once, that the socket is gone; returns the error. */
  #gone<E extends Error | undefined>(error: E): E {
    const watcher = this.#watcher;
    this.#watcher = undefined;
    SWEEP.delete(this);
    watcher?.socketClosed(this.#closed ? undefined : error);
    return error;
  }

  /**
   * A client's TLS socket whose handshake `connect` races against its signal.
   *
   * @param secure The TLS socket. @param context What its errors say.
   * @param aborted Rejects when the attempt is given up.
   */
  static async handshaken(
    secure: DenoConn,
    context: string,
    aborted: Promise<never>,
  ): Promise<RawConn> {
    const raw = new DenoRawConn(secure, context);
    try {
      await Promise.race([raw.#handshakeDone(), aborted]);
      return raw;
    } catch (error) {
      raw.abort();
      throw error;
    }
  }
}

/** The transport on Deno's native sockets. */
export const denoTransport: Transport = {
  name: "deno",
  caps: {
    halfClose: "native",
    // Deno 2.9's Deno.Conn has no linger or reset: abort() is a plain close (FIN). Its
    // node:net (the node transport on Deno) does reset: resetAndDestroy() sends RST.
    reset: "unsupported",
    peerReset: "native",
    get reusePort(): Support {
      return reusePortSupport();
    },
    unix: "native",
    startTlsClient: "native",
    // Deno.startTls is client-only; the node transport (tcpkit/node) can do it on Deno.
    startTlsServer: "unsupported",
    acceptRecovery: "native",
    keepAliveDelay: "unsupported",
  },
  async connect(options) {
    const { signal } = options;
    try {
      if (options.path !== undefined) {
        return new DenoRawConn(await deno().connect({ transport: "unix", path: options.path }));
      }
      const { hostname, port, tls } = options;
      const conn = await deno().connect({ hostname, port, signal });
      if (!tls) return new DenoRawConn(conn);
      // Deno's TLS handshake takes no signal: an abort closes the socket and rejects at once.
      let socket: { close(): void } = conn;
      let given = false;
      let giveUp = () => {};
      const aborted = new Promise<never>((_, reject) => {
        giveUp = () => {
          given = true;
          try {
            socket.close();
          } catch { /* taken over by startTls, or closed */ }
          reject(signal!.reason);
        };
      });
      aborted.catch(() => {});
      if (signal?.aborted) giveUp();
      signal?.addEventListener("abort", giveUp, { once: true });
      // TCP first, then TLS: so that serverName may differ from the address connected to.
      const starting = deno().startTls(conn, {
        hostname: tls.serverName ?? hostname,
        caCerts: tls.caCerts ? [...tls.caCerts] : undefined,
        alpnProtocols: tls.alpn ? [...tls.alpn] : undefined,
      });
      // A TLS socket that comes after the attempt was given up is closed at once.
      starting.then((secure) => given ? secure.close() : void (socket = secure), () => {});
      try {
        const secure = await Promise.race([starting, aborted]);
        return await DenoRawConn.handshaken(secure, `connect to ${hostname}:${port}`, aborted);
      } finally {
        // What the attempt was given covers the attempt only.
        signal?.removeEventListener("abort", giveUp);
      }
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw toTcpError(error, `connect to ${describeTarget(options)}`);
    }
  },
  async listen(options) {
    const api = deno();
    let listener: DenoListener;
    try {
      if (options.path !== undefined) {
        if (options.replaceStale) await api.remove(options.path).catch(() => {});
        listener = api.listen({ transport: "unix", path: options.path });
      } else {
        const { hostname, port, reusePort, tls } = options;
        listener = tls
          ? api.listenTls({
            hostname,
            port,
            cert: tls.cert,
            key: tls.key,
            alpnProtocols: tls.alpn ? [...tls.alpn] : undefined,
          })
          : api.listen(reusePort ? { hostname, port, reusePort } : { hostname, port });
      }
    } catch (error) {
      throw toTcpError(error, `listen on ${describeTarget(options)}`);
    }
    let closed = false;
    let accepting: Promise<unknown> = Promise.resolve();
    const raw: RawListener = {
      addr: toAddr(listener.addr),
      async accept() {
        while (!closed) {
          try {
            const next = listener.accept();
            accepting = next.catch(() => {});
            const conn = await next;
            return new DenoRawConn(
              conn,
              options.tls ? `accept TLS on ${describeTarget(options)}` : undefined,
            );
          } catch (error) {
            if (closed) break;
            // A connection reset before it was accepted (Linux says ENOTCONN): wait for the next one.
            if (!GONE_BEFORE_ACCEPT.has((error as { name?: string }).name!)) {
              throw toTcpError(error, `accept on ${describeTarget(options)}`);
            }
          }
        }
        return null;
      },
      async close() {
        if (!closed) {
          closed = true;
          listener.close();
        }
        // The socket is closed only once the pending accept has given up.
        await accepting;
      },
      ref: () => listener.ref(),
      unref: () => listener.unref(),
    };
    return raw;
  },
};

const api: BoundApi = bindTransport(denoTransport);
/** {@linkcode serve} on the Deno transport. */
export const serve: BoundApi["serve"] = api.serve;
/** {@linkcode connect} on the Deno transport. */
export const connect: BoundApi["connect"] = api.connect;
