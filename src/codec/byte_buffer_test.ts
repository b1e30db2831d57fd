import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { ByteBuffer } from "./byte_buffer.ts";

const bytes = (...values: number[]) => new Uint8Array(values);

function filled(...chunks: number[][]): ByteBuffer {
  const buffer = new ByteBuffer();
  for (const chunk of chunks) buffer.push(new Uint8Array(chunk));
  return buffer;
}

test("ByteBuffer.push() keeps chunks without copying and ignores empty ones", () => {
  const chunk = bytes(1, 2, 3);
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array(0));
  buffer.push(chunk);
  assert.equal(buffer.length, 3);
  assert.equal(buffer.shift(), chunk);
  assert.equal(buffer.shift(), undefined);
});

test("ByteBuffer.take() returns a view when the bytes lie in the first chunk", () => {
  const chunk = bytes(1, 2, 3, 4);
  const buffer = new ByteBuffer();
  buffer.push(chunk);
  const taken = buffer.take(2);
  assert.deepEqual(taken, bytes(1, 2));
  assert.equal(taken.buffer, chunk.buffer);
  assert.deepEqual(buffer.shift(), bytes(3, 4));
});

test("ByteBuffer.take() copies across chunks and throws RangeError beyond length", () => {
  const buffer = filled([1], [2, 3], [4, 5]);
  assert.deepEqual(buffer.take(4), bytes(1, 2, 3, 4));
  assert.equal(buffer.length, 1);
  assert.deepEqual(buffer.take(0), bytes());
  assert.throws(() => buffer.take(2), {
    name: "RangeError",
    message: "Cannot take 2 bytes: 1 are buffered",
  });
  assert.throws(() => buffer.take(-1), RangeError);
  assert.throws(() => buffer.skip(1.5), RangeError);
});

test("ByteBuffer.indexOf() finds patterns across chunk boundaries from an index", () => {
  const buffer = filled([1, 2], [3], [10, 4, 10], [5, 6, 7]);
  assert.equal(buffer.indexOf(bytes(10)), 3);
  assert.equal(buffer.indexOf(bytes(10), 4), 5);
  assert.equal(buffer.indexOf(bytes(10), 6), -1);
  assert.equal(buffer.indexOf(bytes(2, 3, 10)), 1);
  assert.equal(buffer.indexOf(bytes(10, 5, 6)), 5);
  assert.equal(buffer.indexOf(bytes(6, 7, 8)), -1);
  assert.equal(buffer.indexOf(bytes(), 2), 2);
  buffer.skip(2);
  assert.equal(buffer.indexOf(bytes(10)), 1);
});

test("ByteBuffer.byteAt(), copy() and skip() read across chunks", () => {
  const buffer = filled([1, 2], [3, 4, 5], [6]);
  assert.equal(buffer.byteAt(2), 3);
  assert.equal(buffer.byteAt(5), 6);
  assert.throws(() => buffer.byteAt(6), RangeError);
  assert.deepEqual(buffer.copy(1, 6), bytes(2, 3, 4, 5, 6));
  assert.equal(buffer.length, 6);
  assert.throws(() => buffer.copy(3, 2), RangeError);
  assert.throws(() => buffer.copy(0, 7), RangeError);
  buffer.skip(3);
  assert.deepEqual(buffer.copy(0, 3), bytes(4, 5, 6));
  buffer.clear();
  assert.equal(buffer.length, 0);
});

test("ByteBuffer.indexOf() scans incrementally: 200000 one-byte pushes stay linear", () => {
  // Chunks that count how often they are searched: a rescan from the start would
  // search ~n²/2 chunks in all, an incremental scan one per search.
  let searches = 0;
  class Counted extends Uint8Array {
    override indexOf(value: number, from?: number): number {
      searches++;
      return super.indexOf(value, from);
    }
  }
  const buffer = new ByteBuffer();
  const newline = bytes(10);
  const pushes = 200_000;
  let from = 0;
  for (let i = 0; i < pushes; i++) {
    buffer.push(new Counted([97]));
    assert.equal(buffer.indexOf(newline, from), -1);
    from = buffer.length;
    if (i % 1000 === 999) buffer.skip(500);
  }
  assert.ok(searches <= 2 * pushes, `${searches} chunk searches for ${pushes} pushes`);
});

test("ByteBuffer behaves like an array under any operations", () => {
  const op = fc.oneof(
    fc.record({ push: fc.uint8Array({ maxLength: 6 }) }),
    fc.record({ take: fc.nat(8) }),
    fc.record({ skip: fc.nat(8) }),
    fc.record({ shift: fc.constant(true) }),
    fc.record({ into: fc.nat(8) }),
    fc.record({
      find: fc.uint8Array({ minLength: 1, maxLength: 3 }).map((a) => a.map((b) => b % 3)),
      from: fc.nat(10),
    }),
    fc.record({ copy: fc.nat(10), end: fc.nat(10) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 40 }), (ops) => {
      const buffer = new ByteBuffer();
      let model: number[] = [];
      for (const o of ops) {
        if ("push" in o) {
          buffer.push(o.push.map((b) => b % 3));
          model.push(...o.push.map((b) => b % 3));
        } else if ("take" in o || "skip" in o) {
          const n = "take" in o ? o.take : o.skip;
          if (n > model.length) {
            assert.throws(() => "take" in o ? buffer.take(n) : buffer.skip(n), RangeError);
            continue;
          }
          const got = "take" in o ? buffer.take(n) : (buffer.skip(n), undefined);
          if (got) assert.deepEqual([...got], model.slice(0, n));
          model = model.slice(n);
        } else if ("shift" in o) {
          const chunk = buffer.shift();
          assert.deepEqual([...(chunk ?? [])], model.slice(0, chunk?.length ?? 0));
          model = model.slice(chunk?.length ?? 0);
        } else if ("into" in o) {
          const target = new Uint8Array(o.into + 2).fill(7);
          const n = buffer.takeInto(target.subarray(1, 1 + o.into));
          assert.equal(n, Math.min(o.into, model.length));
          assert.deepEqual([...target], [
            7,
            ...model.slice(0, n),
            ...Array(o.into - n + 1).fill(7),
          ]);
          model = model.slice(n);
        } else if ("find" in o) {
          let want = o.from;
          while (
            want + o.find.length <= model.length && !o.find.every((b, i) => model[want + i] === b)
          ) want++;
          assert.equal(
            buffer.indexOf(o.find, o.from),
            want + o.find.length <= model.length ? want : -1,
          );
        } else if (o.copy <= o.end && o.end <= model.length) {
          assert.deepEqual([...buffer.copy(o.copy, o.end)], model.slice(o.copy, o.end));
        }
        assert.equal(buffer.length, model.length);
      }
    }),
    { numRuns: 200 },
  );
});
