/**
 * `connect()`: opens a TCP connection with a timeout and an `AbortSignal`,
 * the same on every runtime.
 *
 * @module
 */
import { Conn } from "./conn/conn.ts";
import { checkConnOptions, type ConnOptions } from "./conn/options.ts";
import { AbortError, ConnectionRefusedError, TimeoutError, UnsupportedError } from "./errors.ts";
import { checkPort, describeTarget } from "./_address.ts";
import { encodeProxyHeader } from "./proxy/encode.ts";
import type { ProxyHeader } from "./proxy/header.ts";
import type { RawConn, TlsClientOptions, Transport, TransportConnectOptions } from "./transport.ts";

/** Options for {@linkcode connect}. */
export interface ConnectOptions extends ConnOptions {
  /**
   * The host name or IP address. `localhost` tries 127.0.0.1, then ::1.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** The port, 1 to 65535 (not with `path`). */
  port?: number;
  /** A Unix domain socket to connect to, instead of `hostname` and `port`. */
  path?: string;
  /** Gives up on the attempt after this many milliseconds, with `TimeoutError`. */
  timeout?: number;
  /** Cancels the attempt with `AbortError`. */
  signal?: AbortSignal;
  /**
   * Sends small writes at once (turns Nagle's algorithm off).
   * @default {true}
   */
  noDelay?: boolean;
  /**
   * Speak TLS: `true` checks the server against the runtime's trusted CAs
   * and the host name; an object sets `caCerts`, `serverName`, `alpn`.
   */
  tls?: boolean | TlsClientOptions;
  /**
   * Sends this PROXY protocol header first (for tests, and to chain through
   * balancers); with `tls`, TLS starts after it.
   */
  proxyHeader?: ProxyHeader;
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
  const { hostname = "127.0.0.1", port, path, timeout, signal, noDelay = true, transport } =
    options;
  if (!transport) throw new TypeError("Cannot connect: no transport given");
  checkConnOptions(options);
  if (path !== undefined && options.tls) {
    throw new UnsupportedError(
      `Cannot connect to unix socket ${path} with TLS: tcpkit speaks TLS over TCP only`,
    );
  }
  if (path === undefined) {
    checkPort(port, "connect");
    if (port === 0) {
      throw new RangeError(`Cannot connect to ${hostname}:0: port must be between 1 and 65535`);
    }
  }
  const target = describeTarget(path === undefined ? { hostname, port: port! } : { path });
  const signals = [signal, timeout === undefined ? undefined : AbortSignal.timeout(timeout)]
    .filter((s): s is AbortSignal => s !== undefined);
  const combined = signals.length > 0 ? AbortSignal.any(signals) : undefined;
  const reason = () =>
    signal?.aborted
      ? new AbortError(`Cannot connect to ${target}: aborted`, { cause: signal.reason })
      : new TimeoutError(`Cannot connect to ${target}: no answer within ${timeout} ms`, {
        timeout: "connect",
      });
  if (combined?.aborted) throw reason();
  const attempt = async (to: TransportConnectOptions) => {
    const opening = transport.connect({ ...to, signal: combined });
    try {
      // Raced here, whatever the transport does with the signal: a socket that
      // opens after the attempt was given up is closed at once, never leaked.
      const raw = await untilAborted(opening, combined, (late) => late.abort());
      if (combined?.aborted) raw.abort();
      else return raw;
    } catch (error) {
      if (!combined?.aborted) throw error;
    }
    throw reason();
  };
  const tls = options.tls === true ? {} : options.tls || undefined;
  // With a PROXY header, TLS starts after it, on the plaintext connection.
  const tlsAfterHeader = options.proxyHeader ? tls : undefined;
  const tlsAtOnce = options.proxyHeader ? undefined : tls;
  let raw: RawConn;
  if (path !== undefined) raw = await attempt({ path });
  else {
    if (hostname !== "localhost") raw = await attempt({ hostname, port: port!, tls: tlsAtOnce });
    else {
      // "localhost" may resolve to ::1 or 127.0.0.1 first depending on the runtime: try both.
      const secure = tlsAtOnce && { ...tlsAtOnce, serverName: tlsAtOnce.serverName ?? "localhost" };
      raw = await attempt({ hostname: "127.0.0.1", port: port!, tls: secure }).catch((error) => {
        if (error instanceof ConnectionRefusedError) {
          return attempt({ hostname: "::1", port: port!, tls: secure });
        }
        throw error;
      });
    }
  }
  if (path === undefined) raw.setNoDelay(noDelay);
  const conn = new Conn(raw, options);
  await conn.handshake();
  if (options.proxyHeader) {
    await conn.write(encodeProxyHeader(options.proxyHeader));
    if (tlsAfterHeader) {
      await conn.startTls({ ...tlsAfterHeader, serverName: tlsAfterHeader.serverName ?? hostname });
    }
  }
  return conn;
}

/**
 * Settles as `attempt` does, or rejects once `signal` aborts; what the
 * attempt yields after that goes to `discard`.
 */
function untilAborted<T>(
  attempt: Promise<T>,
  signal: AbortSignal | undefined,
  discard: (late: T) => void,
): Promise<T> {
  if (!signal) return attempt;
  return new Promise<T>((resolve, reject) => {
    const onAbort = () => {
      reject(signal.reason);
      attempt.then(discard, () => {});
    };
    if (signal.aborted) return onAbort();
    signal.addEventListener("abort", onAbort, { once: true });
    attempt.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
