/**
 * `connect()`: opens a TCP connection with a timeout and an `AbortSignal`,
 * the same on every runtime.
 *
 * @module
 */
import { checkConnOptions, Conn, type ConnOptions } from "./conn.ts";
import { AbortError, ConnectionRefusedError, TimeoutError } from "./errors.ts";
import { checkPort } from "./_address.ts";
import type { Transport } from "./transport.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends ConnOptions {
  /**
   * The host name or IP address. `localhost` tries 127.0.0.1, then ::1.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port, 1 to 65535. */
  port: number;
  /** Gives up on the attempt after this many milliseconds, with `TimeoutError`. */
  timeout?: number;
  /** Cancels the attempt with `AbortError`. */
  signal?: AbortSignal;
  /**
   * Sends small writes at once (turns Nagle's algorithm off).
   * @default {true}
   */
  noDelay?: boolean;
  /** The transport; `mod.ts` defaults to the runtime's own. */
  transport?: Transport;
}

/**
 * Opens a TCP connection.
 *
 * @param options Where to, and how.
 * @returns The open connection.
 * @throws {ConnectionRefusedError} When nothing listens there.
 * @throws {HostNotFoundError} When the host name does not resolve.
 * @throws {TimeoutError} When `timeout` passes first.
 * @throws {AbortError} When `signal` aborts first.
 */
export async function connect(options: ConnectOptions): Promise<Conn> {
  const { hostname = "127.0.0.1", port, timeout, signal, noDelay = true, transport } = options;
  if (!transport) throw new TypeError("Cannot connect: no transport given");
  checkPort(port, "connect");
  checkConnOptions(options);
  if (port === 0) {
    throw new RangeError(`Cannot connect to ${hostname}:0: port must be between 1 and 65535`);
  }
  const target = `${hostname}:${port}`;
  const signals = [signal, timeout === undefined ? undefined : AbortSignal.timeout(timeout)]
    .filter((s): s is AbortSignal => s !== undefined);
  const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const reason = () =>
    signal?.aborted
      ? new AbortError(`Cannot connect to ${target}: aborted`, { cause: signal.reason })
      : new TimeoutError(`Cannot connect to ${target}: no answer within ${timeout} ms`);
  if (combined?.aborted) throw reason();
  const attempt = async (candidate: string) => {
    try {
      const raw = await transport.connect({ hostname: candidate, port, signal: combined });
      if (combined?.aborted) raw.abort();
      else return raw;
    } catch (error) {
      if (!combined?.aborted) throw error;
    }
    throw reason();
  };
  // "localhost" may resolve to ::1 or 127.0.0.1 first depending on the runtime: try both.
  const raw = hostname === "localhost"
    ? await attempt("127.0.0.1").catch((error) => {
      if (error instanceof ConnectionRefusedError) return attempt("::1");
      throw error;
    })
    : await attempt(hostname);
  raw.setNoDelay(noDelay);
  return new Conn(raw, options);
}
