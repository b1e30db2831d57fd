/**
 * Ends a handler's read loop when `conn.signal` aborts (server shutdown, a
 * timeout), so that the handler can say goodbye and return: the server then
 * closes the connection once what it holds is sent.
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
  for (;;) {
    if (signal.aborted) return;
    const result = await nextOrAbort(iterator, signal);
    if (result.done) return;
    yield result.value;
  }
}

/**
 * The iterator's next item, or done when `signal` aborts first. A fresh
 * promise and listener per item: racing every item against one long-lived
 * promise would keep each item reachable from it until the end (a line server
 * held every line it ever read that way).
 */
function nextOrAbort<T>(
  iterator: AsyncIterator<T>,
  signal: AbortSignal,
): Promise<IteratorResult<T>> {
  return new Promise((resolve, reject) => {
    const onAbort = () => resolve({ done: true, value: undefined });
    signal.addEventListener("abort", onAbort, { once: true });
    // A read left pending settles when the connection closes; then nobody waits for it.
    iterator.next().then(resolve, reject).finally(() => {
      signal.removeEventListener("abort", onAbort);
    });
  });
}
