/**
 * A fault-injecting TCP proxy for the reliability tests (not shipped). It is
 * built on tcpkit's own `serve()` and `connect()`, so it runs on every runtime
 * the suite runs on, and forwards half-close: EOF from one side becomes a FIN
 * to the other while the other direction keeps flowing.
 *
 * Faults apply per direction: `up` is client → target, `down` is target → client.
 *
 * - `chunk`: forward in writes of at most `size` bytes (1: one byte per write).
 * - `stall`: pause `ms` after every `everyBytes` bytes.
 * - `reset`: after at most `afterBytes` bytes, abort both sides. Where
 *   `caps.reset` is native (Bun, Node) both peers get a TCP reset. On Deno
 *   `abort()` is a plain close: a peer gets a reset only if the proxy's socket
 *   still had unread bytes from it (Linux resets then), else a FIN.
 * - `fin`: after `afterBytes` bytes, send FIN to the receiver; what the sender
 *   sends afterwards is read and dropped, so the sender never blocks.
 *
 * @module
 */
import { type Conn, connect, serve } from "../mod.ts";

/** What the proxy does to the bytes of one direction. */
export type Fault =
  | { kind: "none" }
  | { kind: "chunk"; size: number }
  | { kind: "stall"; everyBytes: number; ms: number }
  | { kind: "reset"; afterBytes: number }
  | { kind: "fin"; afterBytes: number };

/** Options for {@linkcode startFaultProxy}. */
export interface FaultProxyOptions {
  /** The target's port. */
  target: number;
  /**
   * The target's address.
   * @default {"127.0.0.1"}
   */
  hostname?: string;
  /** One fault for both directions, or one per direction (`up`: client → target). */
  fault?: Fault | { up?: Fault; down?: Fault };
}

/** A running fault proxy. */
export interface FaultProxy extends AsyncDisposable {
  /** The port clients connect to (on 127.0.0.1). */
  port: number;
  /** Sessions the proxy cut with a `reset` fault. */
  readonly resets: number;
  /** Stops the proxy, aborting sessions still open. */
  close(): Promise<void>;
}

const NONE: Fault = { kind: "none" };

/**
 * Starts a fault-injecting proxy on 127.0.0.1 in front of `target`.
 *
 * @param options The target and the faults.
 * @returns The running proxy.
 */
export async function startFaultProxy(options: FaultProxyOptions): Promise<FaultProxy> {
  const { target, hostname = "127.0.0.1", fault = NONE } = options;
  const up = "kind" in fault ? fault : fault.up ?? NONE;
  const down = "kind" in fault ? fault : fault.down ?? NONE;
  let resets = 0;
  // A small high-water mark keeps 1-byte writes from queueing a whole read's worth of tiny arrays.
  const limits = { writeHighWaterMark: 4096 };
  const server = await serve({
    port: 0,
    ...limits,
    handler: async (client) => {
      const upstream = await connect({ hostname, port: target, ...limits }).catch(() => null);
      if (!upstream) return client.abort();
      let cut = false;
      const abortBoth = (byFault: boolean) => {
        if (cut) return;
        cut = true;
        if (byFault) resets++;
        client.abort();
        upstream.abort();
      };
      await Promise.all([
        forward(client, upstream, up, abortBoth),
        forward(upstream, client, down, abortBoth),
      ]);
      await upstream.close();
    },
    onError: () => {},
  });
  const close = async () => void await server.shutdown({ deadlineMs: 0 });
  return {
    port: server.addr.port,
    get resets() {
      return resets;
    },
    close,
    [Symbol.asyncDispose]: close,
  };
}

/** Copies `src` to `dst` through `fault` until EOF (forwarded as FIN) or a failure (both cut). */
async function forward(
  src: Conn,
  dst: Conn,
  fault: Fault,
  abortBoth: (byFault: boolean) => void,
): Promise<void> {
  let moved = 0;
  let nextStall = fault.kind === "stall" ? fault.everyBytes : Infinity;
  try {
    for (let chunk = await src.read(); chunk !== null; chunk = await src.read()) {
      if (fault.kind === "reset" || fault.kind === "fin") {
        const rest = fault.afterBytes - moved;
        if (chunk.length >= rest) {
          await dst.write(chunk.subarray(0, rest));
          moved += rest;
          if (fault.kind === "reset") {
            // Let the runtime take the prefix first (bounded wait); the reset may still discard it.
            for (let i = 0; i < 100 && dst.pendingWrite > 0; i++) await sleep(1);
            return abortBoth(true);
          }
          await dst.closeWrite();
          while (await src.read() !== null) { /* dropped after the early FIN */ }
          return;
        }
      }
      const size = fault.kind === "chunk" ? fault.size : chunk.length;
      for (let offset = 0; offset < chunk.length;) {
        const end = Math.min(offset + size, chunk.length, nextStall - moved + offset);
        await dst.write(chunk.subarray(offset, end));
        moved += end - offset;
        offset = end;
        if (fault.kind === "stall" && moved === nextStall) {
          nextStall += fault.everyBytes;
          await sleep(fault.ms);
        }
      }
    }
    await dst.closeWrite();
  } catch {
    // One side failed (a reset, or the proxy cut it): pass it on to the other as a reset.
    abortBoth(false);
  }
}

function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}
