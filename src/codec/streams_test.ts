import { test } from "node:test";
import assert from "node:assert/strict";
import { DecoderStream, EncoderStream, LengthFieldCodec, LineCodec } from "./mod.ts";
import { TruncatedFrameError } from "../errors.ts";

const utf8 = (text: string) => new TextEncoder().encode(text);

/** A stream of the given chunks (ReadableStream.from is not typed in every lib here). */
function streamOf<T>(chunks: T[]): ReadableStream<T> {
  return new ReadableStream({
    start(controller) {
      for (const chunk of chunks) controller.enqueue(chunk);
      controller.close();
    },
  });
}

async function collect<T>(stream: ReadableStream<T>): Promise<T[]> {
  const items: T[] = [];
  for await (const item of stream) items.push(item);
  return items;
}

test("DecoderStream turns byte chunks into frames, including the last unterminated line when allowed", async () => {
  const bytes = streamOf([utf8("a\nb"), utf8("c\r\nd")]);
  const lines = await collect(
    bytes.pipeThrough(new DecoderStream(new LineCodec({ allowUnterminatedLast: true }))),
  );
  assert.deepEqual(lines, ["a", "bc", "d"]);
});

test("DecoderStream errors with TruncatedFrameError when the stream ends inside a frame", async () => {
  const bytes = streamOf([new Uint8Array([0, 5, 1, 2])]);
  const frames = bytes.pipeThrough(
    new DecoderStream(new LengthFieldCodec({ lengthFieldLength: 2 })),
  );
  await assert.rejects(collect(frames), TruncatedFrameError);
});

test("EncoderStream and DecoderStream round-trip frames through one pipe", async () => {
  const codec = new LineCodec({ encoding: "gbk" });
  const lines = ["你好", "", "我是客户端!"];
  const piped = streamOf(lines).pipeThrough(new EncoderStream(codec)).pipeThrough(
    new DecoderStream(codec),
  );
  assert.deepEqual(await collect(piped), lines);
});
