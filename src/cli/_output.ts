/**
 * What the command line prints besides data: logs and one-line errors on
 * stderr (text, or JSON lines with `--json`), so that stdout carries only
 * what peers sent. Colour only on a terminal, and never with `NO_COLOR`.
 * Lines are written asynchronously and bounded: a stderr nobody reads
 * drops log lines (counted, and said once it drains), never stalls a server.
 *
 * @module
 */
import process from "node:process";
import { TcpError } from "../errors.ts";
import { outputSink, OutputWriter } from "./_stdout.ts";

/** Log bytes that may wait for stderr; past them lines are dropped. */
const LOG_QUEUE_MAX = 256 * 1024;
/** Every logger's lines, in order: made on the first line. */
let stderr: OutputWriter | undefined;
/** Lines dropped since the last said so. */
let droppedLines = 0;

/**
 * Ends the process once the log lines queued are written, or after `timeoutMs`
 * (a stderr nobody reads must not keep the process).
 *
 * @param code The exit code.
 * @param timeoutMs The longest wait for the log.
 */
export async function exitAfterLog(code: number, timeoutMs: number): Promise<never> {
  await stderr?.flush(timeoutMs);
  process.exit(code);
}

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
    stderr ??= new OutputWriter(outputSink("stderr"), { maxQueued: LOG_QUEUE_MAX });
    if (droppedLines > 0) {
      const dropped = droppedLines;
      const said = `${dropped} log line${
        dropped === 1 ? "" : "s"
      } dropped: stderr was not keeping up`;
      if (stderr.offer(this.#format("warn", "log-drop", said, { dropped }))) droppedLines = 0;
    }
    if (!stderr.offer(this.#format(level, event, message, fields))) droppedLines++;
  }

  #format(level: Level, event: string, message: string, fields: Record<string, unknown>): string {
    const { id, json } = this.#options;
    const name = id ? `tcpkit[${id}]` : "tcpkit";
    if (json) {
      const worker = id ? { worker: id } : {};
      const entry = { time: new Date().toISOString(), level, event, message, ...worker, ...fields };
      return `${JSON.stringify(entry)}\n`;
    }
    if (this.#color) return `\x1b[${COLORS[level]}m${name}:\x1b[0m ${message}\n`;
    return `${name}: ${message}\n`;
  }
}
