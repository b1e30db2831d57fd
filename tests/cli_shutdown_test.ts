/**
 * `tcpkit serve` under pressure and at shutdown, driven as a subprocess on this
 * runtime: the built-in handlers end on `conn.signal`, and the protections
 * the command line exposes (read timeout, per-address limit) hold.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { createConnection, type Socket } from "node:net";
import { createInterface } from "node:readline";
import { describe, test } from "node:test";
import { connect } from "../mod.ts";
import { cliCommand, RUNTIME, sleep, start } from "./_helpers.ts";

/** Opens 20 sockets from 127.0.0.2, prints how many the server closed, holds the rest until stdin ends. */
const HOG = `
import socket, sys, time
socks = []
for _ in range(20):
    s = socket.socket(); s.bind(("127.0.0.2", 0)); s.connect(("127.0.0.1", int(sys.argv[1]))); socks.append(s)
closed = 0
for s in socks:
    s.settimeout(1.5)
    try:
        data = s.recv(100)
        closed += data == b"" or data.startswith(b"tcpkit: server busy")
    except socket.timeout:
        pass
print("closed", closed, flush=True)
sys.stdin.read()
`;

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

async function startServe(...args: string[]) {
  const server = await start([...cliCommand(RUNTIME), "serve", "--port", "0", ...args], LISTENING);
  return { ...server, port: Number(server.line.match(LISTENING)![1]) };
}

/** A raw socket from `localAddress`; resolves once connected. */
function rawSocket(port: number, localAddress = "127.0.0.1"): Promise<Socket> {
  return new Promise((resolve, reject) => {
    const socket = createConnection(
      { host: "127.0.0.1", port, localAddress },
      () => resolve(socket),
    );
    socket.on("error", reject);
  });
}

/** Resolves once the socket is closed by the other side (or after `ms`, with false). */
function closedWithin(socket: Socket, ms: number): Promise<boolean> {
  return new Promise((resolve) => {
    const timer = setTimeout(() => resolve(false), ms);
    socket.on("error", () => {});
    const done = () => {
      clearTimeout(timer);
      resolve(true);
    };
    socket.once("end", done);
    socket.once("close", done);
  });
}

describe(`serve at shutdown on ${RUNTIME}`, () => {
  test("echo: SIGINT with two idle clients: both closed in time, none aborted, the wait is said", async () => {
    const server = await startServe();
    const clients = [await connect({ port: server.port }), await connect({ port: server.port })];
    for (const client of clients) {
      await client.write("x");
      assert.equal(new TextDecoder().decode((await client.read())!), "x");
    }
    const result = await server.stop("SIGINT");
    for (const client of clients) {
      assert.equal(await client.read().catch(() => null), null);
      client.abort();
    }
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /2 connections open, waiting up to 5 s for them to finish/);
    assert.match(result.stderr, /of the 2 open at shutdown, 2 closed in time, 0 aborted/);
  });

  test("chat: SIGINT tells every member the server is shutting down, then closes", async () => {
    const server = await startServe("--handler", "chat");
    const members = [await connect({ port: server.port }), await connect({ port: server.port })];
    assert.match((await members[0].readLine())!, /^Welcome/);
    assert.match((await members[1].readLine())!, /^Welcome/);
    assert.match((await members[0].readLine())!, /joined$/);
    const stopped = server.stop("SIGINT");
    for (const member of members) {
      assert.equal(await member.readLine(), "* The server is shutting down. Goodbye!");
      assert.equal(await member.readLine().catch(() => null), null);
      member.abort();
    }
    const result = await stopped;
    assert.match(result.stderr, /2 closed in time, 0 aborted/);
  });

  test("--quiet still prints the totals", async () => {
    const server = await startServe("--quiet");
    await sleep(300); // Deno installs its signal handler a moment after the first log line
    const result = await server.stop("SIGINT");
    assert.match(result.stderr, /stopped: 0 connections in all/, JSON.stringify(result));
    assert.doesNotMatch(result.stderr, /try:/);
  });
});

describe(`serve protections on ${RUNTIME}`, () => {
  test("--read-timeout 1s cuts 50 peers that send one byte every 2 s", async () => {
    const server = await startServe("--read-timeout", "1s");
    const sockets: Socket[] = [];
    const timer = setInterval(() => {
      for (const socket of sockets) if (!socket.destroyed) socket.write("x");
    }, 2000);
    try {
      for (let i = 0; i < 50; i++) sockets.push(await rawSocket(server.port));
      const cut = await Promise.all(sockets.map((socket) => closedWithin(socket, 15_000)));
      assert.equal(cut.filter(Boolean).length, 50);
    } finally {
      clearInterval(timer);
      for (const socket of sockets) socket.destroy();
      assert.match((await server.stop()).stderr, /readTimeout|read waited/);
    }
  });

  test("--max-connections-per-address: one host holding idle sockets does not lock out another", async () => {
    const server = await startServe(
      "--max-connections",
      "20",
      "--max-connections-per-address",
      "5",
    );
    // Python holds 20 idle sockets from 127.0.0.2 while a client from 127.0.0.1 is served.
    const hog = spawn("python3", ["-c", HOG, String(server.port)], {
      stdio: ["pipe", "pipe", "inherit"],
    });
    try {
      const [line] = await once(createInterface({ input: hog.stdout! }), "line");
      assert.equal(line, "closed 15");
      await using good = await connect({ port: server.port });
      await good.write("hello");
      assert.equal(new TextDecoder().decode((await good.read())!), "hello");
    } finally {
      hog.stdin!.end();
      assert.match((await server.stop()).stderr, /15 rejected/);
    }
  });
});
