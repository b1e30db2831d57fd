/**
 * What `tcpkit serve` prints, driven as a subprocess on this runtime: output
 * to a stdout nobody drains never stalls the server, `--framing line` echo
 * and `--hex` keep the wire bytes, and a peer's control characters are shown
 * escaped on a real terminal (tmux).
 */
import assert from "node:assert/strict";
import { spawn, spawnSync } from "node:child_process";
import { existsSync, mkdtempSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { connect, serve } from "../mod.ts";
import {
  cliCommand,
  pseudoRandomBytes,
  RUNTIME,
  sha256,
  sleep,
  start,
  within,
} from "./_helpers.ts";

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

/** Resident memory of a process, from /proc. */
function rssOf(pid: number): number {
  const kb = readFileSync(`/proc/${pid}/status`, "utf8").match(/^VmRSS:\s+(\d+) kB$/m)![1];
  return Number(kb) * 1024;
}

/**
 * Runs `command` with its `stalled` output on a pipe that nobody reads until
 * `resume()` (in bash, a process that stops itself holds the pipe; once
 * continued it copies what waits to bash's stdout: the test's, for a
 * stalled stderr); the other output comes to the test.
 */
function spawnStalled(command: string[], stalled: "stdout" | "stderr") {
  const [fd, other] = stalled === "stdout" ? [1, 2] : [2, 1];
  const script =
    `exec ${fd}> >(kill -STOP $BASHPID; exec cat); echo "sink $!" >&${other}; exec "$@"`;
  const child = spawn("bash", ["-c", script, "bash", ...command], {
    stdio: ["pipe", fd === 1 ? "ignore" : "pipe", fd === 2 ? "ignore" : "pipe"],
  });
  let output = "";
  const waiters: { pattern: RegExp; resolve: (match: RegExpMatchArray) => void }[] = [];
  (fd === 1 ? child.stderr : child.stdout)!.on("data", (chunk: Uint8Array) => {
    output += text(chunk);
    for (const waiter of waiters.splice(0)) {
      const match = output.match(waiter.pattern);
      if (match) waiter.resolve(match);
      else waiters.push(waiter);
    }
  });
  const exited = new Promise<{ code: number | null; signal: string | null }>((resolve) =>
    child.on("exit", (code, signal) => resolve({ code, signal }))
  );
  const signalSink = (signal: "SIGCONT" | "SIGKILL") => {
    const sink = Number(output.match(/^sink (\d+)$/m)?.[1]);
    try {
      if (sink) process.kill(sink, signal);
    } catch { /* gone already */ }
  };
  return {
    pid: child.pid!,
    exited,
    /** What came on the other output (after the sink's pid). */
    output: () => output,
    /** The first match of `pattern` in the other output; rejects if the command exits first. */
    waitFor(pattern: RegExp, what: string): Promise<RegExpMatchArray> {
      const match = output.match(pattern);
      if (match) return Promise.resolve(match);
      const matched = new Promise<RegExpMatchArray>((resolve, reject) => {
        waiters.push({ pattern, resolve });
        exited.then(() => reject(new Error(`exited before ${what}: ${output}`)));
      });
      return within(matched, 20_000, what);
    },
    /** The stalled output is read from now on. */
    resume: () => signalSink("SIGCONT"),
    /** Kills what is still running, by pid: the command, then the sink. */
    kill() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      signalSink("SIGKILL");
    },
  };
}

/** Starts `serve --port 0 ...args` with its stdout on a pipe that nobody reads. */
function startStalled(args: string[]) {
  const stalled = spawnStalled([...cliCommand(RUNTIME), "serve", "--port", "0", ...args], "stdout");
  const ready = stalled.waitFor(LISTENING, "serve listening").then((match) => Number(match[1]));
  return { ...stalled, ready, stderr: stalled.output };
}

/** Sends up to `lines` lines of `size` bytes, for at most `ms`; returns the bytes sent. */
async function flood(port: number, lines: number, size: number, ms: number) {
  const conn = await connect({ port });
  const line = new Uint8Array(size).fill(0x41);
  line[size - 1] = 0x0a;
  const end = Date.now() + ms;
  let sent = 0;
  const sending = (async () => {
    for (let i = 0; i < lines && Date.now() < end; i++) {
      await conn.write(line);
      sent += size;
    }
  })().catch(() => {});
  await within(sending, ms + 1000, "flood").catch(() => {});
  return { conn, sent };
}

describe(`serve output on ${RUNTIME}`, () => {
  const cases: { args: string[]; probe: "welcome" | "echo" }[] = [
    { args: ["--handler", "chat"], probe: "welcome" },
    { args: ["--print"], probe: "echo" },
    { args: ["--hex"], probe: "echo" },
  ];
  for (const { args, probe } of cases) {
    test(
      `serve ${
        args.join(" ")
      } with a stdout nobody reads still serves others, stays small and stops on SIGTERM`,
      { timeout: 60_000 },
      async () => {
        const server = startStalled(args);
        try {
          const port = await server.ready;
          // The issue's case: 60,000-byte lines. A chat room reads them all (its
          // output is dropped), an echo --print flooder is held back after a few.
          const flooder = await flood(port, 1000, 60_000, 5000);
          await using other = await connect({ port });
          if (probe === "welcome") {
            assert.match((await within(other.readLine(), 5000, "welcome"))!, /^Welcome, /);
            assert.equal(flooder.sent, 60_000_000, "the chat room stopped reading a member");
          } else {
            await other.write("ping\n");
            assert.equal(text((await within(other.read(), 5000, "echo"))!), "ping\n");
          }
          const rss = rssOf(server.pid);
          assert.ok(rss < 160 * 2 ** 20, `serve holds ${Math.round(rss / 2 ** 20)} MiB`);
          flooder.conn.abort();
          process.kill(server.pid, "SIGTERM");
          const exit = await within(server.exited, 15_000, "exit after SIGTERM");
          assert.deepEqual(exit, { code: 0, signal: null }, server.stderr());
          if (probe === "welcome") {
            assert.match(server.stderr(), /stdout is not keeping up: dropping output/);
            assert.match(server.stderr(), /output: \d+ B dropped/);
          }
        } finally {
          server.kill();
        }
      },
    );
  }

  test(
    "serve with a stderr nobody reads still serves others, says how many log lines it dropped and stops on SIGTERM",
    {
      timeout: 60_000,
    },
    async () => {
      // The log lines (two a connection, about 150 bytes each in JSON) fill the
      // pipe and the log's queue; a Unix socket, since the listening line cannot
      // be read from a stderr nobody reads.
      const dir = mkdtempSync(join(tmpdir(), "tcpkit-stderr-"));
      const path = join(dir, "serve.sock");
      const server = spawnStalled(
        [...cliCommand(RUNTIME), "serve", "--unix", path, "--json"],
        "stderr",
      );
      try {
        // The socket's file is there at bind, before listen: wait for a connection to be taken.
        let listening = false;
        for (let i = 0; i < 200 && !listening; i++) {
          listening = existsSync(path) &&
            await connect({ path }).then((c) => (c.abort(), true), () => false);
          if (!listening) await sleep(100);
        }
        assert.ok(listening, "serve did not listen");
        // About 600 KB of log lines: more than the pipe (64 KiB) and the queue (256 KiB) hold.
        await within(
          (async () => {
            // A connect refused for a full backlog (Bun's Unix listener) is tried again.
            for (let n = 0; n < 2000;) {
              const conn = await connect({ path, timeout: 3000 }).catch(() => sleep(10));
              if (conn) {
                conn.abort();
                n++;
              }
            }
          })(),
          30_000,
          "2,000 connections",
        );
        await using other = await connect({ path, readTimeout: 5000 });
        await other.write("ping\n");
        assert.equal(text((await other.read())!), "ping\n");
        // Read from now on, stderr says how many lines it lost, with the next line that fits.
        server.resume();
        const dropped =
          /^\{[^\n]*"event":"log-drop","message":"(\d+) log lines? dropped: stderr was not keeping up"/m;
        for (let i = 0; i < 100 && !dropped.test(server.output()); i++) {
          (await connect({ path })).abort();
          await sleep(100);
        }
        const lost = Number(server.output().match(dropped)?.[1]);
        assert.ok(
          lost > 0 && lost <= 4000,
          `lines dropped: ${lost}; open lines seen: ${
            server.output().split(`"event":"open"`).length - 1
          }`,
        );
        process.kill(server.pid, "SIGTERM");
        const exit = await within(server.exited, 15_000, "exit after SIGTERM");
        assert.deepEqual(exit, { code: 0, signal: null });
      } finally {
        server.kill();
        rmSync(dir, { recursive: true, force: true });
      }
    },
  );

  test(
    "connect with a stdout nobody reads stops on Ctrl-C (SIGINT), exit code 130",
    { timeout: 60_000 },
    async () => {
      const chunk = new Uint8Array(64 * 1024).fill(0x41);
      // A server that sends without end: connect prints it to a stdout nobody reads.
      await using server = await serve({
        port: 0,
        handler: async (conn) => {
          for (;;) await conn.write(chunk);
        },
      });
      const command = [...cliCommand(RUNTIME), "connect", "127.0.0.1", `${server.addr.port}`];
      const client = spawnStalled(command, "stdout");
      try {
        // Connected, and the pipe full (64 KiB) many times over: connect holds back.
        for (let i = 0; i < 200 && server.stats.bytesOut < 2 ** 20; i++) await sleep(50);
        assert.ok(server.stats.bytesOut > 0, `connect never connected: ${client.output()}`);
        await sleep(500);
        process.kill(client.pid, "SIGINT");
        const exit = await within(client.exited, 10_000, "exit after SIGINT");
        assert.deepEqual(exit, { code: 130, signal: null }, client.output());
        assert.match(client.output(), /tcpkit: interrupted/);
      } finally {
        client.kill();
      }
    },
  );

  test("serve --framing line echoes random bytes, CRLF and invalid GBK byte for byte", async () => {
    for (const encoding of ["utf-8", "gbk"]) {
      const server = await start(
        [
          ...cliCommand(RUNTIME),
          "serve",
          "--port",
          "0",
          "--framing",
          "line",
          "--encoding",
          encoding,
        ],
        LISTENING,
      );
      try {
        const port = Number(server.line.match(LISTENING)![1]);
        const crlf = new TextEncoder().encode("one\r\ntwo\r\n\r\n");
        const badGbk = new Uint8Array([0xc4, 0xe3, 0x81, 0x0a, 0xff, 0x80, 0x0d, 0x0a]);
        const data = [pseudoRandomBytes(10_000, 7), crlf, badGbk, pseudoRandomBytes(999, 8)];
        await using conn = await connect({ port, readTimeout: 10_000 });
        for (const chunk of data) await conn.write(chunk);
        await conn.closeWrite();
        const back: Uint8Array[] = [];
        for await (const chunk of conn) back.push(chunk);
        const length = back.reduce((n, c) => n + c.length, 0);
        assert.equal(length, 10_000 + crlf.length + badGbk.length + 999, encoding);
        assert.equal(sha256(back), sha256(data), encoding);
      } finally {
        await server.stop();
      }
    }
  });

  test("serve --framing line --hex dumps the bytes that arrived, not re-encoded ones", async () => {
    const server = await start(
      [...cliCommand(RUNTIME), "serve", "--port", "0", "--framing", "line", "--hex"],
      LISTENING,
    );
    try {
      await using conn = await connect({ port: Number(server.line.match(LISTENING)![1]) });
      await conn.write(new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a])); // "caf\xe9\r\n"
      await conn.closeWrite();
      assert.deepEqual(await conn.read(), new Uint8Array([0x63, 0x61, 0x66, 0xe9, 0x0d, 0x0a]));
    } finally {
      const out = text((await server.stop()).stdout);
      assert.match(out, /sent 6 bytes:\n00000000 {2}63 61 66 e9 0d 0a {33}caf\.\.\.\n/);
    }
  });

  test("serve --print on a pipe writes a peer's text as decoded, escapes included", async () => {
    const server = await start(
      [...cliCommand(RUNTIME), "serve", "--port", "0", "--handler", "discard", "--print"],
      LISTENING,
    );
    try {
      await using conn = await connect({ port: Number(server.line.match(LISTENING)![1]) });
      await conn.write("\x1b[1mbold\x1b[0m\n");
      await conn.closeWrite();
      await conn.read();
    } finally {
      const out = text((await server.stop()).stdout);
      const esc = "\x1b";
      assert.match(out, new RegExp(`^127\\.0\\.0\\.1:\\d+: ${esc}\\[1mbold${esc}\\[0m\\n$`));
    }
  });
});

const tmux = spawnSync("tmux", ["-V"]).status === 0;

describe(`serve output in a terminal (tmux) on ${RUNTIME}`, () => {
  /** Runs `serve ...args` in a detached tmux pane; returns its port and a pane reader. */
  async function serveInTmux(socket: string, args: string[]) {
    const command = [...cliCommand(RUNTIME), "serve", "--port", "0", ...args]
      .map((a) => `'${a.replaceAll("'", "'\\''")}'`).join(" ");
    const tm = (...a: string[]) =>
      spawnSync("tmux", ["-L", socket, ...a], { encoding: "utf8", env: { ...process.env } });
    const made = tm("new-session", "-d", "-x", "160", "-y", "40", `NO_COLOR=1 ${command}`);
    assert.equal(made.status, 0, made.stderr);
    const pane = () => tm("capture-pane", "-p", "-J", "-S", "-100").stdout ?? "";
    for (let i = 0; i < 200 && !LISTENING.test(pane()); i++) await sleep(100);
    const port = Number(pane().match(LISTENING)?.[1]);
    assert.ok(port > 0, `no listening line in the pane: ${pane()}`);
    return { port, pane, title: () => tm("display-message", "-p", "#{pane_title}").stdout.trim() };
  }

  test(
    "serve --print shows a peer's terminal escapes as \\x1b text and the pane is not cleared or retitled",
    { skip: !tmux && "tmux is not installed" },
    async () => {
      const socket = `tcpkit-output-${process.pid}`;
      try {
        const { port, pane, title } = await serveInTmux(socket, [
          "--handler",
          "discard",
          "--print",
          "--framing",
          "line",
        ]);
        const before = title();
        await using conn = await connect({ port });
        await conn.write("\x1b[2J\x1b]0;pwned\x07\n");
        await conn.write("你好 é\tend\n");
        await conn.closeWrite();
        await conn.read();
        let screen = "";
        for (let i = 0; i < 100 && !/你好/.test(screen); i++) {
          await sleep(100);
          screen = pane();
        }
        assert.match(screen, /127\.0\.0\.1:\d+: \\x1b\[2J\\x1b\]0;pwned\\x07\n/);
        assert.match(screen, /127\.0\.0\.1:\d+: 你好 é\s+end/);
        assert.match(screen, /listening on/, "the screen was cleared");
        assert.equal(title(), before);
      } finally {
        spawnSync("tmux", ["-L", socket, "kill-server"]);
      }
    },
  );

  test(
    "serve --print --raw passes a peer's escapes to the terminal",
    { skip: !tmux && "tmux is not installed" },
    async () => {
      const socket = `tcpkit-output-raw-${process.pid}`;
      try {
        const { port, title } = await serveInTmux(socket, [
          "--handler",
          "discard",
          "--print",
          "--raw",
        ]);
        await using conn = await connect({ port });
        await conn.write("\x1b]2;raw-title\x07\n");
        await conn.closeWrite();
        await conn.read();
        let seen = "";
        for (let i = 0; i < 100 && seen !== "raw-title"; i++) {
          await sleep(100);
          seen = title();
        }
        assert.equal(seen, "raw-title");
      } finally {
        spawnSync("tmux", ["-L", socket, "kill-server"]);
      }
    },
  );
});
