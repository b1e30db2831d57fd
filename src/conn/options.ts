/**
 * What a connection is given: its limits and timeouts ({@linkcode ConnOptions}),
 * checked once where a server or client takes them, and the option types of
 * its calls.
 *
 * @module
 */
import type { TlsClientOptions, TlsServerOptions } from "../transport.ts";

/** Options of {@linkcode Conn.startTls}: the client's checks, or the server's certificate. */
export type StartTlsOptions =
  | (TlsClientOptions & { isServer?: false })
  | (TlsServerOptions & {
    isServer: true;
    /**
     * The bytes received so far are the start of the TLS stream, as when a
     * balancer's PROXY header comes right before the client's handshake:
     * they go to TLS instead of the upgrade being refused. Not for STARTTLS:
     * there, bytes that came before the upgrade are plaintext.
     */
    handOverBuffered?: boolean;
  });

/** Bytes, or text that is sent as UTF-8. */
export type WriteData = Uint8Array | string;

/** Limits and timeouts of one connection. Timeouts are in milliseconds; unset means none. */
export interface ConnOptions {
  /** Closes the connection when no byte moves either way for this long. */
  idleTimeout?: number;
  /** Closes the connection when one read call (a chunk, a line, a frame) waits this long. */
  readTimeout?: number;
  /** Closes the connection when the runtime takes none of a pending write's bytes for this long. */
  writeTimeout?: number;
  /**
   * `write()` resolves at once while no more than this many bytes wait to be
   * sent; past it, once its own bytes are sent.
   * @default {65536}
   */
  writeHighWaterMark?: number;
  /**
   * The most bytes that may wait to be sent; a write past it fails with `BufferFullError`.
   * @default {16777216}
   */
  maxWriteBuffer?: number;
  /**
   * The most bytes `readExact()` and `readFrame()` may buffer; past it, `FrameTooLargeError`.
   * @default {16777216}
   */
  maxReadBuffer?: number;
  /**
   * How long `close()` may take to send what is pending before it cuts the
   * connection (`abort()`) and rejects with `TimeoutError`: a peer that
   * stopped reading cannot hold a connection, and its buffer, forever. `0`
   * for no bound.
   * @default {30000}
   */
  closeTimeout?: number;
}

/**
 * Checks the limits and timeouts of {@linkcode ConnOptions}.
 *
 * @param options The options.
 * @throws {RangeError} When one is not a non-negative number.
 */
export function checkConnOptions(options: ConnOptions): void {
  for (
    const name of [
      "idleTimeout",
      "readTimeout",
      "writeTimeout",
      "writeHighWaterMark",
      "maxWriteBuffer",
      "maxReadBuffer",
      "closeTimeout",
    ] as const
  ) {
    const value = options[name];
    if (value !== undefined && (typeof value !== "number" || !(value >= 0))) {
      throw new RangeError(
        `Cannot use ${name}: it must be a non-negative number (got ${JSON.stringify(value)})`,
      );
    }
  }
}
