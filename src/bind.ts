/**
 * Binds tcpkit's API to one transport: what `mod.ts` does for the runtime it
 * runs on, and what the `./deno`, `./bun` and `./node` entry points do for theirs.
 *
 * @module
 */
import { connect, type ConnectOptions } from "./connect.ts";
import type { Conn } from "./conn/conn.ts";
import { serve, type ServeOptions, type Server } from "./serve.ts";
import type { Addr, NetAddr, Transport, UnixAddr } from "./transport.ts";

/** `serve()` and `connect()` with a default transport. */
export interface BoundApi {
  /**
   * Starts a TCP server that runs `handler` for each connection.
   *
   * @example Echo server
   * ```ts
   * import { serve } from "../mod.ts";
   * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
   * console.log(`listening on ${server.addr.hostname}:${server.addr.port}`);
   * ```
   */
  serve(options: ServeOptions & { path?: undefined }): Promise<Server<NetAddr>>;
  /**
   * Starts a Unix domain socket server at `path`.
   *
   * @example Echo over a Unix socket
   * ```ts ignore
   * import { serve } from "../mod.ts";
   * await using server = await serve({ path: "/tmp/echo.sock", handler: (c) => c.readable.pipeTo(c.writable) });
   * ```
   */
  serve(options: ServeOptions & { path: string }): Promise<Server<UnixAddr>>;
  /** Starts a TCP or Unix socket server, as `path` says. */
  serve(options: ServeOptions): Promise<Server<Addr>>;
  /**
   * Opens a TCP connection.
   *
   * @example Send a line and read the reply
   * ```ts ignore
   * import { connect } from "../mod.ts";
   * await using conn = await connect({ hostname: "127.0.0.1", port: 7788 });
   * await conn.write("hello\n");
   * console.log(new TextDecoder().decode(await conn.read() ?? new Uint8Array()));
   * ```
   */
  connect(options: ConnectOptions): Promise<Conn>;
}

/**
 * Binds `serve()` and `connect()` to a transport; an explicit `transport`
 * option still wins.
 *
 * @param transport The default transport.
 * @returns The bound functions.
 */
export function bindTransport(transport: Transport): BoundApi {
  return {
    // One implementation behind both signatures: the address type follows `path`.
    serve: ((options: ServeOptions) => serve({ transport, ...options })) as BoundApi["serve"],
    connect: (options) => connect({ transport, ...options }),
  };
}
