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
import { TlsError, toTcpError, toTlsError } from "../errors.ts";
import { rmSync } from "node:fs";
import { finished } from "node:stream";
import { describeTarget } from "../_address.ts";
import { failLater, PushedReads, socketError } from "./_pushed_reads.ts";
import { AcceptQueue } from "./_accept_queue.ts";
import type {
  Addr,
  CloseWatcher,
  NetAddr,
  RawConn,
  RawListener,
  Transport,
  WriteHandler,
} from "../transport.ts";
import { bindTransport, type BoundApi } from "../bind.ts";

const [MAJOR, MINOR] =
  (globalThis as { process?: { versions?: { node?: string } } }).process?.versions?.node
    ?.split(".").map(Number) ?? [0, 0];

function netAddr(address: string | undefined, port: number | undefined): NetAddr {
  return { transport: "tcp", hostname: address ?? "", port: port ?? 0 };
}

function toBytes(chunk: Uint8Array): Uint8Array {
  return new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength);
}

const ON_DENO = "Deno" in globalThis;
const EMPTY = new Uint8Array(0);
/** Listening on these, a connection's local address is one of the machine's. */
const WILDCARDS = new Set(["0.0.0.0", "::"]);

type Handshake = () => Promise<{ alpnProtocol: string | null }>;

/** Where a socket keeps its {@linkcode SocketConn}, for the shared event listeners. */
const STATE = Symbol("tcpkit.conn");
type StatefulSocket = net.Socket & { [STATE]: SocketConn };

// One set of listeners for every socket (`this` is the socket): a closure per
// listener per connection costs memory on every idle connection.
const LISTENERS = {
  data(this: StatefulSocket, chunk: Uint8Array): void {
    this[STATE].onData(chunk);
  },
  end(this: StatefulSocket): void {
    this[STATE].onEnd();
  },
  error(this: StatefulSocket, error: Error): void {
    this[STATE].onError(error);
  },
  drain(this: StatefulSocket): void {
    this[STATE].onDrain();
  },
  close(this: StatefulSocket): void {
    this[STATE].onClose();
  },
};

const LISTENER_ENTRIES = Object.entries(LISTENERS);

/** A `node:net` socket as a {@linkcode RawConn}: methods on the prototype, state in fields. */
class SocketConn extends PushedReads implements RawConn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  readonly handshake: Handshake | undefined;
  #socket: net.Socket;
  #path: string | undefined;
  #ended = false;
  #failure: unknown;
  /** The write Node is still taking (it said to wait for `drain`). */
  #writer: WriteHandler | null = null;
  #watcher: CloseWatcher | undefined;

  /**
   * @param local The listener's address when it is not a wildcard: every
   *   connection it accepts has it (no `getsockname` per connection).
   */
  constructor(socket: net.Socket, path?: string, handshake?: Handshake, local?: NetAddr) {
    // Accepted sockets start paused (pauseOnConnect): nothing is read before someone asks.
    super(socket.isPaused());
    this.#socket = socket;
    this.#path = path;
    this.handshake = handshake;
    this.localAddr = path !== undefined
      ? { transport: "unix", path }
      : local ?? netAddr(socket.localAddress, socket.localPort);
    this.remoteAddr = path !== undefined
      ? { transport: "unix", path: "" }
      : netAddr(socket.remoteAddress, socket.remotePort);
    (socket as StatefulSocket)[STATE] = this;
    for (const [event, listener] of LISTENER_ENTRIES) socket.on(event, listener);
  }

  /** For messages; made when needed (a string per idle connection otherwise). */
  get #peer(): string {
    const addr = this.remoteAddr;
    return addr.transport === "unix"
      ? `unix socket ${this.#path}`
      : `${addr.hostname}:${addr.port}`;
  }

  onData(chunk: Uint8Array): void {
    this.pushed(toBytes(chunk));
  }

  onEnd(): void {
    this.#ended = true;
    this.wake();
  }

  onError(error: Error): void {
    this.#failure = error;
    this.wake();
  }

  onDrain(): void {
    const writer = this.#writer;
    this.#writer = null;
    writer?.written();
  }

  onClose(): void {
    this.#ended = true;
    this.wake();
    // `?.`: an error only for a waiting write (one per closed connection costs ~4 µs).
    const writer = this.#writer;
    this.#writer = null;
    writer?.error(this.#writeError("write to"));
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.socketClosed(
      this.#failure === undefined ? undefined : socketError(this.#failure, `use ${this.#peer}`),
    );
  }

  watch(watcher: CloseWatcher): void {
    this.#watcher = watcher;
    // An accepted socket starts paused: libuv would not poll it, and miss a reset.
    this.readAhead();
  }

  protected pauseSocket(): void {
    this.#socket.pause();
  }

  protected resumeSocket(): void {
    this.#socket.resume();
  }

  protected endOfReads(): Error | null | undefined {
    if (this.#failure !== undefined) return socketError(this.#failure, `read from ${this.#peer}`);
    return this.#ended ? null : undefined;
  }

  /**
   * Hands the socket over to TLS: refused while plaintext that arrived first
   * is unread, unless `received` says that the bytes so far are TLS (after a
   * PROXY header). Those are put back in front of what Node holds, where
   * Node's `TLSSocket` takes them before reading on.
   */
  #handOver(received?: Uint8Array): void {
    const socket = this.#socket;
    if (received === undefined) {
      const unread = this.unread + socket.readableLength;
      if (unread > 0) {
        throw new TlsError(
          `Cannot start TLS with ${this.#peer}: ${unread} bytes of plaintext arrived before the upgrade and are unread ` +
            `(refused: they would be taken as sent over TLS)`,
        );
      }
    } else {
      // Paused first: a flowing socket would emit the bytes put back to no listener.
      socket.pause();
      for (const chunk of [received, ...this.takeUnread()].reverse()) {
        if (chunk.length > 0) socket.unshift(chunk);
      }
    }
    for (const [event, listener] of LISTENER_ENTRIES) socket.off(event, listener);
  }

  #writeError(what: string): Error {
    return socketError(this.#failure, `${what} ${this.#peer}`);
  }

  write(bytes: Uint8Array, handler: WriteHandler): boolean {
    const socket = this.#socket;
    if (socket.destroyed || socket.writableEnded) {
      return failLater(handler, this.#writeError("write to"));
    }
    // No callback: Node 22+ schedules a tick per write that has one (3-5% of ping-pong CPU).
    if (socket.write(bytes)) return true;
    this.#writer = handler;
    return false;
  }

  /**
   * Node keeps the bytes of a write it could not finish at once (below the
   * high-water mark `write()` still returns true): an empty write's callback
   * runs once everything before it is out.
   */
  flush(): Promise<void> | undefined {
    const socket = this.#socket;
    if (socket.writableLength === 0 || socket.destroyed) return undefined;
    return new Promise<void>((resolve, reject) => {
      const done = (error?: Error | null) => error ? reject(error) : resolve();
      // After end() no write is allowed: the end of the writable side is the same signal.
      if (socket.writableEnded) finished(socket, { readable: false }, done);
      else socket.write(EMPTY, done);
    }).catch((error) => {
      throw toTcpError(error, `write to ${this.#peer}`);
    });
  }

  closeWrite(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.reject(this.#writeError("close writing to"));
    return new Promise((resolve) => socket.end(resolve));
  }

  close(): Promise<void> {
    const socket = this.#socket;
    if (socket.destroyed) return Promise.resolve();
    return new Promise((resolve) => {
      socket.once("close", () => resolve());
      if (socket.writableEnded) socket.destroy();
      else socket.end(() => socket.destroy());
    });
  }

  abort(): void {
    const socket = this.#socket;
    // A reset exists only for plain TCP; a Unix or TLS socket is just closed.
    if (socket.destroyed) return;
    if (this.#path === undefined && !this.handshake) socket.resetAndDestroy();
    else socket.destroy();
  }

  setNoDelay(on: boolean): void {
    this.#socket.setNoDelay(on);
  }

  setKeepAlive(on: boolean, delayMs?: number): void {
    this.#socket.setKeepAlive(on, delayMs);
  }

  ref(): void {
    this.#socket.ref();
  }

  unref(): void {
    this.#socket.unref();
  }

  unrefTimer(timer: ReturnType<typeof setTimeout>): void {
    timer.unref();
  }

  async startTls(options: Parameters<NonNullable<RawConn["startTls"]>>[0]): Promise<RawConn> {
    this.#handOver();
    const name = options.serverName ?? options.hostname;
    const secure = tls.connect({
      socket: this.#socket,
      host: name, // the name the certificate is checked against
      servername: sni(name),
      ca: options.caCerts ? [...options.caCerts] : undefined,
      ALPNProtocols: options.alpn ? [...options.alpn] : undefined,
    });
    try {
      await new Promise<void>((resolve, reject) => {
        secure.once("secureConnect", resolve);
        secure.once("error", reject);
        secure.once("close", () => reject(new Error("closed during the handshake")));
      });
    } catch (cause) {
      // The socket is TLS's now: a failed upgrade ends it, and the watcher hears why.
      secure.on("error", () => {});
      secure.destroy();
      const error = toTlsError(cause, `start TLS with ${this.#peer}`);
      const watcher = this.#watcher;
      this.#watcher = undefined;
      watcher?.socketClosed(error);
      throw error;
    }
    const alpnProtocol = secure.alpnProtocol || null;
    return wrapSocket(secure, undefined, () => Promise.resolve({ alpnProtocol }), this.#tcpLocal);
  }

  /** The local TCP address, for the TLS connection that takes over this socket. */
  get #tcpLocal(): NetAddr | undefined {
    return this.localAddr.transport === "tcp" ? this.localAddr : undefined;
  }

  startTlsServer(
    options: Parameters<NonNullable<RawConn["startTlsServer"]>>[0],
    received?: Uint8Array,
  ): Promise<RawConn> {
    this.#handOver(received);
    const context = tls.createSecureContext({ cert: options.cert, key: options.key });
    return Promise.resolve(acceptTls(this.#socket, context, options.alpn, this.#tcpLocal));
  }
}

/** The SNI name for Node's `servername`: none for an IP address (RFC 6066; Node warns). */
function sni(name: string): string | undefined {
  return net.isIP(name) === 0 ? name : undefined;
}

function wrapSocket(
  socket: net.Socket,
  path?: string,
  handshake?: Handshake,
  local?: NetAddr,
): RawConn {
  return new SocketConn(socket, path, handshake, local);
}

/** Starts the server side of TLS on an accepted socket; the handshake completes in `handshake()`. */
function acceptTls(
  socket: net.Socket,
  context: tls.SecureContext,
  alpn: readonly string[] | undefined,
  local: NetAddr | undefined,
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
  return wrapSocket(secure, undefined, () => done, local);
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
    // Deno's node:net stops accepting for good after EMFILE, without an error event.
    acceptRecovery: ON_DENO ? "unsupported" : "native",
    keepAliveDelay: "native",
  },
  connect(options) {
    const { signal } = options;
    const secure = options.tls;
    if (signal?.aborted) return Promise.reject(signal.reason);
    return new Promise((resolve, reject) => {
      const where = options.path !== undefined
        ? { path: options.path }
        : { host: options.hostname, port: options.port };
      const socket = secure
        ? tls.connect({
          ...where,
          servername: sni(secure.serverName ?? options.hostname),
          ca: secure.caCerts ? [...secure.caCerts] : undefined,
          ALPNProtocols: secure.alpn ? [...secure.alpn] : undefined,
        })
        // Not net.connect({ signal }): Node binds that signal to the socket's whole life.
        // No noDelay here: connect() sets it (once) on every TCP connection.
        : net.connect({ ...where, allowHalfOpen: true });
      // The signal bounds the attempt only. A destroyed TLS socket may never emit: reject here.
      const onAbort = () => {
        socket.off("error", onError);
        socket.on("error", () => {});
        socket.destroy();
        reject(signal?.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      const onError = (error: Error) => {
        signal?.removeEventListener("abort", onAbort);
        const tcp = toTcpError(error, `connect to ${describeTarget(options)}`);
        // A refused or unreachable peer is the same error with TLS or without.
        reject(
          secure && !(tcp.code === "ECONNREFUSED" || tcp.code === "ENOTFOUND")
            ? toTlsError(error, `connect to ${describeTarget(options)}`)
            : tcp,
        );
      };
      socket.once("error", onError);
      const ready = () => {
        socket.off("error", onError);
        signal?.removeEventListener("abort", onAbort);
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
    /** Set once listening, when bound to one address rather than a wildcard. */
    let local: NetAddr | undefined;
    const wrap = (socket: net.Socket) =>
      context
        ? acceptTls(socket, context, secure.alpn, local)
        : wrapSocket(socket, options.path, undefined, local);
    const accepted = new AcceptQueue<net.Socket>(wrap, (socket) => socket.destroy());
    server.on("connection", (socket: net.Socket) => accepted.push(socket));
    if (options.path !== undefined && options.replaceStale) rmSync(options.path, { force: true });
    return new Promise((resolve, reject) => {
      server.once(
        "error",
        (error) => reject(toTcpError(error, `listen on ${describeTarget(options)}`)),
      );
      const ready = () => {
        const address = server.address();
        if (address !== null && typeof address !== "string" && !WILDCARDS.has(address.address)) {
          local = netAddr(address.address, address.port);
        }
        const listener: RawListener = {
          addr: typeof address === "string" || address === null
            ? { transport: "unix", path: options.path ?? "" }
            : local ?? netAddr(address.address, address.port),
          accept: () => accepted.accept(),
          close() {
            // Stop listening now; accepted connections are not the listener's to wait for.
            if (accepted.close()) server.close();
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
