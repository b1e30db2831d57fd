import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { Fifo } from "./_fifo.ts";

test("Fifo behaves like an array's push and shift under any operations", () => {
  const op = fc.oneof(
    fc.record({ push: fc.nat(5000) }),
    fc.record({ shift: fc.nat(5000) }),
    fc.record({ clear: fc.constant(true) }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 30 }), (ops) => {
      const fifo = new Fifo<number>();
      let model: number[] = [];
      let next = 0;
      for (const o of ops) {
        if ("push" in o) {
          for (let i = 0; i < o.push; i++) {
            fifo.push(next);
            model.push(next++);
          }
        } else if ("shift" in o) {
          for (let i = 0; i < o.shift; i++) assert.equal(fifo.shift(), model.shift());
        } else {
          assert.deepEqual(fifo.clear(), model);
          model = [];
        }
        assert.equal(fifo.length, model.length);
      }
    }),
    { numRuns: 100 },
  );
});
