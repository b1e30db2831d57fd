/**
 * The Deno transport, on `Deno.listen` and `Deno.connect`. It uses the
 * connection's `read()`, `write()` and `closeWrite()` only: Deno's own
 * streams close the whole connection at EOF, which would break half-close.
 *
 * @example Pin the Deno transport
 * ```ts ignore
 * import { serve } from "@tcpkit/tcpkit/deno";
 * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
 * ```
 *
 * @module
 */
import { ConnectionClosedError, toTcpError, UnsupportedError } from "../errors.ts";
import type { NetAddr, RawConn, RawListener, Transport } from "../transport.ts";
import { bindTransport, type BoundApi } from "../bind.ts";

interface DenoAddr {
  hostname: string;
  port: number;
}
interface DenoConn {
  readonly localAddr: DenoAddr;
  readonly remoteAddr: DenoAddr;
  read(buffer: Uint8Array): Promise<number | null>;
  write(bytes: Uint8Array): Promise<number>;
  closeWrite(): Promise<void>;
  close(): void;
  setNoDelay(on?: boolean): void;
  setKeepAlive(on?: boolean): void;
  ref(): void;
  unref(): void;
}
interface DenoListener {
  readonly addr: DenoAddr;
  accept(): Promise<DenoConn>;
  close(): void;
  ref(): void;
  unref(): void;
}
interface DenoApi {
  build: { os: string };
  connect(options: { hostname: string; port: number; signal?: AbortSignal }): Promise<DenoConn>;
  listen(options: { hostname: string; port: number; reusePort?: boolean }): DenoListener;
}

function deno(): DenoApi {
  const api = (globalThis as { Deno?: DenoApi }).Deno;
  if (!api) throw new UnsupportedError("Cannot use the Deno transport: this runtime is not Deno");
  return api;
}

/** Smallest and largest read buffers: idle connections hold the small one. */
const MIN_READ = 1024;
const MAX_READ = 256 * 1024;

function netAddr(addr: DenoAddr): NetAddr {
  return { transport: "tcp", hostname: addr.hostname, port: addr.port };
}

function wrapConn(conn: DenoConn): RawConn {
  const localAddr = netAddr(conn.localAddr);
  const remoteAddr = netAddr(conn.remoteAddr);
  let size = MIN_READ;
  let closed = false;
  const fail = (error: unknown, what: string) => {
    if (closed) throw new ConnectionClosedError(`Cannot ${what}: the connection is closed`);
    throw toTcpError(error, `${what} ${remoteAddr.hostname}:${remoteAddr.port}`);
  };
  return {
    localAddr,
    remoteAddr,
    async read() {
      const buffer = new Uint8Array(size);
      let n: number | null;
      try {
        n = await conn.read(buffer);
      } catch (error) {
        return fail(error, "read from");
      }
      if (n === null) return null;
      // Grow when a read fills the buffer; shrink when reads are small again.
      if (n === size) size = Math.min(size * 2, MAX_READ);
      else if (n < size / 4) size = Math.max(size / 2, MIN_READ);
      return n === buffer.length ? buffer : buffer.subarray(0, n);
    },
    async write(bytes) {
      try {
        let offset = 0;
        while (offset < bytes.length) offset += await conn.write(bytes.subarray(offset));
      } catch (error) {
        fail(error, "write to");
      }
    },
    async closeWrite() {
      try {
        await conn.closeWrite();
      } catch (error) {
        fail(error, "close writing to");
      }
    },
    close() {
      if (!closed) {
        closed = true;
        try {
          conn.close();
        } catch { /* already closed by the runtime */ }
      }
      return Promise.resolve();
    },
    abort() {
      void this.close();
    },
    setNoDelay: (on) => conn.setNoDelay(on),
    setKeepAlive: (on) => conn.setKeepAlive(on),
    ref: () => conn.ref(),
    unref: () => conn.unref(),
  };
}

/** The transport on Deno's native sockets. */
export const denoTransport: Transport = {
  name: "deno",
  caps: { halfClose: "native", reset: "unsupported", peerReset: "native", reusePort: "native" },
  async connect({ hostname, port, signal }) {
    try {
      return wrapConn(await deno().connect({ hostname, port, signal }));
    } catch (error) {
      if (signal?.aborted) throw signal.reason;
      throw toTcpError(error, `connect to ${hostname}:${port}`);
    }
  },
  listen({ hostname, port, reusePort }) {
    const api = deno();
    if (reusePort && api.build.os !== "linux") {
      throw new UnsupportedError(
        `Cannot listen with reusePort: Deno supports it only on Linux, not ${api.build.os}`,
      );
    }
    let listener: DenoListener;
    try {
      listener = api.listen({ hostname, port, reusePort });
    } catch (error) {
      return Promise.reject(toTcpError(error, `listen on ${hostname}:${port}`));
    }
    let closed = false;
    let accepting: Promise<unknown> = Promise.resolve();
    const raw: RawListener = {
      addr: netAddr(listener.addr),
      async accept() {
        while (!closed) {
          try {
            const next = listener.accept();
            accepting = next.catch(() => {});
            return wrapConn(await next);
          } catch (error) {
            if (closed) break;
            // A connection reset before it was accepted: wait for the next one.
            if ((error as { name?: string }).name !== "ConnectionReset") {
              throw toTcpError(error, `accept on ${hostname}:${port}`);
            }
          }
        }
        return null;
      },
      async close() {
        if (!closed) {
          closed = true;
          listener.close();
        }
        // The socket is closed only once the pending accept has given up.
        await accepting;
      },
      ref: () => listener.ref(),
      unref: () => listener.unref(),
    };
    return Promise.resolve(raw);
  },
};

const api: BoundApi = bindTransport(denoTransport);
/** {@linkcode serve} on the Deno transport. */
export const serve: BoundApi["serve"] = api.serve;
/** {@linkcode connect} on the Deno transport. */
export const connect: BoundApi["connect"] = api.connect;
