/**
 * The contract between tcpkit's core and a runtime. An adapter maps one
 * runtime's native sockets onto these few types; every policy (timeouts,
 * limits, buffering, framing, shutdown) lives above them, in the core.
 *
 * @module
 */

/**
 * The most bytes a push-based adapter (Bun, Node) queues from the socket
 * before it pauses reading: what "reading pauses the socket while nobody
 * reads" means, the same for every adapter.
 */
export const READ_AHEAD: number = 64 * 1024;

/** How a runtime provides a capability. */
export type Support = "native" | "fallback" | "unsupported";

/** What a transport can do on the runtime it runs on. */
export interface TransportCaps {
  /** Send FIN while still reading (`closeWrite()`). */
  readonly halfClose: Support;
  /** `abort()` sends a TCP reset rather than a plain close. */
  readonly reset: Support;
  /**
   * A peer's reset reaches `read()` as `ConnectionResetError`. Node 20 and
   * 22 may report it as a clean end of stream instead (nodejs/node#45709).
   */
  readonly peerReset: Support;
  /** Several listeners on one port, balanced by the kernel. */
  readonly reusePort: Support;
  /** Unix domain sockets (`path` instead of `hostname` and `port`). */
  readonly unix: Support;
  /** Upgrading a plaintext connection to TLS as the client (`conn.startTls()`). */
  readonly startTlsClient: Support;
  /** Upgrading a plaintext connection to TLS as the server (`conn.startTls({ isServer: true })`). */
  readonly startTlsServer: Support;
  /**
   * The listener survives running out of file descriptors: its failed accepts
   * are backed off and it accepts again once descriptors are free. Deno's
   * `node:net` stops accepting for good after `EMFILE`, with no error event.
   */
  readonly acceptRecovery: Support;
  /**
   * `setKeepAlive(true, delayMs)` sets the idle time before the first probe.
   * Deno's own sockets take on/off only (the system's 2 h applies): a delay
   * there is `UnsupportedError`, never dropped.
   */
  readonly keepAliveDelay: Support;
}

/** A TCP endpoint. */
export interface NetAddr {
  readonly transport: "tcp";
  /** The IP address, `127.0.0.1` or `::1` style, never a host name. */
  readonly hostname: string;
  readonly port: number;
}

/** A Unix domain socket endpoint. */
export interface UnixAddr {
  readonly transport: "unix";
  /** The socket file's path; empty for an unnamed client socket. */
  readonly path: string;
}

/** Where a connection or listener is. */
export type Addr = NetAddr | UnixAddr;

/** A TLS server's certificate and key (PEM), and the ALPN protocols it offers. */
export interface TlsServerOptions {
  readonly cert: string;
  readonly key: string;
  readonly alpn?: readonly string[];
}

/** How a TLS client checks the server, and the ALPN protocols it asks for. */
export interface TlsClientOptions {
  /** Trusted CA certificates (PEM); the runtime's own store when absent. */
  readonly caCerts?: readonly string[];
  /** The name the certificate must cover (and SNI); the host name by default. */
  readonly serverName?: string;
  readonly alpn?: readonly string[];
}

/** Options a transport needs to open a connection: a TCP address or a Unix socket path. */
export type TransportConnectOptions =
  & ({
    readonly hostname: string;
    readonly port: number;
    readonly path?: undefined;
    /** Complete a TLS handshake before resolving. */
    readonly tls?: TlsClientOptions;
  } | {
    readonly path: string;
    readonly tls?: undefined;
  })
  & {
    /** Aborts the attempt; the transport rejects with the signal's reason. */
    readonly signal?: AbortSignal;
  };

/** Options a transport needs to open a listener: a TCP address or a Unix socket path. */
export type TransportListenOptions =
  | {
    readonly hostname: string;
    readonly port: number;
    readonly reusePort?: boolean;
    readonly path?: undefined;
    /** Accept TLS connections; their handshake runs in `RawConn.handshake()`. */
    readonly tls?: TlsServerOptions;
  }
  | {
    readonly path: string;
    readonly tls?: undefined;
    /** Remove the socket file first: the core has checked that nothing listens on it. */
    readonly replaceStale?: boolean;
  };

/**
 * Where {@linkcode RawConn.read} delivers: exactly one method is called,
 * once, possibly before `read()` returns.
 */
export interface ReadHandler {
  /** The next chunk (it belongs to the handler), or `null` once the peer has sent FIN. */
  chunk(bytes: Uint8Array | null): void;
  /** The read failed, with an error from `src/errors.ts`. */
  error(error: unknown): void;
}

/**
 * Where {@linkcode RawConn.write} reports a write it did not finish at once:
 * exactly one method is called, once, never before `write()` returns.
 */
export interface WriteHandler {
  /** The runtime took every byte. */
  written(): void;
  /** The write failed, with an error from `src/errors.ts`. */
  error(error: unknown): void;
}

/**
 * `raw.write(bytes)` as a promise, for the few writes outside a connection's
 * queue (a busy reply to a refused connection).
 *
 * @param raw The connection, with no write in progress.
 * @param bytes The bytes.
 * @returns Settles once the runtime took every byte.
 */
export function writeRaw(raw: RawConn, bytes: Uint8Array): Promise<void> {
  return new Promise((written, error) => {
    if (raw.write(bytes, { written, error })) written();
  });
}

/**
 * Told once when a connection's socket is gone, whether or not a read or a
 * write waits: the peer reset it, or it closed (by either side). A socket
 * whose peer only half-closed (FIN) is not gone.
 */
export interface CloseWatcher {
  /** @param error Why it failed (an error from `src/errors.ts`), or `undefined` for a clean close. */
  socketClosed(error: Error | undefined): void;
}

/**
 * One native connection, seen through a pull interface. Reads pause the
 * socket while nobody reads; writes finish once every byte is taken.
 * Failures are errors from `src/errors.ts`, never native ones.
 *
 * Both directions are synchronous where the runtime allows: a read of bytes
 * already received calls its handler at once, and a write the runtime takes
 * whole returns `true`. A message then costs the core no promise of the
 * transport's: what is left is the caller's own `await`. Where the runtime
 * answers later (Deno's ops), the transport calls the core's handler from its
 * one promise callback: no promise of the core's is chained onto it.
 */
export interface RawConn {
  readonly localAddr: Addr;
  readonly remoteAddr: Addr;
  /** Asks for the next chunk, delivered to `handler`. Never called again before that. */
  read(handler: ReadHandler): void;
  /**
   * Optional, where the runtime reads into memory it is given (Deno): like
   * `read()`, into the start of `buffer`, delivering a view of it; a pipe
   * from such a connection reuses one buffer instead of a new chunk per read.
   */
  readInto?(buffer: Uint8Array, handler: ReadHandler): void;
  /**
   * Hands bytes to the runtime, retrying partial writes and waiting for drain:
   * `true` when it took every byte at once, else `false`, and `handler` is
   * told once it has (or the write failed, a closed socket included). The
   * bytes must not change afterwards. Never called again before that.
   */
  write(bytes: Uint8Array, handler: WriteHandler): boolean;
  /**
   * Optional, where the runtime may keep a reference to bytes it has taken
   * (Node): settles once it holds none, so that their memory may be reused.
   * Without it, taken bytes are sent or copied already. Called between writes.
   */
  flush?(): Promise<void> | undefined;
  /** Sends FIN once written bytes are out; reading goes on. */
  closeWrite(): Promise<void>;
  /** Closes both directions after written bytes are out. */
  close(): Promise<void>;
  /** Closes at once, with a reset where the runtime allows it. */
  abort(): void;
  /**
   * Asks to be told when the socket is gone, even while nobody reads or
   * writes (called once, right after the connection is wrapped). A transport
   * that learns of a dead socket only through a pending read (Deno) reads
   * ahead, boundedly, while nobody reads.
   */
  watch(watcher: CloseWatcher): void;
  setNoDelay(on: boolean): void;
  setKeepAlive(on: boolean, delayMs?: number): void;
  ref(): void;
  unref(): void;
  /**
   * Lets a timer of this connection's (a timeout the core set) not keep the
   * process alive on its own: the socket, while referenced, does.
   */
  unrefTimer(timer: ReturnType<typeof setTimeout>): void;
  /**
   * TLS only: completes the handshake (accepted connections) or reports the
   * one `connect` completed; resolves with the ALPN protocol agreed on.
   */
  handshake?(): Promise<{ alpnProtocol: string | null }>;
  /**
   * Upgrades to TLS as the client; resolves once the handshake is done, with
   * the connection to use from then on. Refused while unread plaintext is buffered.
   */
  startTls?(options: TlsClientOptions & { readonly hostname: string }): Promise<RawConn>;
  /**
   * Upgrades to TLS as the server; the handshake completes in the returned
   * connection's `handshake()`. Refused while unread plaintext is buffered,
   * unless `received` is given: then the bytes received so far are the start
   * of the TLS stream (TLS right after a PROXY header) and go to TLS first,
   * `received` (what the caller has read) before what the transport holds.
   */
  startTlsServer?(options: TlsServerOptions, received?: Uint8Array): Promise<RawConn>;
}

/** A listening socket whose connections are taken one at a time. */
export interface RawListener {
  readonly addr: Addr;
  /**
   * The next accepted connection, or `null` once the listener is closed.
   * Rejects with the error of a failed accept (`EMFILE`, `ENFILE`, `ENOBUFS`
   * ...: a `TcpError` whose `code` says which); the listener stays usable and
   * `accept()` may be called again. Once the listening socket itself has
   * failed, every call rejects with a `ConnectionClosedError` whose `cause`
   * is that failure.
   */
  accept(): Promise<RawConn | null>;
  /** Stops accepting; connections already accepted are not touched. */
  close(): Promise<void>;
  ref(): void;
  unref(): void;
}

/** A runtime's sockets, as tcpkit's core uses them. */
export interface Transport {
  readonly name: string;
  readonly caps: TransportCaps;
  connect(options: TransportConnectOptions): Promise<RawConn>;
  listen(options: TransportListenOptions): Promise<RawListener>;
}
