/**
 * Every error tcpkit throws for a condition callers may catch. Each has a
 * stable `name` and `code`, and the native error, if any, as `cause`; the
 * class is the same on Deno, Bun and Node.
 *
 * Bad arguments are plain `TypeError` or `RangeError`.
 *
 * @module
 */

/** The base class of tcpkit's errors: `catch (e) { if (e instanceof TcpError) ... }`. */
export class TcpError extends Error {
  /** A stable, machine-readable code such as `"ECONNREFUSED"`. */
  readonly code: string;

  /**
   * @param message What happened, with the values involved.
   * @param code The stable code.
   * @param options `cause`: the underlying error.
   */
  constructor(message: string, code: string, options?: ErrorOptions) {
    super(message, options);
    this.name = new.target.name;
    this.code = code;
  }
}

/** Nothing listens at the address (`ECONNREFUSED`). */
export class ConnectionRefusedError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ECONNREFUSED", options);
  }
}

/** The peer reset the connection (`ECONNRESET`, `EPIPE`). */
export class ConnectionResetError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ECONNRESET", options);
  }
}

/** The connection is closed: it cannot be used for this any more. */
export class ConnectionClosedError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ECLOSED", options);
  }
}

/** The address is taken by another listener (`EADDRINUSE`). */
export class AddressInUseError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "EADDRINUSE", options);
  }
}

/** A host name did not resolve to an address (`ENOTFOUND`). */
export class HostNotFoundError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ENOTFOUND", options);
  }
}

/** Which limit a {@linkcode TimeoutError} hit. */
export type TimeoutKind = "connect" | "idle" | "read" | "write" | "handshake" | "close";

/** An operation ran out of time; `timeout` says which limit. */
export class TimeoutError extends TcpError {
  /** Which limit expired, when tcpkit set it. */
  readonly timeout: TimeoutKind | undefined;

  /** @param message @param options `timeout`: which limit. */
  constructor(message: string, options?: ErrorOptions & { timeout?: TimeoutKind }) {
    super(message, "ETIMEDOUT", options);
    this.timeout = options?.timeout;
  }
}

/** A write would queue more bytes than the connection's `maxWriteBuffer`. */
export class BufferFullError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "EBUFFERFULL", options);
  }
}

/** An operation was cancelled through an `AbortSignal`. */
export class AbortError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ABORT_ERR", options);
  }
}

/** The runtime lacks a capability that was asked for. */
export class UnsupportedError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ENOTSUP", options);
  }
}

/** Any other failure of the operating system or runtime, with its code kept. */
export class SystemError extends TcpError {}

/**
 * Turns a native socket error from any runtime into a tcpkit error.
 * Recognises Node and Bun `code` strings and the names of Deno's error classes.
 *
 * @param error The native error.
 * @param context What was being done, such as `connect to 127.0.0.1:1`.
 * @returns A {@linkcode TcpError} whose `cause` is the native error.
 */
export function toTcpError(error: unknown, context: string): TcpError {
  if (error instanceof TcpError) return error;
  const native = error as { code?: unknown; name?: unknown; message?: unknown } | null;
  const code = typeof native?.code === "string" ? native.code : "";
  const name = typeof native?.name === "string" ? native.name : "";
  const detail = typeof native?.message === "string" ? native.message : String(error);
  const options = { cause: error };
  const say = (what: string) => `Cannot ${context}: ${what}`;
  switch (code || name) {
    case "ECONNREFUSED":
    case "ConnectionRefused":
      return new ConnectionRefusedError(say("connection refused"), options);
    case "ECONNRESET":
    case "EPIPE":
    case "ConnectionReset":
    case "BrokenPipe":
      return new ConnectionResetError(say("connection reset by peer"), options);
    case "EADDRINUSE":
    case "AddrInUse":
      return new AddressInUseError(say("address already in use"), options);
    case "ENOTFOUND":
    case "EAI_AGAIN":
    case "EAI_NONAME":
      return new HostNotFoundError(say("host not found"), options);
    case "ETIMEDOUT":
    case "TimedOut":
      return new TimeoutError(say("timed out"), options);
    case "BadResource":
    case "NotConnected":
    case "ERR_SOCKET_CLOSED":
    case "ERR_STREAM_DESTROYED":
    case "ERR_STREAM_WRITE_AFTER_END":
      return new ConnectionClosedError(say("the connection is closed"), options);
  }
  if (/failed to lookup address|Name or service not known|getaddrinfo/i.test(detail)) {
    return new HostNotFoundError(say("host not found"), options);
  }
  return new SystemError(say(detail), code || name || "EUNKNOWN", options);
}

/** A frame is longer than the codec's maximum. */
export class FrameTooLargeError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "EFRAMETOOLARGE", options);
  }
}

/** The stream ended inside a frame. */
export class TruncatedFrameError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ETRUNCATEDFRAME", options);
  }
}

/** A frame's length or header is invalid. */
export class CorruptFrameError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ECORRUPTFRAME", options);
  }
}

/** Bytes are not valid text in the chosen encoding. */
export class DecodeError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "EDECODE", options);
  }
}

/** A connection did not start with a valid PROXY protocol header. */
export class ProxyProtocolError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "EPROXYPROTOCOL", options);
  }
}

/**
 * A TLS handshake failed; the message names why (an untrusted certificate,
 * a host name the certificate does not cover, a peer that does not speak TLS).
 */
export class TlsError extends TcpError {
  /** @param message @param options */
  constructor(message: string, options?: ErrorOptions) {
    super(message, "ETLS", options);
  }
}

/**
 * Turns a native TLS failure from any runtime into a {@linkcode TlsError}
 * whose message says which kind it is.
 *
 * @param error The native error.
 * @param context What was being done, such as `connect to localhost:8443`.
 * @returns The error.
 */
export function toTlsError(error: unknown, context: string): TcpError {
  if (error instanceof TcpError && !(error instanceof SystemError)) return error;
  const native = error as { code?: unknown; message?: unknown } | null;
  const text = `${typeof native?.code === "string" ? native.code : ""} ${
    String(native?.message ?? error)
  }`;
  const reason = /ALTNAME|NotValidForName|host ?name|does not match|not valid for/i.test(text)
    ? "the certificate does not cover the host name"
    : /SELF_SIGNED|UNABLE_TO_VERIFY|UnknownIssuer|unknown ?ca|untrusted|issuer|CERT_UNTRUSTED/i
        .test(text)
    ? "the certificate is not trusted (unknown issuer or self-signed)"
    : /EXPIRED|Expired/i.test(text)
    ? "the certificate has expired"
    : /wrong version|WRONG_VERSION|record|packet length|not a tls|InvalidContentType|CorruptMessage|http request/i
        .test(text)
    ? "the peer does not speak TLS on this port"
    : /ECONNRESET|reset|EOF|closed|socket hang up|UnexpectedEof/i.test(text)
    ? "the peer closed the connection during the handshake"
    : String(native?.message ?? error);
  return new TlsError(`Cannot ${context}: TLS handshake failed: ${reason}`, { cause: error });
}
