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
  Transport,
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

function wrapConn(conn: DenoConn, tlsContext?: string): RawConn {
  const localAddr = toAddr(conn.localAddr);
  const remoteAddr = toAddr(conn.remoteAddr);
  const peer = remoteAddr.transport === "unix"
    ? "unix socket"
    : `${remoteAddr.hostname}:${remoteAddr.port}`;
  let size = MIN_READ;
  let slab = new Uint8Array(0);
  let used = 0;
  let closed = false;
  /** A read waits: it will see the socket gone, no probe is needed. */
  let reading = false;
  /** A probe's zero-length write in flight (`Deno.startTls` must wait for it). */
  let probing: Promise<void> | undefined;
  /** Told when a read, a write or a probe finds the socket gone. */
  let watcher: CloseWatcher | undefined;
  const failure = (error: unknown, what: string) =>
    closed
      ? new ConnectionClosedError(`Cannot ${what}: the connection is closed`)
      : toTcpError(error, `${what} ${peer}`);
  /** Tells the watcher, once, that the socket is gone; returns the error. */
  const gone = (error: Error | undefined) => {
    const w = watcher;
    watcher = undefined;
    SWEEP.delete(probed);
    w?.socketClosed(closed ? undefined : error);
    return error!;
  };
  const probed: Probed = {
    probe() {
      if (reading || probing) return;
      probing = conn.write(EMPTY).then(
        () => void (probing = undefined),
        (error) => {
          probing = undefined;
          gone(failure(error, "use"));
        },
      );
    },
  };
  const fail = (error: unknown, what: string) => {
    throw gone(failure(error, what));
  };
  const readFailed = (reader: ReadHandler) => (error: unknown) => {
    reading = false;
    reader.error(gone(failure(error, "read from")));
  };
  /** The bytes a read of `n` into `buffer` brought, sized for the next read. */
  const received = (buffer: Uint8Array, n: number | null): Uint8Array | null => {
    if (n === null) return null;
    // Grow when a read fills the buffer; shrink when reads are small again.
    if (n === size) size = Math.min(size * 2, MAX_READ);
    else if (n < size / 4) size = Math.max(size / 2, MIN_READ);
    if (n <= COPY_MAX) {
      const bytes = allocate(n);
      bytes.set(n === buffer.length ? buffer : buffer.subarray(0, n));
      return bytes;
    }
    used += n;
    return n === buffer.length ? buffer : buffer.subarray(0, n);
  };
  return {
    localAddr,
    remoteAddr,
    read(reader: ReadHandler) {
      if (slab.length - used < size) {
        slab = new Uint8Array(size < SLAB_MIN ? size : size * SLABS);
        used = 0;
      }
      const buffer = used === 0 && slab.length === size ? slab : slab.subarray(used, used + size);
      reading = true;
      conn.read(buffer).then((n) => {
        reading = false;
        reader.chunk(received(buffer, n));
      }, readFailed(reader));
    },
    readInto(buffer: Uint8Array, reader: ReadHandler) {
      reading = true;
      conn.read(buffer).then((n) => {
        reading = false;
        reader.chunk(n === null ? null : buffer.subarray(0, n));
      }, readFailed(reader));
    },
    write(bytes) {
      // One promise when the runtime takes every byte at once (the usual case).
      return conn.write(bytes).then(
        (n) =>
          n < bytes.length
            ? writeRest(conn, bytes, n).catch((e) => fail(e, "write to"))
            : undefined,
        (error) => fail(error, "write to"),
      );
    },
    async closeWrite() {
      // A zero-length write after FIN fails (EPIPE): no more probes.
      SWEEP.delete(probed);
      try {
        await conn.closeWrite();
      } catch (error) {
        fail(error, "close writing to");
      }
    },
    close() {
      if (!closed) {
        closed = true;
        try {
          conn.close();
        } catch { /* already closed by the runtime */ }
        gone(undefined);
      }
      return Promise.resolve();
    },
    abort() {
      void this.close();
    },
    watch(w) {
      watcher = w;
      if (!closed) SWEEP.add(probed);
    },
    setNoDelay: (on) => conn.setNoDelay?.(on),
    // Deno 2.9 takes no delay (op_set_keepalive is on/off): the system's applies, 2 h on
    // Linux. The node transport on Deno honours it. TLS connections have no setKeepAlive.
    setKeepAlive: (on) => conn.setKeepAlive?.(on),
    ref: () => conn.ref(),
    unref: () => conn.unref(),
    unrefTimer: (timer) => deno().unrefTimer(timer as unknown as number),
    startTlsServer() {
      const version = (globalThis as unknown as { Deno?: { version?: { deno?: string } } }).Deno
        ?.version?.deno;
      return Promise.reject(
        new UnsupportedError(
          `Cannot start TLS as the server on Deno ${version}: Deno.startTls is client-only; ` +
            `serve with the node transport (tcpkit/node), which runs on Deno's node:tls`,
        ),
      );
    },
    // Deno reads only when asked, so no plaintext waits here: the core checks its own buffer.
    async startTls(options) {
      // Deno.startTls refuses a socket with an operation pending.
      SWEEP.delete(probed);
      await probing;
      let raw: RawConn | undefined;
      try {
        const secure = await deno().startTls(conn, {
          hostname: options.serverName ?? options.hostname,
          caCerts: options.caCerts ? [...options.caCerts] : undefined,
          alpnProtocols: options.alpn ? [...options.alpn] : undefined,
        });
        raw = wrapConn(secure, `start TLS with ${peer}`);
        const { alpnProtocol } = await raw.handshake!();
        return { ...raw, handshake: () => Promise.resolve({ alpnProtocol }) };
      } catch (error) {
        // The socket is TLS's now: a failed upgrade ends it, and the watcher hears why.
        raw?.abort();
        throw gone(toTlsError(error, `start TLS with ${peer}`));
      }
    },
    handshake: tlsContext === undefined ? undefined : async () => {
      try {
        return await conn.handshake!();
      } catch (error) {
        throw toTlsError(error, tlsContext);
      }
    },
  };
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
  },
  async connect(options) {
    const { signal } = options;
    try {
      if (options.path !== undefined) {
        return wrapConn(await deno().connect({ transport: "unix", path: options.path }));
      }
      const { hostname, port, tls } = options;
      const conn = await deno().connect({ hostname, port, signal });
      if (!tls) return wrapConn(conn);
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
      let raw: RawConn | undefined;
      try {
        raw = wrapConn(await Promise.race([starting, aborted]), `connect to ${hostname}:${port}`);
        const { alpnProtocol } = await Promise.race([raw.handshake!(), aborted]);
        return { ...raw, handshake: () => Promise.resolve({ alpnProtocol }) };
      } catch (error) {
        raw?.abort();
        throw error;
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
            return wrapConn(
              conn,
              options.tls ? `accept TLS on ${describeTarget(options)}` : undefined,
            );
          } catch (error) {
            if (closed) break;
            // A connection reset before it was accepted: wait for the next one.
            if ((error as { name?: string }).name !== "ConnectionReset") {
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
