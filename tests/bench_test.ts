/**
 * Smoke tests of the benchmark code: `tcpkit bench` (src/cli/bench.ts) in each
 * mode, and the harness (scripts/bench/run.mjs) in --quick mode on this runtime.
 * They check that everything runs and reports in the right shape, never how
 * fast: a timed assertion on a shared machine would be noise.
 */
import assert from "node:assert/strict";
import { existsSync } from "node:fs";
import { join } from "node:path";
import process from "node:process";
import { describe, test } from "node:test";
import { serve } from "../mod.ts";
import { bench, type BenchMode, LatencyHistogram } from "../src/cli/bench.ts";
import { CLI_RUNTIMES, cliCommand, ROOT, run, RUNTIME, sleep } from "./_helpers.ts";

/** This runtime, as the harness's --only names it. */
const HARNESS_RUNTIME = RUNTIME === "node" ? `node${process.versions.node.split(".")[0]}` : RUNTIME;
const HAVE_CC = ["/usr/bin/cc", "/bin/cc", "/usr/local/bin/cc"].some(existsSync);
/** The command that runs a script on this runtime. */
const runtimeCommand = RUNTIME === "deno" ? [process.execPath, "run", "-A"] : [process.execPath];

/** The keys of `tcpkit bench --json`: each figure says its unit. */
const JSON_KEYS = [
  "mode",
  "hostname",
  "port",
  "connections",
  "size_bytes",
  "duration_s",
  "messages",
  "messages_per_s",
  "echoed_bytes",
  "echoed_bytes_per_s",
  "latency_p50_ms",
  "latency_p90_ms",
  "latency_p99_ms",
  "latency_max_ms",
  "errors",
];

/** Checks a `--json` summary: the keys with units, and no float with more digits than it means. */
function assertJsonSummary(summary: Record<string, unknown>): void {
  assert.deepEqual(Object.keys(summary).filter((k) => k !== "first_error"), JSON_KEYS);
  const decimals = (n: unknown) => String(n).split(".")[1]?.length ?? 0;
  for (const key of JSON_KEYS.filter((k) => k.endsWith("_ms") || k.endsWith("_s"))) {
    assert.equal(typeof summary[key], "number", key);
    assert.ok(decimals(summary[key]) <= 3, `${key}: ${summary[key]}`);
  }
  assert.ok(decimals(summary.messages_per_s) <= 1, `messages_per_s: ${summary.messages_per_s}`);
  assert.ok(Number.isInteger(summary.echoed_bytes_per_s), `${summary.echoed_bytes_per_s}`);
}

describe(`tcpkit bench on ${RUNTIME}`, () => {
  test("LatencyHistogram.percentile() is within 1% of the true percentile", () => {
    const histogram = new LatencyHistogram();
    for (let i = 1; i <= 10_000; i++) histogram.record(i / 100); // 0.01 ms to 100 ms
    for (const q of [0.5, 0.9, 0.99]) {
      const want = q * 100;
      assert.ok(Math.abs(histogram.percentile(q) - want) <= want * 0.01, `p${q * 100}`);
    }
    assert.equal(histogram.max, 100);
    assert.equal(histogram.count, 10_000);
    assert.equal(new LatencyHistogram().percentile(0.5), 0);
  });

  for (const mode of ["pingpong", "bulk", "connrate"] as BenchMode[]) {
    test(`bench() in ${mode} mode measures a tcpkit echo server without errors`, async () => {
      await using server = await serve({
        port: 0,
        handler: async (conn) => {
          for await (const chunk of conn) await conn.write(chunk);
        },
      });
      const result = await bench({
        hostname: "127.0.0.1",
        port: server.addr.port,
        mode,
        connections: 2,
        size: mode === "bulk" ? 65536 : 64,
        duration: 300,
        warmup: 50,
      });
      assert.equal(result.errors, 0, result.firstError);
      assert.ok(result.seconds > 0.2);
      assert.ok(result.bytes > 0);
      if (mode !== "bulk") {
        assert.ok(result.messages > 0);
        const { p50, p90, p99, max } = result.latency;
        assert.ok(
          0 < p50 && p50 <= p90 && p90 <= p99 && p99 <= max,
          JSON.stringify(result.latency),
        );
      }
      // Every connection is closed once bench() returns: the server sees them go.
      for (let i = 0; i < 100 && server.stats.active > 0; i++) await sleep(20);
      assert.equal(server.stats.active, 0);
    });
  }

  test("bench() rejects with ConnectionRefusedError when nothing listens", async () => {
    const server = await serve({ port: 0, handler: () => {} });
    const port = server.addr.port;
    await server.shutdown();
    await assert.rejects(
      bench({
        hostname: "127.0.0.1",
        port,
        mode: "pingpong",
        connections: 3,
        size: 64,
        duration: 100,
      }),
      { name: "ConnectionRefusedError" },
    );
  });
});

describe(`benchmark harness on ${RUNTIME}`, () => {
  test("run.mjs --quick measures C, raw and tcpkit servers and clients and checks targets", {
    skip: HAVE_CC ? false : "no C compiler",
    timeout: 120_000,
  }, async () => {
    const result = await run(
      [
        "node",
        join(ROOT, "scripts/bench/run.mjs"),
        "--quick",
        "--json",
        "--no-build",
        "--only",
        HARNESS_RUNTIME,
        "--servers",
        "raw,tcpkit",
      ],
      "",
      110_000,
    );
    const text = new TextDecoder().decode(result.stdout);
    assert.equal(result.code, 0, `${result.stderr}\n${text.slice(0, 2000)}`);
    const doc = JSON.parse(text);
    for (const id of ["c", `${HARNESS_RUNTIME}/raw`, `${HARNESS_RUNTIME}/tcpkit`]) {
      for (const workload of ["bulk", "pp1", "pp100", "connrate", "idle"]) {
        const [first] = doc.servers[id][workload];
        assert.notEqual(first.ok, false, `${id} ${workload}: ${first.error}`);
      }
    }
    assert.equal(doc.servers.c.bulk[0].verified, true);
    for (const kind of ["raw", "tcpkit"]) {
      assert.ok(doc.clients[HARNESS_RUNTIME][kind].pp100[0].messages_per_s > 0);
    }
    assert.ok(doc.targets.some((t: { target: string }) => t.target.includes("tcpkit/raw bulk")));
  });

  test("client.mjs tcpkit is tcpkit bench: it prints a summary", async () => {
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        for await (const chunk of conn) await conn.write(chunk);
      },
    });
    const result = await run([
      ...runtimeCommand,
      join(ROOT, "scripts/bench/client.mjs"),
      "tcpkit",
      "127.0.0.1",
      String(server.addr.port),
      "--duration",
      "200ms",
    ]);
    const text = new TextDecoder().decode(result.stdout);
    assert.equal(result.code, 0, result.stderr);
    assert.match(text, /^pingpong 127\.0\.0\.1:\d+: 1 connection, 64 B messages/);
    assert.match(text, /latency {2}p50 [\d.]+ ms {2}p90 /);
    assert.match(text, /errors {2}0/);
  });

  test("client.mjs raw prints the same JSON summary as tcpkit bench --json", async () => {
    await using server = await serve({
      port: 0,
      handler: async (conn) => {
        for await (const chunk of conn) await conn.write(chunk);
      },
    });
    const args = ["127.0.0.1", String(server.addr.port), "--duration", "200ms", "--json"];
    const result = await run([
      ...runtimeCommand,
      join(ROOT, "scripts/bench/client.mjs"),
      "raw",
      ...args,
    ]);
    assert.equal(result.code, 0, result.stderr);
    const summary = JSON.parse(new TextDecoder().decode(result.stdout));
    assertJsonSummary(summary);
    assert.ok(summary.messages_per_s > 0);
  });

  test(
    "tcpkit bench --json prints one JSON summary with units in its keys; no HOST PORT is a usage error",
    {
      skip: CLI_RUNTIMES.includes(RUNTIME) ? false : "the npm build is missing",
    },
    async () => {
      await using server = await serve({
        port: 0,
        handler: async (conn) => {
          for await (const chunk of conn) await conn.write(chunk);
        },
      });
      const cli = cliCommand(RUNTIME);
      const args = ["--mode", "connrate", "--connections", "2", "--duration", "200ms", "--json"];
      const result = await run([...cli, "bench", "127.0.0.1", String(server.addr.port), ...args]);
      assert.equal(result.code, 0, result.stderr);
      const summary = JSON.parse(new TextDecoder().decode(result.stdout));
      assertJsonSummary(summary);
      assert.equal(summary.mode, "connrate");
      assert.equal(summary.errors, 0);
      assert.ok(summary.messages > 0);
      const usage = await run([...cli, "bench"]);
      assert.equal(usage.code, 2);
      assert.match(usage.stderr, /bench needs HOST and PORT/);
    },
  );
});
