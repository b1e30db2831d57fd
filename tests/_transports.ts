/**
 * Every transport this runtime has, for suites that run on each: the
 * runtime's own, and on Deno and Bun also the node transport (on their
 * `node:net`), which the README recommends there for what the native one lacks.
 *
 * @module
 */
import { nativeTransport, type Transport } from "../mod.ts";
import { nodeTransport } from "../src/adapters/node.ts";

/**
 * The transports to run a suite over: the native one first.
 *
 * @returns One on Node, two on Deno and Bun.
 */
export function transportsHere(): Transport[] {
  const native = nativeTransport();
  return native === nodeTransport ? [native] : [native, nodeTransport];
}
