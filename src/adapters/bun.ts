/**
 * The Bun transport, on `Bun.listen` and `Bun.connect`. Bun's `write()` takes
 * what the kernel accepts and keeps nothing, so the rest is re-sent on
 * `drain`; half-close is `shutdown()` (Bun's `end()` closes the whole socket).
 *
 * @example Pin the Bun transport
 * ```ts ignore
 * import { serve } from "@tcpkit/tcpkit/bun";
 * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
 * ```
 *
 * @module
 */
import { TlsError, toTcpError, toTlsError, UnsupportedError } from "../errors.ts";
import { rmSync } from "node:fs";
import { describeTarget } from "../_address.ts";
import { failLater, PushedReads, socketError } from "./_pushed_reads.ts";
import { AcceptQueue } from "./_accept_queue.ts";
import type {
  Addr,
  CloseWatcher,
  RawConn,
  RawListener,
  TlsClientOptions,
  Transport,
  WriteHandler,
} from "../transport.ts";
import { bindTransport, type BoundApi } from "../bind.ts";

interface BunSocket {
  upgradeTLS(options: {
    tls: { serverName?: string; ca?: string[]; ALPNProtocols?: string };
    socket: BunHandlers;
  }): [BunSocket, BunSocket];
  data: SocketState;
  readonly localAddress: string | undefined;
  readonly localPort: number | undefined;
  readonly remoteAddress: string | undefined;
  readonly remotePort: number | undefined;
  readonly alpnProtocol: string | false | null;
  write(bytes: Uint8Array): number;
  shutdown(): void;
  end(): void;
  terminate(): void;
  pause(): void;
  resume(): void;
  setNoDelay(on?: boolean): boolean;
  setKeepAlive(on?: boolean, delayMs?: number): boolean;
  ref(): void;
  unref(): void;
}
interface BunHandlers {
  open(socket: BunSocket): void;
  data(socket: BunSocket, chunk: Uint8Array): void;
  drain(socket: BunSocket): void;
  end(socket: BunSocket): void;
  close(socket: BunSocket, error?: Error): void;
  error(socket: BunSocket, error: Error): void;
  handshake(socket: BunSocket, success: boolean, error: Error | null): void;
}
interface BunListener {
  readonly hostname: string;
  readonly port: number;
  stop(closeActive?: boolean): void;
  ref(): void;
  unref(): void;
}
type BunWhere =
  | {
    hostname: string;
    port: number;
    reusePort?: boolean;
    exclusive?: boolean;
    tls?: {
      cert?: string;
      key?: string;
      ca?: string[];
      serverName?: string;
      ALPNProtocols?: string;
    };
  }
  | { unix: string };
interface BunApi {
  listen(options: BunWhere & { allowHalfOpen?: boolean; socket: BunHandlers }): BunListener;
  connect(options: BunWhere & { allowHalfOpen?: boolean; socket: BunHandlers }): Promise<BunSocket>;
}

function bun(): BunApi {
  const api = (globalThis as { Bun?: BunApi }).Bun;
  if (!api) throw new UnsupportedError("Cannot use the Bun transport: this runtime is not Bun");
  return api;
}

/** Chunks up to this size are copied into a plain Uint8Array rather than viewed. */
const COPY_MAX = 4096;

/** Per-socket state, kept on `socket.data`; it is the socket's `RawConn`. */
class SocketState extends PushedReads implements RawConn {
  localAddr: Addr;
  remoteAddr: Addr;
  #path: string | undefined;
  #socket: BunSocket;
  #ended = false;
  #closed = false;
  #failure: unknown;
  /** The rest of a write Bun did not take at once, and whom it tells. */
  #writer: { bytes: Uint8Array; handler: WriteHandler } | null = null;

  /** TLS only: settles when Bun reports the handshake. */
  handshake?: () => Promise<{ alpnProtocol: string | null }>;
  #handshakeDone?: (success: boolean, error: Error | null) => void;

  constructor(
    socket: BunSocket,
    path?: string,
    tlsContext?: string,
    dialled?: { hostname: string; port: number },
  ) {
    super();
    this.#socket = socket;
    if (tlsContext !== undefined) {
      const done = new Promise<{ alpnProtocol: string | null }>((resolve, reject) => {
        this.#handshakeDone = (success, error) =>
          success
            ? resolve({ alpnProtocol: socket.alpnProtocol || null })
            : reject(toTlsError(error ?? new Error("closed"), tlsContext));
      });
      done.catch(() => {});
      this.handshake = () => done;
    }
    this.#path = path;
    if (path !== undefined) {
      this.localAddr = { transport: "unix", path };
      this.remoteAddr = { transport: "unix", path: "" };
    } else {
      // A socket reset before it opened has no addresses any more: fall back to the one dialled.
      this.localAddr = {
        transport: "tcp",
        hostname: socket.localAddress ?? "",
        port: socket.localPort ?? 0,
      };
      this.remoteAddr = {
        transport: "tcp",
        hostname: socket.remoteAddress ?? dialled?.hostname ?? "",
        port: socket.remotePort ?? dialled?.port ?? 0,
      };
    }
  }

  /** For messages; made when needed (a string per idle connection otherwise). */
  get #peer(): string {
    const addr = this.remoteAddr;
    return addr.transport === "unix"
      ? `unix socket ${this.#path}`
      : `${addr.hostname}:${addr.port}`;
  }

  onData(chunk: Uint8Array): void {
    if (this.#upgraded) return; // the TLS socket has taken over
    // A plain Uint8Array, not Bun's Buffer. Small chunks are copied: reading
    // `chunk.buffer` makes JavaScriptCore materialise an ArrayBuffer (~300 ns).
    this.pushed(
      chunk.length <= COPY_MAX
        ? new Uint8Array(chunk)
        : new Uint8Array(chunk.buffer, chunk.byteOffset, chunk.byteLength),
    );
  }

  onHandshake(success: boolean, error: Error | null): void {
    this.#handshakeDone?.(success, error);
  }

  onDrain(): void {
    if (this.#upgraded) return; // the TLS socket has taken over
    const writer = this.#writer;
    if (!writer) return;
    const n = this.#socket.write(writer.bytes);
    if (n < 0) {
      this.#writer = null;
      return writer.handler.error(this.#writeFailed());
    }
    if (n === writer.bytes.length) {
      this.#writer = null;
      writer.handler.written();
    } else writer.bytes = writer.bytes.subarray(n);
  }

  onEnd(): void {
    if (this.#upgraded) return; // the TLS socket has taken over
    this.#ended = true;
    this.wake();
  }

  onClose(error?: unknown): void {
    if (this.#upgraded) return; // the TLS socket has taken over
    this.#closed = true;
    this.#handshakeDone?.(false, (error as Error) ?? null);
    if (error !== undefined && this.#failure === undefined) this.#failure = error;
    this.onEnd();
    const writer = this.#writer;
    this.#writer = null;
    writer?.handler.error(this.#error("write to"));
    this.#closeWaiter?.();
    // Once: Bun may report both `error` and `close`.
    const watcher = this.#watcher;
    this.#watcher = undefined;
    watcher?.socketClosed(this.#failure === undefined ? undefined : this.#error("use"));
  }

  #watcher: CloseWatcher | undefined;

  watch(watcher: CloseWatcher): void {
    this.#watcher = watcher;
  }

  protected pauseSocket(): void {
    this.#socket.pause();
  }

  protected resumeSocket(): void {
    this.#socket.resume();
  }

  /** Bun reports a failure with the end of stream: reads go on until then. */
  protected endOfReads(): Error | null | undefined {
    if (!this.#ended) return undefined;
    return this.#failure !== undefined ? this.#error("read from") : null;
  }

  /**
   * Bun's write() returns -1 once the kernel refused the bytes; on a socket we did not close,
   * that is the peer's reset, which Bun may then report as a plain `end` and `close`.
   */
  #writeFailed(): Error {
    this.#failure ??= Object.assign(new Error("connection reset by peer, write"), {
      code: "ECONNRESET",
    });
    return this.#error("write to");
  }

  #error(what: string): Error {
    return socketError(this.#failure, `${what} ${this.#peer}`);
  }

  write(bytes: Uint8Array, handler: WriteHandler): boolean {
    if (this.#closed) return failLater(handler, this.#error("write to"));
    const n = this.#socket.write(bytes);
    if (n < 0) return failLater(handler, this.#writeFailed());
    if (n === bytes.length) return true;
    this.#writer = { bytes: bytes.subarray(Math.max(n, 0)), handler };
    return false;
  }

  closeWrite(): Promise<void> {
    if (this.#closed) return Promise.reject(this.#error("close writing to"));
    this.#socket.shutdown();
    return Promise.resolve();
  }

  #closeWaiter: (() => void) | null = null;

  close(): Promise<void> {
    if (this.#closed) return Promise.resolve();
    return new Promise((resolve) => {
      this.#closeWaiter = resolve;
      this.#socket.end();
    });
  }

  abort(): void {
    if (!this.#closed) this.#socket.terminate();
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
    (timer as unknown as { unref(): void }).unref();
  }

  #upgraded = false;

  startTlsServer(): Promise<RawConn> {
    const version = (globalThis as unknown as { Bun?: { version?: string } }).Bun?.version;
    return Promise.reject(
      new UnsupportedError(
        `Cannot start TLS as the server on Bun ${version}: Bun's upgradeTLS is client-only; ` +
          `serve with the node transport (tcpkit/node), which runs on Bun's node:tls`,
      ),
    );
  }

  async startTls(options: TlsClientOptions & { hostname: string }): Promise<RawConn> {
    if (this.unread > 0) {
      throw new TlsError(
        `Cannot start TLS with ${this.#peer}: ${this.unread} bytes of plaintext arrived before the upgrade and ` +
          `are unread (refused: they would be taken as sent over TLS)`,
      );
    }
    // Nothing unread means reading was not paused (it pauses only past READ_AHEAD).
    this.#upgraded = true;
    const context = `start TLS with ${this.#peer}`;
    let state: SocketState | undefined;
    this.#socket.upgradeTLS({
      tls: {
        serverName: options.serverName ?? options.hostname,
        ca: options.caCerts ? [...options.caCerts] : undefined,
        ALPNProtocols: alpnWire(options.alpn),
      },
      socket: handlers((s) => (state = s), undefined, context),
    });
    try {
      if (!state) throw new TlsError(`Cannot ${context}: Bun did not open the TLS socket`);
      await state.handshake!();
    } catch (error) {
      // The socket is TLS's now: a failed upgrade ends it, and the watcher hears why.
      state?.abort();
      this.#closed = true;
      this.#failure = error;
      const watcher = this.#watcher;
      this.#watcher = undefined;
      watcher?.socketClosed(error as Error);
      throw error;
    }
    return state;
  }
}

function handlers(
  onOpen: (state: SocketState) => void,
  path?: string,
  tlsContext?: string,
  dialled?: { hostname: string; port: number },
): BunHandlers {
  return {
    open(socket) {
      socket.data = new SocketState(socket, path, tlsContext, dialled);
      onOpen(socket.data);
    },
    data: (socket, chunk) => socket.data.onData(chunk),
    drain: (socket) => socket.data.onDrain(),
    end: (socket) => socket.data.onEnd(),
    close: (socket, error) => socket.data?.onClose(error),
    error: (socket, error) => socket.data?.onClose(error),
    handshake: (socket, success, error) => socket.data?.onHandshake(success, error),
  };
}

/** ALPN protocol names in the wire format Bun takes: each prefixed with its length. */
function alpnWire(protocols: readonly string[] | undefined): string | undefined {
  return protocols?.map((name) => String.fromCharCode(name.length) + name).join("");
}

/** The transport on Bun's native sockets. */
export const bunTransport: Transport = {
  name: "bun",
  caps: {
    halfClose: "native",
    reset: "native",
    peerReset: "native",
    reusePort: "native",
    unix: "native",
    startTlsClient: "native",
    // Bun's upgradeTLS is client-only; the node transport (tcpkit/node) can do it on Bun.
    startTlsServer: "unsupported",
    acceptRecovery: "native",
    keepAliveDelay: "native",
  },
  connect(options) {
    const { signal } = options;
    if (signal?.aborted) return Promise.reject(signal.reason);
    // Bun's connect cannot be aborted before it opens: a socket that opens
    // after its attempt was given up is closed at once.
    let state: SocketState | undefined;
    const opened = (s: SocketState) => {
      state = s;
      if (signal?.aborted) s.abort();
    };
    const secure = options.tls;
    const context = `connect to ${describeTarget(options)}`;
    const dialled = options.path === undefined
      ? { hostname: options.hostname, port: options.port }
      : undefined;
    const socket = handlers(opened, options.path, secure ? context : undefined, dialled);
    const attempt = (async () => {
      await bun().connect(
        options.path !== undefined ? { unix: options.path, allowHalfOpen: true, socket } : {
          hostname: options.hostname,
          port: options.port,
          allowHalfOpen: true,
          socket,
          tls: secure && {
            serverName: secure.serverName ?? options.hostname,
            ca: secure.caCerts ? [...secure.caCerts] : undefined,
            ALPNProtocols: alpnWire(secure.alpn),
          },
        },
      );
      await state!.handshake?.();
      return state!;
    })();
    return new Promise((resolve, reject) => {
      const onAbort = () => {
        state?.abort();
        reject(signal!.reason);
      };
      signal?.addEventListener("abort", onAbort, { once: true });
      attempt.then(
        (conn) => {
          signal?.removeEventListener("abort", onAbort);
          if (signal?.aborted) conn.abort();
          else resolve(conn);
        },
        (error) => {
          signal?.removeEventListener("abort", onAbort);
          state?.abort();
          reject(toTcpError(error, context));
        },
      );
    });
  },
  listen(options) {
    const accepted = new AcceptQueue<SocketState>((state) => state, (state) => state.abort());
    let server: BunListener;
    const socket = handlers(
      (state) => accepted.push(state),
      options.path,
      options.tls ? `accept TLS on ${describeTarget(options)}` : undefined,
    );
    try {
      if (options.path !== undefined) {
        if (options.replaceStale) rmSync(options.path, { force: true });
        server = bun().listen({ unix: options.path, allowHalfOpen: true, socket });
      } else {
        const { hostname, port, reusePort, tls } = options;
        server = bun().listen({
          hostname,
          port,
          reusePort,
          exclusive: !reusePort,
          allowHalfOpen: true,
          socket,
          tls: tls && { cert: tls.cert, key: tls.key, ALPNProtocols: alpnWire(tls.alpn) },
        });
      }
    } catch (error) {
      return Promise.reject(toTcpError(error, `listen on ${describeTarget(options)}`));
    }
    const listener: RawListener = {
      addr: options.path !== undefined
        ? { transport: "unix", path: options.path }
        : { transport: "tcp", hostname: server.hostname, port: server.port },
      accept: () => accepted.accept(),
      close() {
        if (accepted.close()) {
          server.stop(false);
          // Bun leaves the socket file behind; Node and Deno do not.
          if (options.path !== undefined) rmSync(options.path, { force: true });
        }
        return Promise.resolve();
      },
      ref: () => server.ref(),
      unref: () => server.unref(),
    };
    return Promise.resolve(listener);
  },
};

const api: BoundApi = bindTransport(bunTransport);
/** {@linkcode serve} on the Bun transport. */
export const serve: BoundApi["serve"] = api.serve;
/** {@linkcode connect} on the Bun transport. */
export const connect: BoundApi["connect"] = api.connect;
