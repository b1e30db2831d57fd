/**
 * What a connection's read and write sides ask of the connection that owns
 * them: its lifecycle, which is in one place (the connection's state and why
 * it was cut), and the race of a transport call against its end.
 *
 * @module
 */
import type { TcpError } from "../errors.ts";

/**
 * Where a connection is in its life: `open`, then `closing` once `close()`
 * began (pending writes go out), then `closed` (cleanly: by `close()`,
 * `abort()` or the socket's end) or `failed` (`closed` rejects).
 */
export type ConnState = "open" | "closing" | "closed" | "failed";

/** The connection's getter: where it is in its life. */
export const STATE = Symbol("state");
/** The connection's getter: why it was cut, once it was. */
export const CUT = Symbol("cut");
/** The connection's method that turns a transport's error into its failure. */
export const FAIL = Symbol("fail");
/** The connection's getter: the peer, as error messages name it. */
export const PEER = Symbol("peer");
/** The connection's method that races a transport call against its end. */
export const UNTIL_END = Symbol("untilEnd");

/** The connection, as its sides see it. */
export interface ConnCore {
  readonly [STATE]: ConnState;
  readonly [CUT]: TcpError | undefined;
  [FAIL](error: unknown): TcpError;
  readonly [PEER]: string;
  /** Settles as `promise` does, or rejects once the connection is cut first. */
  [UNTIL_END]<T>(promise: Promise<T> | undefined): Promise<T>;
}
