/**
 * TLS behind the PROXY protocol, as behind a balancer that passes TLS through:
 * the header in plaintext, then the client's handshake, often in the same
 * segment. TLS starts on the accepted connection after the header, so the
 * server needs `caps.startTlsServer`: native on Node; on Deno and Bun the node
 * transport (`tcpkit/node`), whose refusal on their own transports is tested.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import { describe, test } from "node:test";
import {
  type Conn,
  connect,
  LineCodec,
  nativeTransport,
  serve,
  type ServeOptions,
  TlsError,
  UnsupportedError,
} from "../mod.ts";
import { certificatesForFile, HAS_OPENSSL, TLS_SERVER_TRANSPORT } from "./_certs.ts";
import { HAPROXY_SOURCE, HAS_HAPROXY, sampleHeader as header, startHaproxy } from "./_proxy.ts";
import { RUNTIME, sleep } from "./_helpers.ts";
import { spawnPython } from "./_python.ts";

const certs = certificatesForFile();
const native = nativeTransport();
const serverSide = TLS_SERVER_TRANSPORT;
const clientTls = { caCerts: [certs.ca], serverName: "localhost" };

/** A TLS server behind the PROXY protocol that answers each line with the client it sees. */
async function secureWhoAmI(options: Omit<Partial<ServeOptions>, "path"> = {}) {
  const errors: unknown[] = [];
  const server = await serve({
    port: 0,
    transport: serverSide,
    tls: { cert: certs.cert, key: certs.key },
    proxyProtocol: { trusted: ["127.0.0.0/8"] },
    handler: async (conn: Conn) => {
      const peer = conn.remoteAddr.transport === "tcp"
        ? `${conn.remoteAddr.hostname}:${conn.remoteAddr.port}`
        : "?";
      for await (const line of conn.frames(new LineCodec())) {
        await conn.write(`${peer} ${line} secure=${conn.secure}\n`);
      }
    },
    onError: (error) => errors.push(error),
    ...options,
  });
  return { server, errors };
}

describe(`TLS behind the PROXY protocol on ${RUNTIME}`, {
  skip: HAS_OPENSSL ? false : "openssl is not installed",
}, () => {
  for (const version of [1, 2] as const) {
    test(`a v${version} header, then TLS: client on ${RUNTIME}, server on the ${serverSide.name} transport`, async () => {
      const { server, errors } = await secureWhoAmI();
      await using _ = server;
      await using conn = await connect({
        port: server.addr.port,
        proxyHeader: header(version),
        tls: clientTls,
      });
      assert.equal(conn.secure, true);
      await conn.write("hello\n");
      assert.equal(await conn.readLine(), "203.0.113.7:40001 hello secure=true");
      assert.deepEqual(errors, []);
    });
  }

  test("the header and the ClientHello in one write (Python's ssl): both reach their layer", async () => {
    const { server } = await secureWhoAmI();
    await using _ = server;
    await using peer = await spawnPython("proxy_tls_client", {
      port: server.addr.port,
      args: [join(certs.dir, "ca.pem")],
    });
    assert.equal(await peer.exited, "203.0.113.7:40001 hello secure=true\n");
  });

  test("required: false: a direct client outside the trusted ranges speaks TLS at once", async () => {
    const { server } = await secureWhoAmI({
      proxyProtocol: { trusted: ["10.0.0.0/8"], required: false },
    });
    await using _ = server;
    await using conn = await connect({ port: server.addr.port, tls: clientTls });
    await conn.write("direct\n");
    const local = conn.localAddr.transport === "tcp" ? conn.localAddr.port : 0;
    assert.equal(await conn.readLine(), `127.0.0.1:${local} direct secure=true`);
  });

  test("plaintext after the header is a TlsError for that connection only", async () => {
    const { server, errors } = await secureWhoAmI();
    await using _ = server;
    await using plain = await connect({ port: server.addr.port, proxyHeader: header(1) });
    await plain.write("GET / HTTP/1.1\r\n\r\n");
    // The server may answer with a TLS alert; then it closes.
    while (await plain.read().catch(() => null) !== null);
    await using conn = await connect({
      port: server.addr.port,
      proxyHeader: header(2),
      tls: clientTls,
    });
    await conn.write("still served\n");
    assert.equal(await conn.readLine(), "203.0.113.7:40001 still served secure=true");
    for (let i = 0; i < 50 && errors.length === 0; i++) await sleep(20);
    assert.equal(errors.length, 1);
    assert.ok(errors[0] instanceof TlsError, String(errors[0]));
  });

  test(`${native.name}'s own transport refuses TLS behind the PROXY protocol`, {
    skip: native.caps.startTlsServer === "unsupported"
      ? false
      : `caps.startTlsServer is ${native.caps.startTlsServer}: served above on this transport`,
  }, async () => {
    await assert.rejects(
      serve({
        port: 0,
        transport: native,
        tls: { cert: certs.cert, key: certs.key },
        proxyProtocol: { trusted: ["127.0.0.0/8"] },
        handler: () => {},
      }),
      (error) =>
        error instanceof UnsupportedError &&
        /caps\.startTlsServer.*node transport/.test(error.message),
    );
  });

  test("behind a real HAProxy (send-proxy-v2, TLS passed through): each client's own address", {
    skip: HAS_HAPROXY ? false : "haproxy is not installed (.ci/run installs it)",
  }, async () => {
    const { server } = await secureWhoAmI({ proxyProtocol: { trusted: [`${HAPROXY_SOURCE}/32`] } });
    await using _ = server;
    await using haproxy = await startHaproxy("send-proxy-v2", [server.addr.port]);
    const lines = await Promise.all(Array.from({ length: 5 }, async (_, i) => {
      await using conn = await connect({ port: haproxy.port, tls: clientTls });
      await conn.write(`client ${i}\n`);
      const local = conn.localAddr.transport === "tcp" ? conn.localAddr.port : 0;
      return [await conn.readLine(), `127.0.0.1:${local} client ${i} secure=true`];
    }));
    for (const [seen, wanted] of lines) assert.equal(seen, wanted);
  });
});
