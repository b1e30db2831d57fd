/**
 * Starts the Python peers of `tests/peers/peer.py`: sockets nobody in
 * tcpkit wrote, for interop tests.
 *
 * @module
 */
import { spawn } from "node:child_process";
import { join } from "node:path";
import { ROOT } from "./_helpers.ts";

/** A running Python peer; disposing kills it if it is still running. */
export interface PythonPeer extends AsyncDisposable {
  /** The port it listens on (servers), or the port it was given (clients). */
  port: number;
  /** What it printed so far (after the port line, for servers). */
  readonly output: string;
  /** Settles when it exits, with its whole stdout. */
  exited: Promise<string>;
}

/** How to start a peer. */
export interface PeerOptions {
  /** For client modes: the port to connect to. Server modes print the port they listen on. */
  port?: number;
  /** More arguments after the port. */
  args?: string[];
  /** Written to its stdin, which is then closed. */
  input?: string;
}

/** The path of the peer script. */
export const PEER_SCRIPT: string = join(ROOT, "tests/peers/peer.py");

/** Starts `peer.py MODE [PORT] [ARGS...]`. Server modes resolve once their port is printed. */
export function spawnPython(mode: string, options: PeerOptions = {}): Promise<PythonPeer> {
  const { port, args = [], input = "" } = options;
  const child = spawn("python3", [PEER_SCRIPT, mode, ...(port ? [String(port)] : []), ...args], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  child.stdin.end(input);
  let out = "";
  const exited = new Promise<string>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
  const peer = (listening: number): PythonPeer => ({
    port: listening,
    get output() {
      return port === undefined ? out.slice(out.indexOf("\n") + 1) : out;
    },
    exited,
    async [Symbol.asyncDispose]() {
      if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
      await exited.catch(() => {});
    },
  });
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      if (port === undefined && out.includes("\n")) resolve(peer(Number(out.split("\n")[0])));
    });
    if (port !== undefined) resolve(peer(port));
    exited.then(() => reject(new Error(`python3 peer.py ${mode} exited early: ${out}`)), reject);
  });
}
