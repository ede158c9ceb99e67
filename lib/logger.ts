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
}

/** Creates the default pino logger (JSON lines on stdout). */
export function createLogger(options: LoggerOptions = {}): Logger {
  return pino({ level: options.level ?? process.env.LOG_LEVEL ?? "info", base: { pid: process.pid } });
}

/** A logger that drops everything: for tests and benchmarks. */
export const silentLogger: Logger = {
  error() {},
  warn() {},
  info() {},
  debug() {},
};
