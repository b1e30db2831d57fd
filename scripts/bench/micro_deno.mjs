// What the Deno transport, the core and the CLI cost per message, without sockets:
// Deno.listen is replaced by a listener whose 100 connections answer read() and
// write() at once (as Deno's ops do when the socket is ready), so the time left is
// JavaScript from DenoRawConn up. Each process runs one case once; run it a few
// times and keep the fastest (a shared machine only ever adds time).
//
//   deno run -A scripts/bench/micro_deno.mjs raw|cli|streams|each|tcpkit [ROOT]
//
// raw is the plain read/write loop on the fake (the floor); cli is `tcpkit serve`
// itself (its echo handler with every default); ROOT takes tcpkit from another
// copy of the repository. PER=N sets the messages per connection (20,000).
// Allocation per message: add --v8-flags=--trace-gc,--semi-space-growth-factor=1,
// --min-semi-space-size=1,--max-semi-space-size=1 and count the Scavenge lines
// (one per MiB allocated).
const [mode, root = new URL("../..", import.meta.url).pathname] = Deno.args;
const CONNS = 100, PER = Number(Deno.env.get("PER") ?? 20000), MSG = new Uint8Array(64).fill(120);
let done = 0, t0 = 0;
const finish = () => {
  if (++done === CONNS) {
    const ns = (performance.now() - t0) * 1e6 / (CONNS * PER);
    console.log(JSON.stringify({ mode, ns_per_msg: +ns.toFixed(1) }));
    Deno.exit(0);
  }
};
const addr = (port) => ({ transport: "tcp", hostname: "127.0.0.1", port });
// Ping-pong, as the load generator: the next message is there once the answer was written.
function fakeConn(i) {
  let left = PER;
  let answered = true;
  let reading; // [buffer, resolve] of a read that waits for the answer
  const deliver = (buf, resolve) => {
    answered = false;
    if (left-- > 0) {
      buf.set(MSG);
      resolve(64);
    } else resolve(null);
  };
  return {
    localAddr: addr(7),
    remoteAddr: addr(10000 + i),
    read(buf) {
      if (answered) return new Promise((resolve) => deliver(buf, resolve));
      return new Promise((resolve) => (reading = [buf, resolve]));
    },
    write(b) {
      answered = true;
      if (reading) {
        const [buf, resolve] = reading;
        reading = undefined;
        deliver(buf, resolve);
      }
      return Promise.resolve(b.length);
    },
    closeWrite() {
      finish();
      return Promise.resolve();
    },
    close() {},
    setNoDelay() {},
    setKeepAlive() {},
    ref() {},
    unref() {},
  };
}
let accepted = 0;
const listener = {
  addr: addr(7),
  accept() {
    if (accepted === 0) t0 = performance.now();
    if (accepted < CONNS) return Promise.resolve(fakeConn(accepted++));
    return new Promise(() => {});
  },
  close() {},
  ref() {},
  unref() {},
};
Deno.listen = () => listener;
if (mode === "raw") {
  for (;;) {
    const conn = await listener.accept();
    (async () => {
      const buf = new Uint8Array(65536);
      for (let n; (n = await conn.read(buf)) !== null;) await conn.write(buf.subarray(0, n));
      await conn.closeWrite();
    })();
  }
} else if (mode === "cli") {
  const { main } = await import(`${root}/src/cli/main.ts`);
  await main(["serve", "--port", "0", "--max-connections", "100000", "--quiet"]);
} else {
  const mod = await import(`${root}/mod.ts`);
  const handlers = {
    streams: (conn) => conn.readable.pipeTo(conn.writable),
    each: (conn) => conn.forEach((c) => conn.write(c)).then(() => conn.closeWrite()),
    tcpkit: async (conn) => {
      for await (const c of conn) await conn.write(c);
      await conn.closeWrite();
    },
  };
  await mod.serve({ port: 0, maxConnections: 1e6, handler: handlers[mode] });
}
