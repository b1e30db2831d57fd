import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer, FixedLengthCodec } from "./mod.ts";

test("FixedLengthCodec.decode() returns null until a whole frame is buffered", () => {
  const decoder = new FixedLengthCodec({ frameLength: 3 }).createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array([1, 2]));
  assert.equal(decoder.decode(buffer), null);
  buffer.push(new Uint8Array([3, 4]));
  assert.deepEqual(decoder.decode(buffer), new Uint8Array([1, 2, 3]));
  assert.equal(decoder.decode(buffer), null);
  assert.throws(() => decoder.decodeEof(buffer), {
    name: "TruncatedFrameError",
    message: "Cannot read frame: stream ended after 1 of 3 bytes",
  });
  buffer.clear();
  assert.equal(decoder.decodeEof(buffer), null);
});

test("FixedLengthCodec.encode() accepts only frames of frameLength bytes", () => {
  const codec = new FixedLengthCodec({ frameLength: 2 });
  const frame = new Uint8Array([1, 2]);
  assert.equal(codec.encode(frame), frame);
  assert.throws(() => codec.encode(new Uint8Array(3)), {
    name: "RangeError",
    message: "Cannot encode frame: length 3 is not frameLength 2",
  });
  assert.throws(() => new FixedLengthCodec({ frameLength: 0 }), RangeError);
});
