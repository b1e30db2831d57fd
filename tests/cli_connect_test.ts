/**
 * `tcpkit connect` as a person and as other programs meet it: interactive in
 * a real pseudo-terminal, and against netcat and socat in both directions,
 * half-close included.
 */
import assert from "node:assert/strict";
import { spawnSync } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { certificatesForFile, HAS_OPENSSL } from "./_certs.ts";
import { cliCommand, pseudoRandomBytes, ROOT, run, RUNTIME, sha256, start } from "./_helpers.ts";

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const certs = certificatesForFile();
const has = (tool: string) => spawnSync("sh", ["-c", `command -v ${tool}`]).status === 0;
const missing = (tool: string) =>
  has(tool) ? false : `${tool} is not installed (.ci/run installs it)`;

async function startServe(...args: string[]) {
  const server = await start([...cliCommand(RUNTIME), "serve", "--port", "0", ...args], LISTENING);
  return { ...server, port: Number(server.line.match(LISTENING)![1]) };
}

/** socat as an echo server: `cat` behind it answers until the client half-closes. */
async function startSocatCat() {
  const socat = await start(
    ["socat", "-d", "-d", "TCP-LISTEN:0,bind=127.0.0.1", "EXEC:cat"],
    /listening on .*:(\d+)/,
  );
  return { ...socat, port: Number(socat.line.match(/:(\d+)$/)![1]) };
}

/** Runs a command in a pseudo-terminal through tests/peers/pty_drive.py. */
async function inTerminal(steps: [string, string][], command: string[]) {
  const result = await run([
    "python3",
    join(ROOT, "tests/peers/pty_drive.py"),
    JSON.stringify(steps),
    ...command,
  ]);
  return JSON.parse(new TextDecoder().decode(result.stdout)) as {
    transcript: string;
    code: number | null;
    error: string | null;
  };
}

describe(`connect in a terminal on ${RUNTIME}`, () => {
  test("interactive: each typed line is sent, replies print, quit ends cleanly", async () => {
    const server = await startServe("--handler", "reply", "--text", "pong\n", "--framing", "line");
    try {
      const result = await inTerminal([
        ["expect", "Connected to 127\\.0\\.0\\.1:\\d+"],
        ["expect", "> "],
        ["send", "ping one\r"],
        ["expect", "pong"],
        ["send", "ping two\r"],
        ["expect", "pong"],
        ["send", "quit\r"],
        ["expect", "Bye\\."],
      ], [...cliCommand(RUNTIME), "connect", "127.0.0.1", String(server.port)]);
      assert.equal(result.error, null, JSON.stringify(result));
      assert.equal(result.code, 0, result.transcript);
    } finally {
      const out = new TextDecoder().decode((await server.stop()).stdout);
      assert.match(out, /: ping one\n.*: ping two\n/);
    }
  });

  test("connect with no address asks for host and port", async () => {
    const server = await startServe();
    try {
      const result = await inTerminal([
        ["expect", "Host \\[127\\.0\\.0\\.1\\]: "],
        ["send", "\r"],
        ["expect", "Port \\[7788\\]: "],
        ["send", `${server.port}\r`],
        ["expect", "Connected to"],
        ["send", "echo me\r"],
        ["expect", "\\x1b\\[Kecho me"], // the reply, not the terminal echoing what was typed
        ["send", "quit\r"],
        ["expect", "Bye\\."],
      ], [...cliCommand(RUNTIME), "connect"]);
      assert.equal(result.error, null, JSON.stringify(result));
      assert.equal(result.code, 0, result.transcript);
    } finally {
      await server.stop();
    }
  });
});

describe(`connect and serve against netcat and socat on ${RUNTIME}`, () => {
  test(
    "netcat as a client: half-closes, gets every byte back from serve",
    { skip: missing("nc") },
    async () => {
      const server = await startServe();
      try {
        const data = pseudoRandomBytes(300_000, 5);
        const result = await run(["nc", "-N", "127.0.0.1", String(server.port)], data);
        assert.equal(result.code, 0, result.stderr);
        assert.equal(sha256(result.stdout), sha256(data));
      } finally {
        await server.stop();
      }
    },
  );

  test("socat as an echo server (cat): connect half-closes and prints it all", {
    skip: missing("socat"),
  }, async () => {
    const socat = await startSocatCat();
    try {
      const port = String(socat.port);
      const data = pseudoRandomBytes(300_000, 6);
      const result = await run([...cliCommand(RUNTIME), "connect", "127.0.0.1", port], data);
      assert.equal(result.code, 0, result.stderr);
      assert.equal(sha256(result.stdout), sha256(data));
    } finally {
      await socat.stop("SIGKILL");
    }
  });

  test("connect --no-shutdown keeps its sending side open at the end of stdin", {
    skip: missing("socat"),
  }, async () => {
    // socat's cat exits only at EOF: without a half-close, nothing ends until --idle-timeout.
    const socat = await startSocatCat();
    try {
      const port = String(socat.port);
      const result = await run([
        ...cliCommand(RUNTIME),
        "connect",
        "127.0.0.1",
        port,
        "--no-shutdown",
        "--idle-timeout",
        "500ms",
      ], "kept open\n");
      assert.equal(new TextDecoder().decode(result.stdout), "kept open\n");
      assert.equal(result.code, 1);
      assert.match(result.stderr, /idleTimeout/);
    } finally {
      await socat.stop("SIGKILL");
    }
  });
});

describe(`TLS from the command line on ${RUNTIME}`, {
  skip: HAS_OPENSSL ? false : "openssl is not installed (.ci/run installs it)",
}, () => {
  test("serve --tls-cert --tls-key, connect --ca: an echo over TLS; an unknown CA exits 1", async () => {
    const server = await startServe(
      "--tls-cert",
      join(certs.dir, "server.pem"),
      "--tls-key",
      join(certs.dir, "server.key"),
    );
    try {
      const port = String(server.port);
      const ca = join(certs.dir, "ca.pem");
      const ok = await run(
        [...cliCommand(RUNTIME), "connect", "--ca", ca, "localhost", port],
        "hi\n",
      );
      assert.equal(ok.code, 0, ok.stderr);
      assert.equal(new TextDecoder().decode(ok.stdout), "hi\n");
      const untrusted = await run([...cliCommand(RUNTIME), "connect", "--tls", "127.0.0.1", port]);
      assert.equal(untrusted.code, 1);
      assert.match(untrusted.stderr, /certificate is not trusted/);
    } finally {
      await server.stop();
    }
  });

  test("--tls-cert without --tls-key is a usage error", async () => {
    const cert = join(certs.dir, "server.pem");
    const result = await run([...cliCommand(RUNTIME), "serve", "--tls-cert", cert]);
    assert.equal(result.code, 2);
    assert.match(result.stderr, /--tls-cert and --tls-key go together/);
  });
});
