/**
 * The logger contract every layer takes, and the default implementation (pino).
 *
 * Layers accept a {@link Logger} through their options instead of importing a global one, so tests
 * pass a silent or capturing logger and users pass their own pino instance.
 *
 * @module
 */
import { pino } from "pino";

/** The subset of pino's API laminar calls: a merge object first, then the message. */
export interface Logger {
  error(obj: object, msg?: string): void;
  warn(obj: object, msg?: string): void;
  info(obj: object, msg?: string): void;
  debug(obj: object, msg?: string): void;
}

/** Options for {@link createLogger}. */
export interface LoggerOptions {
  /** pino level name; `"silent"` turns logging off. Default `LOG_LEVEL` or `"info"`. */
  level?: string;
  /**
   * Where the JSON lines go. Default `LOG_DESTINATION` or `"stdout"`. Commands whose stdout is
   * their output (`laminar openapi`, `laminar trace`) switch to stderr, so an app's startup
   * warnings never end up inside the document they print.
   */
  destination?: "stdout" | "stderr";
}

/** Creates the default pino logger (JSON lines on stdout, or stderr: see {@link LoggerOptions.destination}). */
export function createLogger(options: LoggerOptions = {}): Logger {
  const level = options.level ?? process.env.LOG_LEVEL ?? "info";
  const destination = options.destination ?? process.env.LOG_DESTINATION;
  if (destination === "stderr") return pino({ level, base: { pid: process.pid } }, pino.destination(2));
  return pino({ level, base: { pid: process.pid } });
}

/**
 * Sends the default logger's lines to stderr from now on, unless `LOG_DESTINATION` says otherwise
 * (for CLI commands that print a result on stdout; call it before the app is loaded).
 */
export function logToStderrByDefault(): void {
  process.env.LOG_DESTINATION ??= "stderr";
}

/** A logger that drops everything: for tests and benchmarks. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};
