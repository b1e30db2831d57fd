// The echo servers the harness measures, on the runtime that runs this file
// (Deno, Bun or Node). Usage: <runtime> echo_server.mjs KIND
//
//   tcpkit   serve() + `for await (const chunk of conn) await conn.write(chunk)`
//   each     serve() + `conn.forEach((chunk) => conn.write(chunk))`: each chunk
//            answered from inside the runtime's data callback
//   into     serve() + a loop over one buffer: `conn.readInto(buffer)`, write, flush
//   streams  serve() + `conn.readable.pipeTo(conn.writable)` (tcpkit's Web Streams)
//   framed   serve() + LineCodec: each line decoded and written back as a frame
//   raw      the runtime's own API, written the best way for it: Deno a read/write
//            loop with a 64 KiB buffer, Bun.listen with write + drain, Node
//            node:net with socket.pipe(socket)
//   pipeto   Deno only: Deno's own `conn.readable.pipeTo(conn.writable)`
//   lines    pipelined requests (loadgen pipeline): serve() + forEachFrame(LineCodec),
//            each line answered with writeFrame "+OK" (tcpkit joins the answers of one
//            chunk into one write)
//   frames   the same with `for await (const line of conn.frames(codec))`
//   rawlines the runtime's own API, written straightforwardly: a native write of
//            "+OK\n" per newline in each chunk
//   rawbatch the same, hand-batched: one native write per chunk for all its answers
//   pull     the least any pull API costs on the runtime's own sockets, the floor
//            for tcpkit's `for await`: per connection one async function that awaits
//            a promise per chunk and writes it back; on Deno the raw loop with a
//            fresh array per read, since the caller of a pull API owns each chunk
//
// tcpkit comes from mod.ts on Deno and Bun, from the npm build (npm/esm/mod.js) on
// Node, in this repository or, with TCPKIT_ROOT=DIR, in another copy of it (the
// harness's --variant, to measure a change before and after in one run).
// Listens on 127.0.0.1 on a free port, prints "port N" on stdout, and exits when
// stdin ends (or on SIGTERM).
import process from "node:process";
import { pathToFileURL } from "node:url";
import { Pull } from "./_pull.mjs";

const kind = process.argv[2];
const RUNTIME = "Deno" in globalThis ? "deno" : "Bun" in globalThis ? "bun" : "node";

async function tcpkit(handler) {
  const root = process.env.TCPKIT_ROOT
    ? pathToFileURL(`${process.env.TCPKIT_ROOT}/`)
    : new URL("../../", import.meta.url);
  const mod = await import(new URL(RUNTIME === "node" ? "npm/esm/mod.js" : "mod.ts", root).href);
  const server = await mod.serve({
    hostname: "127.0.0.1",
    port: 0,
    maxConnections: 1_000_000,
    handler: handler(mod),
  });
  return server.addr.port;
}

const SERVERS = {
  tcpkit: () =>
    tcpkit(() => async (conn) => {
      for await (const chunk of conn) await conn.write(chunk);
    }),
  each: () => tcpkit(() => (conn) => conn.forEach((chunk) => conn.write(chunk))),
  into: () =>
    tcpkit(() => async (conn) => {
      const buffer = new Uint8Array(64 * 1024);
      for (let n; (n = await conn.readInto(buffer)) !== null;) {
        await conn.write(buffer.subarray(0, n));
        await conn.flush();
      }
    }),
  streams: () => tcpkit(() => (conn) => conn.readable.pipeTo(conn.writable)),
  framed: () =>
    tcpkit(({ LineCodec }) => {
      const codec = new LineCodec();
      return async (conn) => {
        for await (const line of conn.frames(codec)) await conn.writeFrame(codec, line);
      };
    }),
  raw: () => RAW[RUNTIME](),
  lines: () =>
    tcpkit(({ LineCodec }) => {
      const codec = new LineCodec();
      return (conn) => conn.forEachFrame(codec, () => conn.writeFrame(codec, "+OK"));
    }),
  frames: () =>
    tcpkit(({ LineCodec }) => {
      const codec = new LineCodec();
      return async (conn) => {
        for await (const _ of conn.frames(codec)) await conn.writeFrame(codec, "+OK");
      };
    }),
  rawlines: () => ANSWER[RUNTIME](false),
  rawbatch: () => ANSWER[RUNTIME](true),
  pull: () => {
    return PULL[RUNTIME]();
  },
  pipeto: () => {
    if (RUNTIME !== "deno") throw new Error("pipeto is Deno's own Web Streams echo: Deno only");
    return denoServer((conn) => conn.readable.pipeTo(conn.writable).catch(() => {}));
  },
};

/**
 * Deno.listen with `echo(conn)` for each connection. accept() fails with
 * NotConnected when a client resets before it is accepted: go on accepting.
 */
function denoServer(echo) {
  const listener = Deno.listen({ hostname: "127.0.0.1", port: 0 });
  (async () => {
    for (;;) {
      try {
        echo(await listener.accept());
      } catch { /* reset before accept */ }
    }
  })();
  return listener.addr.port;
}

/** Bun.listen with these socket handlers (errors ignored: the peer resets); returns the port. */
function bunServer(handlers) {
  return Bun.listen({
    hostname: "127.0.0.1",
    port: 0,
    allowHalfOpen: true,
    socket: { error() {}, ...handlers },
  }).port;
}

/** Writes all of `bytes` to a Deno connection, however many writes it takes. */
async function writeAll(conn, bytes) {
  for (let off = 0; off < bytes.length;) off += await conn.write(bytes.subarray(off));
}

/** A Deno read/write loop; `buffer()` gives the array each read goes into. */
const denoLoop = (buffer) => async (conn) => {
  try {
    for (let chunk = buffer(), n = await conn.read(chunk); n !== null;) {
      await writeAll(conn, chunk.subarray(0, n));
      chunk = buffer();
      n = await conn.read(chunk);
    }
  } catch { /* reset */ }
  try {
    conn.close();
  } catch { /* closed */ }
};

const RAW = {
  deno() {
    return denoServer((conn) => {
      const buffer = new Uint8Array(64 * 1024);
      return denoLoop(() => buffer)(conn);
    });
  },
  bun() {
    // Bun's write() takes what the kernel accepts; the rest waits for drain, and
    // reading pauses meanwhile so that memory stays bounded.
    const flush = (socket) => {
      const state = socket.data;
      while (state.queue.length > 0) {
        const chunk = state.queue[0];
        const n = socket.write(chunk);
        if (n < chunk.length) {
          state.queue[0] = chunk.subarray(Math.max(n, 0));
          return false;
        }
        state.queue.shift();
      }
      return true;
    };
    return bunServer({
      open(socket) {
        socket.data = { queue: [], paused: false, ended: false };
      },
      data(socket, chunk) {
        const state = socket.data;
        if (state.queue.length === 0) {
          const n = socket.write(chunk);
          if (n === chunk.length) return;
          state.queue.push(chunk.subarray(Math.max(n, 0)));
        } else state.queue.push(chunk);
        if (!state.paused) {
          state.paused = true;
          socket.pause();
        }
      },
      drain(socket) {
        const state = socket.data;
        if (!flush(socket)) return;
        if (state.ended) socket.end();
        else if (state.paused) {
          state.paused = false;
          socket.resume();
        }
      },
      end(socket) {
        if (socket.data.queue.length === 0) socket.end();
        else socket.data.ended = true;
      },
      close() {},
    });
  },
  async node() {
    const net = await import("node:net");
    const server = net.createServer({ noDelay: true }, (socket) => {
      socket.on("error", () => {});
      socket.pipe(socket);
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server.address().port;
  },
};

const PULL = {
  // A pull API hands each chunk to its caller, who may keep it: a fresh array per read.
  deno: () => denoServer(denoLoop(() => new Uint8Array(64 * 1024))),
  bun() {
    return bunServer({
      open(socket) {
        const pull = new Pull((on) => (on ? socket.pause() : socket.resume()));
        socket.data = { pull, drained: null };
        (async () => {
          for (let chunk = await pull.next(); chunk; chunk = await pull.next()) {
            for (let n; (n = socket.write(chunk)) < chunk.length;) {
              if (n < 0) return;
              chunk = chunk.subarray(n);
              await new Promise((resolve) => (socket.data.drained = resolve));
            }
          }
          socket.end();
        })();
      },
      data: (socket, chunk) => socket.data.pull.push(new Uint8Array(chunk)),
      drain: (socket) => socket.data.drained?.(),
      end: (socket) => socket.data.pull.end(),
      close: (socket) => socket.data.pull.end(),
    });
  },
  async node() {
    const net = await import("node:net");
    const server = net.createServer({ noDelay: true, allowHalfOpen: true }, (socket) => {
      const pull = new Pull((on) => (on ? socket.pause() : socket.resume()));
      socket.on("data", (chunk) => pull.push(chunk));
      socket.on("end", () => pull.end());
      socket.on("close", () => pull.end());
      socket.on("error", () => {});
      (async () => {
        for (let chunk = await pull.next(); chunk; chunk = await pull.next()) {
          if (!socket.write(chunk)) await new Promise((resolve) => socket.once("drain", resolve));
        }
        socket.end();
      })();
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server.address().port;
  },
};

const OK = new TextEncoder().encode("+OK\n");
/**
 * The writes that answer the requests (newlines) a chunk ends: one "+OK\n"
 * each, or with `batch` all of them in one buffer.
 */
const replies = (chunk, batch) => {
  let lines = 0;
  for (let i = chunk.indexOf(10); i >= 0; i = chunk.indexOf(10, i + 1)) lines++;
  if (!batch) return Array(lines).fill(OK);
  const out = new Uint8Array(lines * OK.length);
  for (let i = 0; i < lines; i++) out.set(OK, i * OK.length);
  return [out];
};

/** Line servers on the runtime's own API: a write per answer, or one per chunk (`batch`). */
const ANSWER = {
  deno: (batch) =>
    denoServer(async (conn) => {
      conn.setNoDelay(true); // as tcpkit, Node's raw server and Bun do: no 40 ms stalls
      const buffer = new Uint8Array(64 * 1024);
      try {
        for (let n; (n = await conn.read(buffer)) !== null;) {
          for (const bytes of replies(buffer.subarray(0, n), batch)) await writeAll(conn, bytes);
        }
      } catch { /* reset */ }
      try {
        conn.close();
      } catch { /* closed */ }
    }),
  bun: (batch) =>
    bunServer({
      data(socket, chunk) {
        for (const bytes of replies(chunk, batch)) socket.write(bytes);
      },
      end(socket) {
        socket.end();
      },
    }),
  async node(batch) {
    const net = await import("node:net");
    const server = net.createServer({ noDelay: true }, (socket) => {
      socket.on("error", () => {});
      socket.on("data", (chunk) => {
        for (const bytes of replies(chunk, batch)) socket.write(bytes);
      });
    });
    await new Promise((resolve) => server.listen(0, "127.0.0.1", resolve));
    return server.address().port;
  },
};

if (!(kind in SERVERS)) {
  console.error(`usage: echo_server.mjs ${Object.keys(SERVERS).join("|")}`);
  process.exit(2);
}
const port = await SERVERS[kind]();
process.stdout.write(`port ${port}\n`);
process.stdin.on("data", () => {});
process.stdin.on("end", () => process.exit(0));
