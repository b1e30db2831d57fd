/**
 * An in-memory transport for tests of the core: a script of chunks, answered
 * at once or a turn later.
 *
 * @module
 */
import assert from "node:assert/strict";
import type { RawConn, ReadHandler, WriteHandler } from "../mod.ts";

/** The address every scripted connection has. */
export const ADDR = { transport: "tcp", hostname: "127.0.0.1", port: 1 } as const;
const bytes = (text: string) => new TextEncoder().encode(text);

/**
 * A connection over a script of chunks, answering at once (`sync`) or a turn
 * later; with `readsInto`, it also reads into given buffers as Deno does.
 */
export function scripted(
  chunks: (string | Uint8Array)[],
  sync: boolean,
  readsInto = false,
): RawConn & { sent: Uint8Array[] } {
  const left = chunks.map((chunk) => typeof chunk === "string" ? bytes(chunk) : chunk);
  const sent: Uint8Array[] = [];
  let next = 0; // not left.shift(): O(n) per call on V8 over 100,000 chunks
  let reading = false;
  const answer = (handler: ReadHandler, next: () => Uint8Array | null) => {
    assert.equal(reading, false, "read() called again before its handler");
    reading = true;
    const deliver = () => {
      reading = false;
      handler.chunk(next());
    };
    if (sync) deliver();
    else queueMicrotask(deliver);
  };
  return {
    localAddr: ADDR,
    remoteAddr: ADDR,
    sent,
    read: (handler: ReadHandler) => answer(handler, () => left[next++] ?? null),
    readInto: readsInto
      ? (buffer: Uint8Array, handler: ReadHandler) =>
        answer(handler, () => {
          const chunk = left[next];
          if (chunk === undefined) return null;
          const n = Math.min(chunk.length, buffer.length);
          if (n < chunk.length) left[next] = chunk.subarray(n);
          else next++;
          buffer.set(chunk.subarray(0, n));
          return buffer.subarray(0, n);
        })
      : undefined,
    write(data: Uint8Array, handler: WriteHandler) {
      sent.push(data.slice());
      if (!sync) queueMicrotask(() => handler.written());
      return sync;
    },
    closeWrite: () => Promise.resolve(),
    close: () => Promise.resolve(),
    abort() {},
    watch() {},
    setNoDelay() {},
    setKeepAlive() {},
    ref() {},
    unref() {},
    unrefTimer() {},
  };
}
