/**
 * tcpkit: TCP servers and clients that behave the same on Deno, Bun and
 * Node, with framing, limits and a command line.
 *
 * `serve()` and `connect()` from this module use the runtime's own sockets;
 * `./deno`, `./bun` and `./node` pin one.
 *
 * @example Echo server
 * ```ts
 * import { connect, serve } from "./mod.ts";
 *
 * await using server = await serve({ port: 0, handler: (conn) => conn.readable.pipeTo(conn.writable) });
 * await using conn = await connect({ port: server.addr.port });
 * await conn.write("hello");
 * await conn.closeWrite();
 * const reply = await new Response(conn.readable).text();
 * if (reply !== "hello") throw new Error(reply);
 * ```
 *
 * @example A line protocol, answered from inside the runtime's data callback
 * ```ts
 * import { connect, LineCodec, serve } from "./mod.ts";
 *
 * const lines = new LineCodec();
 * await using server = await serve({
 *   port: 0,
 *   handler: (conn) => conn.forEachFrame(lines, (line) => conn.writeFrame(lines, line.toUpperCase())),
 * });
 * await using conn = await connect({ port: server.addr.port });
 * await conn.write("hello\n");
 * const reply = await conn.readLine();
 * if (reply !== "HELLO") throw new Error(`${reply}`);
 * ```
 *
 * Run as a program, it is the `tcpkit` command line: `deno run -A mod.ts serve`.
 *
 * @module
 */
export { connect, nativeTransport, serve } from "./src/adapters/native.ts";
export type { BoundApi } from "./src/bind.ts";
export { bindTransport } from "./src/bind.ts";
export type { ConnectOptions } from "./src/connect.ts";
export { Conn } from "./src/conn/conn.ts";
export type { ConnOptions, StartTlsOptions, WriteData } from "./src/conn/options.ts";
export * from "./src/errors.ts";
export * from "./src/codec/mod.ts";
export * from "./src/proxy/mod.ts";
export {
  type Handler,
  type ServeOptions,
  Server,
  type ServerStats,
  type ShutdownOptions,
  type ShutdownResult,
  ShutdownSignal,
} from "./src/serve.ts";
export type * from "./src/transport.ts";

if ((import.meta as { main?: boolean }).main) {
  const { main } = await import("./src/cli/main.ts");
  await main();
}
