// The clients the harness measures against the C echo server, on the runtime that
// runs this file. Usage: <runtime> client.mjs tcpkit|raw|pull HOST PORT [bench options]
//
//   tcpkit  `tcpkit bench` itself (runBench from src/cli/bench.ts; the npm build on Node)
//   raw     the same ping-pong written on the runtime's own API, the best way for it:
//           Deno.connect with a read/write loop, Bun.connect and node:net driven by
//           their data events. It records latency in the same histogram as
//           tcpkit bench, so both do the same work per message.
//   pull    Bun and Node: the raw client awaiting one promise per echo chunk (Pull),
//           the floor of any promise-per-chunk client such as tcpkit bench
//
// Both print the same JSON summary (tcpkit bench --json). The raw client knows
// only --mode pingpong.
import process from "node:process";
import { pathToFileURL } from "node:url";
import { parseArgs } from "node:util";
import { Pull } from "./_pull.mjs";

const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";
const [kind, ...args] = process.argv.slice(2);
// TCPKIT_ROOT=DIR takes tcpkit from another copy of the repository (the harness's --variant).
const root = process.env.TCPKIT_ROOT
  ? pathToFileURL(`${process.env.TCPKIT_ROOT}/`)
  : new URL("../../", import.meta.url);
const benchModule = RUNTIME === "node" ? "npm/esm/src/cli/bench.js" : "src/cli/bench.ts";
const { formatJson, runBench, LatencyHistogram } = await import(new URL(benchModule, root).href);

const seconds = (text) => {
  const match = /^(\d+(?:\.\d+)?)(ms|s)?$/.exec(text);
  if (!match) throw new Error(`bad duration ${text}`);
  return Number(match[1]) * (match[2] === "ms" ? 1 : 1000);
};

async function nodeConnect(hostname, port) {
  const net = await import("node:net");
  const socket = net.connect({ host: hostname, port, noDelay: true });
  await new Promise((resolve, reject) => {
    socket.once("connect", resolve);
    socket.once("error", reject);
  });
  return socket;
}

/**
 * Opens a raw connection that sends the message, waits for its echo, calls
 * `onEcho` and sends again until `run.stopped`; returns `{ done }`, which
 * settles when the connection has ended.
 */
const RAW = {
  async deno(hostname, port, message, onEcho, run) {
    const conn = await Deno.connect({ hostname, port });
    conn.setNoDelay(true);
    const buffer = new Uint8Array(64 * 1024);
    const done = (async () => {
      try {
        while (!run.stopped) {
          const start = performance.now();
          for (let off = 0; off < message.length;) off += await conn.write(message.subarray(off));
          for (let got = 0; got < message.length;) {
            const n = await conn.read(buffer);
            if (n === null) throw new Error("closed");
            got += n;
          }
          onEcho(start);
        }
      } catch (error) {
        run.fail(error);
      } finally {
        conn.close();
      }
    })();
    return { done };
  },
  async bun(hostname, port, message, onEcho, run) {
    let done;
    const finished = new Promise((resolve) => (done = resolve));
    let got = 0;
    let start = 0;
    const send = (socket) => {
      start = performance.now();
      if (socket.write(message) !== message.length) throw new Error("partial write");
    };
    await Bun.connect({
      hostname,
      port,
      socket: {
        open: send,
        data(socket, chunk) {
          got += chunk.length;
          if (got < message.length) return;
          got = 0;
          onEcho(start);
          if (run.stopped) socket.end();
          else send(socket);
        },
        close: () => done(),
        error: (_socket, error) => run.fail(error),
      },
    });
    return { done: finished };
  },
  async node(hostname, port, message, onEcho, run) {
    const socket = await nodeConnect(hostname, port);
    const done = new Promise((resolve) => {
      let got = 0;
      let start = performance.now();
      socket.on("data", (chunk) => {
        got += chunk.length;
        if (got < message.length) return;
        got = 0;
        onEcho(start);
        if (run.stopped) return void socket.destroy();
        start = performance.now();
        socket.write(message);
      });
      socket.on("error", (error) => run.fail(error));
      socket.on("close", resolve);
      socket.write(message);
    });
    return { done };
  },
};

/**
 * The floor of a pull client: the runtime's socket as a {@linkcode Pull}, and a
 * loop that writes the message and awaits the echo's chunks, as tcpkit bench does.
 */
const PULL = {
  async bun(hostname, port, message, onEcho, run) {
    let pull;
    const socket = await Bun.connect({
      hostname,
      port,
      socket: {
        open(socket) {
          socket.data = pull = new Pull((on) => (on ? socket.pause() : socket.resume()));
        },
        data: (socket, chunk) => socket.data.push(new Uint8Array(chunk)),
        end: (socket) => socket.data.end(),
        close: (socket) => socket.data.end(),
        error: (_socket, error) => run.fail(error),
      },
    });
    return { done: pullLoop(pull, socket, message, onEcho, run) };
  },
  async node(hostname, port, message, onEcho, run) {
    const socket = await nodeConnect(hostname, port);
    const pull = new Pull((on) => (on ? socket.pause() : socket.resume()));
    socket.on("data", (chunk) => pull.push(chunk));
    socket.on("close", () => pull.end());
    socket.on("error", (error) => run.fail(error));
    return { done: pullLoop(pull, socket, message, onEcho, run) };
  },
};

async function pullLoop(pull, socket, message, onEcho, run) {
  try {
    while (!run.stopped) {
      const start = performance.now();
      socket.write(message);
      for (let got = 0; got < message.length;) {
        const chunk = await pull.next();
        if (chunk === null) throw new Error("closed");
        got += chunk.length;
      }
      onEcho(start);
    }
  } catch (error) {
    run.fail(error);
  } finally {
    socket.end();
  }
}

async function baselinePingpong(clients) {
  const { values, positionals } = parseArgs({
    args,
    allowPositionals: true,
    options: {
      mode: { type: "string", default: "pingpong" },
      connections: { type: "string", default: "1" },
      size: { type: "string", default: "64" },
      duration: { type: "string", default: "10s" },
      warmup: { type: "string", default: "0s" },
      json: { type: "boolean", default: false },
    },
  });
  if (values.mode !== "pingpong") {
    throw new Error("the raw and pull clients know only --mode pingpong");
  }
  const [hostname, portText] = positionals;
  const port = Number(portText);
  const size = Number(values.size);
  const connections = Number(values.connections);
  const message = new Uint8Array(size).map((_, i) => (i === size - 1 ? 10 : 97 + (i % 26)));
  const histogram = new LatencyHistogram();
  const run = {
    measuring: false,
    stopped: false,
    messages: 0,
    errors: 0,
    fail(error) {
      if (!this.stopped) this.errors++, this.firstError ??= String(error?.message ?? error);
    },
  };
  const onEcho = (start) => {
    if (!run.measuring) return;
    run.messages++;
    histogram.record(performance.now() - start);
  };
  const loops = await Promise.all(
    Array.from(
      { length: connections },
      () => clients[RUNTIME](hostname, port, message, onEcho, run),
    ),
  );
  await new Promise((resolve) => setTimeout(resolve, seconds(values.warmup)));
  run.measuring = true;
  const t0 = performance.now();
  await new Promise((resolve) => setTimeout(resolve, seconds(values.duration)));
  run.measuring = false;
  const elapsed = (performance.now() - t0) / 1000;
  run.stopped = true;
  await Promise.race([
    Promise.all(loops.map((loop) => loop.done)),
    new Promise((resolve) => setTimeout(resolve, 5000)),
  ]);
  const result = {
    mode: "pingpong",
    hostname,
    port,
    connections,
    size,
    seconds: elapsed,
    messages: run.messages,
    messagesPerSecond: run.messages / elapsed,
    bytes: run.messages * size,
    bytesPerSecond: (run.messages * size) / elapsed,
    latency: histogram.summary(),
    errors: run.errors,
    ...(run.firstError ? { firstError: run.firstError } : {}),
  };
  console.log(formatJson(result));
  process.exit(0);
}

if (kind === "tcpkit") {
  await runBench(args);
  process.exit(process.exitCode ?? 0);
} else if (kind === "raw") await baselinePingpong(RAW);
else if (kind === "pull" && PULL[RUNTIME]) await baselinePingpong(PULL);
else {
  console.error("usage: client.mjs tcpkit|raw|pull HOST PORT [--mode M] [--connections N] ...");
  process.exit(2);
}
