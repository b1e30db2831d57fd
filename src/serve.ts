/**
 * `serve()`: a TCP server that runs a handler for each connection, isolates
 * failures to their connection, and shuts down in phases.
 *
 * @module
 */
import { checkPort } from "./_address.ts";
import { Conn } from "./conn.ts";
import { AbortError, UnsupportedError } from "./errors.ts";
import type { NetAddr, RawListener, Transport } from "./transport.ts";

/** Runs for each accepted connection; the connection closes when it settles. */
export type Handler = (conn: Conn) => void | Promise<void>;

/** Options for {@linkcode serve}. */
export interface ServeOptions {
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
  /** Runs for each connection. When it returns or throws, the connection is closed. */
  handler: Handler;
  /** Lets several processes listen on the port (`caps.reusePort`). */
  reusePort?: boolean;
  /** Shuts the server down when aborted. */
  signal?: AbortSignal;
  /** Called with a handler's error; the failing connection is closed, the server goes on. */
  onError?: (error: unknown, conn: Conn) => void;
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
  accepted: number;
  active: number;
  closed: number;
  errors: number;
}

/** Why handlers' `conn.signal` aborts at shutdown. */
export class ShutdownSignal extends AbortError {
  /** @param message */
  constructor(message = "The server is shutting down") {
    super(message);
  }
}

/** A running TCP server. */
export class Server implements AsyncDisposable {
  /** The address it listens on, with the real port when `port` was 0. */
  readonly addr: NetAddr;
  /** Counters since the server started. */
  readonly stats: ServerStats = { accepted: 0, active: 0, closed: 0, errors: 0 };
  /** Settles once the server has shut down. */
  readonly finished: Promise<ShutdownResult>;

  #listener: RawListener;
  #options: ServeOptions;
  #connections = new Map<Conn, Promise<void>>();
  #shutdown: Promise<ShutdownResult> | undefined;
  #resolveFinished!: (result: ShutdownResult) => void;

  /** @param listener The transport's listener. @param options The server's options. */
  constructor(listener: RawListener, options: ServeOptions) {
    this.#listener = listener;
    this.#options = options;
    this.addr = listener.addr;
    this.finished = new Promise((resolve) => (this.#resolveFinished = resolve));
    options.signal?.addEventListener("abort", () => void this.shutdown(), { once: true });
    void this.#acceptLoop();
  }

  /** The open connections. */
  get connections(): ReadonlySet<Conn> {
    return new Set(this.#connections.keys());
  }

  /**
   * Shuts down in phases: stops accepting, aborts each handler's
   * `conn.signal` with a {@linkcode ShutdownSignal}, waits for connections
   * until the deadline, then aborts the rest.
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
    await this.#listener.close();
    const open = [...this.#connections];
    for (const [conn] of open) conn.requestEnd(new ShutdownSignal());
    let timer: ReturnType<typeof setTimeout> | undefined;
    const deadline = new Promise<void>((resolve) => (timer = setTimeout(resolve, deadlineMs)));
    const ended = new Set<Conn>();
    await Promise.race([
      Promise.all(open.map(([conn, done]) => done.then(() => void ended.add(conn)))),
      deadline,
    ]);
    clearTimeout(timer);
    let aborted = 0;
    for (const [conn] of open) {
      if (ended.has(conn)) continue;
      aborted++;
      conn.abort(new ShutdownSignal("The shutdown deadline passed"));
    }
    const result = { finished: open.length - aborted, aborted };
    this.#resolveFinished(result);
    return result;
  }

  async #acceptLoop(): Promise<void> {
    for (;;) {
      let raw;
      try {
        raw = await this.#listener.accept();
      } catch (error) {
        this.#report(error, undefined);
        continue;
      }
      if (raw === null) return;
      const conn = new Conn(raw);
      this.stats.accepted++;
      this.stats.active++;
      this.#connections.set(conn, this.#handle(conn));
    }
  }

  async #handle(conn: Conn): Promise<void> {
    try {
      await this.#options.handler(conn);
      await conn.close();
    } catch (error) {
      this.#report(error, conn);
      conn.abort(error);
    } finally {
      this.#connections.delete(conn);
      this.stats.active--;
      this.stats.closed++;
    }
  }

  #report(error: unknown, conn: Conn | undefined): void {
    this.stats.errors++;
    if (!conn || !this.#options.onError) return;
    try {
      this.#options.onError(error, conn);
    } catch { /* an error hook must not take the server down */ }
  }
}

/**
 * Starts a TCP server.
 *
 * @param options Where to listen and what to run for each connection.
 * @returns The running server.
 * @throws {AddressInUseError} When the address is taken.
 * @throws {UnsupportedError} When `reusePort` is asked for and the runtime lacks it.
 */
export async function serve(options: ServeOptions): Promise<Server> {
  const { hostname = "127.0.0.1", port = 0, transport, reusePort } = options;
  if (!transport) throw new TypeError("Cannot serve: no transport given");
  if (typeof options.handler !== "function") {
    throw new TypeError("Cannot serve: handler must be a function");
  }
  checkPort(port, "serve");
  if (reusePort && transport.caps.reusePort === "unsupported") {
    throw new UnsupportedError(
      `Cannot listen with reusePort: the ${transport.name} transport does not support it here`,
    );
  }
  options.signal?.throwIfAborted();
  const listener = await transport.listen({ hostname, port, reusePort });
  return new Server(listener, options);
}
