/**
 * The PROXY protocol on every runtime: headers from trusted balancers give
 * the real client address, untrusted peers are refused, slow or bad headers
 * are typed errors; and a real HAProxy in front of two tcpkit servers.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import { type Conn, connect, ProxyProtocolError, serve, type ServeOptions } from "../mod.ts";
import { HAPROXY_SOURCE, HAS_HAPROXY, sampleHeader as header, startHaproxy } from "./_proxy.ts";
import { RUNTIME, sleep } from "./_helpers.ts";

type Seen = { remote: string; proxiedBy: string | undefined };

/** A server that replies with the address it sees, and records it. */
async function whoAmIServer(options: Omit<Partial<ServeOptions>, "path">) {
  const seen: Seen[] = [];
  const errors: unknown[] = [];
  const server = await serve({
    port: 0,
    handler: async (conn: Conn) => {
      const at = (a: Conn["remoteAddr"] | undefined) =>
        a && (a.transport === "tcp" ? `${a.hostname}:${a.port}` : a.path);
      seen.push({ remote: at(conn.remoteAddr)!, proxiedBy: at(conn.proxiedBy) });
      await conn.write(`${at(conn.remoteAddr)}\n`);
      for await (const chunk of conn) await conn.write(chunk);
    },
    onError: (error) => errors.push(error),
    ...options,
  });
  return { server, seen, errors };
}

describe(`PROXY protocol on ${RUNTIME}`, () => {
  for (const version of [1, 2] as const) {
    test(`a v${version} header from a trusted balancer makes remoteAddr the real client`, async () => {
      const { server, seen } = await whoAmIServer({ proxyProtocol: { trusted: ["127.0.0.0/8"] } });
      await using _ = server;
      await using conn = await connect({ port: server.addr.port, proxyHeader: header(version) });
      assert.equal(await conn.readLine(), "203.0.113.7:40001");
      await conn.write("and then data\n");
      assert.equal(await conn.readLine(), "and then data");
      assert.equal(seen[0].proxiedBy?.startsWith("127.0.0.1:"), true);
    });
  }

  test("a peer outside the trusted ranges is refused, even with a valid header", async () => {
    const { server, errors } = await whoAmIServer({ proxyProtocol: { trusted: ["10.0.0.0/8"] } });
    await using _ = server;
    // Refused with a reset, which may even beat the client's connect.
    const conn = await connect({ port: server.addr.port, proxyHeader: header(2) }).catch(() =>
      null
    );
    assert.equal(await conn?.read().catch(() => null) ?? null, null);
    conn?.abort();
    await sleep(50);
    assert.ok(errors[0] instanceof ProxyProtocolError, String(errors[0]));
    assert.match(
      (errors[0] as Error).message,
      /not a trusted PROXY protocol source \(trusted: 10\.0\.0\.0\/8\)/,
    );
    assert.equal(server.stats.errors.EPROXYPROTOCOL, 1);
  });

  test("required: false serves untrusted peers directly, reading no header", async () => {
    const { server } = await whoAmIServer({
      proxyProtocol: { trusted: ["10.0.0.0/8"], required: false },
    });
    await using _ = server;
    await using conn = await connect({ port: server.addr.port });
    assert.match((await conn.readLine())!, /^127\.0\.0\.1:\d+$/);
  });

  test("garbage instead of a header is ProxyProtocolError for that connection only", async () => {
    const { server, errors } = await whoAmIServer({ proxyProtocol: { trusted: ["127.0.0.1"] } });
    await using _ = server;
    await using bad = await connect({ port: server.addr.port });
    await bad.write("GET / HTTP/1.1\r\n\r\n");
    assert.equal(await bad.read().catch(() => null), null);
    await using good = await connect({ port: server.addr.port, proxyHeader: header(1) });
    assert.equal(await good.readLine(), "203.0.113.7:40001");
    assert.ok(errors[0] instanceof ProxyProtocolError);
    assert.match((errors[0] as Error).message, /HTTP/);
  });

  test("maxConnectionsPerAddress counts the clients the headers name, not the balancer", async () => {
    const { server } = await whoAmIServer({
      proxyProtocol: { trusted: ["127.0.0.0/8"] },
      maxConnectionsPerAddress: 1,
      busyReply: "busy\n",
    });
    await using _ = server;
    const from = (hostname: string) =>
      connect({
        port: server.addr.port,
        proxyHeader: {
          version: 1,
          command: "PROXY",
          family: "TCP4",
          source: { hostname, port: 40001 },
          destination: { hostname: "198.51.100.1", port: 443 },
        },
      });
    await using a = await from("203.0.113.7");
    assert.equal(await a.readLine(), "203.0.113.7:40001");
    await using b = await from("203.0.113.8");
    assert.equal(await b.readLine(), "203.0.113.8:40001");
    await using c = await from("203.0.113.7");
    assert.equal(await c.readLine(), "busy");
    assert.equal(await c.read(), null);
    assert.equal(server.stats.rejected, 1);
    await a.close();
    await using d = await from("203.0.113.7");
    assert.equal(await d.readLine(), "203.0.113.7:40001");
    assert.equal(server.stats.active, 2);
  });

  test("a trusted peer that sends no header is cut at handshakeTimeout", async () => {
    const { server } = await whoAmIServer({
      proxyProtocol: { trusted: ["127.0.0.1"] },
      handshakeTimeout: 200,
    });
    await using _ = server;
    await using conn = await connect({ port: server.addr.port });
    assert.equal(await conn.read().catch(() => null), null);
    await sleep(50);
    assert.equal(server.stats.timeouts.handshake, 1);
  });
});

describe(`behind a real HAProxy on ${RUNTIME}`, {
  skip: HAS_HAPROXY ? false : "haproxy is not installed (.ci/run installs it)",
}, () => {
  for (const send of ["send-proxy-v2", "send-proxy"]) {
    test(`HAProxy (${send}) balances 20 clients over two servers that see each client's address`, async () => {
      // HAProxy connects to the servers from HAPROXY_SOURCE: only that address is trusted.
      const trusted = [`${HAPROXY_SOURCE}/32`];
      const a = await whoAmIServer({ proxyProtocol: { trusted } });
      const b = await whoAmIServer({ proxyProtocol: { trusted } });
      try {
        await using haproxy = await startHaproxy(send, [a.server.addr.port, b.server.addr.port]);
        const port = haproxy.port;
        const clients = await Promise.all(Array.from({ length: 20 }, async () => {
          const conn = await connect({ port });
          const line = await conn.readLine();
          const local = conn.localAddr.transport === "tcp"
            ? `${conn.localAddr.hostname}:${conn.localAddr.port}`
            : "";
          await conn.close();
          return { line, local };
        }));
        for (const { line, local } of clients) {
          assert.equal(line, local, "the server saw another address");
        }
        // Each client was seen by exactly one server (the readiness probe may add one more visit).
        const remotes = [...a.seen, ...b.seen].map((s) => s.remote);
        for (const { local } of clients) assert.equal(remotes.filter((r) => r === local).length, 1);
        assert.ok(a.seen.length >= 5 && b.seen.length >= 5, `${a.seen.length} / ${b.seen.length}`);
        for (const s of [...a.seen, ...b.seen]) assert.match(s.proxiedBy!, /^127\.0\.0\.2:\d+$/);
        // A client that forges a header straight to a server is not trusted: refused.
        const forged = await connect({ port: a.server.addr.port, proxyHeader: header(2) }).catch(
          () => null,
        );
        assert.equal(await forged?.read().catch(() => null) ?? null, null);
        forged?.abort();
      } finally {
        await a.server.shutdown();
        await b.server.shutdown();
      }
    });
  }
});
