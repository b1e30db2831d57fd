/**
 * TLS on every runtime, with certificates made at test time by `openssl`:
 * echo, ALPN, typed errors for untrusted certificates, wrong host names and
 * peers that do not speak TLS, and interop with `openssl s_client`/`s_server`.
 */
import assert from "node:assert/strict";
import { spawn } from "node:child_process";
import { join } from "node:path";
import { describe, test } from "node:test";
import { type Conn, connect, serve, TlsError } from "../mod.ts";
import { certificatesForFile, HAS_OPENSSL, makeCertificates } from "./_certs.ts";
import { run, RUNTIME, sleep } from "./_helpers.ts";

const certs = certificatesForFile();
const echo = (conn: Conn) => conn.readable.pipeTo(conn.writable);
const text = (bytes: Uint8Array | null) => bytes && new TextDecoder().decode(bytes);

describe(`TLS on ${RUNTIME}`, {
  skip: HAS_OPENSSL ? false : "openssl is not installed (.ci/run installs it)",
}, () => {
  for (const hostname of ["127.0.0.1", "localhost"]) {
    test(`serve({ tls }) and connect({ tls }) echo through ${hostname}, with ALPN`, async () => {
      let serverAlpn: string | null = null;
      await using server = await serve({
        port: 0,
        tls: { cert: certs.cert, key: certs.key, alpn: ["x-echo", "h2"] },
        handler: (conn) => {
          serverAlpn = conn.alpnProtocol;
          return echo(conn);
        },
      });
      await using conn = await connect({
        hostname,
        port: server.addr.port,
        tls: { caCerts: [certs.ca], alpn: ["x-echo"] },
      });
      assert.equal(conn.alpnProtocol, "x-echo");
      await conn.write("over TLS\n");
      assert.equal(await conn.readLine(), "over TLS");
      assert.equal(serverAlpn, "x-echo");
    });
  }

  test("localhost is checked as localhost, also when tls.serverName is present but undefined", async () => {
    // A certificate for the name only: checked against 127.0.0.1 it would fail.
    const named = makeCertificates("DNS:localhost");
    try {
      await using server = await serve({
        port: 0,
        tls: { cert: named.cert, key: named.key },
        handler: echo,
      });
      await using conn = await connect({
        hostname: "localhost",
        port: server.addr.port,
        tls: { caCerts: [named.ca], serverName: undefined },
      });
      await conn.write("named\n");
      assert.equal(await conn.readLine(), "named");
    } finally {
      named.remove();
    }
  });

  test("an untrusted certificate is TlsError saying so", async () => {
    await using server = await serve({
      port: 0,
      tls: { cert: certs.cert, key: certs.key },
      handler: echo,
    });
    const error = await connect({ port: server.addr.port, tls: true }).then(() => null, (e) => e);
    assert.ok(error instanceof TlsError, String(error));
    assert.match(error.message, /TLS handshake failed: the certificate is not trusted/);
  });

  test("a host name the certificate does not cover is TlsError saying so", async () => {
    await using server = await serve({
      port: 0,
      tls: { cert: certs.cert, key: certs.key },
      handler: echo,
    });
    const error = await connect({
      port: server.addr.port,
      tls: { caCerts: [certs.ca], serverName: "example.com" },
    }).then(() => null, (e) => e);
    assert.ok(error instanceof TlsError, String(error));
    assert.match(error.message, /the certificate does not cover the host name/);
  });

  test("a TLS client at a plaintext port gets TlsError, not a hang", async () => {
    await using server = await serve({ port: 0, handler: echo });
    const error = await connect({
      port: server.addr.port,
      tls: { caCerts: [certs.ca] },
      timeout: 10_000,
    })
      .then(() => null, (e) => e);
    assert.ok(error instanceof TlsError, String(error));
  });

  test("a plaintext client at a TLS port: the server reports TlsError, the client is closed", async () => {
    const errors: unknown[] = [];
    await using server = await serve({
      port: 0,
      tls: { cert: certs.cert, key: certs.key },
      handshakeTimeout: 2000,
      handler: echo,
      onError: (error) => errors.push(error),
    });
    await using conn = await connect({ port: server.addr.port });
    await conn.write("GET / HTTP/1.1\r\n\r\n");
    // Whatever comes back (an alert, or nothing) ends with the connection closed.
    for (;;) if ((await conn.read().catch(() => null)) === null) break;
    await sleep(50);
    assert.ok(errors[0] instanceof TlsError || server.stats.errors.ETLS === 1, String(errors[0]));
  });

  test("openssl s_client talks to a tcpkit TLS server", async () => {
    await using server = await serve({
      port: 0,
      tls: { cert: certs.cert, key: certs.key },
      handler: async (conn) => {
        await conn.write(`hello, ${await conn.readLine()}\n`);
      },
    });
    const result = await run([
      "openssl",
      "s_client",
      "-connect",
      `127.0.0.1:${server.addr.port}`,
      "-CAfile",
      join(certs.dir, "ca.pem"),
      "-servername",
      "localhost",
      "-verify_return_error",
      "-quiet",
    ], "s_client\n");
    assert.match(text(result.stdout)!, /hello, s_client\n/);
  });

  test("tcpkit connects to openssl s_server", async () => {
    const probe = await serve({ port: 0, handler: echo });
    const port = probe.addr.port;
    await probe.shutdown();
    const s_server = spawn("openssl", [
      "s_server",
      "-accept",
      `127.0.0.1:${port}`,
      "-cert",
      join(certs.dir, "server.pem"),
      "-key",
      join(certs.dir, "server.key"),
      "-rev",
      "-naccept",
      "1",
      "-quiet",
    ], { stdio: "ignore" });
    try {
      let conn: Awaited<ReturnType<typeof connect>> | null = null;
      for (let i = 0; i < 50 && !conn; i++) {
        conn = await connect({ port, tls: { caCerts: [certs.ca] } }).catch(() => null);
        if (!conn) await sleep(100);
      }
      assert.ok(conn, "could not connect to openssl s_server");
      await conn.write("tcpkit\n");
      assert.equal(await conn.readLine(), "tikpct");
      conn.abort();
    } finally {
      s_server.kill("SIGKILL");
    }
  });
});
