/**
 * The `tcpkit` command line: `tcpkit serve`, `tcpkit connect`.
 *
 * @module
 */
import process from "node:process";
import { exitAfterLog, Logger, UsageError } from "./_output.ts";
import { runBench } from "./bench.ts";
import { runConnect } from "./connect.ts";
import { runServe } from "./serve.ts";

const VERSION = "0.1.0";

const HELP = `tcpkit ${VERSION}: a TCP toolkit for Deno, Bun and Node

Usage:
  tcpkit serve [options]          run a server: echo, discard, reply, chat or stdio
  tcpkit connect [HOST PORT]      connect to a server: like netcat, or interactive
  tcpkit bench HOST PORT          load a server: bulk, ping-pong or connection rate

Examples:
  tcpkit serve                                       # echo server on 127.0.0.1:7788
  tcpkit serve --handler reply --text "你好,我是服务器!" --close
  tcpkit serve --handler chat
  echo hello | tcpkit connect 127.0.0.1 7788
  tcpkit connect 127.0.0.1 7788 --send hello

Options:
  -h, --help      show help (also after a command: tcpkit serve --help)
  -V, --version   show the version

Run with: deno run -A mod.ts ..., bun run mod.ts ..., or npx tcpkit ...`;

/**
 * Runs the command line with the given arguments, then exits with its code.
 *
 * @param args The arguments after the program name.
 */
export async function main(args: string[] = process.argv.slice(2)): Promise<void> {
  const [command, ...rest] = args;
  try {
    switch (command) {
      case "serve":
        await runServe(rest);
        break;
      case "connect":
        await runConnect(rest);
        break;
      case "bench":
        await runBench(rest);
        break;
      case "-V":
      case "--version":
        console.log(VERSION);
        break;
      case undefined:
      case "-h":
      case "--help":
      case "help":
        console.log(HELP);
        break;
      default:
        throw new UsageError(`unknown command "${command}" (choose serve, connect or bench)`);
    }
  } catch (error) {
    const log = new Logger();
    const code = (error as { code?: string }).code;
    if (error instanceof UsageError || code?.startsWith("ERR_PARSE_ARGS")) {
      const known = ["serve", "connect", "bench"].includes(command);
      log.error(
        new UsageError(
          `${usageMessage(error as Error)}\nRun "tcpkit ${
            known ? `${command} ` : ""
          }--help" for usage.`,
        ),
      );
      process.exitCode = 2;
    } else {
      log.error(error);
      process.exitCode = 1;
    }
  }
  // Bounded: a stderr nobody reads must not keep the process from exiting.
  await exitAfterLog(Number(process.exitCode ?? 0), 2000);
}

/** parseArgs' messages, as one clean line: `unknown option --bogus`. */
function usageMessage(error: Error): string {
  const option = /^(?:Unknown option|Option) '([^']+)'/.exec(error.message)?.[1];
  const code = (error as { code?: string }).code;
  if (code === "ERR_PARSE_ARGS_UNKNOWN_OPTION" && option) return `unknown option ${option}`;
  if (code === "ERR_PARSE_ARGS_INVALID_OPTION_VALUE" && option) {
    return `${option.split(" ")[0].replace(/,$/, "")} needs a value`;
  }
  if (code === "ERR_PARSE_ARGS_UNEXPECTED_POSITIONAL") return "unexpected argument";
  return error.message;
}
