/**
 * `conn.readable` and `conn.writable`: Web Streams over a {@linkcode Conn},
 * and the Conn-to-Conn `pipeTo()` that runs the connections' own loop.
 *
 * @module
 */
import type { Conn } from "./conn.ts";
import { RESOLVED } from "./_write_queue.ts";

/** Conn's getter: whether its runtime reads into memory it is given (Deno). @internal */
export const READS_INTO: unique symbol = Symbol("readsInto");

/** Conn's `forEach()` that reads where a {@linkcode ReadTarget} says, for pipes. @internal */
export const PIPE_EACH: unique symbol = Symbol("pipeEach");

/** Conn's method that gives up the read in progress, keeping what it brings for the next read. @internal */
export const ABANDON_READ: unique symbol = Symbol("abandonRead");

/** Conn's method behind {@linkcode onAbort}. @internal */
export const ON_ABORT: unique symbol = Symbol("onAbort");

/**
 * Calls `fn` once `signal` aborts; returns what stops listening. For the
 * connection's own `conn.signal` it is an entry in the connection, not a
 * listener on the signal: on Deno an abort listener with the promise around
 * it held ~1.8 KB of an idle connection (the CLI's echo, 10,000 connections).
 *
 * @param signal The signal.
 * @param fn Called once, when it aborts.
 * @param conn The connection `signal` may belong to.
 * @returns Stops listening.
 */
export function onAbort(signal: AbortSignal, fn: () => void, conn?: Conn): () => void {
  const own = conn?.[ON_ABORT](signal, fn);
  if (own) return own;
  signal.addEventListener("abort", fn, { once: true });
  return () => signal.removeEventListener("abort", fn);
}

/**
 * `pipeTo()`'s options, spelled out: the DOM lib's `StreamPipeOptions` is
 * not there for a Node user's TypeScript (lib es2022 with @types/node).
 */
export interface PipeOptions {
  preventClose?: boolean;
  preventAbort?: boolean;
  preventCancel?: boolean;
  signal?: AbortSignal;
}

/**
 * A pipe reads into one reused buffer of this size once a chunk this big
 * came (bulk), where the runtime reads into memory it is given: no new array
 * per read (Deno bulk echo, see BENCHMARKS.md). Smaller reads go back to
 * `read()`, so that a quiet pipe holds no buffer.
 */
const PIPE_BUFFER = 64 * 1024;
const PIPE_SMALL = 4 * 1024;

/**
 * `conn.readable`. Piped into a fresh `conn.writable` (of this connection or
 * another), `pipeTo()` runs tcpkit's own read/write loop instead of the Web
 * Streams machinery, which costs several promises per chunk; locks, errors,
 * cancellation, `signal` and the `prevent*` options behave as the standard says.
 */
export class ConnReadable extends ReadableStream<Uint8Array> {
  #conn: Conn;
  #pulled = false;

  /** @param conn The connection read, only while the stream is pulled. */
  constructor(conn: Conn) {
    super({
      pull: async (controller) => {
        this.#pulled = true;
        const chunk = await conn.read();
        if (chunk === null) controller.close();
        else controller.enqueue(chunk);
      },
      // Cancelling stops reading, nothing more: writes already queued still go
      // out, and the connection stays the caller's to close.
    }, { highWaterMark: 0 });
    this.#conn = conn;
  }

  override pipeTo(
    destination: WritableStream<Uint8Array>,
    options: PipeOptions = {},
  ): Promise<void> {
    if (
      !(destination instanceof ConnWritable) || !destination.fresh || this.#pulled ||
      this.locked || destination.locked
    ) {
      return super.pipeTo(destination, options);
    }
    return pipeConns(this, this.#conn, destination, destination.conn, options);
  }
}

/** `conn.writable`: knows its connection, for {@linkcode ConnReadable.pipeTo}. */
export class ConnWritable extends WritableStream<Uint8Array> {
  readonly conn: Conn;
  #written = false;

  /** @param conn The connection written to; closing the stream sends FIN. */
  constructor(conn: Conn) {
    super({
      write: (chunk) => (this.#written = true, conn.write(chunk)),
      close: () => conn.closeWrite(),
      abort: (reason) => conn.abort(reason),
    });
    this.conn = conn;
  }

  /** Nothing was written through the stream yet. */
  get fresh(): boolean {
    return !this.#written;
  }
}

/**
 * pipeTo() between two connections, as the Streams standard's pipe loop
 * behaves. A signal costs one listener for the whole pipe, nothing per chunk:
 * its abort settles the pipe at once, and the loop stops when the read or
 * write it waits on settles.
 */
function pipeConns(
  readable: ReadableStream<Uint8Array>,
  from: Conn,
  writable: WritableStream<Uint8Array>,
  to: Conn,
  options: PipeOptions,
): Promise<void> {
  const reader = readable.getReader();
  const writer = writable.getWriter();
  const { signal } = options;
  if (signal === undefined) {
    return pipeLoop(reader, from, writer, to, options).finally(() => release(reader, writer));
  }
  if (signal.aborted) return shutdown(reader, writer, options, signal.reason);
  const loop = { stopped: false };
  return new Promise<void>((resolve, reject) => {
    const stopListening = onAbort(signal, () => {
      loop.stopped = true;
      // The loop ends, and the read it waits on is given up: what it brings stays the connection's.
      from[ABANDON_READ]();
      shutdown(reader, writer, options, signal.reason).catch(reject);
    }, from);
    // Once stopped, the abort's shutdown settles the pipe, whatever the loop saw.
    pipeLoop(reader, from, writer, to, options, loop).then(() => {
      stopListening();
      if (!loop.stopped) resolve(release(reader, writer));
    }, (error) => {
      stopListening();
      if (!loop.stopped) reject((release(reader, writer), error));
    });
  });
}

function release(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
): void {
  reader.releaseLock();
  writer.releaseLock();
}

/** The standard's "shutdown with an action" on abort: then the pipe rejects with the reason. */
async function shutdown(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  { preventAbort = false, preventCancel = false }: PipeOptions,
  reason: unknown,
): Promise<never> {
  const actions: Promise<unknown>[] = [];
  if (!preventAbort) actions.push(writer.abort(reason));
  if (!preventCancel) actions.push(reader.cancel(reason));
  await Promise.allSettled(actions);
  release(reader, writer);
  throw reason;
}

/**
 * The pipe's loop: the source's `forEach()`, each chunk written to the
 * destination, so that a chunk costs no promise while the destination takes
 * it below its high-water mark. Where the source reads into memory it is
 * given (Deno), bulk goes through one reused buffer, and a chunk read into it
 * is flushed before it is read into again. It returns quietly once
 * `loop.stopped` (the signal aborted).
 */
async function pipeLoop(
  reader: ReadableStreamDefaultReader<Uint8Array>,
  from: Conn,
  writer: WritableStreamDefaultWriter<Uint8Array>,
  to: Conn,
  { preventClose = false, preventAbort = false, preventCancel = false }: PipeOptions,
  loop = { stopped: false },
): Promise<void> {
  const reuse = from[READS_INTO];
  let buffer: Uint8Array | undefined;
  // Once a big chunk came the buffer is read into; after a small one, the transport's chunks again.
  const readTarget = (last: Uint8Array | null) => {
    if (!reuse || last === null) return undefined;
    if (last.length >= PIPE_BUFFER / 4) buffer ??= new Uint8Array(PIPE_BUFFER);
    else if (last.length < PIPE_SMALL) buffer = undefined;
    return buffer;
  };
  let writeFailed = false;
  const failed = (error: unknown): never => {
    writeFailed = true;
    throw error;
  };
  try {
    await from[PIPE_EACH]((chunk) => {
      // A write taken below the high-water mark returns RESOLVED: the next chunk comes at once.
      const written = to.write(chunk);
      if (buffer === undefined || chunk.buffer !== buffer.buffer) {
        return written === RESOLVED ? written : written.catch(failed);
      }
      return written.then(() => to.flush()).catch(failed);
    }, readTarget);
  } catch (error) {
    if (loop.stopped) return;
    // The destination failed: cancel the source, else abort the destination, unless told not to.
    if (writeFailed) {
      if (!preventCancel) await reader.cancel(error).catch(() => {});
    } else if (!preventAbort) await writer.abort(error).catch(() => {});
    throw error;
  }
  if (!loop.stopped && !preventClose) await writer.close();
}
