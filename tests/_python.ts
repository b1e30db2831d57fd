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
  /** Settles when it exits, with its stdout. */
  exited: Promise<string>;
}

/** The path of the peer script. */
export const PEER_SCRIPT: string = join(ROOT, "tests/peers/peer.py");

/**
 * Starts `peer.py MODE [PORT]`. Server modes resolve once the port is printed.
 */
export function spawnPython(mode: string, port?: number, input = ""): Promise<PythonPeer> {
  const child = spawn("python3", [PEER_SCRIPT, mode, ...(port ? [String(port)] : [])], {
    stdio: ["pipe", "pipe", "inherit"],
  });
  child.stdin.end(input);
  let out = "";
  const exited = new Promise<string>((resolve, reject) => {
    child.on("error", reject);
    child.on("close", () => resolve(out));
  });
  const dispose = async () => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
    await exited.catch(() => {});
  };
  return new Promise((resolve, reject) => {
    child.stdout.on("data", (chunk: Uint8Array) => {
      out += new TextDecoder().decode(chunk);
      if (port === undefined && out.includes("\n")) {
        resolve({ port: Number(out.split("\n")[0]), exited, [Symbol.asyncDispose]: dispose });
      }
    });
    if (port !== undefined) resolve({ port, exited, [Symbol.asyncDispose]: dispose });
    exited.then(() => reject(new Error(`python3 peer.py ${mode} exited early: ${out}`)), reject);
  });
}
