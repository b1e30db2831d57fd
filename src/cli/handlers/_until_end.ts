/**
 * Ends a handler's read loop when `conn.signal` aborts (server shutdown, a
 * timeout), so that the handler can say goodbye and return: the server then
 * closes the connection once what it holds is sent. One listener for the
 * whole loop, nothing per item: the handlers' fast path stays as fast as the
 * library's.
 *
 * @module
 */
import { onAbort } from "../../conn/_streams.ts";
import type { Conn } from "../../conn/conn.ts";

/**
 * Iterates `source` until it ends or `signal` aborts, whichever comes first.
 *
 * @example Echo until the server shuts down
 * ```ts ignore
 * for await (const chunk of untilEnd(conn, conn.signal, conn)) await conn.write(chunk);
 * ```
 *
 * @param source What to iterate (a connection's chunks, lines or messages).
 * @param signal Ends the iteration when aborted.
 * @param conn The connection whose own `signal` it may be (then it costs no listener).
 * @returns The items, until the end or the abort.
 */
export async function* untilEnd<T>(
  source: AsyncIterable<T>,
  signal: AbortSignal,
  conn?: Conn,
): AsyncGenerator<T> {
  const iterator = source[Symbol.asyncIterator]();
  // Ends the item awaited now; set per item, so that no promise outlives its item
  // (racing every item against one long-lived promise kept each one reachable).
  let stop: (() => void) | undefined;
  const stopListening = onAbort(signal, () => stop?.(), conn);
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
    stopListening();
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
 * await untilAborted(conn.forEach((chunk) => conn.write(chunk)), conn.signal, conn);
 * ```
 *
 * @param loop The loop.
 * @param signal Ends the wait when aborted.
 * @param conn The connection whose own `signal` it may be (then it costs no listener).
 * @returns Settles when the loop does or the signal aborts.
 */
export function untilAborted(
  loop: Promise<void>,
  signal: AbortSignal,
  conn?: Conn,
): Promise<void> {
  if (signal.aborted) {
    loop.catch(() => {});
    return Promise.resolve();
  }
  return new Promise((resolve, reject) => {
    const stopListening = onAbort(signal, () => {
      loop.catch(() => {});
      resolve();
    }, conn);
    loop.then(resolve, reject).finally(stopListening);
  });
}
