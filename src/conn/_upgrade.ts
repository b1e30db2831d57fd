/**
 * A connection's upgrades: STARTTLS (when a plaintext connection may become
 * TLS, and the transport call that does it) and the PROXY protocol header
 * (its decoder, and the client it names). The connection runs them under its
 * deadlines; this module holds their policy.
 *
 * @module
 */
import type { ByteBuffer } from "../codec/byte_buffer.ts";
import type { Decoder } from "../codec/codec.ts";
import { ConnectionClosedError, TlsError, UnsupportedError } from "../errors.ts";
import { decodeProxyHeader, type DecodeProxyHeaderOptions } from "../proxy/decode.ts";
import type { ProxyHeader } from "../proxy/header.ts";
import type { Addr, RawConn } from "../transport.ts";
import type { StartTlsOptions } from "./options.ts";

/**
 * The transport call that upgrades `raw` to TLS, once the connection may be
 * upgraded: no read pending and no plaintext unread (STARTTLS command
 * injection), unless the buffered bytes are the TLS stream's start
 * (`handOverBuffered`, after a PROXY header).
 *
 * @param raw The plaintext transport connection.
 * @param options As `conn.startTls()`'s.
 * @param buffer The connection's unread bytes (taken when handed over).
 * @param reading Whether a read is pending.
 * @param peer The peer, for errors.
 * @param hostname The name a client checks the certificate for, unless `serverName`.
 * @returns The upgrade, to be called once pending writes are out.
 * @throws {TlsError} When plaintext is buffered. {@linkcode UnsupportedError} When the transport cannot.
 */
export function tlsUpgrade(
  raw: RawConn,
  options: StartTlsOptions,
  buffer: ByteBuffer,
  reading: boolean,
  peer: string,
  hostname: string,
): () => Promise<RawConn> {
  const handOver = options.isServer === true && options.handOverBuffered === true;
  if (buffer.length > 0 && !handOver) {
    throw new TlsError(
      `Cannot start TLS with ${peer}: ${buffer.length} bytes of plaintext arrived before the ` +
        `upgrade and are unread (refused: they would be taken as sent over TLS)`,
    );
  }
  if (reading) throw new TypeError(`Cannot start TLS with ${peer}: a read is pending`);
  const upgrade = options.isServer
    ? raw.startTlsServer &&
      (() => raw.startTlsServer!(options, handOver ? buffer.take(buffer.length) : undefined))
    : raw.startTls?.bind(raw, { ...options, hostname: options.serverName ?? hostname });
  if (!upgrade) {
    throw new UnsupportedError(
      `Cannot start TLS as the ${options.isServer ? "server" : "client"} with ${peer}: ` +
        `this runtime's transport cannot (see caps.startTls${
          options.isServer ? "Server" : "Client"
        })`,
    );
  }
  return upgrade;
}

/** @param options As `conn.readProxyHeader()`'s. @returns A decoder of one PROXY header. */
export function proxyHeaderDecoder(options: DecodeProxyHeaderOptions): Decoder<ProxyHeader> {
  return {
    decode: (buffer) => decodeProxyHeader(buffer, options),
    decodeEof: (buffer) => decodeProxyHeader(buffer, { ...options, eof: true }),
  };
}

/**
 * @param header The header read, or `null` when the stream ended first.
 * @param peer The peer, for the error.
 * @returns The client the header names (a `PROXY` command over TCP), else `undefined`.
 * @throws {ConnectionClosedError} When there is no header.
 */
export function proxiedClient(header: ProxyHeader | null, peer: string): Addr | undefined {
  if (header === null) {
    throw new ConnectionClosedError(
      `Cannot read PROXY header from ${peer}: the connection closed first`,
    );
  }
  if (header.command !== "PROXY" || (header.family !== "TCP4" && header.family !== "TCP6")) {
    return undefined;
  }
  return { transport: "tcp", hostname: header.source.hostname, port: header.source.port };
}
