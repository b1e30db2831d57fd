/**
 * The fault suite (issue 14): the edges of a connection's life, on every
 * transport this runtime has (the native one, and the node transport on Deno
 * and Bun). Each case is one defect that was seen: timeouts and signals after
 * connect, silent TLS peers, unanswered SYNs, a close to a stalled peer, a
 * reset while nobody reads, slowloris peers against forEachFrame, unref with
 * timers running, readable cancel with writes queued, a failed startTls.
 *
 * Peers are Python sockets where the fault is theirs to make. Every wait is
 * bounded; cases assert outcomes, never durations.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { after, describe, test } from "node:test";
import {
  type Conn,
  connect,
  ConnectionResetError,
  LineCodec,
  serve,
  type Server,
  type TcpError,
  TimeoutError,
  TlsError,
  type Transport,
} from "../mod.ts";
import { RUNTIME, sleep } from "./_helpers.ts";
import { transportsHere } from "./_transports.ts";

/** Bun's own test timeout is 5 s; these take up to ~15 s. */
const SLOW = { timeout: 60_000 };
const PENDING = Symbol("pending");
const BIG = new Uint8Array(8 * 1024 * 1024);

/** What `promise` settled with (an error is returned, not thrown), or PENDING after `ms`. */
async function within<T>(promise: Promise<T>, ms: number): Promise<T | unknown> {
  let timer: ReturnType<typeof setTimeout> | undefined;
  const bound = new Promise<typeof PENDING>((resolve) => timer = setTimeout(resolve, ms, PENDING));
  try {
    return await Promise.race([promise.catch((error) => error), bound]);
  } finally {
    clearTimeout(timer);
  }
}

/** Whether `check()` held within `ms` (polled). */
async function until(check: () => boolean, ms: number): Promise<boolean> {
  const end = Date.now() + ms;
  while (!check()) {
    if (Date.now() > end) return false;
    await sleep(20);
  }
  return true;
}

/** A child process read line by line; killed by its pid when disposed. */
interface Lines extends AsyncDisposable {
  /** The next line that matches, or undefined after `ms` or once it exited. */
  next(pattern: RegExp, ms?: number): Promise<RegExpMatchArray | undefined>;
  send(line: string): void;
  /** Settles with its exit code (null when killed) once it exits. */
  exited: Promise<number | null>;
}

function spawnLines(command: string[]): Lines {
  const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "inherit"] });
  child.stdin.on("error", () => {});
  const lines: string[] = [];
  let partial = "";
  let wake = () => {};
  const exited = new Promise<number | null>((resolve) => child.on("close", resolve));
  exited.then(() => wake());
  child.stdout.on("data", (chunk: Uint8Array) => {
    const parts = (partial + new TextDecoder().decode(chunk)).split("\n");
    partial = parts.pop()!;
    lines.push(...parts);
    wake();
  });
  return {
    async next(pattern, ms = 10_000) {
      const end = Date.now() + ms;
      for (;;) {
        for (let line = lines.shift(); line !== undefined; line = lines.shift()) {
          const match = line.match(pattern);
          if (match) return match;
        }
        if (child.exitCode !== null || child.signalCode !== null || Date.now() > end) return;
        await within(new Promise<void>((resolve) => (wake = resolve)), end - Date.now());
      }
    },
    send: (line) => void child.stdin.write(`${line}\n`),
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited;
    },
  };
}

/** The URL of one of tcpkit's modules (`mod`, `src/adapters/node`), from source or from npm/esm. */
const moduleUrl = (path: string) =>
  new URL(`../${path}.${RUNTIME === "node" ? "js" : "ts"}`, import.meta.url).href;

/** A child script's first line: `transport`, the same one this suite runs on. */
const importTransport = (transport: Transport) =>
  `const { nativeTransport } = await import(${JSON.stringify(moduleUrl("mod"))});
const { nodeTransport } = await import(${JSON.stringify(moduleUrl("src/adapters/node"))});
const transport = ${
    JSON.stringify(transport.name)
  } === "node" ? nodeTransport : nativeTransport();`;

/** Runs a script on the runtime running this suite. */
const runtimeCommand = (script: string) =>
  RUNTIME === "deno" ? [process.execPath, "run", "-A", script] : [process.execPath, script];

/** The file limit (`ulimit -n`) of the accept-errors case's server: room to start, not to serve many. */
const FD_LIMIT = 128;

/** Runs a Python peer; every peer ends by itself within 30 s at most. */
const python = (script: string, ...args: (string | number)[]) =>
  spawnLines([
    "python3",
    "-c",
    `import signal\nsignal.alarm(30)\n${script}`,
    ...args.map(String),
  ]);

const PY_LISTEN = `
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(8)
print(l.getsockname()[1], flush=True)
`;

/** Accepts and never speaks. */
const PY_SILENT = `${PY_LISTEN}
conns = []
while True:
    conns.append(l.accept()[0])
`;

/**
 * A listener whose accept queue is full (backlog 0, one connection never
 * accepted): further SYNs are dropped. On "drain" it accepts for 3 s and says
 * how many connections other than its own came late and stayed open.
 */
const PY_FULL_BACKLOG = `
import socket, sys, time
l = socket.socket()
l.bind(("127.0.0.1", 0))
l.listen(0)
port = l.getsockname()[1]
fillers = []
for i in range(8):
    c = socket.socket()
    c.settimeout(0.3)
    try:
        c.connect(("127.0.0.1", port))
        fillers.append(c)
    except OSError:
        c.close()
        break
else:
    sys.exit("the accept queue never filled")
own = {f.getsockname()[1] for f in fillers}
print(port, flush=True)
sys.stdin.readline()
l.settimeout(0.2)
late = []
end = time.time() + 3
while time.time() < end:
    try:
        c, addr = l.accept()
    except socket.timeout:
        continue
    if addr[1] not in own:
        late.append(c)
still_open = 0
for c in late:
    c.settimeout(2)
    try:
        if c.recv(1) != b"":
            still_open += 1
    except socket.timeout:
        still_open += 1
    except OSError:
        pass
print("late", len(late), "open", still_open, flush=True)
`;

/** Connects with a tiny receive buffer and never reads; "state" prints its TCP state. */
const PY_STALLED = `
import socket, sys
s = socket.socket()
s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
s.connect(("127.0.0.1", int(sys.argv[1])))
print("connected", flush=True)
for line in sys.stdin:
    print("state", s.getsockopt(socket.IPPROTO_TCP, socket.TCP_INFO, 1)[0], flush=True)
`;
/** Linux's TCP_ESTABLISHED in tcpi_state. */
const ESTABLISHED = "1";

/** Connects, waits, then resets (SO_LINGER 0). */
const PY_RESET = `
import socket, struct, sys, time
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
time.sleep(0.3)
s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
s.close()
print("reset", flush=True)
time.sleep(5)
`;

/** N connections, each sending one byte a second and no newline. */
const PY_SLOWLORIS = `
import socket, sys, time
port, n = int(sys.argv[1]), int(sys.argv[2])
socks = [socket.create_connection(("127.0.0.1", port)) for _ in range(n)]
print("open", n, flush=True)
end = time.time() + 15
while socks and time.time() < end:
    for s in list(socks):
        try:
            s.send(b"x")
        except OSError:
            socks.remove(s)
    time.sleep(1)
print("still", len(socks), flush=True)
`;

/** Connects and closes at once, one connection at a time, n times. */
const PY_STORM = `
import socket, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    socket.create_connection(("127.0.0.1", port)).close()
print("done", n, flush=True)
`;

/** Connects and resets at once (SO_LINGER 0), N times: peers gone before the server accepts them. */
const PY_RESET_STORM = `
import socket, struct, sys
port, n = int(sys.argv[1]), int(sys.argv[2])
for _ in range(n):
    s = socket.create_connection(("127.0.0.1", port))
    s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    s.close()
print("done", n, flush=True)
`;

/** Reads until the end of stream; says how many bytes came and how it ended. */
const PY_DRAIN = `
import socket, sys
s = socket.create_connection(("127.0.0.1", int(sys.argv[1])))
n = 0
try:
    while True:
        data = s.recv(65536)
        if not data:
            print("eof", n, flush=True)
            break
        n += len(data)
except OSError as e:
    print("reset", n, flush=True)
`;

/** Answers whatever comes first (a ClientHello) with bytes that are not TLS. */
const PY_GARBAGE = `${PY_LISTEN}
c = l.accept()[0]
c.recv(4096)
c.sendall(b"HTTP/1.1 400 Bad Request\\r\\n\\r\\n")
time.sleep(20)
`;

const portOf = async (peer: Lines) => Number((await peer.next(/^(\d+)$/))?.[1]);

/** A server on `transport` that counts closes (`onClose`) and keeps the last error. */
async function counted(
  transport: Transport,
  options: Omit<Parameters<typeof serve>[0], "transport" | "port">,
): Promise<{ server: Server; closes: () => number; errors: (TcpError | undefined)[] }> {
  const errors: (TcpError | undefined)[] = [];
  const server = await serve(
    {
      ...options,
      transport,
      port: 0,
      onClose: (_conn, error) => void errors.push(error),
    } as Parameters<typeof serve>[0],
  ) as Server;
  // Disposed within a bound: a connection that cannot be aborted must not hang the suite.
  Object.assign(server, {
    [Symbol.asyncDispose]: () => within(server.shutdown({ deadlineMs: 200 }), 2000),
  });
  return { server, closes: () => errors.length, errors };
}

/** Echoes each chunk. */
const echo = async (conn: Conn) => {
  for await (const chunk of conn) await conn.write(chunk);
};

async function assertEchoes(conn: Conn): Promise<void> {
  await conn.write("hi");
  const reply = await within(conn.read(), 5000);
  assert.deepEqual(reply, new TextEncoder().encode("hi"), `no echo: ${String(reply)}`);
}

for (const transport of transportsHere()) {
  describe(`faults on the ${transport.name} transport (${RUNTIME})`, () => {
    test(
      "connect({ timeout }) bounds the attempt only: the connection lives past it",
      SLOW,
      async () => {
        await using server = await serve({ transport, port: 0, handler: echo });
        await using conn = await connect({ transport, port: server.addr.port, timeout: 300 });
        await sleep(600);
        await assertEchoes(conn);
      },
    );

    test(
      "connect({ signal }) aborted after connecting leaves the connection alive",
      SLOW,
      async () => {
        await using server = await serve({ transport, port: 0, handler: echo });
        const controller = new AbortController();
        await using conn = await connect({
          transport,
          port: server.addr.port,
          signal: controller.signal,
        });
        controller.abort(new Error("the caller gave up on something else"));
        await sleep(50);
        await assertEchoes(conn);
      },
    );

    test(
      "connect({ tls, timeout }) to a peer that never speaks rejects with TimeoutError",
      SLOW,
      async () => {
        await using peer = python(PY_SILENT);
        const port = await portOf(peer);
        const outcome = await within(connect({ transport, port, tls: true, timeout: 300 }), 3000);
        if (outcome !== PENDING && !(outcome instanceof Error)) (outcome as Conn).abort();
        assert.ok(
          outcome instanceof TimeoutError,
          `not a TimeoutError within 3 s: ${String(outcome)}`,
        );
      },
    );

    test(
      "connect({ timeout }) to a full accept queue (SYN unanswered) rejects; no socket is left open",
      SLOW,
      async () => {
        await using peer = python(PY_FULL_BACKLOG);
        const port = await portOf(peer);
        assert.ok(port > 0, "the full-backlog listener did not start");
        const outcome = await within(connect({ transport, port, timeout: 300 }), 3000);
        peer.send("drain");
        if (outcome !== PENDING && !(outcome instanceof Error)) (outcome as Conn).abort();
        // A socket that opens after the attempt was given up is closed at once.
        const report = await peer.next(/^late (\d+) open (\d+)$/, 10_000);
        console.log(`${transport.name}: ${report?.[1]} late connection(s), ${report?.[2]} open`);
        assert.ok(
          outcome instanceof TimeoutError,
          `not a TimeoutError within 3 s: ${String(outcome)}`,
        );
        assert.ok(report, "the listener did not report");
        assert.equal(report[2], "0", `${report[2]} late connection(s) left open (of ${report[1]})`);
      },
    );

    describe("close to a stalled peer with a queued write", () => {
      /** A server whose handler queues 8 MiB unawaited and returns; a peer that never reads. */
      async function stalled(options: Record<string, unknown>) {
        const { server, closes } = await counted(transport, {
          ...options,
          handler: (conn: Conn) => void conn.write(BIG).catch(() => {}),
        });
        const peer = python(PY_STALLED, server.addr.port);
        assert.ok(await peer.next(/^connected$/), "the peer did not connect");
        assert.ok(await until(() => server.stats.accepted === 1, 3000), "not accepted");
        /** The peer's TCP state: ESTABLISHED while its socket is open. */
        const peerState = async () => {
          peer.send("state");
          return (await peer.next(/^state (\d+)$/))?.[1];
        };
        return { server, closes, peer, peerState };
      }

      /** Whether the peer sees its socket end: only a reset gets past its full window. */
      const resets = transport.caps.reset === "native";

      test(
        "writeTimeout ends it: stats.active 0, onClose ran, the peer's socket closed",
        SLOW,
        async () => {
          const { server, closes, peer, peerState } = await stalled({ writeTimeout: 300 });
          await using _server = server;
          await using _peer = peer;
          const ended = await until(() => server.stats.active === 0 && closes() === 1, 3000);
          assert.ok(
            ended,
            `after 3 s: active ${server.stats.active}, onClose ran ${closes()} times`,
          );
          if (resets) assert.notEqual(await peerState(), ESTABLISHED, "the peer's socket is open");
        },
      );

      test("shutdown({ deadlineMs: 200 }) aborts it and it really ends", SLOW, async () => {
        const { server, closes, peer, peerState } = await stalled({});
        await using _server = server;
        await using _peer = peer;
        await sleep(100);
        const result = await within(server.shutdown({ deadlineMs: 200 }), 3000);
        assert.deepEqual(result, { finished: 0, aborted: 1 });
        const ended = await until(() => server.stats.active === 0 && closes() === 1, 2000);
        assert.ok(
          ended,
          `after shutdown: active ${server.stats.active}, onClose ran ${closes()} times`,
        );
        if (resets) assert.notEqual(await peerState(), ESTABLISHED, "the peer's socket is open");
      });

      test(
        "conn.abort() during a stalled conn.close() ends it at once; close() rejects",
        SLOW,
        async () => {
          let closing: unknown = PENDING;
          const { server, closes } = await counted(transport, {
            handler: async (conn: Conn) => {
              void conn.write(BIG).catch(() => {});
              const close = conn.close();
              await sleep(100);
              conn.abort();
              closing = await within(close.then(() => "resolved"), 1000);
            },
          });
          await using _server = server;
          await using _peer = python(PY_STALLED, server.addr.port);
          const ended = await until(() => closing !== PENDING && closes() === 1, 3000);
          assert.ok(closing instanceof Error, `close() after abort(): ${String(closing)}`);
          assert.ok(ended, `after 3 s: onClose ran ${closes()} times`);
          assert.equal(server.stats.active, 0);
        },
      );
    });

    test(
      "a peer reset while nobody reads settles conn.closed, stats.active and onClose",
      SLOW,
      async () => {
        let closed: unknown = PENDING;
        const { server, closes, errors } = await counted(transport, {
          handler: async (conn: Conn) => {
            closed = await within(conn.closed.then(() => "closed"), 10_000);
          },
        });
        await using _server = server;
        await using peer = python(PY_RESET, server.addr.port);
        assert.ok(await peer.next(/^reset$/), "the peer did not reset");
        const settled = await until(
          () => closed !== PENDING && server.stats.active === 0 && closes() === 1,
          3000,
        );
        assert.ok(
          settled,
          `3 s after the reset: conn.closed ${
            String(closed)
          }, active ${server.stats.active}, onClose ran ${closes()} times`,
        );
        // Node 20 and 22 may see a reset that follows nothing as a clean end (caps.peerReset).
        if (transport.caps.peerReset === "native") {
          assert.ok(closed instanceof ConnectionResetError, String(closed));
          assert.ok(errors[0] instanceof ConnectionResetError, String(errors[0]));
        }
      },
    );

    test("RawConn.watch() is told once of a peer reset while nobody reads", SLOW, async () => {
      const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
      const told: (Error | undefined)[] = [];
      await using peer = python(PY_RESET, (listener.addr as { port: number }).port);
      const raw = (await within(listener.accept(), 5000)) as Awaited<
        ReturnType<typeof listener.accept>
      >;
      try {
        assert.ok(raw && "watch" in raw, `accept(): ${String(raw)}`);
        raw.watch({ socketClosed: (error) => void told.push(error) });
        assert.ok(await peer.next(/^reset$/), "the peer did not reset");
        const seen = await until(() => told.length > 0, 3000);
        raw.abort();
        await sleep(50);
        assert.ok(seen, "not told within 3 s of the reset");
        assert.equal(told.length, 1, "told more than once");
        if (transport.caps.peerReset === "native") {
          assert.ok(told[0] instanceof ConnectionResetError, String(told[0]));
        }
      } finally {
        raw?.abort();
        await listener.close();
      }
    });

    test(
      "RawConn.watch() is told once, with no error, when the connection closes",
      SLOW,
      async () => {
        const listener = await transport.listen({ hostname: "127.0.0.1", port: 0 });
        const port = (listener.addr as { port: number }).port;
        const client = await transport.connect({ hostname: "127.0.0.1", port });
        const raw = (await listener.accept())!;
        const told: (Error | undefined)[] = [];
        raw.watch({ socketClosed: (error) => void told.push(error) });
        await within(raw.close(), 3000);
        assert.ok(await until(() => told.length > 0, 3000), "not told within 3 s of close()");
        raw.abort();
        client.abort();
        await listener.close();
        await sleep(50);
        assert.deepEqual(told, [undefined]);
      },
    );

    test("RawConn.startTls() that fails tells the watcher, with the TlsError", SLOW, async () => {
      await using peer = python(PY_GARBAGE);
      const port = await portOf(peer);
      const raw = await transport.connect({ hostname: "127.0.0.1", port });
      const told: (Error | undefined)[] = [];
      try {
        raw.watch({ socketClosed: (error) => void told.push(error) });
        const started = await within(raw.startTls!({ hostname: "localhost" }), 5000);
        assert.ok(started instanceof TlsError, `startTls(): ${String(started)}`);
        assert.ok(await until(() => told.length > 0, 3000), "the watcher was not told");
        assert.equal(told.length, 1);
        assert.ok(told[0] instanceof TlsError, String(told[0]));
      } finally {
        raw.abort();
      }
    });

    test(
      "200 slowloris peers against forEachFrame(LineCodec) with readTimeout are all cut",
      SLOW,
      async () => {
        const N = 200;
        const { server } = await counted(transport, {
          readTimeout: 1500,
          handler: (conn: Conn) =>
            conn.forEachFrame(new LineCodec(), (line) => conn.write(`${line}\n`)),
        });
        await using _server = server;
        await using peers = python(PY_SLOWLORIS, server.addr.port, N);
        assert.ok(await peers.next(/^open \d+$/), "the peers did not connect");
        assert.ok(await until(() => server.stats.accepted === N, 5000), "not all accepted");
        const cut = await until(() => server.stats.active === 0, 8000);
        assert.ok(cut, `8 s on, ${server.stats.active} of ${N} slowloris peers still connected`);
      },
    );

    test(
      "conn.unref() with idleTimeout and readTimeout running lets the process exit",
      SLOW,
      async () => {
        const { server } = await counted(transport, { handler: (conn: Conn) => conn.closed });
        await using _server = server;
        const dir = mkdtempSync(join(tmpdir(), "tcpkit-unref-"));
        after(() => rmSync(dir, { recursive: true, force: true }));
        const script = join(dir, "unref.mjs");
        writeFileSync(
          script,
          `${importTransport(transport)}
const { connect } = await import(${JSON.stringify(moduleUrl("mod"))});
const conn = await connect({ transport, port: ${server.addr.port}, idleTimeout: 60000, readTimeout: 60000 });
conn.unref();
conn.read().catch(() => {});
console.log("unref'd");
`,
        );
        await using child = spawnLines(runtimeCommand(script));
        assert.ok(await child.next(/^unref'd$/, 10_000), "the child did not connect");
        const code = await within(child.exited, 5000);
        assert.equal(code, 0, "the child did not exit by itself within 5 s");
      },
    );

    test(
      "conn.readable.cancel() with a write queued: the bytes still reach the peer, no reset",
      SLOW,
      async () => {
        const size = 1024 * 1024;
        const { server } = await counted(transport, {
          handler: async (conn: Conn) => {
            void conn.write(new Uint8Array(size)).catch(() => {});
            await conn.readable.cancel();
          },
        });
        await using _server = server;
        await using peer = python(PY_DRAIN, server.addr.port);
        const end = await peer.next(/^(eof|reset) (\d+)$/, 10_000);
        assert.deepEqual(end?.slice(1), ["eof", String(size)]);
      },
    );

    test(
      "a failed startTls leaves the Conn failed: closed rejects with TlsError, reads and writes reject",
      SLOW,
      async () => {
        await using peer = python(PY_GARBAGE);
        const port = await portOf(peer);
        const conn = await connect({ transport, port });
        try {
          const started = await within(conn.startTls({ serverName: "localhost" }), 5000);
          assert.ok(started instanceof TlsError, `startTls(): ${String(started)}`);
          const closed = await within(conn.closed, 3000);
          assert.ok(closed instanceof TlsError, `conn.closed: ${String(closed)}`);
          const read = await within(conn.read(), 3000);
          assert.ok(read instanceof Error && "code" in read, `read(): ${String(read)}`);
          const write = await within(conn.write("hi"), 3000);
          assert.ok(write instanceof Error && "code" in write, `write(): ${String(write)}`);
        } finally {
          conn.abort();
        }
      },
    );
    test(
      "a sequential connect-then-close storm is never refused by maxConnections or maxConnectionsPerAddress",
      SLOW,
      async () => {
        // Never more than one client open at a time: every refusal would count a closed peer.
        for (const limits of [{ maxConnections: 8 }, { maxConnectionsPerAddress: 2 }]) {
          await using server = await serve({ transport, port: 0, handler: echo, ...limits });
          const N = 1000;
          await using storm = python(PY_STORM, server.addr.port, N);
          assert.ok(await storm.next(/^done \d+$/, 20_000), "the storm did not finish");
          assert.ok(
            await until(() => server.stats.accepted + server.stats.rejected === N, 5000),
            `not all seen: ${JSON.stringify(server.stats)}`,
          );
          assert.equal(
            server.stats.rejected,
            0,
            `${JSON.stringify(limits)}: ${JSON.stringify(server.stats)}`,
          );
        }
      },
    );
    test(
      "peers that reset before they are accepted are no accept errors: the next client is served at once",
      SLOW,
      async () => {
        const errors: unknown[] = [];
        await using server = await serve({
          transport,
          port: 0,
          handler: echo,
          onError: (error) => void errors.push(error),
        });
        await using storm = python(PY_RESET_STORM, server.addr.port, 300);
        assert.ok(await storm.next(/^done \d+$/, 20_000), "the storm did not finish");
        // A failed accept would pause the loop (5 ms doubling to 1 s, per failure in a row).
        await using conn = await connect({ transport, port: server.addr.port });
        await assertEchoes(conn);
        assert.equal(server.stats.acceptErrors, 0, String(errors[0]));
      },
    );
    test(
      "accept errors under a low file limit back off, are reported once, and the server recovers",
      {
        ...SLOW,
        skip: transport.caps.acceptRecovery !== "native" && "caps.acceptRecovery is unsupported",
      },
      async () => {
        const dir = mkdtempSync(join(tmpdir(), "tcpkit-emfile-"));
        after(() => rmSync(dir, { recursive: true, force: true }));
        const script = join(dir, "emfile.mjs");
        // The child reports through a file it opened at start (a write needs no new descriptor):
        // under the suite runner a Deno parent never saw this child's stdout, although it wrote it.
        const status = join(dir, "status.json");
        writeFileSync(
          script,
          `${importTransport(transport)}
const { serve } = await import(${JSON.stringify(moduleUrl("mod"))});
const { openSync, writeSync } = await import("node:fs");
// Deno 2.9 sets up signal handling on first use and panics if no descriptor is left then.
process.on("SIGTERM", () => process.exit(0));
const status = openSync(${JSON.stringify(status)}, "a");
let reports = 0;
const server = await serve({
  transport,
  port: 0,
  handler: async (conn) => { for await (const chunk of conn) await conn.write(chunk); },
  onError: (error, conn) => { if (!conn) reports++; },
});
const report = () => {
  const { acceptErrors, active } = server.stats;
  writeSync(status, JSON.stringify({ port: server.addr.port, acceptErrors, active, reports }) + "\\n");
};
report();
setInterval(report, 50);
`,
        );
        /** The child's last status, once it has written one (bounded: 30 s). */
        const statusOf = async () => {
          for (let i = 0; i < 300; i++) {
            let text = "";
            try {
              text = readFileSync(status, "utf8");
            } catch { /* not created yet */ }
            // One JSON line per report, appended (Deno's writeSync ignores a position).
            const last = text.trimEnd().split("\n").pop();
            if (last) return JSON.parse(last);
            await sleep(100);
          }
        };
        const command = [...runtimeCommand(script)].map((arg) => `'${arg}'`).join(" ");
        await using child = spawnLines(["bash", "-c", `ulimit -n ${FD_LIMIT} && exec ${command}`]);
        const port = Number((await statusOf())?.port);
        assert.ok(port > 0, "the server did not start under the file limit");
        // More clients than the server has descriptors, held while it keeps trying to accept.
        const flood = await Promise.allSettled(
          Array.from({ length: FD_LIMIT * 2 }, () => connect({ transport, port, timeout: 3000 })),
        );
        await sleep(1500);
        const during = await statusOf();
        for (const result of flood) if (result.status === "fulfilled") result.value.abort();
        assert.ok(during, "the server did not answer (it died under the file limit)");
        const seen = JSON.stringify(during);
        assert.ok(during.active < flood.length, `the file limit was never hit: ${seen}`);
        // Deno's transport reports the failed accepts; Node's libuv and Bun handle them out of sight.
        // Backing off (5 ms doubling to 1 s) makes ~10 attempts in 1.5 s; a hot loop makes thousands.
        assert.ok(during.acceptErrors < 50, `accept errors in 1.5 s: ${seen}`);
        assert.equal(during.reports > 0, during.acceptErrors > 0, `onError: ${seen}`);
        assert.ok(during.reports <= 3, `onError once per run of failures: ${seen}`);
        let served = false;
        for (let attempt = 0; attempt < 20 && !served; attempt++) {
          const conn = await connect({ transport, port, timeout: 1000 }).catch(() => undefined);
          if (!conn) continue;
          await conn.write("hi");
          served = (await within(conn.read(), 1000)) instanceof Uint8Array;
          conn.abort();
          if (!served) await sleep(100);
        }
        assert.ok(served, "the server did not serve again after the flood");
        assert.equal(await within(child.exited, 0), PENDING, "the server exited");
      },
    );
  });
}
