/**
 * The interactive commands as a person uses them: in a real terminal (tmux),
 * typing at the prompts and reading the screen, on every CLI runtime.
 */
import assert from "node:assert/strict";
import { execFileSync, spawnSync } from "node:child_process";
import process from "node:process";
import { describe, test } from "node:test";
import { CLI_RUNTIMES, cliCommand, type RuntimeName, sleep, start } from "./_helpers.ts";

const HAS_TMUX = spawnSync("sh", ["-c", "command -v tmux"]).status === 0;
const skip = HAS_TMUX ? false : "tmux is not installed (.ci/run installs it)";
const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
let sockets = 0;

const quote = (arg: string) => `'${arg.replaceAll("'", `'\\''`)}'`;

/** One tmux server of our own (its own socket): windows run commands, the test types and reads. */
class Terminal {
  readonly socket = `tcpkit-test-${process.pid}-${sockets++}`;
  #windows = 0;

  #tmux(...args: string[]): string {
    return execFileSync("tmux", ["-L", this.socket, ...args], { encoding: "utf8" });
  }

  /** Runs a command in a new window; the window shows `exit=N` when it ends. Returns its name. */
  open(command: string[]): string {
    const name = `w${this.#windows++}`;
    const line = `${command.map(quote).join(" ")}; echo exit=$?; sleep 60`;
    if (name === "w0") {
      this.#tmux("new-session", "-d", "-s", "t", "-n", name, "-x", "200", "-y", "50", line);
    } else this.#tmux("new-window", "-d", "-t", "t", "-n", name, line);
    return name;
  }

  /** Types keys (tmux key names such as Enter or C-c are keys; the rest is typed literally). */
  type(window: string, text: string, ...keys: string[]): void {
    if (text) this.#tmux("send-keys", "-t", `t:${window}`, "-l", text);
    if (keys.length) this.#tmux("send-keys", "-t", `t:${window}`, ...keys);
  }

  screen(window: string): string {
    return this.#tmux("capture-pane", "-p", "-t", `t:${window}`);
  }

  /** Waits (at most 15 s) for the screen to match; returns it. */
  async waitFor(window: string, pattern: RegExp): Promise<string> {
    const end = Date.now() + 15_000;
    for (;;) {
      const screen = this.screen(window);
      if (pattern.test(screen)) return screen;
      if (Date.now() > end) assert.fail(`screen of ${window} never matched ${pattern}:\n${screen}`);
      await sleep(100);
    }
  }

  close(): void {
    spawnSync("tmux", ["-L", this.socket, "kill-server"]);
  }
}

function serveCommand(runtime: RuntimeName, ...args: string[]) {
  return [...cliCommand(runtime), "serve", "--port", "0", ...args];
}

for (const runtime of CLI_RUNTIMES) {
  describe(`the interactive commands in a terminal, ${runtime}`, { skip }, () => {
    test("connect with no arguments asks for host and port, asks again after a bad port, Ctrl-C exits 130", async () => {
      const server = await start(serveCommand(runtime), LISTENING);
      const port = server.line.match(LISTENING)![1];
      const term = new Terminal();
      try {
        const w = term.open([...cliCommand(runtime), "connect"]);
        await term.waitFor(w, /Host \[127\.0\.0\.1\]:\s*$/m);
        term.type(w, "", "Enter");
        await term.waitFor(w, /Port \[7788\]:\s*$/m);
        term.type(w, "seventy", "Enter");
        await term.waitFor(
          w,
          /must be a number between 1 and 65535 \(got "seventy"\); try again\.\nPort \[7788\]:\s*$/m,
        );
        term.type(w, port, "Enter");
        await term.waitFor(w, /Connected to 127\.0\.0\.1:\d+/);
        term.type(w, "echo me", "Enter");
        await term.waitFor(w, /^echo me$/m);
        term.type(w, "", "C-c");
        const screen = await term.waitFor(w, /exit=\d+/);
        assert.match(screen, /^tcpkit: interrupted$/m);
        assert.match(screen, /exit=130/);
        assert.doesNotMatch(screen, /closed the connection/);
      } finally {
        term.close();
        await server.stop();
      }
    });

    test("serve --handler stdio: both sides talk, quit typed by the operator ends it cleanly", async () => {
      const term = new Terminal();
      try {
        const s = term.open(serveCommand(runtime, "--handler", "stdio"));
        const port = (await term.waitFor(s, LISTENING)).match(LISTENING)![1];
        const c = term.open([...cliCommand(runtime), "connect", "127.0.0.1", port]);
        await term.waitFor(s, /is connected to this terminal/);
        term.type(s, "hello from the operator", "Enter");
        await term.waitFor(c, /^hello from the operator$/m);
        term.type(c, "hello from the client", "Enter");
        // Marked with the peer's address: not what the operator typed.
        await term.waitFor(s, /^127\.0\.0\.1:\d+: hello from the client$/m);
        term.type(s, "quit", "Enter");
        const server = await term.waitFor(s, /exit=\d+/);
        assert.match(server, /exit=0/);
        assert.doesNotMatch(server, /Cannot read|error/i);
        assert.match(await term.waitFor(c, /exit=\d+/), /closed the connection\.\nexit=0/);
      } finally {
        term.close();
      }
    });

    test("serve --handler stdio: quit typed by the client ends it; Ctrl-C ends a waiting server", async () => {
      const term = new Terminal();
      try {
        const s = term.open(serveCommand(runtime, "--handler", "stdio", "--keep-open"));
        const port = (await term.waitFor(s, LISTENING)).match(LISTENING)![1];
        const c = term.open([...cliCommand(runtime), "connect", "127.0.0.1", port]);
        await term.waitFor(s, /is connected to this terminal/);
        term.type(c, "quit", "Enter");
        assert.match(await term.waitFor(c, /exit=\d+/), /Bye\.\nexit=0/);
        await term.waitFor(s, /close 127\.0\.0\.1:\d+/);
        term.type(s, "", "C-c");
        const server = await term.waitFor(s, /exit=\d+/);
        assert.match(server, /exit=0/);
        assert.match(server, /stopped: 1 connection in all/);
      } finally {
        term.close();
      }
    });

    test("chat with three members: lines reach the others, /who answers only the asker", async () => {
      const server = await start(serveCommand(runtime, "--handler", "chat"), LISTENING);
      const port = server.line.match(LISTENING)![1];
      const term = new Terminal();
      try {
        const members: string[] = [];
        for (let i = 0; i < 3; i++) {
          members.push(term.open([...cliCommand(runtime), "connect", "127.0.0.1", port]));
          await term.waitFor(members[i], /Welcome/);
        }
        await term.waitFor(members[0], /joined[\s\S]*joined/);
        term.type(members[0], "/nick ann", "Enter");
        await term.waitFor(members[2], /is now ann/);
        term.type(members[0], "hello room", "Enter");
        await term.waitFor(members[1], /^ann: hello room$/m);
        await term.waitFor(members[2], /^ann: hello room$/m);
        term.type(members[1], "/who", "Enter");
        await term.waitFor(members[1], /^Here: /m);
        term.type(members[2], "quit", "Enter");
        await term.waitFor(members[2], /Bye\./);
        await term.waitFor(members[0], /(left|quit)$/m);
        assert.doesNotMatch(term.screen(members[0]), /Here: /);
      } finally {
        term.close();
        await server.stop();
      }
    });

    test("connect: a server that disappears is reported on a line of its own", async () => {
      const server = await start(serveCommand(runtime), LISTENING);
      const port = server.line.match(LISTENING)![1];
      const term = new Terminal();
      try {
        const c = term.open([...cliCommand(runtime), "connect", "127.0.0.1", port]);
        await term.waitFor(c, /Connected to/);
        await server.stop("SIGKILL");
        const screen = await term.waitFor(c, /exit=\d+/);
        assert.doesNotMatch(screen, /^> \S/m, "a message was printed on the prompt's line");
        assert.match(screen, /closed the connection|tcpkit: /);
      } finally {
        term.close();
      }
    });
  });
}
