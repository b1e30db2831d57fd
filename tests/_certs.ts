/**
 * Certificates made at test time with the `openssl` command: a CA, and a
 * server certificate it signed for `localhost` and `127.0.0.1`; and the
 * transport that can start TLS on an accepted connection.
 *
 * @module
 */
import { spawnSync } from "node:child_process";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { after } from "node:test";
import { nativeTransport, type Transport } from "../mod.ts";
import { nodeTransport } from "../src/adapters/node.ts";

/** Whether `openssl` is installed (`.ci/run` installs it). */
export const HAS_OPENSSL: boolean = spawnSync("sh", ["-c", "command -v openssl"]).status === 0;

/** PEM texts, and the folder that holds them as files (for `openssl s_client` and `s_server`). */
export interface TestCertificates {
  dir: string;
  ca: string;
  cert: string;
  key: string;
  remove(): void;
}

/**
 * Makes a fresh CA and server certificate in a temporary folder.
 *
 * @param names The names the server certificate covers (`subjectAltName`).
 */
export function makeCertificates(names = "DNS:localhost,IP:127.0.0.1"): TestCertificates {
  const dir = mkdtempSync(join(tmpdir(), "tcpkit-certs-"));
  const openssl = (args: string) => {
    const result = spawnSync("openssl", args.split(" "), { cwd: dir });
    if (result.status !== 0) throw new Error(`openssl ${args}: ${result.stderr}`);
  };
  openssl(
    "req -x509 -newkey rsa:2048 -nodes -keyout ca.key -out ca.pem -days 2 -subj /CN=tcpkit-test-CA",
  );
  openssl("req -newkey rsa:2048 -nodes -keyout server.key -out server.csr -subj /CN=localhost");
  writeFileSync(join(dir, "ext.cnf"), `subjectAltName=${names}\n`);
  openssl(
    "x509 -req -in server.csr -CA ca.pem -CAkey ca.key -CAcreateserial -out server.pem -days 2 -extfile ext.cnf",
  );
  const read = (name: string) => readFileSync(join(dir, name), "utf8");
  return {
    dir,
    ca: read("ca.pem"),
    cert: read("server.pem"),
    key: read("server.key"),
    remove: () => rmSync(dir, { recursive: true, force: true }),
  };
}

/** Certificates for one test file, removed after it; empty when `openssl` is missing. */
export function certificatesForFile(): TestCertificates {
  const certs = HAS_OPENSSL
    ? makeCertificates()
    : { dir: "", ca: "", cert: "", key: "", remove() {} };
  after(() => certs.remove());
  return certs;
}

/**
 * Serves TLS started on an accepted connection (STARTTLS, TLS after a PROXY
 * header): the runtime's own transport where it can (`caps.startTlsServer`),
 * else the node transport, which runs on Deno's and Bun's `node:tls`.
 */
export const TLS_SERVER_TRANSPORT: Transport = nativeTransport().caps.startTlsServer === "native"
  ? nativeTransport()
  : nodeTransport;
