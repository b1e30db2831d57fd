/**
 * Parsing and checking of command-line values shared by the commands:
 * durations, ports, counts and encodings, each with a clear message.
 *
 * @module
 */
import {
  createTextDecoder,
  createTextEncoder,
  type TextChunkDecoder,
  type TextChunkEncoder,
} from "../codec/text.ts";
import { readFileSync } from "node:fs";
import type { TlsServerOptions } from "../transport.ts";
import { UsageError } from "./_output.ts";

const UNITS: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 };

/**
 * Parses a duration such as `500ms`, `30s`, `2m` or `1h`; a bare number is seconds.
 *
 * @param text The value.
 * @param flag The option, for the message.
 * @returns Milliseconds.
 */
export function parseDuration(text: string, flag: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)?$/.exec(text.trim());
  if (!match) {
    throw new UsageError(`${flag} must be a duration such as 500ms, 30s, 2m or 1h (got "${text}")`);
  }
  return Math.round(Number(match[1]) * UNITS[match[2] ?? "s"]);
}

const SIZES: Record<string, number> = { "": 1, b: 1, kib: 1024, k: 1024, mib: 1 << 20, m: 1 << 20 };

/**
 * Parses a size in bytes such as `65536`, `64KiB` or `1MiB`.
 *
 * @param text The value.
 * @param flag The option, for the message.
 * @returns Bytes.
 */
export function parseSize(text: string, flag: string): number {
  const match = /^(\d+)\s*([a-z]*)$/i.exec(text.trim());
  const unit = SIZES[match?.[2].toLowerCase() ?? "?"];
  if (!match || unit === undefined) {
    throw new UsageError(`${flag} must be a size such as 65536, 64KiB or 1MiB (got "${text}")`);
  }
  return Number(match[1]) * unit;
}

/**
 * Parses a whole number within bounds.
 *
 * @param text The value.
 * @param flag The option, for the message.
 * @param min The smallest allowed.
 * @param max The largest allowed.
 * @returns The number.
 */
export function parseCount(text: string, flag: string, min: number, max: number): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < min || value > max) {
    throw new UsageError(`${flag} must be a number between ${min} and ${max} (got "${text}")`);
  }
  return value;
}

/**
 * Checks that a value is one of the choices.
 *
 * @param text The value.
 * @param flag The option, for the message.
 * @param choices The allowed values.
 * @returns The value.
 */
export function parseChoice<T extends string>(
  text: string,
  flag: string,
  choices: readonly T[],
): T {
  if (!(choices as readonly string[]).includes(text)) {
    throw new UsageError(`${flag} must be one of ${choices.join(", ")} (got "${text}")`);
  }
  return text as T;
}

/** A text encoding for the terminal side of a command: decode what arrives, encode what is sent. */
export interface Encoding {
  name: string;
  /** A fresh streaming decoder that replaces invalid bytes. */
  decoder(): TextChunkDecoder;
  encoder: TextChunkEncoder;
}

/**
 * Resolves `--encoding`.
 *
 * @param label The encoding label, such as `utf-8` or `gbk`.
 * @returns The decoder factory and the encoder.
 */
export function parseEncoding(label: string): Encoding {
  try {
    const encoder = createTextEncoder(label, { unencodable: "replace" });
    return {
      name: encoder.encoding,
      decoder: () => createTextDecoder(label, { fatal: false }),
      encoder,
    };
  } catch (error) {
    throw new UsageError(`--encoding: ${(error as Error).message} (choose utf-8, gbk or gb18030)`);
  }
}

/**
 * Reads a PEM file named on the command line.
 *
 * @param path The file.
 * @param flag The option, for the message.
 * @returns The text.
 */
export function readPem(path: string, flag: string): string {
  try {
    return readFileSync(path, "utf8");
  } catch (error) {
    throw new UsageError(`Cannot read ${flag} ${path}: ${(error as Error).message}`);
  }
}

/**
 * The certificate and key of `--tls-cert` and `--tls-key`: both, or neither.
 *
 * @returns The server's TLS options, or `undefined` without TLS.
 */
export function readTlsServerFiles(
  cert: string | undefined,
  key: string | undefined,
): TlsServerOptions | undefined {
  if (cert === undefined && key === undefined) return undefined;
  if (cert === undefined || key === undefined) {
    throw new UsageError("--tls-cert and --tls-key go together: the certificate and its key (PEM)");
  }
  return { cert: readPem(cert, "--tls-cert"), key: readPem(key, "--tls-key") };
}
