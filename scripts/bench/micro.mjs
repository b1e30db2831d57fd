// What tcpkit's core costs per message, without sockets: an echo loop over an
// in-memory transport whose read() and write() settle at once, so the time left is
// JavaScript (promises, iterators, codecs), the part tcpkit adds on top of the
// runtime's I/O. Pure CPU work: each case runs `--reps` times and the fastest
// repetition counts (interference from other processes only ever adds time).
//
//   <runtime> micro.mjs [--messages N] [--reps R] [--cases raw,tcpkit,...] [--json]
//
// Cases: raw (a loop on the fake transport itself: the floor), tcpkit (Conn:
// for await + write), each (forEach + write), streams (readable.pipeTo(writable)), framed (LineCodec
// frames + writeFrame). TCPKIT_ROOT=DIR takes tcpkit from another copy of the
// repository, as in the harness's --variant.
import process from "node:process";
import { pathToFileURL } from "node:url";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const root = process.env.TCPKIT_ROOT
  ? pathToFileURL(`${process.env.TCPKIT_ROOT}/`)
  : new URL("../../", import.meta.url);
const mod = await import(new URL(RUNTIME === "node" ? "npm/esm/mod.js" : "mod.ts", root).href);
const { Conn, LineCodec } = mod;

const arg = (name, fallback) => {
  const i = process.argv.indexOf(name);
  return i > 0 ? Number(process.argv[i + 1]) : fallback;
};
const MESSAGES = arg("--messages", 200_000);
const REPS = arg("--reps", 7);

const ADDR = { transport: "tcp", hostname: "127.0.0.1", port: 1 };
const LINE = new TextEncoder().encode(`${"x".repeat(63)}\n`);

/**
 * A transport connection that always has the next 64-byte line ready and takes
 * every write at once: its read() calls the handler before returning, its write()
 * returns undefined (both as the transport contract allows).
 */
function fakeRaw(messages) {
  let left = messages;
  let written = 0;
  const next = () => (left-- > 0 ? LINE.slice() : null);
  return {
    localAddr: ADDR,
    remoteAddr: ADDR,
    read: (handler) => handler.chunk(next()),
    write(bytes) {
      written += bytes.length;
    },
    /** For the raw case: the same, with a promise each way (what a plain loop awaits). */
    next: () => Promise.resolve(next()),
    take(bytes) {
      written += bytes.length;
      return Promise.resolve();
    },
    closeWrite: () => Promise.resolve(),
    close: () => Promise.resolve(),
    abort() {},
    setNoDelay() {},
    setKeepAlive() {},
    ref() {},
    unref() {},
    get written() {
      return written;
    },
  };
}

const CASES = {
  async raw(raw) {
    for (let chunk = await raw.next(); chunk !== null; chunk = await raw.next()) {
      await raw.take(chunk);
    }
  },
  async tcpkit(raw) {
    const conn = new Conn(raw);
    for await (const chunk of conn) await conn.write(chunk);
    await conn.close();
  },
  async each(raw) {
    const conn = new Conn(raw);
    await conn.forEach((chunk) => conn.write(chunk));
    await conn.close();
  },
  async streams(raw) {
    const conn = new Conn(raw);
    await conn.readable.pipeTo(conn.writable);
    await conn.close();
  },
  async framed(raw) {
    const conn = new Conn(raw);
    const codec = new LineCodec();
    for await (const line of conn.frames(codec)) await conn.writeFrame(codec, line);
    await conn.close();
  },
};

const i = process.argv.indexOf("--cases");
const only = i > 0 ? process.argv[i + 1].split(",") : Object.keys(CASES);
const results = {};
for (let rep = 0; rep < REPS; rep++) {
  for (const name of only) {
    const run = CASES[name];
    const raw = fakeRaw(MESSAGES);
    const start = performance.now();
    await run(raw);
    const ns = ((performance.now() - start) * 1e6) / MESSAGES;
    if (raw.written !== MESSAGES * LINE.length) {
      throw new Error(`${name}: echoed ${raw.written} bytes`);
    }
    results[name] = Math.min(results[name] ?? Infinity, ns);
  }
}
if (process.argv.includes("--json")) console.log(JSON.stringify({ runtime: RUNTIME, ...results }));
else {
  for (const [name, ns] of Object.entries(results)) {
    const over = name === "raw" || results.raw === undefined
      ? ""
      : `  (+${(ns - results.raw).toFixed(0)} ns over raw)`;
    console.log(`${RUNTIME} ${name.padEnd(8)} ${ns.toFixed(0).padStart(6)} ns/message${over}`);
  }
}
