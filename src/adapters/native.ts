/**
 * Picks the transport of the runtime this code runs on: the one place where
 * tcpkit looks at which runtime it is.
 *
 * @module
 */
import { bindTransport, type BoundApi } from "../bind.ts";
import type { Transport } from "../transport.ts";
import { bunTransport } from "./bun.ts";
import { denoTransport } from "./deno.ts";
import { nodeTransport } from "./node.ts";

/**
 * The native transport of the current runtime: Deno's, Bun's, or else Node's.
 *
 * @returns The transport.
 */
export function nativeTransport(): Transport {
  if ("Deno" in globalThis) return denoTransport;
  if ("Bun" in globalThis) return bunTransport;
  return nodeTransport;
}

const api: BoundApi = bindTransport(nativeTransport());

/** {@inheritDoc BoundApi.serve} */
export const serve: BoundApi["serve"] = api.serve;
/** {@inheritDoc BoundApi.connect} */
export const connect: BoundApi["connect"] = api.connect;
