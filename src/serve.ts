/**
 * `serve()`: a TCP server that runs a handler for each connection, with
 * connection limits, per-connection timeouts and buffers, failures isolated to
 * their connection, counters and hooks, and shutdown in phases.
 *
 * @module
 */
import { checkPort, formatAddr } from "./_address.ts";
import { type AddressMatcher, createAddressMatcher } from "./proxy/cidr.ts";
import { Conn } from "./conn/conn.ts";
import { checkConnOptions, type ConnOptions, type StartTlsOptions } from "./conn/options.ts";
import { LiveList } from "./_live_list.ts";
import { Admission } from "./_admission.ts";
import {
  AbortError,
  AddressInUseError,
  ConnectionClosedError,
  ConnectionRefusedError,
  ProxyProtocolError,
  TcpError,
  TimeoutError,
  UnsupportedError,
} from "./errors.ts";
import {
  type Addr,
  type NetAddr,
  type RawConn,
  type RawListener,
  type TlsServerOptions,
  type Transport,
  writeRaw,
} from "./transport.ts";

/** Runs for each accepted connection; the connection closes when it settles. */
export type Handler = (conn: Conn) => void | Promise<void>;

/** Options for {@linkcode serve}: where, what, and the limits of each connection. */
export interface ServeOptions extends ConnOptions {
  /**
   * The address to listen on. tcpkit listens on loopback unless told otherwise.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /**
   * The port; 0 picks a free one (see `server.addr`).
   * @default {0}
   */
  port?: number;
  /** A Unix domain socket to listen on, instead of `hostname` and `port`. */
  path?: string;
  /**
   * With `path`: replace a stale socket file that nothing listens on (left by a
   * crashed server). Without it, a stale file is an `AddressInUseError` that says so.
   * @default {false}
   */
  removeStaleSocket?: boolean;
  /** Runs for each connection. When it returns or throws, the connection is closed. */
  handler: Handler;
  /**
   * The most connections open at once; past it, new ones get `busyReply` and are closed.
   * @default {10000}
   */
  maxConnections?: number;
  /**
   * The most connections open at once from one IP address. With
   * `proxyProtocol`, the client's that the header names, counted once the
   * header is read (a peer refused then gets `busyReply` too).
   */
  maxConnectionsPerAddress?: number;
  /** Sent to a connection refused for a limit, before it is closed. */
  busyReply?: string | Uint8Array;
  /**
   * Read a PROXY protocol header (v1 or v2) first, from the load balancers in
   * `trusted` (CIDRs such as `"10.0.0.0/8"`): `conn.remoteAddr` is then the
   * real client and `conn.proxiedBy` the balancer. Other peers are refused,
   * or with `required: false` served as direct clients (no header is read:
   * the protocol forbids guessing).
   */
  proxyProtocol?: { trusted: string[]; required?: boolean; maxV2Length?: number };
  /**
   * Serve TLS with this certificate and key (PEM); `alpn` lists the protocols
   * offered. With `proxyProtocol`, TLS starts after the header (a balancer
   * that passes TLS through), which needs `caps.startTlsServer`.
   */
  tls?: TlsServerOptions;
  /**
   * How long a peer may take for what must come first: the PROXY header, the TLS handshake.
   * @default {10000}
   */
  handshakeTimeout?: number;
  /** Lets several processes listen on the port (`caps.reusePort`). */
  reusePort?: boolean;
  /**
   * Sends small writes at once (turns Nagle's algorithm off) on each accepted
   * TCP connection, as `connect()` does and Go's `net` does. With it on, a
   * server that answers pipelined requests one write each waits for the
   * client's delayed ACK (40 ms on Linux) between answers.
   * @default {true}
   */
  noDelay?: boolean;
  /** Shuts the server down (with the default deadline) when aborted. */
  signal?: AbortSignal;
  /** Called for each accepted connection, before its handler. */
  onConnection?: (conn: Conn) => void;
  /** Called when a connection has closed; `error` is why it failed, if it did. */
  onClose?: (conn: Conn, error: TcpError | undefined) => void;
  /**
   * Called with a handler's or connection's error (only that connection is
   * closed), or without `conn` with the server's own: the first of a run of
   * failed accepts (the server pauses and retries), or the listener's death
   * (the server shuts down).
   */
  onError?: (error: unknown, conn?: Conn) => void;
  /** The transport; `mod.ts` defaults to the runtime's own. */
  transport?: Transport;
}

/** Options for {@linkcode Server.shutdown}. */
export interface ShutdownOptions {
  /**
   * How long connections may take to finish before they are aborted.
   * @default {10000}
   */
  deadlineMs?: number;
}

/** What a shutdown did. */
export interface ShutdownResult {
  /** Connections that ended by themselves before the deadline. */
  finished: number;
  /** Connections aborted at the deadline. */
  aborted: number;
}

/** Counters since the server started. */
export interface ServerStats {
  /** Connections accepted and handled. */
  accepted: number;
  /** Connections open now. */
  active: number;
  /** Connections refused for `maxConnections` or `maxConnectionsPerAddress`. */
  rejected: number;
  /** Connections closed. */
  closed: number;
  /** Accepts that failed (`EMFILE`, `ENFILE` ..., also in `errors`); each was retried after a pause. */
  acceptErrors: number;
  /** Bytes received, over every connection. */
  bytesIn: number;
  /** Bytes sent, over every connection. */
  bytesOut: number;
  /** Errors by code (`ECONNRESET`, `ETIMEDOUT`, `EFRAMETOOLARGE`, `EHANDLER` for other throws ...). */
  errors: Record<string, number>;
  /** Timeouts by kind (`idle`, `read`, `write`). */
  timeouts: Record<string, number>;
}

/** The pause after a failed accept: doubles from `first` up to `max`. */
const ACCEPT_PAUSE_MS = { first: 5, max: 1000 };

/** Why handlers' `conn.signal` aborts at shutdown. */
export class ShutdownSignal extends AbortError {
  /** @param message */
  constructor(message = "The server is shutting down") {
    super(message);
  }
}

/** A running server; `A` is its address type (`NetAddr`, or `UnixAddr` with `path`). */
export class Server<A extends Addr = NetAddr> implements AsyncDisposable {
  /** The address it listens on, with the real port when `port` was 0. */
  readonly addr: A;
  /** Settles once the server has shut down. */
  readonly finished: Promise<ShutdownResult>;

  #listener: RawListener;
  #options: ServeOptions;
  #connections = new LiveList<Conn>();
  #admission: Admission;
  /** While shutting down: called when no connection is open any more. */
  #noneOpen: (() => void) | undefined;
  #counts = { accepted: 0, rejected: 0, closed: 0, acceptErrors: 0, bytesIn: 0, bytesOut: 0 };
  #errors: Record<string, number> = {};
  #timeouts: Record<string, number> = {};
  #busyReply: Uint8Array | undefined;
  #trusted: AddressMatcher | undefined;
  /** TLS that starts after the PROXY header, on the plaintext connection. */
  #tlsAfterHeader: StartTlsOptions | undefined;
  #shutdown: Promise<ShutdownResult> | undefined;
  #resolveFinished!: (result: ShutdownResult) => void;

  /** @param listener The transport's listener. @param options The server's options. */
  constructor(listener: RawListener, options: ServeOptions) {
    this.#listener = listener;
    this.#options = options;
    this.#admission = new Admission(
      options.maxConnections ?? 10_000,
      options.maxConnectionsPerAddress,
      () => this.#connections.size,
    );
    const reply = options.busyReply;
    this.#busyReply = typeof reply === "string" ? new TextEncoder().encode(reply) : reply;
    this.addr = listener.addr as A;
    if (options.proxyProtocol) {
      this.#trusted = createAddressMatcher(options.proxyProtocol.trusted);
      if (options.tls) {
        this.#tlsAfterHeader = { ...options.tls, isServer: true, handOverBuffered: true };
      }
    }
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    options.signal?.addEventListener("abort", () => void this.shutdown(), { once: true });
    void this.#acceptLoop();
  }

  /** The open connections. */
  get connections(): ReadonlySet<Conn> {
    return new Set(this.#connections);
  }

  /** Counters since the server started (a snapshot). */
  get stats(): ServerStats {
    let { bytesIn, bytesOut } = this.#counts;
    for (const conn of this.#connections) {
      bytesIn += conn.bytesRead;
      bytesOut += conn.bytesWritten;
    }
    return {
      ...this.#counts,
      active: this.#connections.size,
      bytesIn,
      bytesOut,
      errors: { ...this.#errors },
      timeouts: { ...this.#timeouts },
    };
  }

  /**
   * Shuts down in phases: stops accepting, aborts each handler's
   * `conn.signal` with a {@linkcode ShutdownSignal}, waits for connections
   * until the deadline, then aborts the rest. An abort is a TCP reset where
   * the transport can send one (`caps.reset`); on Deno's own transport it is
   * a plain close, so a client cut at the deadline sees an end of stream.
   *
   * @param options The deadline.
   * @returns How many connections finished and how many were aborted.
   */
  shutdown(options: ShutdownOptions = {}): Promise<ShutdownResult> {
    return this.#shutdown ??= this.#runShutdown(options.deadlineMs ?? 10_000);
  }

  /** Shuts down (`await using server = await serve(...)`). */
  async [Symbol.asyncDispose](): Promise<void> {
    await this.shutdown();
  }

  async #runShutdown(deadlineMs: number): Promise<ShutdownResult> {
    this.#admission.stop();
    await this.#listener.close();
    const closedBefore = this.#counts.closed;
    for (const conn of [...this.#connections]) conn.requestEnd(new ShutdownSignal());
    if (this.#connections.size > 0) {
      let timer: ReturnType<typeof setTimeout> | undefined;
      await new Promise<void>((resolve) => {
        this.#noneOpen = resolve;
        timer = setTimeout(resolve, deadlineMs);
      });
      clearTimeout(timer);
    }
    const late = [...this.#connections];
    for (const conn of late) conn.abort(new ShutdownSignal("The shutdown deadline passed"));
    const result = { finished: this.#counts.closed - closedBefore, aborted: late.length };
    this.#resolveFinished(result);
    return result;
  }

  /**
   * Accepts until the listener closes. A failed accept (`EMFILE`, `ENFILE`,
   * `ENOBUFS` ...: it usually clears as connections close) is retried after a
   * pause that doubles from 5 ms to 1 s, as Go's `http.Server` does, and is
   * reported to `onError` once per run of failures. A listener that died
   * (`ConnectionClosedError`) is reported and the server shuts down.
   */
  async #acceptLoop(): Promise<void> {
    let pause = 0;
    for (;;) {
      let raw: RawConn | null;
      try {
        raw = await this.#listener.accept();
      } catch (error) {
        if (this.#shutdown) return;
        this.#count(error);
        if (error instanceof ConnectionClosedError) {
          this.#report(error);
          void this.shutdown();
          return;
        }
        this.#counts.acceptErrors++;
        if (pause === 0) this.#report(error);
        pause = Math.min(pause * 2 || ACCEPT_PAUSE_MS.first, ACCEPT_PAUSE_MS.max);
        await this.#admission.pause(pause);
        continue;
      }
      if (raw === null) return;
      pause = 0;
      // Counted only when limited: a map update per connection otherwise buys nothing. Behind
      // a balancer the client is known only after the PROXY header: #handle counts it then.
      const admission = this.#admission;
      const address = !admission.perAddress || this.#trusted
        ? undefined
        : addressKey(raw.remoteAddr);
      if (admission.full(address, true) && !(await admission.roomFor(address, true))) {
        if (this.#shutdown) return raw.abort();
        void this.#reject(raw);
        continue;
      }
      if (address !== undefined) admission.countIn(address);
      if (this.#options.noDelay !== false && raw.remoteAddr.transport === "tcp") {
        raw.setNoDelay(true);
      }
      const conn = new Conn(raw, this.#options);
      this.#counts.accepted++;
      void this.#handle(conn, address);
    }
  }

  /**
   * Refuses a connection for a limit: at accept (`RawConn`), or after its
   * PROXY header named the client (`Conn`). Sends `busyReply`, best effort:
   * a peer that does not take it within a second is cut.
   */
  async #reject(peer: RawConn | Conn): Promise<void> {
    this.#counts.rejected++;
    if (!this.#busyReply) return peer.abort();
    const timer = setTimeout(() => peer.abort(), 1000);
    try {
      await (peer instanceof Conn ? peer.write(this.#busyReply) : writeRaw(peer, this.#busyReply));
      await peer.close();
    } catch {
      peer.abort();
    } finally {
      clearTimeout(timer);
    }
  }

  /** @param conn The connection. @param address Its key in the per-address count, if counted. */
  async #handle(conn: Conn, address: string | undefined): Promise<void> {
    const link = this.#connections.add(conn);
    let failure: TcpError | undefined;
    try {
      if (this.#trusted) {
        await this.#withHandshakeTimeout(
          conn,
          "no PROXY header",
          () => this.#readProxyHeader(conn),
        );
      }
      if (this.#tlsAfterHeader) {
        const tls = this.#tlsAfterHeader;
        await this.#withHandshakeTimeout(conn, "no TLS handshake", () => conn.startTls(tls));
      } else if (conn.secure) {
        await this.#withHandshakeTimeout(conn, "no TLS handshake", () => conn.handshake());
      }
      let admitted = true;
      const admission = this.#admission;
      if (this.#trusted && admission.perAddress) {
        // The client the header named (the peer itself when it sent none): counted only now.
        const client = addressKey(conn.remoteAddr);
        admitted = !admission.full(client, false) || await admission.roomFor(client, false);
        if (admitted) {
          address = client;
          admission.countIn(address);
        } else await this.#reject(conn);
      }
      if (admitted) {
        this.#options.onConnection?.(conn);
        await this.#options.handler(conn);
        await conn.close();
      }
    } catch (error) {
      failure = error instanceof TcpError ? error : undefined;
      this.#count(error);
      this.#report(error, conn);
      conn.abort(error);
    }
    // A timeout that fired while the handler was not reading still counts.
    failure ??= await conn.closed.then(() => undefined, (error: TcpError) => error);
    if (failure instanceof TimeoutError && failure.timeout) {
      this.#timeouts[failure.timeout] = (this.#timeouts[failure.timeout] ?? 0) + 1;
    }
    this.#connections.delete(link);
    if (address !== undefined) this.#admission.countOut(address);
    this.#counts.closed++;
    this.#counts.bytesIn += conn.bytesRead;
    this.#counts.bytesOut += conn.bytesWritten;
    try {
      this.#options.onClose?.(conn, failure);
    } catch { /* a hook must not take the server down */ }
    this.#admission.closed();
    if (this.#connections.size === 0) this.#noneOpen?.();
  }

  /** Runs what must come first, cutting the connection at `handshakeTimeout`. */
  async #withHandshakeTimeout(conn: Conn, what: string, run: () => Promise<void>): Promise<void> {
    const ms = this.#options.handshakeTimeout ?? 10_000;
    const timer = setTimeout(() => {
      const message = `Connection from ${
        formatAddr(conn.remoteAddr)
      } timed out: ${what} within ${ms} ms`;
      conn.abort(new TimeoutError(message, { timeout: "handshake" }));
    }, ms);
    try {
      await run();
    } finally {
      clearTimeout(timer);
    }
  }

  /** Reads the PROXY header of a trusted peer; refuses others when required. */
  async #readProxyHeader(conn: Conn): Promise<void> {
    const { trusted, required = true, maxV2Length } = this.#options.proxyProtocol!;
    const peer = conn.remoteAddr;
    if (peer.transport === "tcp" && !this.#trusted!(peer.hostname)) {
      if (!required) return;
      throw new ProxyProtocolError(
        `Refused ${formatAddr(peer)}: not a trusted PROXY protocol source (trusted: ${
          trusted.join(", ")
        })`,
      );
    }
    await conn.readProxyHeader({ maxV2Length });
  }

  #count(error: unknown): void {
    const code = error instanceof TcpError ? error.code : "EHANDLER";
    this.#errors[code] = (this.#errors[code] ?? 0) + 1;
  }

  #report(error: unknown, conn?: Conn): void {
    try {
      this.#options.onError?.(error, conn);
    } catch { /* a hook must not take the server down */ }
  }
}

/**
 * Starts a TCP server, or a Unix socket server with `path`.
 *
 * @param options Where to listen, what to run for each connection, limits and hooks.
 * @returns The running server.
 * @throws {AddressInUseError} When the address is taken (or a stale socket file is in the way).
 * @throws {UnsupportedError} When `reusePort` or `path` is asked for and the runtime lacks it.
 */
export async function serve(options: ServeOptions): Promise<Server<Addr>> {
  const { hostname = "127.0.0.1", port = 0, path, transport, reusePort } = options;
  if (!transport) throw new TypeError("Cannot serve: no transport given");
  if (typeof options.handler !== "function") {
    throw new TypeError("Cannot serve: handler must be a function");
  }
  checkConnOptions(options);
  if (options.proxyProtocol) createAddressMatcher(options.proxyProtocol.trusted); // RangeError on a bad CIDR
  const tlsAfterHeader = options.proxyProtocol !== undefined && options.tls !== undefined;
  if (tlsAfterHeader && transport.caps.startTlsServer === "unsupported") {
    throw new UnsupportedError(
      `Cannot serve TLS behind the PROXY protocol with the ${transport.name} transport: TLS must start ` +
        `after the header, on an accepted connection, which it cannot (caps.startTlsServer); ` +
        `serve with the node transport (tcpkit/node)`,
    );
  }
  options.signal?.throwIfAborted();
  if (path !== undefined) {
    if (options.tls) {
      throw new UnsupportedError(
        `Cannot serve TLS on unix socket ${path}: tcpkit speaks TLS over TCP only`,
      );
    }
    if (transport.caps.unix === "unsupported") {
      throw new UnsupportedError(
        `Cannot listen on unix socket ${path}: the ${transport.name} transport lacks them`,
      );
    }
    const replaceStale = await checkSocketFile(transport, path, options.removeStaleSocket ?? false);
    return new Server(await transport.listen({ path, replaceStale }), options);
  }
  checkPort(port, "serve");
  if (reusePort && transport.caps.reusePort === "unsupported") {
    throw new UnsupportedError(
      `Cannot listen with reusePort: the ${transport.name} transport does not support it here`,
    );
  }
  return new Server(
    await transport.listen({
      hostname,
      port,
      reusePort,
      tls: tlsAfterHeader ? undefined : options.tls,
    }),
    options,
  );
}

/**
 * Looks at what is at a socket path before listening: a live server is an
 * error; a stale file (connecting is refused) is replaced only when allowed.
 *
 * @returns Whether the transport must remove a stale file first.
 */
async function checkSocketFile(
  transport: Transport,
  path: string,
  removeStale: boolean,
): Promise<boolean> {
  let raw: RawConn;
  try {
    raw = await transport.connect({ path });
  } catch (error) {
    if (!(error instanceof ConnectionRefusedError)) return false; // no socket file there
    if (removeStale) return true;
    throw new AddressInUseError(
      `Cannot listen on unix socket ${path}: a stale socket file is in the way (nothing listens on it); ` +
        `remove it, or pass removeStaleSocket: true`,
    );
  }
  raw.abort();
  throw new AddressInUseError(
    `Cannot listen on unix socket ${path}: another server is listening on it`,
  );
}

/** What `maxConnectionsPerAddress` counts by: the IP address, or one key for Unix sockets. */
function addressKey(addr: Addr): string {
  return addr.transport === "unix" ? "unix" : addr.hostname;
}
