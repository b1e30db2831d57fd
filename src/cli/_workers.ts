/**
 * `serve --workers N`: N processes of this same command on one port with
 * reusePort, the kernel balancing connections. The supervisor relays
 * SIGINT/SIGTERM so every worker drains, and each prints its own totals.
 *
 * @module
 */
import { spawn } from "node:child_process";
import process from "node:process";
import type { Logger } from "./_output.ts";

/** The command that started this process: the runtime, its flags, and the script. */
function selfCommand(): string[] {
  // Deno needs --unstable-net for reusePort.
  const flags = "Deno" in globalThis ? ["run", "-A", "--unstable-net"] : [];
  return [process.execPath, ...flags, process.argv[1]];
}

/**
 * Runs `serve` in `count` worker processes with `--reuse-port` and waits for them.
 *
 * @param count How many workers.
 * @param args The `serve` arguments, without `--workers`.
 * @param log The logger.
 */
export async function runWorkers(count: number, args: string[], log: Logger): Promise<void> {
  const [command, ...prefix] = selfCommand();
  const workers = Array.from(
    { length: count },
    (_, i) =>
      spawn(command, [...prefix, "serve", ...args, "--reuse-port", "--worker-id", String(i + 1)], {
        stdio: ["ignore", "inherit", "inherit"],
      }),
  );
  log.info("workers", `started ${count} workers: ${workers.map((w) => w.pid).join(", ")}`);
  const relay = (signal: "SIGINT" | "SIGTERM") => () => {
    for (const worker of workers) if (worker.exitCode === null) process.kill(worker.pid!, signal);
  };
  const onInt = relay("SIGINT");
  const onTerm = relay("SIGTERM");
  process.on("SIGINT", onInt);
  process.on("SIGTERM", onTerm);
  const codes = await Promise.all(
    workers.map((worker) =>
      new Promise<number>((resolve) => worker.on("close", (code) => resolve(code ?? 1)))
    ),
  );
  process.removeListener("SIGINT", onInt);
  process.removeListener("SIGTERM", onTerm);
  log.info("workers-stopped", `all ${count} workers stopped (exit codes ${codes.join(", ")})`);
  process.exitCode = Math.max(...codes);
}
