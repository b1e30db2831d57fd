/**
 * The benchmark smoke (issue 24): the fast path stays structurally cheap.
 * No timed assertion: it counts, over the in-memory transport, the timers,
 * abort listeners, `Promise.race` calls and clock reads that reads and writes
 * make, for N and for 10 N of them. A regression that adds one per read or
 * write (a race per chunk against a signal, a listener per item, a deadline
 * armed for a write taken at once) makes the counts grow with N and fails.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { Conn } from "../mod.ts";
import { echoHandler } from "../src/cli/handlers/echo.ts";
import type { HandlerContext } from "../src/cli/handlers/_context.ts";
import { parseEncoding } from "../src/cli/_options.ts";
import { concat } from "./_helpers.ts";
import { scripted } from "./_scripted.ts";
import { SHARED_TICKER } from "../src/_watchdog.ts";

interface Counts {
  /** Not counting the shared ticker's (one per tick, however many deadlines it holds). */
  timers: number;
  listeners: number;
  races: number;
  clock: number;
  /** `then()` calls: a promise reaction each. */
  thens: number;
}

/** Counts what `fn` asks of the runtime while it runs (one test at a time: node:test runs them in turn). */
async function counted(fn: () => Promise<unknown>): Promise<Counts> {
  // From a stopped ticker: starting it is one timer, each tick while fn runs one more.
  for (let i = 0; i < 40 && !SHARED_TICKER.idle; i++) await new Promise((r) => setTimeout(r, 25));
  const counts: Counts = { timers: 0, listeners: 0, races: 0, clock: 0, thens: 0 };
  const { setTimeout: realSetTimeout } = globalThis;
  const realRace = Promise.race;
  const realNow = performance.now;
  const realThen = Promise.prototype.then;
  const realAdd = AbortSignal.prototype.addEventListener;
  const ownAdd = Object.hasOwn(AbortSignal.prototype, "addEventListener");
  globalThis.setTimeout = ((...args: Parameters<typeof setTimeout>) => {
    counts.timers++;
    return realSetTimeout(...args);
  }) as typeof setTimeout;
  Promise.race = function (this: PromiseConstructor, values: readonly unknown[]) {
    counts.races++;
    return realRace.call(this, values);
  } as typeof Promise.race;
  Promise.prototype.then = function (this: Promise<unknown>, ...args) {
    counts.thens++;
    return realThen.apply(this, args as Parameters<typeof realThen>);
  } as typeof realThen;
  performance.now = function (this: Performance) {
    counts.clock++;
    return realNow.call(this);
  };
  AbortSignal.prototype.addEventListener = function (
    this: AbortSignal,
    ...args: Parameters<AbortSignal["addEventListener"]>
  ) {
    counts.listeners++;
    return realAdd.apply(this, args);
  };
  const ticks = SHARED_TICKER.ticks;
  try {
    await fn();
  } finally {
    counts.timers -= SHARED_TICKER.ticks - ticks;
    globalThis.setTimeout = realSetTimeout;
    Promise.race = realRace;
    Promise.prototype.then = realThen;
    performance.now = realNow;
    if (ownAdd) AbortSignal.prototype.addEventListener = realAdd;
    else delete (AbortSignal.prototype as { addEventListener?: unknown }).addEventListener;
  }
  return counts;
}

const DEADLINES = { readTimeout: 60_000, writeTimeout: 60_000 };
const chunks = (n: number) => Array.from({ length: n }, (_, i) => `chunk ${i}\n`);
const total = (n: number) => chunks(n).join("").length;

/** A connection over `n` chunks with both deadlines set. */
const connOver = (n: number, sync: boolean, readsInto = false) => {
  const raw = scripted(chunks(n), sync, readsInto);
  return { raw, conn: new Conn(raw, DEADLINES) };
};

const CTX = {
  print: false,
  hex: false,
  maxLine: 1 << 16,
  encoding: parseEncoding("utf-8"),
} as HandlerContext;

/** Ways to move every chunk from a connection back to it (or to another). */
const PATHS: Record<string, (n: number, sync: boolean) => Promise<void>> = {
  "read() and write()": async (n, sync) => {
    const { raw, conn } = connOver(n, sync);
    for (let chunk; (chunk = await conn.read()) !== null;) await conn.write(chunk);
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
  "forEach() echo": async (n, sync) => {
    const { raw, conn } = connOver(n, sync);
    await conn.forEach((chunk) => conn.write(chunk));
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
  "pipeTo() another connection, with a signal": async (n, sync) => {
    const { conn } = connOver(n, sync);
    const raw = scripted([], sync);
    const to = new Conn(raw, DEADLINES);
    const controller = new AbortController();
    await conn.readable.pipeTo(to.writable, { signal: controller.signal });
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
  "the CLI's echo (raw)": async (n, sync) => {
    const { raw, conn } = connOver(n, sync);
    await echoHandler({ ...CTX, framing: "raw" })(conn);
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
  "the CLI's echo (raw, reading into memory it gives, as on Deno)": async (n, sync) => {
    const { raw, conn } = connOver(n, sync, true);
    await echoHandler({ ...CTX, framing: "raw" })(conn);
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
  "the CLI's echo (lines)": async (n, sync) => {
    const { raw, conn } = connOver(n, sync);
    await echoHandler({ ...CTX, framing: "line" })(conn);
    await conn.close();
    assert.equal(concat(raw.sent).length, total(n));
  },
};

/** The paths that answer each chunk from a forEach() loop: pipes between connections are one. */
const EACH = new Set([
  "forEach() echo",
  "pipeTo() another connection, with a signal",
  "the CLI's echo (raw)",
  "the CLI's echo (raw, reading into memory it gives, as on Deno)",
]);

for (const sync of [true, false]) {
  describe(`the fast path over a transport that answers ${sync ? "at once" : "later"}`, () => {
    for (const [name, path] of Object.entries(PATHS)) {
      test(`${name}: timers, abort listeners and races do not grow with the chunks`, async () => {
        const small = await counted(() => path(100, sync));
        const large = await counted(() => path(1_000, sync));
        assert.equal(large.timers, small.timers, "setTimeout calls");
        assert.equal(large.listeners, small.listeners, "abort listeners added");
        assert.equal(large.races, small.races, "Promise.race calls");
        // Deadlines of a second or more are counted in ticks: arming one reads no clock.
        assert.equal(large.clock, small.clock, "clock reads");
        // The shared ticker's first; one per deadline only for the close's (30 s, its own).
        assert.ok(small.timers <= 3, `at most one timer per deadline, got ${small.timers}`);
        // write()'s settled promise holds forEach() back for no reaction, and a transport
        // that answers later calls the core back, as it does for reads: a chunk costs none.
        // (Bun's await calls a replaced then() too: a few either way, never one per chunk.)
        if (EACH.has(name)) {
          const more = large.thens - small.thens;
          assert.ok(
            more < 10,
            `then() calls: ${small.thens} for 100 chunks, ${large.thens} for 1,000`,
          );
        }
      });
    }
  });
}

test("a pipe over a transport that answers at once moves every chunk before pipeTo() returns: no promise per chunk", async () => {
  for (const readsInto of [false, true]) {
    const { conn } = connOver(1_000, true, readsInto);
    const raw = scripted([], true);
    const to = new Conn(raw, DEADLINES);
    const piped = conn.readable.pipeTo(to.writable, { signal: new AbortController().signal });
    // Nothing awaited yet: a promise per chunk would have moved the first chunk at most.
    assert.equal(concat(raw.sent).length, total(1_000), `readsInto: ${readsInto}`);
    await piped;
    await conn.close();
  }
});
