#!/usr/bin/env node
/**
 * The benchmark harness (issue 6): tcpkit against each runtime's raw API, in one
 * run, interleaved, with one C load generator, and a C epoll echo server as the
 * floor. Prints a table of medians, min-max and ratios, and checks the targets.
 *
 *   node scripts/bench/run.mjs [--quick] [--rounds N] [--only deno,bun,node20,node22,node24,node26]
 *        [--servers raw,cli,tcpkit,each,into,streams,framed,pipeto,pull,lines,frames,rawlines,rawbatch]
 *        [--workloads bulk,pp1,pp100,connrate,idle,pl16,pl64]
 *        [--duration S] [--no-clients] [--compare REF ...] [--variant NAME=DIR ...] [--json] [--out FILE] [--no-build] [--no-pin]
 *
 * --quick is the smoke test (a few seconds per server, figures meaningless); --duration S
 * sets each ping-pong and bulk measurement's length (0.4 s by default; longer rounds
 * smooth a noisy machine); --json
 * prints the whole result as JSON instead of the table; --out writes that JSON to a
 * file as well. --variant NAME=DIR also measures tcpkit from another copy of the
 * repository (a patch under test) as servers tcpkit@NAME, streams@NAME, framed@NAME
 * and client tcpkit@NAME, interleaved with the rest: before and after in one run.
 * --compare REF does the same for a commit (a branch, a tag, a hash): it is checked
 * out with git worktree into .build/bench/ref-REF and measured as variant REF.
 *
 * pl16 and pl64 are pipelined requests (loadgen pipeline: 10 connections, each
 * sending 16 or 64 lines per round trip) to the line servers: tcpkit's
 * forEachFrame (lines) and for-await frames() (frames), against the runtime's
 * own API written straightforwardly (rawlines: a write per answer) and
 * hand-batched (rawbatch: one write per chunk); see echo_server.mjs.
 *
 * The cli server is the command line's echo server started as a user starts it:
 * `deno run -A mod.ts serve`, `bun run mod.ts serve`, the npm package's bin on Node
 * (`--port 0`, and `--max-connections 100000` for the idle workload's 10,000
 * connections), every other option at its default (read and write timeouts, the
 * per-address limit, the write buffer cap).
 *
 * For each runtime it starts, one at a time, pinned to CPU 0 (taskset): the raw
 * echo server (echo_server.mjs raw), tcpkit's loop echo (tcpkit), tcpkit's Web
 * Streams echo (streams), the line-framed echo (framed) and on Deno Deno's own
 * pipeTo (pipeto); the C load generator (loadgen.c) runs pinned to CPU 1. Rounds
 * visit the servers in a rotated order, so that a noisy minute hurts every server
 * alike. Idle memory is measured in a fresh server process. Then tcpkit bench and
 * a raw client on each runtime (client.mjs) run against the C server, pinned to
 * CPU 1 with the server on CPU 0.
 *
 * Plain JavaScript so that the machine's own Node runs it with no build step. The C
 * programs are compiled with cc into .build/bench/; the Node targets run the npm
 * build (npm/esm), built first with scripts/build_npm.ts unless --no-build.
 */
import { execFileSync, spawn, spawnSync } from "node:child_process";
import {
  existsSync,
  mkdirSync,
  readdirSync,
  readFileSync,
  symlinkSync,
  writeFileSync,
} from "node:fs";
import { cpus, loadavg } from "node:os";
import { delimiter, dirname, join, resolve } from "node:path";
import process from "node:process";
import { fileURLToPath } from "node:url";

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, "../..");
const out = join(root, ".build/bench");
const bin = (name) => join(root, "node_modules/.bin", name);

// ---------------------------------------------------------------- options

const argv = process.argv.slice(2);
const flag = (name) => argv.includes(name);
const value = (name, fallback) => {
  const i = argv.indexOf(name);
  return i >= 0 && i + 1 < argv.length ? argv[i + 1] : fallback;
};
if (flag("--help") || flag("-h")) {
  console.log(readFileSync(fileURLToPath(import.meta.url), "utf8").split("*/")[0]);
  process.exit(0);
}
const QUICK = flag("--quick");
const JSON_OUT = flag("--json");
const PIN = !flag("--no-pin") && cpus().length >= 2 && which("taskset") !== null;
const ONLY = value("--only", null)?.split(",");
const ONLY_SERVERS = value("--servers", null)?.split(",");
const ONLY_WORKLOADS = value("--workloads", null)?.split(",");
const CLIENTS = !flag("--no-clients");
/** [{ name, dir }]: other copies of tcpkit to measure side by side (--variant NAME=DIR). */
const VARIANTS = argv.flatMap((a, i) => (a === "--variant" ? [argv[i + 1]] : [])).map((v) => {
  const [name, dir] = v.split("=");
  if (!name || !dir || !existsSync(join(dir, "mod.ts"))) {
    throw new Error(`--variant NAME=DIR needs a copy of the repository (got "${v}")`);
  }
  return { name, dir: resolve(dir) };
});
for (const ref of argv.flatMap((a, i) => (a === "--compare" ? [argv[i + 1]] : []))) {
  VARIANTS.push({ name: ref, dir: checkout(ref) });
}
/** A worktree of `ref` in .build/bench/ref-REF (made once, moved to `ref` each run). */
function checkout(ref) {
  const dir = join(root, ".build/bench", `ref-${ref.replace(/[^\w.-]/g, "_")}`);
  const git = (...args) =>
    execFileSync("git", args, { cwd: root, stdio: ["ignore", "ignore", "inherit"] });
  if (!existsSync(join(dir, ".git"))) git("worktree", "add", "--detach", dir, ref);
  else execFileSync("git", ["checkout", "--detach", "--quiet", ref], { cwd: dir });
  if (!existsSync(join(dir, "node_modules"))) {
    symlinkSync(join(root, "node_modules"), join(dir, "node_modules"));
  }
  return dir;
}
/** "" for this tree, then "@NAME" for each variant. */
const FLAVORS = ["", ...VARIANTS.map((v) => `@${v.name}`)];
const treeOf = (kind) => VARIANTS.find((v) => kind.endsWith(`@${v.name}`))?.dir ?? root;
const envFor = (kind) => (treeOf(kind) === root ? {} : { TCPKIT_ROOT: treeOf(kind) });
/** The source of a tree's `Conn`: src/conn.ts, or src/conn/ since it was split. */
function connSource(dir) {
  const split = join(dir, "src/conn");
  const files = existsSync(split) ? readdirSync(split).map((f) => join(split, f)) : [];
  return [join(dir, "src/conn.ts"), ...files].filter((f) => f.endsWith(".ts") && existsSync(f))
    .map((f) => readFileSync(f, "utf8")).join("\n");
}
/** The flavors whose tree has `conn.readInto()` (trees before it cannot run `into`). */
const INTO_FLAVORS = FLAVORS.filter((flavor) => {
  const dir = VARIANTS.find((v) => flavor === `@${v.name}`)?.dir ?? root;
  return connSource(dir).includes("readInto(buffer: Uint8Array)");
});
/** The flavors whose tree has `conn.forEach()`. */
const EACH_FLAVORS = FLAVORS.filter((flavor) => {
  const dir = VARIANTS.find((v) => flavor === `@${v.name}`)?.dir ?? root;
  return connSource(dir).includes("forEach(fn:");
});
/** Durations in seconds, sizes in bytes: the full run, or a smoke test of seconds. */
const P = QUICK
  ? {
    rounds: 1,
    clientRounds: 1,
    bulkBytes: 8 << 20,
    warmup: 0.02,
    duration: 0.1,
    idleConns: 100,
    settle: 0.1,
    clientDuration: "100ms",
    clientWarmup: "0ms",
  }
  : {
    rounds: 5,
    clientRounds: 3,
    bulkBytes: 128 << 20,
    warmup: 0.1,
    duration: 0.4,
    idleConns: 10_000,
    settle: 1.5,
    clientDuration: "500ms",
    clientWarmup: "200ms",
  };
P.rounds = Number(value("--rounds", P.rounds));
P.duration = Number(value("--duration", P.duration));
P.clientRounds = Number(value("--client-rounds", P.clientRounds));

function which(name) {
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && existsSync(join(dir, name))) return join(dir, name);
  }
  return null;
}

const log = (text) => process.stderr.write(`${text}\n`);

// ---------------------------------------------------------------- runtimes

function version(command) {
  const r = spawnSync(command, ["--version"], { encoding: "utf8" });
  return r.status === 0 ? r.stdout.trim().split("\n")[0].replace(/ \(.*$/, "") : null;
}

/** The machine's Node 20: npm's own node, this node, or the first `node` on PATH outside node_modules. */
function findNode20() {
  const candidates = [process.env.NODE20, process.env.npm_node_execpath, process.execPath];
  for (const dir of (process.env.PATH ?? "").split(delimiter)) {
    if (dir && !dir.includes("node_modules")) candidates.push(join(dir, "node"));
  }
  return candidates.find((c) => c && existsSync(c) && version(c)?.startsWith("v20.")) ?? null;
}

const RUNTIMES = [
  { name: "deno", family: "deno", cmd: [bin("deno"), "run", "-A"] },
  { name: "bun", family: "bun", cmd: [bin("bun")] },
  { name: "node20", family: "node", cmd: [findNode20()] },
  { name: "node22", family: "node", cmd: [join(root, "node_modules/node22/bin/node")] },
  { name: "node24", family: "node", cmd: [join(root, "node_modules/node24/bin/node")] },
  { name: "node26", family: "node", cmd: [join(root, "node_modules/node26/bin/node")] },
].filter((r) => (!ONLY || ONLY.includes(r.name)) && r.cmd[0] && existsSync(r.cmd[0]));
for (const r of RUNTIMES) r.version = version(r.cmd[0]);

// ---------------------------------------------------------------- build

function build() {
  mkdirSync(out, { recursive: true });
  for (const name of ["loadgen", "epoll_echo"]) {
    execFileSync("cc", ["-O2", "-o", join(out, name), join(here, `${name}.c`)], {
      stdio: "inherit",
    });
  }
  if (RUNTIMES.some((r) => r.family === "node") && !flag("--no-build")) {
    for (const dir of [root, ...VARIANTS.map((v) => v.dir)]) {
      log(`building the npm package in ${dir} (scripts/build_npm.ts) for the Node targets ...`);
      execFileSync(bin("deno"), ["run", "-A", "scripts/build_npm.ts"], {
        cwd: dir,
        stdio: ["ignore", "ignore", "inherit"],
      });
    }
  }
}

// ---------------------------------------------------------------- processes

const pinned = (core, cmd) => (PIN ? ["taskset", "-c", String(core), ...cmd] : cmd);

/**
 * Starts a server and waits for its "port N" line on stdout (or the CLI's
 * "listening on HOST:PORT" on stderr).
 */
function startServer(cmd, env = {}, cwd = root) {
  return new Promise((resolve, reject) => {
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd,
      stdio: ["pipe", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    let started = false;
    const timer = setTimeout(() => {
      child.kill("SIGKILL");
      reject(new Error(`${cmd.join(" ")}: no port within 60 s: ${stderr}`));
    }, 60_000);
    const onOutput = () => {
      const match = /port (\d+)/.exec(stdout) ?? /listening on \S+:(\d+)/.exec(stderr);
      if (match && !started) {
        started = true;
        clearTimeout(timer);
        resolve({
          pid: child.pid,
          port: Number(match[1]),
          stop: () => stopChild(child),
          stderr: () => stderr,
        });
      }
    };
    child.stdout.on("data", (d) => {
      stdout += d;
      onOutput();
    });
    child.stderr.on("data", (d) => {
      stderr = (stderr + d).slice(-4000);
      onOutput();
    });
    child.on("error", reject);
    child.on("exit", (code) => {
      clearTimeout(timer);
      reject(new Error(`${cmd.join(" ")} exited with ${code}: ${stderr}`));
    });
  });
}

/** Stops a child this harness started, by its id: stdin closed, SIGTERM, SIGKILL 3 s later. */
function stopChild(child) {
  if (child.exitCode !== null || child.signalCode !== null) return Promise.resolve();
  return new Promise((resolve) => {
    child.once("exit", resolve);
    child.stdin.end();
    child.kill("SIGTERM");
    setTimeout(() => child.exitCode === null && child.kill("SIGKILL"), 3000).unref();
  });
}

/** Runs a command to its end (killed after timeoutS) and parses the last JSON line of stdout. */
function runJson(cmd, timeoutS, env = {}) {
  return new Promise((resolve) => {
    const child = spawn(cmd[0], cmd.slice(1), {
      cwd: root,
      stdio: ["ignore", "pipe", "pipe"],
      env: { ...process.env, NO_COLOR: "1", ...env },
    });
    let stdout = "";
    let stderr = "";
    const timer = setTimeout(() => child.kill("SIGKILL"), timeoutS * 1000);
    child.stdout.on("data", (d) => (stdout += d));
    child.stderr.on("data", (d) => (stderr = (stderr + d).slice(-4000)));
    child.on("error", (error) => resolve({ ok: false, error: error.message }));
    child.on("close", (code, signal) => {
      clearTimeout(timer);
      const line = stdout.trim().split("\n").filter((l) => l.startsWith("{")).pop();
      try {
        resolve(JSON.parse(line));
      } catch {
        resolve({
          ok: false,
          error: `${cmd.slice(-8).join(" ")}: exit ${code ?? signal}: ${stderr.trim().slice(-300)}`,
        });
      }
    });
  });
}

const loadgen = (mode, port, pid, args) =>
  runJson(
    pinned(1, [
      join(out, "loadgen"),
      mode,
      "--port",
      String(port),
      "--pid",
      String(pid),
      ...args.map(String),
    ]),
    120,
  );

// ---------------------------------------------------------------- what is measured

/** Each workload: how the load generator runs it, and the figures read from its result. */
const WORKLOADS = {
  bulk: {
    run: (s) => loadgen("bulk", s.port, s.pid, ["--bytes", P.bulkBytes]),
    // Server CPU per byte moves far less than throughput on a shared machine.
    metrics: { gbps: (r) => r.gbps, cpu: (r) => r.server_cpu_s / (r.received / 1e9) },
  },
  pp1: {
    run: (s) => loadgen("pingpong", s.port, s.pid, pp(1)),
    metrics: { msgps: (r) => r.msgps, p50: (r) => r.p50_us, p99: (r) => r.p99_us },
  },
  pp100: {
    run: (s) => loadgen("pingpong", s.port, s.pid, pp(100)),
    metrics: {
      msgps: (r) => r.msgps,
      p50: (r) => r.p50_us,
      p99: (r) => r.p99_us,
      cpu: (r) => r.server_cpu_us_per_msg,
    },
  },
  connrate: {
    run: (s) =>
      loadgen("connrate", s.port, s.pid, [
        "--conns",
        32,
        "--duration",
        P.duration,
        "--warmup",
        P.warmup,
      ]),
    metrics: {
      connps: (r) => r.connps,
      cpu: (r) => (r.server_cpu_s * 1e6) / r.connections,
    },
  },
  idle: {
    run: (s) => loadgen("idle", s.port, s.pid, ["--conns", P.idleConns, "--settle", P.settle]),
    metrics: { bytes: (r) => r.bytes_per_conn },
  },
  // Pipelined requests (issue 18): 10 connections, each sending 16 or 64 lines per round trip.
  pl16: pipelined(16),
  pl64: pipelined(64),
};
function pipelined(depth) {
  return {
    run: (s) =>
      loadgen("pipeline", s.port, s.pid, [
        "--conns",
        10,
        "--depth",
        depth,
        "--duration",
        P.duration,
        "--warmup",
        P.warmup,
      ]),
    metrics: { reqps: (r) => r.reqps, cpu: (r) => r.server_cpu_us_per_req },
  };
}
function pp(conns) {
  return ["--conns", conns, "--size", 64, "--duration", P.duration, "--warmup", P.warmup];
}

const ALL = ["bulk", "pp1", "pp100", "connrate", "idle"];
/** What the line servers (lines, frames, rawlines, rawbatch) answer: pipelined requests. */
const PIPELINED = ["pl16", "pl64"];
const LOADS = ["bulk", "pp1", "pp100", "connrate", ...PIPELINED];
const wanted = (workloads) =>
  workloads.filter((w) => !ONLY_WORKLOADS || ONLY_WORKLOADS.includes(w));
const C_SERVER = {
  id: "c",
  runtime: "c",
  kind: "c",
  workloads: wanted(ALL),
  cmd: () => [join(out, "epoll_echo")],
};
/** The command line as a user starts it on each runtime (the npm package's bin on Node). */
function cliCommand(runtime, dir) {
  if (runtime.family === "deno") return [...runtime.cmd, join(dir, "mod.ts")];
  if (runtime.family === "bun") return [runtime.cmd[0], "run", join(dir, "mod.ts")];
  return [...runtime.cmd, join(dir, "npm/bin/tcpkit.js")];
}
const CLI_OPTIONS = ["--port", "0", "--max-connections", "100000"];
/** The servers: the C floor, then per runtime. */
const SERVERS = [C_SERVER];
for (const r of RUNTIMES) {
  const script = join(here, "echo_server.mjs");
  const add = (kind, workloads, flavor = "") => {
    if (ONLY_SERVERS && !ONLY_SERVERS.includes(kind)) return;
    SERVERS.push({
      id: `${r.name}/${kind}${flavor}`,
      runtime: r.name,
      kind: `${kind}${flavor}`,
      workloads: wanted(workloads),
      cmd: () => [...r.cmd, script, kind],
      env: envFor(flavor),
    });
  };
  add("raw", ALL);
  add("rawlines", PIPELINED);
  add("rawbatch", PIPELINED);
  for (const flavor of FLAVORS) {
    if (!ONLY_SERVERS || ONLY_SERVERS.includes("cli")) {
      const dir = treeOf(flavor);
      SERVERS.push({
        id: `${r.name}/cli${flavor}`,
        runtime: r.name,
        kind: `cli${flavor}`,
        workloads: wanted(ALL),
        cmd: () => [...cliCommand(r, dir), "serve", ...CLI_OPTIONS],
        cwd: dir,
      });
    }
    add("tcpkit", ALL, flavor);
    if (INTO_FLAVORS.includes(flavor)) add("into", ["bulk"], flavor);
    if (EACH_FLAVORS.includes(flavor)) add("each", ["bulk", "pp1", "pp100", "idle"], flavor);
    add("streams", ["bulk", "pp1", "pp100"], flavor);
    add("framed", ["pp1", "pp100"], flavor);
    add("lines", PIPELINED, flavor);
    add("frames", PIPELINED, flavor);
  }
  // Deno's pull reads into a fresh 64 KiB array each time: a floor for bulk only.
  add("pull", r.family === "deno" ? ["bulk"] : ALL);
  if (r.family === "deno") add("pipeto", ["bulk", "pp1", "pp100"]);
}

/**
 * results[serverId][workload] and clients[runtime][kind][workload]: every sample,
 * each tagged with its `round`, so that ratios pair samples taken seconds apart.
 */
const results = {};
const clients = {};
const failures = [];

function keep(where, id, workload, result, round) {
  where[id] ??= {};
  (where[id][workload] ??= []).push({ ...result, round });
  if (!result || result.ok === false || result.errors > 0) {
    const error = result?.error ?? result?.first_error ?? `${result?.errors} errors`;
    failures.push({ id, workload, error });
    log(`  ${id} ${workload}: ${error}`);
  }
}

/** Starts a server pinned to CPU 0 and warms its JIT; null (and failures kept) if it cannot start. */
async function startWarm(server, where = results) {
  try {
    const s = await startServer(pinned(0, server.cmd()), server.env, server.cwd);
    if (server.workloads.every((w) => PIPELINED.includes(w))) {
      await loadgen("pipeline", s.port, s.pid, ["--conns", 10, "--duration", P.warmup * 3]);
      return s;
    }
    await loadgen("pingpong", s.port, s.pid, ["--conns", 100, "--duration", P.warmup * 3]);
    if (server.workloads.includes("bulk")) {
      await loadgen("bulk", s.port, s.pid, ["--bytes", Math.min(P.bulkBytes, 32 << 20)]);
    }
    // Accepting and closing are code paths of their own for the JIT: a server measured
    // cold on them pays its compilation inside the first rounds. CPU per connection in
    // successive seconds of connrate, Node 24: tcpkit 94 65 49 43 44, raw 65 44 43 39 41:
    // steady from the fourth second on.
    if (server.workloads.includes("connrate")) {
      await loadgen("connrate", s.port, s.pid, ["--conns", 32, "--duration", P.warmup * 30]);
    }
    return s;
  } catch (error) {
    for (const w of server.workloads) {
      keep(where, server.id, w, { ok: false, error: error.message });
    }
    return null;
  }
}

/**
 * One runtime: its servers run side by side (all pinned to CPU 0, one loaded at
 * a time) together with the C floor; each round runs each workload once on each
 * server in a rotated order, so that tcpkit and raw samples are seconds apart.
 */
async function measureRuntime(runtime, c) {
  const servers = SERVERS.filter((s) =>
    s !== C_SERVER && s.runtime === runtime.name && s.workloads.some((w) => w !== "idle")
  );
  const running = [];
  try {
    for (const server of servers) {
      const s = await startWarm(server);
      if (s) running.push({ server, s });
    }
    if (c) running.unshift({ server: C_SERVER, s: c });
    for (let round = 0; round < P.rounds; round++) {
      const t = Date.now();
      for (const workload of LOADS) {
        for (const { server, s } of rotate(running, round)) {
          if (!server.workloads.includes(workload)) continue;
          keep(
            results,
            server.id,
            workload,
            await WORKLOADS[workload].run(s),
            `${runtime.name}:${round}`,
          );
        }
      }
      log(
        `${runtime.name}: round ${round + 1}/${P.rounds} (${
          ((Date.now() - t) / 1000).toFixed(1)
        } s)`,
      );
    }
  } finally {
    for (const { server, s } of running) if (server !== C_SERVER) await s.stop();
  }
}

/** Idle memory, each in a fresh process: memory from other workloads must not hide its cost. */
async function measureIdle(server) {
  if (!server.workloads.includes("idle")) return;
  let s;
  try {
    s = await startServer(pinned(0, server.cmd()), server.env, server.cwd);
    keep(results, server.id, "idle", await WORKLOADS.idle.run(s), "idle");
  } catch (error) {
    keep(results, server.id, "idle", { ok: false, error: error.message }, "idle");
  } finally {
    await s?.stop();
  }
}

/** tcpkit bench and the raw client on each runtime against the C server, rounds interleaved. */
async function measureClients(c) {
  for (let round = 0; round < P.clientRounds; round++) {
    const t = Date.now();
    for (const runtime of RUNTIMES) {
      const floors = runtime.family === "deno" ? ["raw"] : ["raw", "pull"];
      for (const kind of rotate([...floors, ...FLAVORS.map((f) => `tcpkit${f}`)], round)) {
        for (const [workload, conns] of QUICK ? [["pp100", 100]] : [["pp100", 100], ["pp1", 1]]) {
          const r = await runJson(
            pinned(1, [
              ...runtime.cmd,
              join(here, "client.mjs"),
              kind.split("@")[0],
              "127.0.0.1",
              String(c.port),
              "--mode",
              "pingpong",
              "--connections",
              String(conns),
              "--size",
              "64",
              "--duration",
              P.clientDuration,
              "--warmup",
              P.clientWarmup,
              "--json",
            ]),
            60,
            envFor(kind),
          );
          clients[runtime.name] ??= {};
          const sample = { ...r, msgps: r.messages_per_s };
          keep(clients[runtime.name], kind, workload, sample, `${runtime.name}:${round}`);
        }
      }
    }
    log(
      `clients: round ${round + 1}/${P.clientRounds} (${((Date.now() - t) / 1000).toFixed(1)} s)`,
    );
  }
}

function rotate(list, n) {
  const k = n % Math.max(list.length, 1);
  return [...list.slice(k), ...list.slice(0, k)];
}

// ---------------------------------------------------------------- statistics

function median(values) {
  const v = values.filter(Number.isFinite).sort((a, b) => a - b);
  if (v.length === 0) return null;
  const mid = v.length >> 1;
  return v.length % 2 ? v[mid] : (v[mid - 1] + v[mid]) / 2;
}

function summarize(values) {
  if (values.length === 0) return null;
  return { median: median(values), min: Math.min(...values), max: Math.max(...values), values };
}

/** The samples of one metric, by round. */
function samples(where, id, workload, metric) {
  const read = WORKLOADS[workload].metrics[metric];
  const byRound = new Map();
  for (const r of where[id]?.[workload] ?? []) {
    if (r.ok === false || r.errors > 0) continue;
    const v = read(r);
    if (typeof v === "number" && Number.isFinite(v)) byRound.set(r.round, v);
  }
  return byRound;
}

/** { median, min, max, values } of one metric of one server's workload. */
function stat(where, id, workload, metric) {
  return summarize([...samples(where, id, workload, metric).values()]);
}

/**
 * a / b from samples of the same rounds (taken seconds apart): the median of the
 * per-round ratios, with their min and max.
 */
function pairedRatio(where, a, b, workload, metric) {
  const x = samples(where, a, workload, metric);
  const y = samples(where, b, workload, metric);
  const ratios = [...x].filter(([round]) => y.get(round) > 0).map(([round, v]) => v / y.get(round));
  return summarize(ratios);
}

// ---------------------------------------------------------------- report

const fmt = {
  gbps: (x) => x.toFixed(2),
  msgps: (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)),
  connps: (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)}k` : x.toFixed(0)),
  bytes: (x) => (x >= 1000 ? `${(x / 1000).toFixed(1)} KB` : `${x.toFixed(0)} B`),
  us: (x) => (x >= 1000 ? `${(x / 1000).toFixed(2)} ms` : `${x.toFixed(0)} µs`),
  cpu: (x) => x.toFixed(2),
  cpuConn: (x) => x.toFixed(0),
};

function cell(s, f) {
  if (!s) return "—";
  if (s.values.length === 1 || s.min === s.max) return f(s.median);
  return `${f(s.median)} (${f(s.min)}–${f(s.max)})`;
}

function table(headers, rows) {
  const widths = headers.map((h, i) => Math.max(h.length, ...rows.map((r) => String(r[i]).length)));
  const line = (cells) => `| ${cells.map((c, i) => String(c).padEnd(widths[i])).join(" | ")} |`;
  return [line(headers), `|${widths.map((w) => "-".repeat(w + 2)).join("|")}|`, ...rows.map(line)]
    .join("\n");
}

const r2 = (x) => (x === null ? "—" : x.toFixed(2));
/** A paired ratio: its median, and the spread of the per-round ratios. */
const rcell = (
  s,
) => (!s
  ? "—"
  : s.values.length === 1
  ? r2(s.median)
  : `${r2(s.median)} (${r2(s.min)}–${r2(s.max)})`);

function serverRows(runtime) {
  const ids = SERVERS.filter((s) => s.runtime === runtime).map((s) => s.id);
  return ids.map((id) => {
    const kind = id.split("/").pop();
    return [
      kind,
      cell(stat(results, id, "bulk", "gbps"), fmt.gbps),
      cell(stat(results, id, "bulk", "cpu"), fmt.cpu),
      cell(stat(results, id, "pp1", "msgps"), fmt.msgps),
      cell(stat(results, id, "pp100", "msgps"), fmt.msgps),
      [stat(results, id, "pp100", "p50"), stat(results, id, "pp100", "p99")].map((s) =>
        s ? fmt.us(s.median) : "—"
      ).join(" / "),
      cell(stat(results, id, "pp100", "cpu"), fmt.cpu),
      cell(stat(results, id, "connrate", "connps"), fmt.connps),
      cell(stat(results, id, "connrate", "cpu"), fmt.cpuConn),
      cell(stat(results, id, "idle", "bytes"), fmt.bytes),
    ];
  });
}

/** a over b on one runtime, one row of paired ratios. */
function ratioRow(runtime, a, b, label) {
  const q = (w, m) => rcell(pairedRatio(results, `${runtime}/${a}`, `${runtime}/${b}`, w, m));
  return [
    label,
    q("bulk", "gbps"),
    q("bulk", "cpu"),
    q("pp1", "msgps"),
    q("pp100", "msgps"),
    "",
    q("pp100", "cpu"),
    q("connrate", "connps"),
    q("connrate", "cpu"),
    q("idle", "bytes"),
  ];
}

const HEADERS = [
  "server",
  "bulk GB/s",
  "bulk CPU s/GB",
  "pp 1 conn msg/s",
  "pp 100 conns msg/s",
  "pp100 p50 / p99",
  "server CPU µs/msg",
  "conn/s",
  "CPU µs/conn",
  "idle per conn",
];

const PIPELINED_HEADERS = [
  "server",
  "16 per trip req/s",
  "64 per trip req/s",
  "CPU µs/req (16)",
  "CPU µs/req (64)",
];

/** The line servers' rows on one runtime, then their ratios (none when not measured). */
function pipelinedRows(runtime) {
  const ids = SERVERS.filter((s) => s.runtime === runtime && s.workloads.includes("pl16"))
    .map((s) => s.id).filter((id) => results[id]);
  if (ids.length === 0) return [];
  const rows = ids.map((id) => [
    id.split("/").pop(),
    cell(stat(results, id, "pl16", "reqps"), fmt.msgps),
    cell(stat(results, id, "pl64", "reqps"), fmt.msgps),
    cell(stat(results, id, "pl16", "cpu"), fmt.cpu),
    cell(stat(results, id, "pl64", "cpu"), fmt.cpu),
  ]);
  const ratio = (a, b) => {
    const q = (w, m) => rcell(pairedRatio(results, `${runtime}/${a}`, `${runtime}/${b}`, w, m));
    return [
      `${a} / ${b}`,
      q("pl16", "reqps"),
      q("pl64", "reqps"),
      q("pl16", "cpu"),
      q("pl64", "cpu"),
    ];
  };
  for (const f of FLAVORS) {
    rows.push(ratio(`lines${f}`, "rawlines"), ratio(`lines${f}`, "rawbatch"));
    rows.push(ratio(`frames${f}`, "rawlines"), ratio(`frames${f}`, "rawbatch"));
  }
  return rows;
}

/** Every target of issue 6: { target, value, limit, pass }. */
function targets() {
  const list = [];
  const check = (target, value, op, limit) =>
    list.push({
      target,
      value,
      limit,
      op,
      pass: value === null ? null : op === ">=" ? value >= limit : value <= limit,
    });
  for (const r of RUNTIMES) for (const flavor of FLAVORS) targetsOf(r, flavor, check);
  return list;
}

/** The targets for one runtime and one flavor of tcpkit ("" or "@NAME" of a variant). */
function targetsOf(r, flavor, check) {
  // The tcpkit servers and client of this flavor: "tcpkit", or "tcpkit@NAME" for a variant.
  const id = (k) =>
    `${r.name}/${
      ["raw", "pipeto", "pull", "rawlines", "rawbatch"].includes(k) ? k : `${k}${flavor}`
    }`;
  const q = (a, b, w, m) => pairedRatio(results, id(a), id(b), w, m)?.median ?? null;
  const name = `${r.name}${flavor}`;
  // The command line's echo, as users start it (issue 24).
  const cliFloor = r.family === "deno" ? 0.95 : 0.9;
  check(
    `${name}: CLI echo/raw ping-pong 100 conns`,
    q("cli", "raw", "pp100", "msgps"),
    ">=",
    cliFloor,
  );
  check(`${name}: CLI echo/raw ping-pong 1 conn`, q("cli", "raw", "pp1", "msgps"), ">=", cliFloor);
  check(`${name}: tcpkit/raw bulk`, q("tcpkit", "raw", "bulk", "gbps"), ">=", 0.95);
  // The same target for the loop that reuses one buffer, as the raw servers do.
  check(`${name}: readInto loop/raw bulk`, q("into", "raw", "bulk", "gbps"), ">=", 0.95);
  check(
    `${name}: tcpkit/raw ping-pong 100 conns`,
    q("tcpkit", "raw", "pp100", "msgps"),
    ">=",
    0.9,
  );
  check(`${name}: tcpkit/raw ping-pong 1 conn`, q("tcpkit", "raw", "pp1", "msgps"), ">=", 0.9);
  check(
    `${name}: tcpkit/raw server CPU per message`,
    q("tcpkit", "raw", "pp100", "cpu"),
    "<=",
    1.1,
  );
  // The same targets for conn.forEach(), which answers from the runtime's data callback.
  check(`${name}: forEach/raw ping-pong 100 conns`, q("each", "raw", "pp100", "msgps"), ">=", 0.9);
  check(`${name}: forEach/raw ping-pong 1 conn`, q("each", "raw", "pp1", "msgps"), ">=", 0.9);
  check(`${name}: forEach/raw server CPU per message`, q("each", "raw", "pp100", "cpu"), "<=", 1.1);
  check(
    `${name}: tcpkit/raw connections/s`,
    q("tcpkit", "raw", "connrate", "connps"),
    ">=",
    0.9,
  );
  if (r.family === "deno") {
    const idle = stat(results, id("tcpkit"), "idle", "bytes");
    check(`${name}: tcpkit idle bytes per connection`, idle?.median ?? null, "<=", 12_000);
    check(
      `${name}: Web Streams echo / Deno pipeTo (pp 100)`,
      q("streams", "pipeto", "pp100", "msgps"),
      ">=",
      2.5,
    );
  } else {
    check(
      `${name}: tcpkit/raw idle bytes per connection`,
      q("tcpkit", "raw", "idle", "bytes"),
      "<=",
      1.25,
    );
  }
  check(
    `${name}: Web Streams echo / tcpkit loop (pp 100)`,
    q("streams", "tcpkit", "pp100", "msgps"),
    ">=",
    0.85,
  );
  check(
    `${name}: framed / unframed (pp 100)`,
    q("framed", "tcpkit", "pp100", "msgps"),
    ">=",
    0.85,
  );
  check(`${name}: framed / unframed (pp 1)`, q("framed", "tcpkit", "pp1", "msgps"), ">=", 0.85);
  // Pipelined requests (issue 18): one write for the answers to one chunk.
  for (const w of PIPELINED) {
    const depth = w.slice(2);
    check(
      `${name}: forEachFrame / raw write per answer (${depth} per trip)`,
      q("lines", "rawlines", w, "reqps"),
      ">=",
      1.3,
    );
    check(
      `${name}: forEachFrame / hand-batched raw (${depth} per trip)`,
      q("lines", "rawbatch", w, "reqps"),
      ">=",
      0.95,
    );
  }
  const c = clients[r.name] ?? {};
  const cq = (w) => pairedRatio(c, `tcpkit${flavor}`, "raw", w, "msgps")?.median ?? null;
  check(`${name}: tcpkit bench / raw client (pp 100)`, cq("pp100"), ">=", 0.9);
  check(`${name}: tcpkit bench / raw client (pp 1)`, cq("pp1"), ">=", 0.9);
}

function report(meta) {
  const lines = [];
  lines.push(`tcpkit benchmark: ${meta.date}, ${meta.machine}`);
  lines.push(
    `${meta.rounds} rounds (clients: ${meta.parameters.clientRounds}), interleaved; ` +
      `medians with (min–max); ratios are medians of per-round ratios; ` +
      `${meta.pinned ? "server on CPU 0, load generator on CPU 1" : "not pinned"}; ` +
      `load average ${meta.loadBefore.join(" ")} before, ${meta.loadAfter.join(" ")} after`,
  );
  lines.push("");
  lines.push("C epoll echo (the floor)");
  lines.push(table(HEADERS, serverRows("c")));
  for (const r of RUNTIMES) {
    lines.push("");
    lines.push(`${r.name} (${r.version})`);
    const rows = serverRows(r.name);
    for (const f of FLAVORS) {
      rows.push(ratioRow(r.name, `cli${f}`, "raw", `cli${f} / raw`));
      rows.push(ratioRow(r.name, `tcpkit${f}`, "raw", `tcpkit${f} / raw`));
      rows.push(ratioRow(r.name, `tcpkit${f}`, "pull", `tcpkit${f} / pull`));
      rows.push(ratioRow(r.name, `into${f}`, "raw", `into${f} / raw`));
      rows.push(ratioRow(r.name, `each${f}`, "raw", `each${f} / raw`));
      rows.push(ratioRow(r.name, `streams${f}`, "raw", `streams${f} / raw`));
      if (r.family === "deno") {
        rows.push(ratioRow(r.name, `streams${f}`, "pipeto", `streams${f} / pipeto`));
      }
      rows.push(ratioRow(r.name, `streams${f}`, `tcpkit${f}`, `streams${f} / tcpkit${f}`));
      rows.push(ratioRow(r.name, `framed${f}`, `tcpkit${f}`, `framed${f} / tcpkit${f}`));
    }
    for (const f of FLAVORS.slice(1)) {
      for (const k of ["cli", "tcpkit", "into", "each", "streams", "framed"]) {
        rows.push(ratioRow(r.name, `${k}${f}`, k, `${k}${f} / ${k}`));
      }
    }
    lines.push(table(HEADERS, rows));
    const piped = pipelinedRows(r.name);
    if (piped.length > 0) {
      lines.push("");
      lines.push(
        `${r.name}: pipelined requests (10 connections, 16 or 64 lines of 64 B per round trip, ` +
          "each answered +OK)",
      );
      lines.push(table(PIPELINED_HEADERS, piped));
    }
  }
  lines.push("");
  lines.push("Clients against the C echo server (64 B ping-pong, msg/s)");
  lines.push(table(
    [
      "runtime",
      "raw 100 conns",
      "tcpkit bench 100 conns",
      "ratio",
      "raw 1 conn",
      "tcpkit bench 1 conn",
      "ratio",
      "pull 100 conns",
      "tcpkit bench / pull",
    ],
    RUNTIMES.flatMap((r) =>
      FLAVORS.map((f) => {
        const c = clients[r.name] ?? {};
        const s = (k, w) => stat(c, k, w, "msgps");
        const q = (w) => rcell(pairedRatio(c, `tcpkit${f}`, "raw", w, "msgps"));
        return [
          `${r.name}${f}`,
          cell(s("raw", "pp100"), fmt.msgps),
          cell(s(`tcpkit${f}`, "pp100"), fmt.msgps),
          q("pp100"),
          cell(s("raw", "pp1"), fmt.msgps),
          cell(s(`tcpkit${f}`, "pp1"), fmt.msgps),
          q("pp1"),
          cell(s("pull", "pp100"), fmt.msgps),
          rcell(pairedRatio(c, `tcpkit${f}`, "pull", "pp100", "msgps")),
        ];
      })
    ),
  ));
  lines.push("");
  lines.push("Targets (issue 6)");
  lines.push(table(
    ["target", "measured", "wanted", ""],
    meta.targets.map((t) => [
      t.target,
      t.value === null ? "—" : t.target.includes("idle bytes per connection") && t.op === "<=" &&
          t.limit > 100
        ? fmt.bytes(t.value)
        : t.value.toFixed(2),
      `${t.op} ${t.limit > 100 ? fmt.bytes(t.limit) : t.limit}`,
      t.pass === null ? "not measured" : t.pass ? "holds" : "MISSED",
    ]),
  ));
  if (failures.length > 0) {
    lines.push("");
    lines.push("Failures");
    for (const f of failures) lines.push(`- ${f.id} ${f.workload}: ${f.error}`);
  }
  return lines.join("\n");
}

// ---------------------------------------------------------------- main

const started = Date.now();
const loadBefore = loadavg().map((x) => x.toFixed(2));
build();
log(
  `${P.rounds} rounds over ${SERVERS.length} servers, ${P.clientRounds} over ${
    RUNTIMES.length * 2
  } clients${PIN ? "" : " (not pinned: taskset or a second core is missing)"}`,
);
const c = C_SERVER.workloads.some((w) => w !== "idle") ? await startWarm(C_SERVER) : null;
try {
  if (RUNTIMES.length === 0 && c) await measureRuntime({ name: "c" }, c);
  for (const runtime of RUNTIMES) await measureRuntime(runtime, c);
  for (const server of SERVERS) await measureIdle(server);
  log("idle memory measured");
  if (CLIENTS && RUNTIMES.length > 0) {
    const floor = c ?? (await startServer(pinned(0, C_SERVER.cmd())));
    await measureClients(floor);
    if (!c) await floor.stop();
  }
} finally {
  await c?.stop();
}
const meta = {
  date: new Date().toISOString(),
  machine: `${cpus().length} × ${cpus()[0]?.model ?? "cpu"}, ${process.platform} ${
    spawnSync("uname", ["-r"], { encoding: "utf8" }).stdout?.trim()
  }`,
  rounds: P.rounds,
  quick: QUICK,
  pinned: PIN,
  parameters: P,
  variants: VARIANTS,
  runtimes: Object.fromEntries(RUNTIMES.map((r) => [r.name, r.version])),
  loadBefore,
  loadAfter: loadavg().map((x) => x.toFixed(2)),
  seconds: Math.round((Date.now() - started) / 1000),
};
meta.targets = targets();
const document = { ...meta, servers: results, clients, failures };
if (value("--out", null)) writeFileSync(value("--out"), JSON.stringify(document, null, 2) + "\n");
if (JSON_OUT) console.log(JSON.stringify(document, null, 2));
else console.log(report(meta));
log(`done in ${meta.seconds} s`);
process.exitCode = failures.length > 0 ? 1 : 0;
