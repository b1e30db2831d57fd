/**
 * Ends a handler's read loop when `conn.signal` aborts (server shutdown, a
 * timeout), so that the handler can say goodbye and return: the server then
 * closes the connection once what it holds is sent. One listener for the
 * whole loop, nothing per item: the handlers' fast path stays as fast as the
 * library's.
 *
 * @module
 */

/**
 * Iterates `source` until it ends or `signal` aborts, whichever comes first.
 *
 * @example Echo until the server shuts down
 * ```ts ignore
 * for await (const chunk of untilEnd(conn, conn.signal)) await conn.write(chunk);
 * ```
 *
 * @param source What to iterate (a connection's chunks, lines or messages).
 * @param signal Ends the iteration when aborted.
 * @returns The items, until the end or the abort.
 */
export async function* untilEnd<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // Ends the item awaited now; set per item, so that no promise outlives its item
  // (racing every item against one long-lived promise kept each one reachable).
  let stop: (() => void) | undefined;
  const onAbort = () => stop?.();
  signal.addEventListener("abort", onAbort, { once: true });
  try {
    while (!signal.aborted) {
      const result = await new Promise<IteratorResult<T>>((resolve, reject) => {
        stop = () => resolve({ done: true, value: undefined });
        // A read left pending settles when the connection closes; then nobody waits for it.
        iterator.next().then(resolve, reject);
      });
      stop = undefined;
      if (result.done) return;
      yield result.value;
    }
  } finally {
    signal.removeEventListener("abort", onAbort);
  }
}

/**
 * Settles as `loop` does, or resolves once `signal` aborts first: a
 * `conn.forEach()` loop that ends at shutdown, for one listener per
 * connection. The loop's later failure (the server closing the connection
 * under it) is nobody's concern then.
 *
 * @example Echo from the runtime's data callback until the server shuts down
 * ```ts ignore
 * await untilAborted(conn.forEach((chunk) => conn.write(chunk)), conn.signal);
 * ```
 *
 * @param loop The loop.
 * @param signal Ends the wait when aborted.
 * @returns Settles when the loop does or the signal aborts.
 */
export function untilAborted(loop: Promise<void>, signal: AbortSignal): Promise<void> {
  if (signal.aborted) {
    loop.catch(() => {});
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const onAbort = () => {
      loop.catch(() => {});
      resolve();
    };
    signal.addEventListener("abort", onAbort, { once: true });
    loop.then(resolve, reject).finally(() => signal.removeEventListener("abort", onAbort));
  });
}
