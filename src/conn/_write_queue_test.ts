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

  [SEND](bytes: Uint8Array): boolean {
    assert.equal(this.#waiting, false, "asked to send while a slice waits");
    this.sends++;
    const later = this.#script[this.#turn++ % this.#script.length];
    if (!later) {
      this.taken.push(...bytes);
      return true;
    }
    this.#waiting = true;
    setTimeout(() => {
      this.#waiting = false;
      this.taken.push(...bytes);
      this.written();
    }, 0);
    return false;
  }

  [SENT](length: number): void {
    this.reported += length;
  }

  [SEND_FAILED](error: unknown): unknown {
    return error;
  }
}

/**
 * The property both ordering tests check: over a transport that takes slices
 * at once or later (as the script says), with any slice size and high-water
 * mark, `write(queue, plan, bytes)` pushes what the plan says (`bytes(n)`:
 * the next n bytes of a counting sequence) and every byte is sent once, in order.
 */
function sendsEveryByteInOrder<T>(
  plans: fc.Arbitrary<T[]>,
  write: (
    queue: ScriptedQueue,
    plan: T[],
    bytes: (size: number) => Uint8Array,
  ) => Promise<Promise<void>[]>,
): Promise<void> {
  return fc.assert(
    fc.asyncProperty(
      fc.array(fc.boolean(), { minLength: 1, maxLength: 8 }),
      plans,
      fc.integer({ min: 1, max: 64 }),
      fc.integer({ min: 0, max: 100 }),
      async (script, plan, sliceSize, highWaterMark) => {
        const queue = new ScriptedQueue(script, highWaterMark, sliceSize);
        const expected: number[] = [];
        let next = 0;
        const bytes = (size: number) => {
          const chunk = Uint8Array.from({ length: size }, () => next++ % 256);
          expected.push(...chunk);
          return chunk;
        };
        await Promise.all(await write(queue, plan, bytes));
        await queue.idle;
        assert.deepEqual(queue.taken, expected);
        assert.equal(queue.reported, expected.length);
        assert.equal(queue.pending, 0);
      },
    ),
    { numRuns: 200 },
  );
}

test("WriteQueue sends every byte once and in order, whether the transport takes them at once or later", () =>
  sendsEveryByteInOrder(
    fc.array(fc.integer({ min: 1, max: 40 }), { minLength: 1, maxLength: 30 }),
    async (queue, sizes, bytes) => {
      const writes: Promise<void>[] = [];
      for (const size of sizes) {
        writes.push(queue.push(bytes(size)));
        // Sometimes let the transport catch up between writes.
        if (size % 3 === 0) await new Promise((resolve) => setTimeout(resolve, 0));
      }
      return writes;
    },
  ));

test("WriteQueue sends every byte once and in order when writes are corked in runs, whatever the limits", () =>
  sendsEveryByteInOrder(
    fc.array(fc.tuple(fc.boolean(), fc.integer({ min: 1, max: 40 })), {
      minLength: 1,
      maxLength: 30,
    }),
    (queue, plan, bytes) => {
      const writes: Promise<void>[] = [];
      // A run of writes starts corked where the flag is set; it ends at the next flag.
      let corked = false;
      for (const [cork, size] of plan) {
        if (cork) {
          if (corked) queue.uncork();
          else queue.cork();
          corked = !corked;
        }
        writes.push(queue.push(bytes(size)));
      }
      if (corked) queue.uncork();
      return Promise.resolve(writes);
    },
  ));

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
