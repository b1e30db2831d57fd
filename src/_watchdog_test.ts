import { describe, test } from "node:test";
import assert from "node:assert/strict";
import { Ticker, Watchdog } from "./_watchdog.ts";

const TICK = 10;
const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
/** Waits until the ticker has counted `n` more ticks or stopped (bounded: 200 tries). */
async function ticks(ticker: Ticker, n: number): Promise<void> {
  const until = ticker.ticks + n;
  for (let i = 0; i < 200 && ticker.ticks < until && !ticker.idle; i++) await sleep(TICK);
}

describe("Watchdog on a shared ticker", () => {
  test("expires at the first tick that is surely past the deadline, never before", async () => {
    const ticker = new Ticker(TICK);
    const expired: number[] = [];
    const dog = new Watchdog(50, () => expired.push(ticker.ticks), undefined, ticker);
    const armedAt = ticker.ticks;
    dog.arm();
    await ticks(ticker, 8);
    // 50 ms is 5 ticks; armed between two ticks, it needs one more.
    assert.deepEqual(expired, [armedAt + 6]);
  });

  test("a busy event loop makes it late, never early", async () => {
    const ticker = new Ticker(TICK);
    let expired = false;
    const dog = new Watchdog(50, () => expired = true, undefined, ticker);
    dog.arm();
    const busyUntil = performance.now() + 120;
    while (performance.now() < busyUntil) { /* the event loop is blocked */ }
    await ticks(ticker, 1);
    assert.equal(expired, false, "expired after one late tick, although 120 ms passed");
    await ticks(ticker, 6);
    assert.equal(expired, true);
  });

  test("arm() restarts the countdown; armOnce() keeps a running one", async () => {
    const ticker = new Ticker(TICK);
    const expired: number[] = [];
    const dog = new Watchdog(50, () => expired.push(ticker.ticks), undefined, ticker);
    dog.arm();
    await ticks(ticker, 3);
    const rearmedAt = ticker.ticks;
    dog.arm();
    dog.armOnce();
    await ticks(ticker, 4);
    dog.armOnce();
    await ticks(ticker, 4);
    assert.deepEqual(expired, [rearmedAt + 6]);
  });

  test("disarmed or stopped, it never expires, and an idle ticker stops ticking", async () => {
    const ticker = new Ticker(TICK);
    let expired = 0;
    const a = new Watchdog(50, () => expired++, undefined, ticker);
    const b = new Watchdog(50, () => expired++, undefined, ticker);
    a.arm();
    b.arm();
    await ticks(ticker, 2);
    a.disarm();
    b.stop();
    await ticks(ticker, 8);
    assert.equal(expired, 0);
    assert.ok(ticker.idle, "the ticker ticks with nothing armed");
    a.arm();
    assert.ok(!ticker.idle);
    await ticks(ticker, 7);
    assert.equal(expired, 1, "armed again after the ticker stopped");
  });

  test("a watchdog armed again from its own expiry stays on the ticker", async () => {
    const ticker = new Ticker(TICK);
    let expired = 0;
    const dog: Watchdog = new Watchdog(
      30,
      () => {
        if (++expired < 3) dog.arm();
      },
      undefined,
      ticker,
    );
    dog.arm();
    await ticks(ticker, 20);
    assert.equal(expired, 3);
  });

  test("the ticker's timer is given to unref", async () => {
    const ticker = new Ticker(TICK);
    const given: unknown[] = [];
    const dog = new Watchdog(30, () => {}, (timer) => given.push(timer), ticker);
    dog.arm();
    await ticks(ticker, 2);
    dog.stop();
    assert.ok(given.length >= 2, `unref saw ${given.length} timers`);
  });
});

describe("Watchdog with a timer of its own (under a second)", () => {
  test("expires once after its time; disarm() stops it", async () => {
    let expired = 0;
    const dog = new Watchdog(30, () => expired++);
    dog.arm();
    for (let i = 0; i < 100 && expired === 0; i++) await sleep(10);
    assert.equal(expired, 1);
    dog.arm();
    dog.disarm();
    await sleep(80);
    assert.equal(expired, 1);
    dog.stop();
  });
});
