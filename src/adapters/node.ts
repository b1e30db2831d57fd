/**
 * The Node transport, on `node:net`. Sockets are half-open capable
 * (`allowHalfOpen`), paused while nobody reads, and written with
 * `write()` + `drain`, so memory stays bounded by the stream's high-water mark.
 *
 * @example Pin the Node transport
 * ```ts ignore
 * import { serve } from "tcpkit/node";
 * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
 * ```
 *
 * @module
 */
import * as net from "node:net";
import * as tls from "node:tls";
import { ConnectionClosedError, TlsError, toTcpError, toTlsError } from "../errors.ts";
import { rmSync } from "node:fs";
import type {
  Addr,
  NetAddr,
  RawConn,
  RawListener,
  Transport,
  TransportConnectOptions,
  TransportListenOptions,
} from "../transport.ts";
import { bindTransport, type BoundApi } from "../bind.ts";

/** Bytes read ahead before the socket is paused. */
const READ_AHEAD = 64 * 1024;

const [MAJOR, MINOR] =
  (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
    ?.split(".").map(Number) ?? [0, 0];

function netAddr(address: string | undefined, port: number | undefined): NetAddr {
  return { transport: "tcp", hostname: address ?? "", port: port ?? 0 };
}

function toBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const describe = (options: TransportConnectOptions | TransportListenOptions) =>
  options.path !== undefined
    ? `unix socket ${options.path}`
    : `${options.hostname}:${options.port}`;

type Handshake = () => Promise<{ alpnProtocol: string | null }>;

function wrapSocket(socket: net.Socket, path?: string, handshake?: Handshake): RawConn {
  const localAddr: Addr = path !== undefined
    ? { transport: "unix", path }
    : netAddr(socket.localAddress, socket.localPort);
  const remoteAddr: Addr = path !== undefined
    ? { transport: "unix", path: "" }
    : netAddr(socket.remoteAddress, socket.remotePort);
  const peer = path !== undefined
    ? `unix socket ${path}`
    : `${socket.remoteAddress}:${socket.remotePort}`;
  const queue: Uint8Array[] = [];
  let queued = 0;
  let ended = false;
  let failure: unknown;
  let waiter: { resolve: (chunk: Uint8Array | null) => void; reject: (e: unknown) => void } | null =
    null;
  let drainWaiter: { resolve: () => void; reject: (e: unknown) => void } | null = null;

  const settle = () => {
    if (!waiter) return;
    const w = waiter;
    if (queue.length > 0) {
      waiter = null;
      const chunk = queue.shift()!;
      queued -= chunk.length;
      w.resolve(chunk);
    } else if (failure !== undefined) {
      waiter = null;
      w.reject(toTcpError(failure, `read from ${peer}`));
    } else if (ended) {
      waiter = null;
      w.resolve(null);
    }
  };
  const listeners = {
    data: (chunk: Uint8Array) => {
      queue.push(toBytes(chunk));
      queued += chunk.length;
      if (queued >= READ_AHEAD) socket.pause();
      settle();
    },
    end: () => {
      ended = true;
      settle();
    },
    error: (error: Error) => {
      failure = error;
      settle();
    },
    drain: () => {
      drainWaiter?.resolve();
      drainWaiter = null;
    },
    close: () => {
      ended = true;
      settle();
      drainWaiter?.reject(
        failure ?? new ConnectionClosedError(`Cannot write to ${peer}: the connection is closed`),
      );
      drainWaiter = null;
    },
  };
  for (const [event, listener] of Object.entries(listeners)) socket.on(event, listener);

  /** Hands the socket over to TLS: refused while plaintext that arrived first is unread. */
  const handOver = (): void => {
    const unread = queued + socket.readableLength;
    if (unread > 0) {
      throw new TlsError(
        `Cannot start TLS with ${peer}: ${unread} bytes of plaintext arrived before the upgrade and are unread ` +
          `(refused: they would be taken as sent over TLS)`,
      );
    }
    for (const [event, listener] of Object.entries(listeners)) socket.off(event, listener);
  };

  const writeError = (what: string) =>
    failure !== undefined
      ? toTcpError(failure, `${what} ${peer}`)
      : new ConnectionClosedError(`Cannot ${what} ${peer}: the connection is closed`);

  return {
    localAddr,
    remoteAddr,
    read() {
      if (queue.length > 0) {
        const chunk = queue.shift()!;
        queued -= chunk.length;
        if (queued < READ_AHEAD && socket.isPaused()) socket.resume();
        return Promise.resolve(chunk);
      }
      if (socket.isPaused() && !ended) socket.resume();
      return new Promise((resolve, reject) => {
        waiter = { resolve, reject };
        settle();
      });
    },
    write(bytes) {
      if (socket.destroyed || socket.writableEnded) return Promise.reject(writeError("write to"));
      if (socket.write(bytes)) return Promise.resolve();
      return new Promise<void>((resolve, reject) => {
        drainWaiter = { resolve, reject };
      }).catch((error) => {
        throw toTcpError(error, `write to ${peer}`);
      });
    },
    closeWrite() {
      if (socket.destroyed) return Promise.reject(writeError("close writing to"));
      return new Promise((resolve) => socket.end(resolve));
    },
    close() {
      if (socket.destroyed) return Promise.resolve();
      return new Promise((resolve) => {
        socket.once("close", () => resolve());
        if (socket.writableEnded) socket.destroy();
        else socket.end(() => socket.destroy());
      });
    },
    abort() {
      // A reset exists only for plain TCP; a Unix or TLS socket is just closed.
      if (socket.destroyed) return;
      if (path === undefined && !handshake) socket.resetAndDestroy();
      else socket.destroy();
    },
    setNoDelay: (on) => void socket.setNoDelay(on),
    setKeepAlive: (on, delayMs) => void socket.setKeepAlive(on, delayMs),
    ref: () => void socket.ref(),
    unref: () => void socket.unref(),
    handshake,
    async startTls(options) {
      handOver();
      const secure = tls.connect({
        socket,
        servername: options.serverName ?? options.hostname,
        ca: options.caCerts ? [...options.caCerts] : undefined,
        ALPNProtocols: options.alpn ? [...options.alpn] : undefined,
      });
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", resolve);
        secure.once("error", (error) => reject(toTlsError(error, `start TLS with ${peer}`)));
      });
      const alpnProtocol = secure.alpnProtocol || null;
      return wrapSocket(secure, undefined, () => Promise.resolve({ alpnProtocol }));
    },
    startTlsServer(options) {
      handOver();
      const context = tls.createSecureContext({ cert: options.cert, key: options.key });
      return Promise.resolve(acceptTls(socket, context, options.alpn));
    },
  };
}

/** Starts the server side of TLS on an accepted socket; the handshake completes in `handshake()`. */
function acceptTls(
  socket: net.Socket,
  context: tls.SecureContext,
  alpn: readonly string[] | undefined,
): RawConn {
  const peer = `${socket.remoteAddress}:${socket.remotePort}`;
  const secure = new tls.TLSSocket(socket, {
    isServer: true,
    secureContext: context,
    ALPNProtocols: alpn ? [...alpn] : undefined,
  });
  const done = new Promise<{ alpnProtocol: string | null }>((resolve, reject) => {
    secure.once("secure", () => resolve({ alpnProtocol: secure.alpnProtocol || null }));
    secure.once("error", (error) => reject(toTlsError(error, `accept TLS from ${peer}`)));
    // With allowHalfOpen a peer that gives up sends only FIN: that ends the handshake too.
    for (const event of ["end", "close"]) {
      secure.once(event, () => reject(toTlsError(new Error("closed"), `accept TLS from ${peer}`)));
    }
  });
  done.catch(() => {});
  return wrapSocket(secure, undefined, () => done);
}

/** The transport on Node's `node:net`. */
export const nodeTransport: Transport = {
  name: "node",
  caps: {
    halfClose: "native",
    reset: "native",
    // Node 20 and 22 report a reset that follows data as a clean end (nodejs/node#45709).
    peerReset: MAJOR >= 24 ? "native" : "unsupported",
    // reusePort came in Node 22.12 and 23.1; older versions ignore it.
    reusePort: MAJOR > 23 || (MAJOR === 23 && MINOR >= 1) || (MAJOR === 22 && MINOR >= 12)
      ? "native"
      : "unsupported",
    unix: "native",
    startTlsClient: "native",
    startTlsServer: "native",
  },
  connect(options) {
    const { signal } = options;
    const secure = options.tls;
    return new Promise((resolve, reject) => {
      const where = options.path !== undefined
        ? { path: options.path }
        : { host: options.hostname, port: options.port };
      const socket = secure
        ? tls.connect({
          ...where,
          servername: secure.serverName ?? options.hostname,
          ca: secure.caCerts ? [...secure.caCerts] : undefined,
          ALPNProtocols: secure.alpn ? [...secure.alpn] : undefined,
        })
        : net.connect({ ...where, allowHalfOpen: true, noDelay: true, signal });
      if (secure) signal?.addEventListener("abort", () => socket.destroy(), { once: true });
      const onError = (error: Error) => {
        if (signal?.aborted) return reject(signal.reason);
        const tcp = toTcpError(error, `connect to ${describe(options)}`);
        // A refused or unreachable peer is the same error with TLS or without.
        reject(
          secure && !(tcp.code === "ECONNREFUSED" || tcp.code === "ENOTFOUND")
            ? toTlsError(error, `connect to ${describe(options)}`)
            : tcp,
        );
      };
      socket.once("error", onError);
      const ready = () => {
        socket.off("error", onError);
        const alpnProtocol = secure ? (socket as tls.TLSSocket).alpnProtocol || null : null;
        resolve(
          wrapSocket(
            socket,
            options.path,
            secure ? () => Promise.resolve({ alpnProtocol }) : undefined,
          ),
        );
      };
      if (secure) socket.once("secureConnect", ready);
      else socket.once("connect", ready);
    });
  },
  listen(options) {
    const server = net.createServer({ allowHalfOpen: true, pauseOnConnect: true, noDelay: true });
    const secure = options.path === undefined ? options.tls : undefined;
    const context = secure && tls.createSecureContext({ cert: secure.cert, key: secure.key });
    const wrap = (socket: net.Socket) =>
      context ? acceptTls(socket, context, secure.alpn) : wrapSocket(socket, options.path);
    const pending: net.Socket[] = [];
    let waiter: ((conn: RawConn | null) => void) | null = null;
    let closed = false;
    server.on("connection", (socket: net.Socket) => {
      if (waiter) {
        const w = waiter;
        waiter = null;
        w(wrap(socket));
      } else pending.push(socket);
    });
    if (options.path !== undefined && options.replaceStale) rmSync(options.path, { force: true });
    return new Promise((resolve, reject) => {
      server.once("error", (error) => reject(toTcpError(error, `listen on ${describe(options)}`)));
      const ready = () => {
        const address = server.address();
        const listener: RawListener = {
          addr: typeof address === "string" || address === null
            ? { transport: "unix", path: options.path ?? "" }
            : netAddr(address.address, address.port),
          accept() {
            const socket = pending.shift();
            if (socket) return Promise.resolve(wrap(socket));
            if (closed) return Promise.resolve(null);
            return new Promise((resolve) => (waiter = resolve));
          },
          close() {
            if (closed) return Promise.resolve();
            closed = true;
            waiter?.(null);
            waiter = null;
            // Stop listening now; accepted connections are not the listener's to wait for.
            server.close();
            for (const socket of pending.splice(0)) socket.destroy();
            return Promise.resolve();
          },
          ref: () => void server.ref(),
          unref: () => void server.unref(),
        };
        resolve(listener);
      };
      if (options.path !== undefined) server.listen({ path: options.path }, ready);
      else {
        const { hostname, port, reusePort } = options;
        server.listen({ host: hostname, port, ...(reusePort ? { reusePort } : {}) }, ready);
      }
    });
  },
};

const api: BoundApi = bindTransport(nodeTransport);
/** {@linkcode serve} on the Node transport. */
export const serve: BoundApi["serve"] = api.serve;
/** {@linkcode connect} on the Node transport. */
export const connect: BoundApi["connect"] = api.connect;
