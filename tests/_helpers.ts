/**
 * Shared test helpers: which runtime runs the suite, how to start tcpkit's
 * command line on each runtime, and small byte utilities.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { createHash } from "node:crypto";
import { existsSync } from "node:fs";
import { dirname, join } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

export type RuntimeName = "deno" | "bun" | "node";

/** The runtime running this suite. */
export const RUNTIME: RuntimeName = "Deno" in globalThis
  ? "deno"
  : "Bun" in globalThis
  ? "bun"
  : "node";

/** The repository root (the folder with deno.json), from source or from npm/esm. */
export const ROOT: string = (() => {
  let dir = dirname(fileURLToPath(import.meta.url));
  while (!existsSync(join(dir, "deno.json"))) dir = dirname(dir);
  return dir;
})();

const bin = (name: string) => join(ROOT, "node_modules/.bin", name);

/**
 * The command that runs tcpkit's CLI on a runtime: `deno run -A mod.ts`,
 * `bun run mod.ts`, or the npm package's bin on the Node running this suite
 * (system Node when the suite runs on Deno or Bun).
 */
export function cliCommand(runtime: RuntimeName): string[] {
  switch (runtime) {
    case "deno":
      return [bin("deno"), "run", "-A", join(ROOT, "mod.ts")];
    case "bun":
      return [bin("bun"), "run", join(ROOT, "mod.ts")];
    case "node":
      return [RUNTIME === "node" ? process.execPath : "node", join(ROOT, "npm/bin/tcpkit.js")];
  }
}

/** The runtimes whose CLI can run here: Node's needs the npm build. */
export const CLI_RUNTIMES: RuntimeName[] = (["deno", "bun", "node"] as const).filter((r) =>
  r !== "node" || existsSync(join(ROOT, "npm/bin/tcpkit.js"))
);

/** The output of a finished process. */
export interface RunResult {
  code: number | null;
  stdout: Uint8Array;
  stderr: string;
}

/**
 * Runs a command with `input` on stdin and collects its output. It is killed
 * after `timeoutMs` so that a test never hangs.
 */
export function run(
  command: string[],
  input: Uint8Array | string = "",
  timeoutMs = 20_000,
): Promise<RunResult> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    const out: Uint8Array[] = [];
    let err = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutMs);
    child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
    child.stderr.on("data", (chunk: Uint8Array) => (err += chunk.toString()));
    child.on("error", reject);
    child.on("close", (code) => {
      clearTimeout(timer);
      resolve({ code, stdout: concat(out), stderr: err });
    });
    child.stdin.on("error", () => {});
    child.stdin.end(input);
  });
}

/** A child process started by a test, stopped by `stop()` (by its id only). */
export interface Started {
  pid: number;
  /** The first line on stderr that matched. */
  line: string;
  /** Writes to its stdin. */
  write(data: string | Uint8Array): void;
  /**
   * Sends `signal` (default SIGTERM), or with `"none"` waits for it to exit by
   * itself; either way it is killed if still running 10 s later.
   */
  stop(signal?: "SIGTERM" | "SIGINT" | "SIGKILL" | "none"): Promise<RunResult>;
}

/**
 * Starts a long-running command and waits for a line on its stderr that
 * matches `ready`.
 */
export function start(command: string[], ready: RegExp, timeoutMs = 20_000): Promise<Started> {
  return new Promise((resolve, reject) => {
    const child = spawn(command[0], command.slice(1), { stdio: ["pipe", "pipe", "pipe"] });
    child.stdin.on("error", () => {});
    const out: Uint8Array[] = [];
    let err = "";
    let exited: Promise<RunResult> | undefined;
    const closed = new Promise<RunResult>((done) =>
      child.on("close", (code) => done({ code, stdout: concat(out), stderr: err }))
    );
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${command.join(" ")} did not print ${ready} in ${timeoutMs} ms: ${err}`));
    }, timeoutMs);
    child.stdout.on("data", (chunk: Uint8Array) => out.push(chunk));
    child.stderr.on("data", (chunk: Uint8Array) => {
      err += chunk.toString();
      const match = err.match(ready);
      if (match && !exited) {
        clearTimeout(timer);
        exited = closed;
        resolve({
          pid: child.pid!,
          line: match[0],
          write: (data) => void child.stdin.write(data),
          stop(signal = "SIGTERM") {
            const running = () => child.exitCode === null && child.signalCode === null;
            // process.kill, not child.kill: Deno reports a child it signalled as killed
            // even when the child handled the signal and exited with its own code.
            if (signal !== "none" && running()) process.kill(child.pid!, signal);
            const timer = setTimeout(
              () => running() && process.kill(child.pid!, "SIGKILL"),
              10_000,
            );
            return closed.finally(() => clearTimeout(timer));
          },
        });
      }
    });
    child.on("error", reject);
    closed.then((result) => {
      if (!exited) {
        clearTimeout(timer);
        reject(new Error(`${command.join(" ")} exited with ${result.code}: ${result.stderr}`));
      }
    });
  });
}

/** Joins chunks into one array. */
export function concat(chunks: Uint8Array[]): Uint8Array {
  const out = new Uint8Array(chunks.reduce((n, c) => n + c.length, 0));
  let offset = 0;
  for (const chunk of chunks) {
    out.set(chunk, offset);
    offset += chunk.length;
  }
  return out;
}

/** The SHA-256 of bytes, in hex. */
export function sha256(bytes: Uint8Array | Uint8Array[]): string {
  const hash = createHash("sha256");
  for (const chunk of Array.isArray(bytes) ? bytes : [bytes]) hash.update(chunk);
  return hash.digest("hex");
}

/** Deterministic pseudo-random bytes (xorshift), fast for many MiB. */
export function pseudoRandomBytes(length: number, seed = 1): Uint8Array {
  const out = new Uint8Array(length);
  let x = seed >>> 0 || 1;
  for (let i = 0; i < length; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

/** Resident memory of this process, in bytes. */
export function rss(): number {
  return process.memoryUsage().rss;
}

/** Waits `ms` milliseconds. */
export function sleep(ms: number): Promise<void> {
  return new Promise((resolve) => setTimeout(resolve, ms));
}

/**
 * `promise`, or a rejection naming `what` once `ms` pass first: every wait in
 * a test is bounded (the bound is a safety net, never the assertion).
 */
export function within<T>(promise: Promise<T>, ms: number, what: string): Promise<T> {
  let timer: ReturnType<typeof setTimeout>;
  const timeout = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`${what}: nothing within ${ms} ms`)), ms);
  });
  return Promise.race([promise, timeout]).finally(() => clearTimeout(timer));
}
