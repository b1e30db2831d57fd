/**
 * `tcpkit bench`: a load generator for echo servers, on tcpkit's own
 * `connect()`, the same on every runtime. Three modes: `bulk` (stream bytes
 * and read the echo: throughput), `pingpong` (each connection sends a message
 * and waits for its echo: messages per second and latency) and `connrate`
 * (connect, one echo, close: connections per second).
 *
 * @module
 */
import process from "node:process";
import { parseArgs } from "node:util";
import { connect } from "../adapters/native.ts";
import type { Conn } from "../conn/conn.ts";
import { type Link, LiveList } from "../_live_list.ts";
import { parseChoice, parseCount, parseDuration } from "./_options.ts";
import { UsageError } from "./_output.ts";
import { LatencyHistogram, type LatencySummary } from "./_histogram.ts";

export { LatencyHistogram, type LatencySummary };

const HELP = `Usage: tcpkit bench HOST PORT [options]

Measures an echo server (tcpkit serve, or any server that sends back what it gets).

Modes (--mode):
  pingpong   each connection sends a --size message and waits for the echo (the default):
             messages per second and round-trip latency
  bulk       each connection streams --size writes and reads the echo: throughput
  connrate   connect, send one --size message, read the echo, close, again:
             connections per second and latency of the whole cycle

Options:
  --mode M            pingpong, bulk or connrate (default pingpong)
  --connections N     connections at once (default 1)
  --size B            bytes per message, or per write in bulk mode
                      (default 64; 65536 in bulk mode)
  --duration D        how long to measure: 500ms, 10s, 2m (default 10s)
  --warmup D          run this long before measuring (default 0s)
  --timeout D         give up connecting after D (default 5s)
  --json              print the summary as one line of JSON on stdout, units in the
                      keys: duration_s, messages_per_s, echoed_bytes, latency_p50_ms ...
  -h, --help          show this help

A progress line is shown on stderr when it is a terminal. Ctrl-C stops early
and prints what was measured.

Examples:
  tcpkit bench 127.0.0.1 7788
  tcpkit bench 127.0.0.1 7788 --mode pingpong --connections 100 --duration 30s
  tcpkit bench 127.0.0.1 7788 --mode bulk --size 65536 --json`;

/** What `tcpkit bench` measures. */
export type BenchMode = "pingpong" | "bulk" | "connrate";

/** Options of {@linkcode bench}. */
export interface BenchOptions {
  /** The echo server's host. */
  hostname: string;
  /** The echo server's port. */
  port: number;
  /** What to measure. */
  mode: BenchMode;
  /** Connections at once. */
  connections: number;
  /** Bytes per message (pingpong, connrate) or per write (bulk). */
  size: number;
  /** How long to measure, in milliseconds. */
  duration: number;
  /**
   * How long to run before measuring, in milliseconds.
   * @default {0}
   */
  warmup?: number;
  /**
   * Connect timeout in milliseconds.
   * @default {5000}
   */
  timeout?: number;
  /** Stops early; what was measured so far is returned. */
  signal?: AbortSignal;
  /** Called about once a second while measuring. */
  onProgress?: (progress: BenchProgress) => void;
  /** Opens a connection; tcpkit's `connect()` on the native transport by default. */
  connect?: (options: { hostname: string; port: number; timeout?: number }) => Promise<Conn>;
}

/** A snapshot while measuring. */
export interface BenchProgress {
  /** Seconds measured so far. */
  seconds: number;
  /** Messages (or connections, in connrate mode) per second over the last interval. */
  rate: number;
  /** Bytes received per second over the last interval. */
  bytesPerSecond: number;
  /** Errors so far. */
  errors: number;
}

/** What {@linkcode bench} measured. */
export interface BenchResult {
  mode: BenchMode;
  hostname: string;
  port: number;
  connections: number;
  size: number;
  /** Length of the measured window. */
  seconds: number;
  /** Round trips (pingpong), or connections (connrate), completed in the window. */
  messages: number;
  /** `messages` per second. */
  messagesPerSecond: number;
  /** Bytes received in the window. */
  bytes: number;
  /** Bytes received per second. */
  bytesPerSecond: number;
  latency: LatencySummary;
  /** Connections or cycles that failed. */
  errors: number;
  /** The first failure's message. */
  firstError?: string;
}

/** How long connections may take to finish after the measured window. */
const DRAIN_MS = 5000;

/** Shared by the connection loops of one run. */
class Run {
  measuring = false;
  stopped = false;
  messages = 0;
  bytes = 0;
  errors = 0;
  firstError: string | undefined;
  histogram = new LatencyHistogram();
  /** Connections open now, to cut off at the end (a list: see LiveList on why not a Set). */
  open = new LiveList<Conn>();

  fail(error: unknown): void {
    this.errors++;
    this.firstError ??= error instanceof Error ? error.message : String(error);
  }
}

/** Reads the rest of a `size`-byte echo (counting it), or throws at the end of the stream. */
async function readEcho(conn: Conn, size: number, run: Run, got = 0): Promise<void> {
  while (got < size) {
    const chunk = await conn.read();
    if (chunk === null || got + chunk.length > size) throw echoError(chunk, size, got);
    got += chunk.length;
    if (run.measuring) run.bytes += chunk.length;
  }
}

/** What is wrong with an echo: it ended early, or brought more than was sent. */
function echoError(chunk: Uint8Array | null, size: number, got = 0): Error {
  return chunk === null
    ? new Error(`the server closed after ${got} of ${size} echoed bytes`)
    : new Error(`the server sent ${got + chunk.length} bytes for a ${size}-byte message`);
}

async function pingpong(conn: Conn, message: Uint8Array, run: Run): Promise<void> {
  const size = message.length;
  const link = run.open.add(conn);
  let got = 0;
  let start = performance.now();
  try {
    await conn.write(message);
    // Each echo is answered from inside the runtime's data callback, as a raw client does.
    await conn.forEach((chunk) => {
      if ((got += chunk.length) > size) throw echoError(chunk, size, got - chunk.length);
      if (run.measuring) run.bytes += chunk.length;
      if (got < size) return;
      got = 0;
      if (run.measuring) {
        run.messages++;
        run.histogram.record(performance.now() - start);
      }
      if (run.stopped) return conn.closeWrite();
      start = performance.now();
      return conn.write(message);
    });
    if (!run.stopped) throw echoError(null, size, got);
  } catch (error) {
    if (!run.stopped) run.fail(error);
  } finally {
    run.open.delete(link);
    conn.abort();
  }
}

async function bulk(conn: Conn, chunk: Uint8Array, run: Run): Promise<void> {
  const link = run.open.add(conn);
  const writing = (async () => {
    while (!run.stopped) await conn.write(chunk);
    await conn.closeWrite();
  })();
  try {
    for await (const received of conn) if (run.measuring) run.bytes += received.length;
    await writing;
  } catch (error) {
    if (!run.stopped) run.fail(error);
  } finally {
    run.open.delete(link);
    conn.abort();
  }
}

async function connrate(options: BenchOptions, message: Uint8Array, run: Run): Promise<void> {
  const open = options.connect ?? connect;
  while (!run.stopped) {
    const start = performance.now();
    let conn: Conn | undefined;
    let link: Link<Conn> | undefined;
    try {
      conn = await open({
        hostname: options.hostname,
        port: options.port,
        timeout: options.timeout ?? 5000,
      });
      link = run.open.add(conn);
      await conn.write(message);
      await readEcho(conn, message.length, run);
      await conn.close();
      run.open.delete(link);
      if (run.measuring) {
        run.messages++;
        run.histogram.record(performance.now() - start);
      }
    } catch (error) {
      if (link) run.open.delete(link);
      conn?.abort();
      if (run.stopped) return;
      run.fail(error);
      // A server that refuses every connection must not turn this into a busy loop.
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }
}

/**
 * Runs a benchmark against an echo server.
 *
 * @param options The server, the mode, connections, message size and duration.
 * @returns What was measured.
 * @throws {ConnectionRefusedError} When the first connections cannot be opened
 *   (pingpong and bulk open them all before measuring).
 */
export async function bench(options: BenchOptions): Promise<BenchResult> {
  const { hostname, port, mode, connections, size, duration, warmup = 0, timeout = 5000 } = options;
  const open = options.connect ?? connect;
  const payload = new Uint8Array(size);
  for (let i = 0; i < size; i++) payload[i] = 97 + (i % 26);
  if (mode !== "bulk" && size > 0) payload[size - 1] = 10; // a line, for line-framed servers
  const run = new Run();
  let loops: Promise<void>[];
  if (mode === "connrate") {
    loops = Array.from({ length: connections }, () => connrate(options, payload, run));
  } else {
    const opened = await Promise.allSettled(
      Array.from({ length: connections }, () => open({ hostname, port, timeout })),
    );
    const failed = opened.find((r) => r.status === "rejected");
    const conns = opened.flatMap((r) => r.status === "fulfilled" ? [r.value] : []);
    if (failed) {
      for (const conn of conns) conn.abort();
      throw failed.reason;
    }
    loops = conns.map((conn) =>
      mode === "bulk" ? bulk(conn, payload, run) : pingpong(conn, payload, run)
    );
  }
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      if (ms <= 0 || run.stopped) return resolve();
      const timer = setTimeout(done, ms);
      function done() {
        clearTimeout(timer);
        options.signal?.removeEventListener("abort", done);
        resolve();
      }
      options.signal?.addEventListener("abort", done, { once: true });
    });
  if (!options.signal?.aborted) await sleep(warmup);
  run.measuring = true;
  const start = performance.now();
  const end = start + duration;
  let last = { at: start, messages: 0, bytes: 0 };
  while (!options.signal?.aborted) {
    const now = performance.now();
    if (now >= end) break;
    await sleep(Math.min(1000, end - now));
    if (options.onProgress && !options.signal?.aborted) {
      const at = performance.now();
      const seconds = (at - last.at) / 1000;
      options.onProgress({
        seconds: (at - start) / 1000,
        rate: (run.messages - last.messages) / seconds,
        bytesPerSecond: (run.bytes - last.bytes) / seconds,
        errors: run.errors,
      });
      last = { at, messages: run.messages, bytes: run.bytes };
    }
  }
  run.measuring = false;
  const seconds = (performance.now() - start) / 1000;
  run.stopped = true;
  // Loops end after their current round trip; a server that stops echoing is cut off.
  let grace: ReturnType<typeof setTimeout> | undefined;
  await Promise.race([
    Promise.all(loops),
    new Promise((resolve) => (grace = setTimeout(resolve, DRAIN_MS))),
  ]);
  clearTimeout(grace);
  for (const conn of [...run.open]) conn.abort();
  await Promise.all(loops);
  return {
    mode,
    hostname,
    port,
    connections,
    size,
    seconds,
    messages: run.messages,
    messagesPerSecond: run.messages / seconds,
    bytes: run.bytes,
    bytesPerSecond: run.bytes / seconds,
    latency: run.histogram.summary(),
    errors: run.errors,
    ...(run.firstError === undefined ? {} : { firstError: run.firstError }),
  };
}

const count = (n: number) => Math.round(n).toLocaleString("en-US");
const ms = (n: number) => `${n < 1 ? n.toFixed(3) : n < 100 ? n.toFixed(2) : n.toFixed(0)} ms`;

function bytesRate(n: number): string {
  if (n >= 1e9) return `${(n / 1e9).toFixed(2)} GB/s`;
  if (n >= 1e6) return `${(n / 1e6).toFixed(1)} MB/s`;
  return `${(n / 1e3).toFixed(1)} kB/s`;
}

/**
 * Formats a result as a few lines of text.
 *
 * @param result The result of {@linkcode bench}.
 * @returns The summary.
 */
export function formatSummary(result: BenchResult): string {
  const { mode, connections, size, seconds, latency } = result;
  const unit = mode === "connrate" ? "connections" : mode === "bulk" ? "bytes" : "messages";
  const lines = [
    `${mode} ${result.hostname}:${result.port}: ${connections} connection${
      connections === 1 ? "" : "s"
    }, ${size} B ${mode === "bulk" ? "writes" : "messages"}, ${seconds.toFixed(1)} s`,
  ];
  if (mode === "bulk") {
    lines.push(
      `  throughput  ${bytesRate(result.bytesPerSecond)} echoed (${count(result.bytes)} B)`,
    );
  } else {
    lines.push(
      `  ${unit}  ${count(result.messages)} (${count(result.messagesPerSecond)}/s)`,
      `  throughput  ${bytesRate(result.bytesPerSecond)} echoed`,
      `  latency  p50 ${ms(latency.p50)}  p90 ${ms(latency.p90)}  p99 ${ms(latency.p99)}  max ${
        ms(latency.max)
      }`,
    );
  }
  lines.push(
    `  errors  ${result.errors}${result.firstError ? ` (first: ${result.firstError})` : ""}`,
  );
  return lines.join("\n");
}

const round = (n: number, digits: number) => Number(n.toFixed(digits));

/**
 * Formats a result as `tcpkit bench --json` prints it: each figure's unit in
 * its key (`_s`, `_ms`, `_per_s`, `_bytes`), rounded to what it can mean
 * (latency to the microsecond, rates to a tenth, bytes per second whole).
 *
 * @param result The result of {@linkcode bench}.
 * @returns One line of JSON.
 */
export function formatJson(result: BenchResult): string {
  const { latency } = result;
  return JSON.stringify({
    mode: result.mode,
    hostname: result.hostname,
    port: result.port,
    connections: result.connections,
    size_bytes: result.size,
    duration_s: round(result.seconds, 3),
    messages: result.messages,
    messages_per_s: round(result.messagesPerSecond, 1),
    echoed_bytes: result.bytes,
    echoed_bytes_per_s: Math.round(result.bytesPerSecond),
    latency_p50_ms: round(latency.p50, 3),
    latency_p90_ms: round(latency.p90, 3),
    latency_p99_ms: round(latency.p99, 3),
    latency_max_ms: round(latency.max, 3),
    errors: result.errors,
    ...(result.firstError === undefined ? {} : { first_error: result.firstError }),
  });
}

/**
 * Runs `tcpkit bench`.
 *
 * @param args The arguments after `bench`.
 */
export async function runBench(args: string[]): Promise<void> {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      mode: { type: "string", default: "pingpong" },
      connections: { type: "string", default: "1" },
      size: { type: "string" },
      duration: { type: "string", default: "10s" },
      warmup: { type: "string", default: "0s" },
      timeout: { type: "string", default: "5s" },
      json: { type: "boolean", default: false },
      help: { type: "boolean", short: "h" },
    },
  });
  if (values.help) return void console.log(HELP);
  if (positionals.length !== 2) {
    throw new UsageError(`bench needs HOST and PORT (got ${positionals.length} arguments)`);
  }
  const mode = parseChoice(values.mode, "--mode", ["pingpong", "bulk", "connrate"] as const);
  const options: BenchOptions = {
    hostname: positionals[0],
    port: parseCount(positionals[1], "PORT", 1, 65535),
    mode,
    connections: parseCount(values.connections, "--connections", 1, 100_000),
    size: parseCount(values.size ?? (mode === "bulk" ? "65536" : "64"), "--size", 1, 16 << 20),
    duration: parseDuration(values.duration, "--duration"),
    warmup: parseDuration(values.warmup, "--warmup"),
    timeout: parseDuration(values.timeout, "--timeout"),
  };
  if (options.duration <= 0) throw new UsageError(`--duration must be more than 0`);
  const controller = new AbortController();
  const onInt = () => controller.abort();
  process.on("SIGINT", onInt);
  const tty = process.stderr.isTTY === true;
  options.signal = controller.signal;
  if (tty) {
    options.onProgress = (p) =>
      process.stderr.write(
        `\r\x1b[K${p.seconds.toFixed(0)} s  ${
          mode === "bulk" ? bytesRate(p.bytesPerSecond) : `${count(p.rate)}/s`
        }  errors ${p.errors}`,
      );
  }
  try {
    const result = await bench(options);
    if (tty) process.stderr.write("\r\x1b[K");
    console.log(values.json ? formatJson(result) : formatSummary(result));
    if (result.messages === 0 && result.bytes === 0 && result.errors > 0) process.exitCode = 1;
  } finally {
    process.removeListener("SIGINT", onInt);
  }
}
