/**
 * Address helpers shared by `serve()` and `connect()`.
 *
 * @module
 */

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
 * Formats an address as `host:port`, with brackets around IPv6.
 *
 * @param addr The address.
 * @returns The text.
 */
export function formatAddr(addr: { hostname: string; port: number }): string {
  return addr.hostname.includes(":")
    ? `[${addr.hostname}]:${addr.port}`
    : `${addr.hostname}:${addr.port}`;
}
