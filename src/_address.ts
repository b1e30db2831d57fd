/**
 * Address helpers shared by `serve()` and `connect()`.
 *
 * @module
 */
import type { Addr } from "./transport.ts";

/**
 * Checks that a port is an integer from 0 to 65535.
 *
 * @param port The value to check.
 * @param what The operation, for the message.
 * @throws {RangeError} When it is not.
 */
export function checkPort(port: unknown, what: string): asserts port is number {
  if (typeof port !== "number" || !Number.isInteger(port) || port < 0 || port > 65535) {
    throw new RangeError(
      `Cannot ${what}: port must be a number between 0 and 65535 (got ${JSON.stringify(port)})`,
    );
  }
}

/**
 * Formats an address as `host:port`, with brackets around IPv6, or as the
 * Unix socket's path.
 *
 * @param addr The address.
 * @returns The text.
 */
export function formatAddr(addr: Addr): string {
  if (addr.transport === "unix") return addr.path || "unix socket";
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}

/**
 * Names what a transport connects to or listens on, for messages:
 * `host:port`, or `unix socket PATH`.
 *
 * @param target A hostname and port, or a Unix socket path.
 * @returns The text.
 */
export function describeTarget(
  target: { path: string } | { path?: undefined; hostname: string; port: number },
): string {
  return target.path !== undefined
    ? `unix socket ${target.path}`
    : `${target.hostname}:${target.port}`;
}
