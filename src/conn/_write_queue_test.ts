import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { SEND, SEND_FAILED, SENT, WriteQueue } from "./_write_queue.ts";

/**
 * A queue over a transport that takes each slice at once or a few turns
 * later, as the script says; it records what it took and checks that it is
 * never asked again while a slice waits.
 */
class ScriptedQueue extends WriteQueue {
  taken: number[] = [];
  reported = 0;
  sends = 0;
  #waiting = false;
  #script: boolean[];
  #turn = 0;

  constructor(script: boolean[], highWaterMark: number, sliceSize: number) {
    super({ highWaterMark, sliceSize });
    this.#script = script;
  }

  [SEND](bytes: Uint8Array): Promise<void> | undefined {
    assert.equal(this.#waiting, false, "asked to send while a slice waits");
    this.sends++;
    const later = this.#script[this.#turn++ % this.#script.length];
    if (!later) {
      this.taken.push(...bytes);
      return undefined;
    }
    this.#waiting = true;
    return new Promise((resolve) =>
      setTimeout(() => {
        this.#waiting = false;
        this.taken.push(...bytes);
        resolve();
      }, 0)
    );
  }

  [SENT](length: number): void {
    this.reported += length;
  }

  [SEND_FAILED](error: unknown): unknown {
    return error;
  }
}

test("WriteQueue sends every byte once and in order, whether the transport takes them at once or later", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 0, max: 100 }),
      async (script, sizes, sliceSize, highWaterMark) => {
        const queue = new ScriptedQueue(script, highWaterMark, sliceSize);
        const expected: number[] = [];
        const writes: Promise<void>[] = [];
        let next = 0;
        for (const size of sizes) {
          const bytes = Uint8Array.from({ length: size }, () => next++ % 256);
          expected.push(...bytes);
          writes.push(queue.push(bytes));
          // Sometimes let the transport catch up between writes.
          if (size % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
        }
        await Promise.all(writes);
        await queue.idle;
        assert.deepEqual(queue.taken, expected);
        assert.equal(queue.reported, expected.length);
        assert.equal(queue.pending, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test("WriteQueue sends every byte once and in order when writes are corked in runs, whatever the limits", async () => {
  await fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 })), {
        minLength: 1,
        maxLength: 30,
      }),
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 0, max: 100 }),
      async (script, writes, sliceSize, highWaterMark) => {
        const queue = new ScriptedQueue(script, highWaterMark, sliceSize);
        const expected: number[] = [];
        const done: Promise<void>[] = [];
        let next = 0;
        // A run of writes starts corked where the flag is set; it ends at the next flag.
        let corked = false;
        for (const [cork, size] of writes) {
          if (cork) {
            if (corked) queue.uncork();
            else queue.cork();
            corked = !corked;
          }
          const bytes = Uint8Array.from({ length: size }, () => next++ % 256);
          expected.push(...bytes);
          done.push(queue.push(bytes));
        }
        if (corked) queue.uncork();
        await Promise.all(done);
        await queue.idle;
        assert.deepEqual(queue.taken, expected);
        assert.equal(queue.reported, expected.length);
        assert.equal(queue.pending, 0);
      },
    ),
    { numRuns: 200 },
  );
});

test("WriteQueue.uncork() sends what was written while corked as one buffer", () => {
  const queue = new ScriptedQueue([false], 1 << 20, Infinity);
  queue.cork();
  for (let i = 0; i < 16; i++) queue.push(new Uint8Array(10).fill(i));
  assert.deepEqual(queue.taken, []);
  assert.equal(queue.busy, true);
  queue.uncork();
  assert.equal(queue.sends, 1);
  assert.equal(queue.taken.length, 160);
  assert.equal(queue.busy, false);
});

test("WriteQueue.clear() fails the waiting writes and the queue goes on afterwards", async () => {
  const queue = new ScriptedQueue([true], 0, Infinity);
  const first = queue.push(new Uint8Array([1]));
  const second = queue.push(new Uint8Array([2]));
  const error = new Error("closed");
  queue.clear(error);
  await assert.rejects(first, error);
  await assert.rejects(second, error);
  assert.equal(queue.pending, 0);
  await queue.idle;
  await queue.push(new Uint8Array([3]));
  await queue.idle;
  assert.deepEqual(queue.taken, [1, 3]);
});
