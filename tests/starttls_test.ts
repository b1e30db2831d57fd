/**
 * STARTTLS on every runtime: a plaintext connection upgraded in place, both
 * ways, and the command-injection case (plaintext pipelined after STARTTLS is
 * refused, never taken as sent over TLS). Server-side STARTTLS is native on
 * Node only; on Deno and Bun the node transport (`tcpkit/node`) is the fallback.
 */
import assert from "node:assert/strict";
import { describe, test } from "node:test";
import {
  type Conn,
  connect,
  LineCodec,
  nativeTransport,
  serve,
  TlsError,
  UnsupportedError,
} from "../mod.ts";
import { certificatesForFile, HAS_OPENSSL, TLS_SERVER_TRANSPORT } from "./_certs.ts";
import { RUNTIME, sleep } from "./_helpers.ts";

const certs = certificatesForFile();
const serverSide = TLS_SERVER_TRANSPORT;

/** A tiny SMTP-like server: "STARTTLS" upgrades, then each line is answered over TLS. */
async function startTlsServer(seen: { error?: unknown; lines: string[] }) {
  return await serve({
    port: 0,
    transport: serverSide,
    handler: async (conn: Conn) => {
      await conn.write("220 ready\n");
      if ((await conn.readLine()) !== "STARTTLS") return;
      await conn.write("220 go ahead\n");
      try {
        await conn.startTls({ isServer: true, cert: certs.cert, key: certs.key });
      } catch (error) {
        seen.error = error;
        return;
      }
      for await (const line of conn.frames(new LineCodec())) {
        seen.lines.push(line);
        await conn.write(`250 ${line} (secure: ${conn.secure})\n`);
      }
    },
  });
}

describe(
  `STARTTLS on ${RUNTIME}`,
  { skip: HAS_OPENSSL ? false : "openssl is not installed" },
  () => {
    test(`client on ${RUNTIME}'s transport, server on the ${serverSide.name} transport: upgrade in place`, async () => {
      const seen: { error?: unknown; lines: string[] } = { lines: [] };
      await using server = await startTlsServer(seen);
      await using conn = await connect({ port: server.addr.port });
      assert.equal(await conn.readLine(), "220 ready");
      await conn.write("STARTTLS\n");
      assert.equal(await conn.readLine(), "220 go ahead");
      await conn.startTls({ caCerts: [certs.ca], serverName: "localhost" });
      assert.equal(conn.secure, true);
      // Bytes sent at once after the upgrade arrive over TLS.
      await conn.write("MAIL FROM:<a@example.com>\nQUIT\n");
      assert.equal(await conn.readLine(), "250 MAIL FROM:<a@example.com> (secure: true)");
      assert.equal(await conn.readLine(), "250 QUIT (secure: true)");
      assert.deepEqual(seen.lines, ["MAIL FROM:<a@example.com>", "QUIT"]);
      assert.equal(seen.error, undefined);
    });

    test("plaintext pipelined after STARTTLS is refused, never taken as sent over TLS", async () => {
      const seen: { error?: unknown; lines: string[] } = { lines: [] };
      await using server = await startTlsServer(seen);
      await using conn = await connect({ port: server.addr.port });
      await conn.readLine();
      await conn.write("STARTTLS\nRCPT TO:<victim@example.com>\n");
      await conn.readLine();
      for (let i = 0; i < 50 && !seen.error; i++) await sleep(20);
      assert.ok(seen.error instanceof TlsError, String(seen.error));
      assert.match(
        (seen.error as Error).message,
        /plaintext arrived before the upgrade and are unread/,
      );
      assert.deepEqual(seen.lines, []);
    });

    test("the client refuses to upgrade over unread plaintext too", async () => {
      await using server = await serve({
        port: 0,
        handler: async (conn) => {
          await conn.write("220 go ahead\n250 injected\n"); // one write: the reply and an injected line
          await conn.read();
        },
      });
      await using conn = await connect({ port: server.addr.port });
      assert.equal(await conn.readLine(), "220 go ahead");
      const buffered = conn.buffered;
      const error = await conn.startTls({ caCerts: [certs.ca] }).then(() => null, (e) => e);
      assert.ok(error instanceof TlsError, String(error));
      // On loopback one write arrives as one chunk, so the injected line is buffered and refused.
      if (buffered > 0) {
        assert.match(
          error.message,
          /13 bytes of plaintext arrived before the upgrade/,
        );
      }
    });

    const ownServerSide = nativeTransport().caps.startTlsServer;
    test(`server-side STARTTLS on ${RUNTIME}'s own transport is a clear UnsupportedError`, {
      skip: ownServerSide === "native"
        ? "caps.startTlsServer is native here: the first test covers it"
        : false,
    }, async () => {
      let error: unknown;
      await using server = await serve({
        port: 0,
        handler: async (conn) => {
          await conn.startTls({ isServer: true, cert: certs.cert, key: certs.key }).catch((
            e,
          ) => (error = e));
        },
      });
      await using conn = await connect({ port: server.addr.port });
      assert.equal(await conn.read().catch(() => null), null);
      assert.ok(error instanceof UnsupportedError, String(error));
      assert.match(
        (error as Error).message,
        new RegExp(`on ${RUNTIME === "deno" ? "Deno" : "Bun"} \\d+\\.\\d+.*node transport`),
      );
    });
  },
);
