/**
 * What the command line prints besides data: logs and one-line errors on
 * stderr (text, or JSON lines with `--json`), so that stdout carries only
 * what peers sent. Colour only on a terminal, and never with `NO_COLOR`.
 *
 * @module
 */
import process from "node:process";
import { TcpError } from "../errors.ts";

/** A usage mistake: printed with a hint to `--help`, exit code 2. */
export class UsageError extends Error {
  override name = "UsageError";
}

/** How much a command logs, and how. */
export interface LogOptions {
  /** Shown after "tcpkit" on each line, such as a worker's number. */
  id?: string;
  json?: boolean;
  quiet?: boolean;
  verbose?: boolean;
}

type Level = "debug" | "info" | "warn" | "error";

const COLORS: Record<Level, string> = { debug: "2", info: "36", warn: "33", error: "31" };

/** Logs events on stderr. */
export class Logger {
  #options: LogOptions;
  #color: boolean;

  /** @param options Text or JSON, quiet or verbose. */
  constructor(options: LogOptions = {}) {
    this.#options = options;
    this.#color = !options.json && process.stderr.isTTY === true && !process.env.NO_COLOR;
  }

  /** Logs a debug event (shown with `--verbose`). */
  debug(event: string, message: string, fields: Record<string, unknown> = {}): void {
    if (this.#options.verbose) this.#write("debug", event, message, fields);
  }

  /** Logs an event (hidden with `--quiet`). */
  info(event: string, message: string, fields: Record<string, unknown> = {}): void {
    if (!this.#options.quiet) this.#write("info", event, message, fields);
  }

  /** Logs a problem that does not stop the command. */
  warn(event: string, message: string, fields: Record<string, unknown> = {}): void {
    this.#write("warn", event, message, fields);
  }

  /** Logs an error as one line, without a stack for the failures users expect. */
  error(error: unknown, fields: Record<string, unknown> = {}): void {
    const expected = error instanceof TcpError || error instanceof RangeError ||
      error instanceof TypeError ||
      error instanceof UsageError;
    const message = expected || !(error instanceof Error)
      ? String((error as Error)?.message ?? error)
      : error.stack ?? error.message;
    this.#write("error", "error", message, { ...fields, code: (error as { code?: string })?.code });
  }

  #write(level: Level, event: string, message: string, fields: Record<string, unknown>): void {
    const { id, json } = this.#options;
    const name = id ? `tcpkit[${id}]` : "tcpkit";
    if (json) {
      const worker = id ? { worker: id } : {};
      const entry = { time: new Date().toISOString(), level, event, message, ...worker, ...fields };
      process.stderr.write(`${JSON.stringify(entry)}\n`);
    } else if (this.#color) {
      process.stderr.write(`\x1b[${COLORS[level]}m${name}:\x1b[0m ${message}\n`);
    } else {
      process.stderr.write(`${name}: ${message}\n`);
    }
  }
}

/**
 * Writes bytes or text to stdout and resolves once they are taken (backpressure).
 *
 * @param data The bytes or text.
 */
export function writeStdout(data: Uint8Array | string): Promise<void> {
  return new Promise((resolve, reject) =>
    process.stdout.write(data, (error) => (error ? reject(error) : resolve()))
  );
}
