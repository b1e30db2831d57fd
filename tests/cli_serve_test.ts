/**
 * `tcpkit serve` handlers and options, driven as a subprocess on this
 * runtime, against tcpkit clients and Python's socket module.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { connect, LineCodec } from "../mod.ts";
import { cliCommand, run, RUNTIME, sleep, start } from "./_helpers.ts";
import { spawnPython } from "./_python.ts";

const LISTENING = /listening on 127\.0\.0\.1:(\d+)/;
const text = (bytes: Uint8Array) => new TextDecoder().decode(bytes);

async function startServe(...args: string[]) {
  const server = await start([...cliCommand(RUNTIME), "serve", "--port", "0", ...args], LISTENING);
  return { ...server, port: Number(server.line.match(LISTENING)![1]) };
}

describe(`serve handlers on ${RUNTIME}`, () => {
  test('reply --text "你好,我是服务器!" --close: prints the client\'s message, answers, closes', async () => {
    const server = await startServe("--handler", "reply", "--text", "你好,我是服务器!", "--close");
    try {
      await using client = await spawnPython("text_client", {
        port: server.port,
        args: ["utf-8", "你好,我是客户端!"],
      });
      assert.equal(await client.exited, "你好,我是服务器!");
    } finally {
      const result = await server.stop();
      assert.match(text(result.stdout), /^127\.0\.0\.1:\d+: 你好,我是客户端!\n$/);
    }
  });

  test('reply --encoding gbk --text "thank you !": GBK in, GBK out', async () => {
    const server = await startServe(
      "--handler",
      "reply",
      "--encoding",
      "gbk",
      "--text",
      "thank you !",
      "--close",
    );
    try {
      await using client = await spawnPython("text_client", {
        port: server.port,
        args: ["gbk", "你好,我是客户端!"],
      });
      assert.equal(await client.exited, "thank you !");
    } finally {
      const result = await server.stop();
      assert.match(text(result.stdout), /: 你好,我是客户端!\n$/);
    }
  });

  test("discard --print shows each line and sends nothing back", async () => {
    const server = await startServe("--handler", "discard", "--print", "--framing", "line");
    try {
      await using conn = await connect({ port: server.port });
      await conn.write("first\nsecond\n");
      await conn.closeWrite();
      assert.equal(await conn.read(), null);
    } finally {
      const out = text((await server.stop()).stdout);
      assert.match(out, /^127\.0\.0\.1:\d+: first\n127\.0\.0\.1:\d+: second\n$/);
    }
  });

  test("echo --hex dumps what arrives like ncat -x and still echoes it", async () => {
    const server = await startServe("--hex");
    try {
      await using conn = await connect({ port: server.port });
      await conn.write("hi\n");
      await conn.closeWrite();
      assert.equal(text((await conn.read())!), "hi\n");
    } finally {
      const out = text((await server.stop()).stdout);
      assert.ok(out.includes(`sent 3 bytes:\n00000000  68 69 0a${" ".repeat(42)}hi.\n`), out);
    }
  });

  test("--framing line --max-line 8: a longer line closes only that connection", async () => {
    const server = await startServe("--framing", "line", "--max-line", "8");
    try {
      await using good = await connect({ port: server.port });
      await using bad = await connect({ port: server.port });
      await bad.write("this line is far too long\n");
      assert.equal(await bad.read().catch(() => null), null);
      await good.write("short\n");
      assert.equal(await good.readLine(), "short");
    } finally {
      const result = await server.stop();
      assert.match(result.stderr, /close 127\.0\.0\.1:\d+: .*exceeds|more than 8 bytes/);
    }
  });

  test("--max-connections 2: the third client is told the server is busy", async () => {
    const server = await startServe("--max-connections", "2");
    try {
      await using a = await connect({ port: server.port });
      await using b = await connect({ port: server.port });
      await a.write("a");
      await b.write("b");
      await a.read();
      await b.read();
      await using c = await connect({ port: server.port });
      assert.equal(await c.readLine(), "tcpkit: server busy, try again later");
    } finally {
      assert.match((await server.stop()).stderr, /1 rejected/);
    }
  });

  test("--idle-timeout 300ms closes an idle connection and logs why", async () => {
    const server = await startServe("--idle-timeout", "300ms");
    try {
      await using conn = await connect({ port: server.port });
      assert.equal(await conn.read().catch(() => null), null);
    } finally {
      assert.match((await server.stop()).stderr, /idleTimeout/);
    }
  });

  test("--proxy-protocol: peers that fail before the handler are logged as what they were", async () => {
    const server = await startServe("--proxy-protocol", "--trusted", "127.0.0.1/32");
    try {
      // 300 peers that reset at once (some before the server knows their address), and one
      // that sends no PROXY header.
      await using storm = await spawnPython("reset_storm", { port: server.port, args: ["300"] });
      await storm.exited;
      await using conn = await connect({ port: server.port, readTimeout: 5000 });
      await conn.write("GET / HTTP/1.0\r\n\r\n");
      assert.equal(await conn.read().catch(() => null), null);
      await sleep(300);
    } finally {
      const { stderr } = await server.stop();
      // Deno's own transport drops a peer that reset before accept; the others log it.
      assert.doesNotMatch(stderr, /Cannot accept/);
      const closes = stderr.split("\n").filter((l) => / close\b/.test(l));
      for (const line of closes) {
        assert.doesNotMatch(line, /not a trusted PROXY protocol source/);
        assert.doesNotMatch(line, /close :0|:0:|-?0\.0 s/);
        assert.match(line, /before its address was known|before the handler/);
      }
      assert.ok(closes.some((line) => /in 18 B, out 0 B, before the handler \(/.test(line)));
    }
  });

  test("--json logs one JSON object per line", async () => {
    const server = await startServe("--json");
    await using conn = await connect({ port: server.port });
    await conn.write("x");
    await conn.read();
    await conn.close();
    await sleep(100);
    const events = (await server.stop()).stderr.trim().split("\n").map((line) =>
      JSON.parse(line).event
    );
    assert.deepEqual(events, ["listening", "hint", "open", "close", "shutdown", "stopped"]);
  });

  test("chat: 20 clients, every message reaches every other client once and in order; quit removes one", async () => {
    const server = await startServe("--handler", "chat");
    const codec = new LineCodec();
    try {
      const clients = await Promise.all(
        Array.from({ length: 20 }, () => connect({ port: server.port })),
      );
      const names: string[] = [];
      for (const client of clients) {
        const welcome = (await client.readLine())!;
        names.push(welcome.match(/^Welcome, (\S+)!/)![1]);
      }
      const readers = clients.map((client) => client.frames(codec)[Symbol.asyncIterator]());
      // Drain join announcements: client i sees the joins of clients i+1 .. 19.
      for (const [i, reader] of readers.entries()) {
        for (let j = i + 1; j < 20; j++) {
          assert.equal((await reader.next()).value, `* ${names[j]} joined`);
        }
      }
      const perSender = 5;
      await Promise.all(clients.map(async (client, i) => {
        for (let k = 0; k < perSender; k++) await client.write(`m${k} from ${i}\n`);
      }));
      await Promise.all(readers.map(async (reader, i) => {
        const seen = new Map<number, number[]>();
        for (let n = 0; n < perSender * 19; n++) {
          const line = (await reader.next()).value as string;
          const [, k, from] = line.match(/^\S+: m(\d+) from (\d+)$/)!.map(Number);
          assert.notEqual(from, i, "a client got its own message");
          seen.set(from, [...(seen.get(from) ?? []), k]);
        }
        assert.equal(seen.size, 19);
        for (const ks of seen.values()) assert.deepEqual(ks, [0, 1, 2, 3, 4]);
      }));
      await clients[0].write("quit\n");
      assert.equal((await readers[0].next()).value, `Goodbye, ${names[0]}!`);
      assert.equal((await readers[0].next()).done, true);
      for (const reader of readers.slice(1)) {
        assert.equal((await reader.next()).value, `* ${names[0]} quit`);
      }
      await clients[1].write("still here\n");
      assert.equal((await readers[2].next()).value, `${names[1]}: still here`);
      await Promise.all(clients.map((client) => client.close()));
    } finally {
      const out = text((await server.stop()).stdout);
      assert.match(out, /still here/);
    }
  });

  test("stdio: the operator and the first client talk; quit from the client ends it", async () => {
    const server = await startServe("--handler", "stdio");
    await using conn = await connect({ port: server.port });
    await sleep(200);
    server.write("hello from the operator\n");
    assert.equal(await conn.readLine(), "hello from the operator");
    await conn.write("hello from the client\nquit\n");
    const result = await server.stop("none");
    assert.equal(result.code, 0, result.stderr);
    assert.equal(text(result.stdout), "hello from the client\n");
    assert.match(result.stderr, /typed quit/);
  });

  test("a select() server in Python gets GBK text from connect --send and answers", async () => {
    await using peer = await spawnPython("select_server", { args: ["gbk", "thank you !"] });
    const result = await run([
      ...cliCommand(RUNTIME),
      "connect",
      "127.0.0.1",
      String(peer.port),
      "--encoding",
      "gbk",
      "--send",
      "你好,我是客户端!",
      "--wait",
      "300ms",
    ]);
    assert.equal(result.code, 0, result.stderr);
    assert.equal(text(result.stdout), "thank you !");
    assert.match(peer.output, /^127\.0\.0\.1:\d+: 你好,我是客户端!$/m);
  });
});
