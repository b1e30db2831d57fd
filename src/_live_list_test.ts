import { test } from "node:test";
import assert from "node:assert/strict";
import fc from "fast-check";
import { type Link, LiveList } from "./_live_list.ts";

test("LiveList holds what a Set would under any adds and deletes, newest first", () => {
  const op = fc.oneof(
    fc.record({ add: fc.nat(20) }),
    // Deletes the link at this index (modulo the links made so far), deleted already or not.
    fc.record({ delete: fc.nat() }),
  );
  fc.assert(
    fc.property(fc.array(op, { maxLength: 60 }), (ops) => {
      const list = new LiveList<number>();
      const links: Link<number>[] = [];
      const model = new Set<number>();
      for (const o of ops) {
        if ("add" in o) {
          for (let i = 0; i < o.add; i++) {
            links.push(list.add(links.length));
            model.add(links.length - 1);
          }
        } else if (links.length > 0) {
          const link = links[o.delete % links.length];
          list.delete(link);
          model.delete(link.value);
        }
        assert.equal(list.size, model.size);
        assert.deepEqual([...list], [...model].sort((a, b) => b - a));
      }
    }),
    { numRuns: 200 },
  );
});
