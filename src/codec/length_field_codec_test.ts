import { test } from "node:test";
import assert from "node:assert/strict";
import { ByteBuffer, LengthFieldCodec, type LengthFieldCodecOptions } from "./mod.ts";
import { CorruptFrameError, FrameTooLargeError } from "../errors.ts";

const HELLO = [...new TextEncoder().encode("HELLO, WORLD")];

function decodeOne(options: LengthFieldCodecOptions, bytes: number[]): Uint8Array | null {
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array(bytes));
  return new LengthFieldCodec(options).createDecoder().decode(buffer);
}

test("LengthFieldCodec decodes the examples of Netty's LengthFieldBasedFrameDecoder", () => {
  const examples: [LengthFieldCodecOptions, number[], number[]][] = [
    [{ lengthFieldLength: 2, initialBytesToStrip: 0 }, [0, 12, ...HELLO], [0, 12, ...HELLO]],
    [{ lengthFieldLength: 2 }, [0, 12, ...HELLO], HELLO],
    [{ lengthFieldLength: 2, lengthAdjustment: -2, initialBytesToStrip: 0 }, [0, 14, ...HELLO], [
      0,
      14,
      ...HELLO,
    ]],
    [
      { lengthFieldLength: 3, lengthFieldOffset: 2, initialBytesToStrip: 0 },
      [0xca, 0xfe, 0, 0, 12, ...HELLO],
      [0xca, 0xfe, 0, 0, 12, ...HELLO],
    ],
    [
      { lengthFieldLength: 3, lengthAdjustment: 2, initialBytesToStrip: 0 },
      [0, 0, 12, 0xca, 0xfe, ...HELLO],
      [0, 0, 12, 0xca, 0xfe, ...HELLO],
    ],
    [
      { lengthFieldLength: 2, lengthFieldOffset: 1, lengthAdjustment: 1, initialBytesToStrip: 3 },
      [0xca, 0, 12, 0xfe, ...HELLO],
      [0xfe, ...HELLO],
    ],
    [
      { lengthFieldLength: 2, lengthFieldOffset: 1, lengthAdjustment: -3, initialBytesToStrip: 3 },
      [0xca, 0, 16, 0xfe, ...HELLO],
      [0xfe, ...HELLO],
    ],
  ];
  for (const [options, input, output] of examples) {
    assert.deepEqual(
      decodeOne(options, [...input, 99]),
      new Uint8Array(output),
      JSON.stringify(options),
    );
    assert.equal(decodeOne(options, input.slice(0, -1)), null);
  }
});

test("LengthFieldCodec checks maxFrameLength against the whole frame, header included", () => {
  const options = { lengthFieldLength: 2, maxFrameLength: 10 } as const;
  assert.equal(decodeOne(options, [0, 8, 1, 2]), null);
  assert.throws(() => decodeOne(options, [0, 9]), {
    name: "FrameTooLargeError",
    message: "Cannot read frame: length 11 exceeds maxFrameLength 10",
  });
  const codec = new LengthFieldCodec(options);
  assert.equal(codec.encode(new Uint8Array(8)).length, 10);
  assert.throws(() => codec.encode(new Uint8Array(9)), {
    name: "RangeError",
    message: "Cannot encode frame: length 11 exceeds maxFrameLength 10",
  });
});

test("LengthFieldCodec handles a header announcing 2^32-1 bytes without allocating them", () => {
  const header = [0xff, 0xff, 0xff, 0xff, 1, 2, 3];
  assert.throws(() => decodeOne({ lengthFieldLength: 4 }, header), FrameTooLargeError);
  const codec = new LengthFieldCodec({ lengthFieldLength: 4, maxFrameLength: 2 ** 40 });
  const decoder = codec.createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array(header));
  assert.equal(decoder.decode(buffer), null);
  assert.throws(() => decoder.decodeEof(buffer), {
    name: "TruncatedFrameError",
    message: "Cannot read frame: stream ended after 7 of 4294967299 bytes",
  });
});

test("LengthFieldCodec.decodeEof() reports a truncated header", () => {
  const decoder = new LengthFieldCodec({ lengthFieldLength: 4 }).createDecoder();
  const buffer = new ByteBuffer();
  buffer.push(new Uint8Array([0, 0]));
  assert.throws(() => decoder.decodeEof(buffer), {
    name: "TruncatedFrameError",
    message: "Cannot read frame: stream ended after 2 of 4 header bytes",
  });
});

test("LengthFieldCodec reads 8-byte fields and rejects values above 2^53-1", () => {
  const options = { lengthFieldLength: 8, byteOrder: "little" } as const;
  assert.deepEqual(decodeOne(options, [2, 0, 0, 0, 0, 0, 0, 0, 7, 8]), new Uint8Array([7, 8]));
  assert.throws(() => decodeOne(options, [0, 0, 0, 0, 0, 0, 0x20, 0]), {
    name: "FrameTooLargeError",
    message:
      "Cannot read frame: length field value 9007199254740992 exceeds maxFrameLength 8388608",
  });
  assert.throws(
    () => decodeOne({ lengthFieldLength: 8 }, [255, 255, 255, 255, 255, 255, 255, 255]),
    {
      message:
        "Cannot read frame: length field value 18446744073709551615 exceeds maxFrameLength 8388608",
    },
  );
});

test("LengthFieldCodec throws CorruptFrameError for frames shorter than the header or the strip", () => {
  assert.throws(() => decodeOne({ lengthFieldLength: 1, lengthAdjustment: -5 }, [2, 0, 0]), {
    name: "CorruptFrameError",
    message: "Cannot read frame: length field value 2 with lengthAdjustment -5 gives length -2, " +
      "less than the 1-byte header",
  });
  assert.throws(
    () => decodeOne({ lengthFieldLength: 1, initialBytesToStrip: 4 }, [1, 0, 0, 0]),
    (error) =>
      error instanceof CorruptFrameError && /less than initialBytesToStrip 4$/.test(error.message),
  );
});

test("LengthFieldCodec hints at HTTP, TLS and PROXY bytes on a length-prefixed port", () => {
  const cases: [number[], RegExp][] = [
    [
      [...new TextEncoder().encode("GET / HTTP/1.1\r\nHost: x\r\n\r\n")],
      /\(the bytes look like an HTTP request: is a web client talking to this port\?\)$/,
    ],
    [
      [0x16, 0x03, 0x01, 0x02, 0x00, 0x01, 0x00, 0x01, 0xfc, 0x03, 0x03],
      /\(the bytes look like a TLS ClientHello: is the client using TLS on a plaintext port\?\)$/,
    ],
    [
      [...new TextEncoder().encode("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\n")],
      /look like a PROXY protocol header: is a load balancer/,
    ],
    [
      [0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d, 0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a, 0x21],
      /PROXY protocol header/,
    ],
  ];
  for (const [bytes, hint] of cases) {
    assert.throws(() => decodeOne({ lengthFieldLength: 4 }, bytes), (error) => {
      assert.ok(error instanceof FrameTooLargeError);
      assert.match(
        error.message,
        /^Cannot read frame: length \d+ exceeds maxFrameLength 8388608 \(/,
      );
      assert.match(error.message, hint);
      return true;
    });
  }
  assert.throws(() => decodeOne({ lengthFieldLength: 4 }, [0x7f, 0, 0, 0]), {
    message: "Cannot read frame: length 2130706436 exceeds maxFrameLength 8388608",
  });
});

test("LengthFieldCodec.encode() writes zeros, then the field, honouring the adjustment", () => {
  const codec = new LengthFieldCodec({
    lengthFieldLength: 3,
    lengthFieldOffset: 2,
    lengthAdjustment: 1,
    byteOrder: "little",
  });
  assert.deepEqual(
    codec.encode(new Uint8Array(0x10203)),
    new Uint8Array([0, 0, 2, 2, 1, ...new Uint8Array(0x10203)]),
  );
  assert.throws(() => codec.encode(new Uint8Array(0)), {
    name: "RangeError",
    message: "Cannot encode frame: length field value -1 does not fit 3 bytes",
  });
  const byte = new LengthFieldCodec({ lengthFieldLength: 1 });
  assert.deepEqual(byte.encode(new Uint8Array(255)).subarray(0, 1), new Uint8Array([255]));
  assert.throws(() => byte.encode(new Uint8Array(256)), {
    message: "Cannot encode frame: length field value 256 does not fit 1 bytes",
  });
  const whole = new LengthFieldCodec({ lengthFieldLength: 2, lengthIncludesHeader: true });
  assert.deepEqual(whole.encode(new Uint8Array([9])), new Uint8Array([0, 3, 9]));
});

test("LengthFieldCodec constructor rejects bad options", () => {
  assert.throws(() => new LengthFieldCodec({ lengthFieldLength: 5 as 4 }), RangeError);
  assert.throws(
    () => new LengthFieldCodec({ lengthFieldLength: 4, lengthFieldOffset: -1 }),
    RangeError,
  );
  assert.throws(
    () => new LengthFieldCodec({ lengthFieldLength: 4, maxFrameLength: 3 }),
    RangeError,
  );
  assert.throws(
    () =>
      new LengthFieldCodec({ lengthFieldLength: 4, initialBytesToStrip: "2" as unknown as number }),
    TypeError,
  );
  assert.throws(
    () => new LengthFieldCodec({ lengthFieldLength: 4, byteOrder: "middle" as "big" }),
    TypeError,
  );
  assert.throws(
    () =>
      new LengthFieldCodec({
        lengthFieldLength: 4,
        lengthAdjustment: 0,
        lengthIncludesHeader: true,
      }),
    TypeError,
  );
});
