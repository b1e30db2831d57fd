/**
 * The command line, driven as subprocesses: this runtime's `serve` against
 * every runtime's `connect`, this runtime's `connect` against every
 * runtime's `serve` (so the runs on Deno, Bun and Node cover the 3 x 3
 * matrix), and both against Python's socket module.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  CLI_RUNTIMES,
  cliCommand,
  pseudoRandomBytes,
  run,
  RUNTIME,
  sha256,
  start,
} from "./_helpers.ts";
import { spawnPython } from "./_python.ts";

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;

async function startServer(runtime: typeof RUNTIME) {
  const server = await start([...cliCommand(runtime), "serve", "--port", "0"], LISTENING);
  return { ...server, port: Number(server.line.match(LISTENING)![1]) };
}

describe(`CLI on ${RUNTIME}`, () => {
  for (const client of CLI_RUNTIMES) {
    test(`serve on ${RUNTIME} echoes connect on ${client}, binary-safe, through half-close`, async () => {
      const server = await startServer(RUNTIME);
      try {
        const data = pseudoRandomBytes(256 * 1024, 3);
        const result = await run([
          ...cliCommand(client),
          "connect",
          "127.0.0.1",
          String(server.port),
        ], data);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(sha256(result.stdout), sha256(data));
      } finally {
        await server.stop();
      }
    });
  }

  for (const serverRuntime of CLI_RUNTIMES.filter((r) => r !== RUNTIME)) {
    test(`connect on ${RUNTIME} gets its bytes back from serve on ${serverRuntime}`, async () => {
      const server = await startServer(serverRuntime);
      try {
        const result = await run([
          ...cliCommand(RUNTIME),
          "connect",
          "127.0.0.1",
          String(server.port),
        ], "hello\n");
        assert.equal(result.code, 0, result.stderr);
        assert.equal(new TextDecoder().decode(result.stdout), "hello\n");
      } finally {
        await server.stop();
      }
    });
  }

  test("serve logs each connection with the peer address and stops cleanly on SIGTERM", async () => {
    const server = await startServer(RUNTIME);
    await run([...cliCommand(RUNTIME), "connect", "127.0.0.1", String(server.port)], "abc");
    const result = await server.stop("SIGTERM");
    assert.equal(result.code, 0, result.stderr);
    assert.match(result.stderr, /open 127\.0\.0\.1:\d+/);
    assert.match(result.stderr, /close 127\.0\.0\.1:\d+: in 3 B, out 3 B/);
    assert.match(
      result.stderr,
      /stopped: 1 connection in all, 0 rejected, in 3 B, out 3 B; of the 0 open at shutdown/,
    );
  });

  test("a Python client gets its bytes back from serve", async () => {
    const server = await startServer(RUNTIME);
    try {
      const data = "from python\n".repeat(1000);
      await using peer = await spawnPython("echo_client", { port: server.port, input: data });
      assert.equal(await peer.exited, data);
    } finally {
      await server.stop();
    }
  });

  test("connect half-closes to a Python echo server and prints everything it sends back", async () => {
    await using peer = await spawnPython("echo_server");
    const data = pseudoRandomBytes(100_000, 9);
    const result = await run(
      [...cliCommand(RUNTIME), "connect", "127.0.0.1", String(peer.port)],
      data,
    );
    assert.equal(result.code, 0, result.stderr);
    assert.equal(sha256(result.stdout), sha256(data));
  });

  test("connect to a closed port: one line on stderr, exit code 1", async () => {
    const server = await startServer(RUNTIME);
    await server.stop();
    const result = await run([...cliCommand(RUNTIME), "connect", "127.0.0.1", String(server.port)]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      `tcpkit: Cannot connect to 127.0.0.1:${server.port}: connection refused\n`,
    );
  });

  test("connect to an unknown host: one line on stderr, exit code 1", async () => {
    const result = await run([...cliCommand(RUNTIME), "connect", "no-such-host.invalid", "80"]);
    assert.equal(result.code, 1);
    assert.equal(
      result.stderr,
      "tcpkit: Cannot connect to no-such-host.invalid:80: host not found\n",
    );
  });

  test("bad arguments: a clear message and exit code 2", async () => {
    const result = await run([...cliCommand(RUNTIME), "connect", "127.0.0.1", "99999"]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /PORT must be a number between 1 and 65535 \(got "99999"\)/);
    const unknown = await run([...cliCommand(RUNTIME), "frobnicate"]);
    assert.equal(unknown.code, 2);
    assert.match(unknown.stderr, /unknown command "frobnicate"/);
    const handler = await run([...cliCommand(RUNTIME), "serve", "--handler", "nope"]);
    assert.equal(handler.code, 2);
    assert.match(
      handler.stderr,
      /--handler must be one of echo, discard, reply, chat, stdio \(got "nope"\)/,
    );
    const duration = await run([...cliCommand(RUNTIME), "serve", "--idle-timeout", "5x"]);
    assert.equal(duration.code, 2);
    assert.match(
      duration.stderr,
      /--idle-timeout must be a duration such as 500ms, 30s, 2m or 1h \(got "5x"\)/,
    );
  });

  test("--version prints the version", async () => {
    const result = await run([...cliCommand(RUNTIME), "--version"]);
    assert.equal(new TextDecoder().decode(result.stdout), "0.1.0\n");
  });

  test("--help describes serve and connect", async () => {
    for (const args of [["--help"], ["serve", "--help"], ["connect", "--help"]]) {
      const result = await run([...cliCommand(RUNTIME), ...args]);
      assert.equal(result.code, 0);
      assert.match(new TextDecoder().decode(result.stdout), /Usage:\s+tcpkit (serve|connect)/);
    }
  });
});
