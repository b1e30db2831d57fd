/**
 * PROXY protocol peers for the tests: a header as a balancer would send it,
 * and a real HAProxy (Debian's package; `.ci/run` installs it) in TCP mode on
 * loopback, in front of tcpkit servers.
 *
 * @module
 */
import { spawn, spawnSync } from "node:child_process";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { connect, type ProxyHeader, serve } from "../mod.ts";
import { sleep } from "./_helpers.ts";

/** A PROXY header naming client 203.0.113.7:40001, in protocol version 1 or 2. */
export const sampleHeader = (version: 1 | 2): ProxyHeader => ({
  version,
  command: "PROXY",
  family: "TCP4",
  source: { hostname: "203.0.113.7", port: 40001 },
  destination: { hostname: "198.51.100.1", port: 443 },
});

/** Whether `haproxy` is installed. */
export const HAS_HAPROXY: boolean = spawnSync("sh", ["-c", "command -v haproxy"]).status === 0;

/** HAProxy connects to the servers from this address: the one to trust. */
export const HAPROXY_SOURCE = "127.0.0.2";

/** A running HAProxy; disposing kills it and removes its configuration. */
export interface Haproxy extends AsyncDisposable {
  /** The port clients connect to. */
  port: number;
}

/**
 * Starts HAProxy balancing round-robin over servers on 127.0.0.1.
 *
 * @param send `send-proxy-v2` or `send-proxy` (v1).
 * @param backends The servers' ports.
 */
export async function startHaproxy(send: string, backends: number[]): Promise<Haproxy> {
  const dir = mkdtempSync(join(tmpdir(), "tcpkit-haproxy-"));
  const config = join(dir, "haproxy.cfg");
  // HAProxy cannot bind port 0 and report it: take a free port from the kernel first.
  const probe = await serve({ port: 0, handler: () => {} });
  const port = probe.addr.port;
  await probe.shutdown();
  writeFileSync(
    config,
    [
      "global",
      "  maxconn 200",
      "defaults",
      "  mode tcp",
      "  timeout connect 2s",
      "  timeout client 10s",
      "  timeout server 10s",
      "frontend front",
      `  bind 127.0.0.1:${port}`,
      "  default_backend tcpkit",
      "backend tcpkit",
      "  balance roundrobin",
      ...backends.map((backend, i) =>
        `  server s${i} 127.0.0.1:${backend} ${send} source ${HAPROXY_SOURCE}`
      ),
      "",
    ].join("\n"),
  );
  const haproxy = spawn("haproxy", ["-db", "-f", config], { stdio: "ignore" });
  const exited = new Promise((resolve) => haproxy.once("close", resolve));
  const stop = async () => {
    haproxy.kill("SIGKILL");
    await exited;
    rmSync(dir, { recursive: true, force: true });
  };
  try {
    await waitForPort(port);
  } catch (error) {
    await stop();
    throw error;
  }
  return { port, [Symbol.asyncDispose]: stop };
}

/** Waits until something accepts connections on the port (at most 10 s). */
async function waitForPort(port: number): Promise<void> {
  for (let i = 0; i < 100; i++) {
    const conn = await connect({ port }).catch(() => null);
    if (conn) return void conn.abort();
    await sleep(100);
  }
  throw new Error(`nothing listens on ${port} after 10 s`);
}
