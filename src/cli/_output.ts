/**
 * What the command line prints besides data: logs and one-line errors on
 * stderr, so that stdout carries only what the peer sent.
 *
 * @module
 */
import process from "node:process";
import { TcpError } from "../errors.ts";

/** Prints one log line on stderr. @param line */
export function log(line: string): void {
  process.stderr.write(`${line}\n`);
}

/**
 * Prints an error as one human line on stderr, with no stack trace for the
 * failures a user expects (refused, reset, unknown host ...).
 *
 * @param error The error.
 */
export function logError(error: unknown): void {
  if (error instanceof TcpError || error instanceof RangeError || error instanceof TypeError) {
    log(`tcpkit: ${error.message}`);
  } else {
    log(`tcpkit: ${error instanceof Error ? error.stack ?? error.message : String(error)}`);
  }
}

/** A usage mistake: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/**
 * Writes bytes to stdout and resolves once they are taken (backpressure).
 *
 * @param bytes The bytes.
 */
export function writeStdout(bytes: Uint8Array): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(bytes, (error) => (error ? reject(error) : resolve()))
  );
}
