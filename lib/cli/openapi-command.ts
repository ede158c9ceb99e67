/**
 * `laminar openapi <module>[:export] [--openapi-version 3.0.3] [--output FILE]`: loads the app and
 * prints its OpenAPI document (for CI diffing and client generation). Nothing is served and the
 * lifespan does not run: the document comes from the route declarations alone.
 *
 * @module
 */
import { resolve } from "node:path";
import type { App } from "../app.js";
import type { OpenApiVersion } from "../openapi/openapi-types.js";
import { EXIT_APP_LOAD_ERROR } from "../supervisor/serve-config.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { describeLoadError } from "./load-app.js";
import { logToStderrByDefault } from "../logger.js";

/** Exit code when the routes cannot be described (duplicate operation IDs, …) or the file cannot be written. */
export const EXIT_OPENAPI_ERROR = 1;

/** What `laminar openapi` uses from its surroundings. */
export interface OpenApiCommandDeps {
  /** Directory the module and `--output` are relative to. */
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  loadApp(target: string, cwd: string): Promise<App>;
  /** Writes the document to a file (an absolute path); absent, `--output` is refused. */
  writeFile?(path: string, text: string): Promise<void>;
}

/** A parsed `laminar openapi` command line. */
export interface OpenApiCommandArgs {
  readonly target: string;
  /** The version asked for, or undefined for the app's `openapiVersion` option. */
  readonly version: OpenApiVersion | undefined;
  readonly output: string | undefined;
}

/** The usage line, as the help and the README show it. */
export const OPENAPI_USAGE = "laminar openapi <module>[:export] [--openapi-version 3.1.0|3.0.3] [--output FILE]";

/** `laminar openapi --help`. */
export function openapiHelp(): string {
  return [
    `Usage: ${OPENAPI_USAGE}`,
    "",
    "Prints the app's OpenAPI document as JSON (the one it serves at /openapi.json), generated from",
    "its route declarations. The app is loaded but not started: no lifespan, no socket.",
    "",
    "  <module>[:export]          as for laminar serve: a JavaScript file; a function export is called.",
    "  --openapi-version V        3.1.0 or 3.0.3 (for client generators that do not read 3.1);",
    "                             default the app's openapiVersion option (3.1.0).",
    "  -o, --output FILE          write the document to FILE instead of stdout.",
    "  -h, --help                 print this help.",
    "",
    "Exit codes: 0 printed  1 the routes cannot be described (duplicate operationId, …) or FILE cannot",
    "  be written  2 usage error  4 the app could not be loaded",
    "",
  ].join("\n");
}

/** Parses the arguments after `openapi`; `"help"` for `--help`. Throws UsageError. */
export function parseOpenApiArgs(argv: readonly string[]): OpenApiCommandArgs | "help" {
  let target: string | undefined;
  let version: OpenApiVersion | undefined;
  let output: string | undefined;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    const [flag, inline] = arg.startsWith("--") && arg.includes("=") ? [arg.slice(0, arg.indexOf("=")), arg.slice(arg.indexOf("=") + 1)] : [arg, undefined];
    if (flag === "--openapi-version" || flag === "--output" || flag === "-o") {
      const value = inline ?? argv[++i];
      if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
      if (flag === "--openapi-version") {
        if (value !== "3.1.0" && value !== "3.0.3") throw new UsageError(`--openapi-version must be 3.1.0 or 3.0.3, got ${JSON.stringify(value)}`);
        version = value;
      } else {
        output = value;
      }
      continue;
    }
    if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    if (target !== undefined) throw new UsageError(`unexpected argument ${arg}`);
    target = arg;
  }
  if (target === undefined) throw new UsageError("missing <module>[:export]");
  return { target, version, output };
}

/**
 * Runs `laminar openapi` and resolves with the exit code.
 *
 * @example
 * await runOpenApi(["dist/examples/bookstore/app.js:createBookstore", "--openapi-version", "3.0.3"], deps);
 */
export async function runOpenApi(argv: readonly string[], deps: OpenApiCommandDeps): Promise<number> {
  let args: OpenApiCommandArgs;
  try {
    const parsed = parseOpenApiArgs(argv);
    if (parsed === "help") {
      deps.out(openapiHelp());
      return 0;
    }
    args = parsed;
    if (args.output !== undefined && deps.writeFile === undefined) throw new UsageError("--output is not available here");
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`laminar openapi: ${error.message}\nUsage: ${OPENAPI_USAGE}`);
    return EXIT_USAGE;
  }
  let app: App;
  // The app's own log lines (startup warnings) must not mix with what this command prints.
  logToStderrByDefault();
  try {
    app = await deps.loadApp(args.target, deps.cwd);
  } catch (error) {
    deps.err(`laminar openapi: cannot load the app ${args.target}: ${describeLoadError(error)}`);
    return EXIT_APP_LOAD_ERROR;
  }
  let text: string;
  try {
    text = JSON.stringify(args.version === undefined ? app.openapi() : app.openapi(args.version), null, 2);
  } catch (error) {
    deps.err(`laminar openapi: the document cannot be generated: ${describeLoadError(error)}`);
    return EXIT_OPENAPI_ERROR;
  }
  if (args.output === undefined) {
    deps.out(text);
    return 0;
  }
  const path = resolve(deps.cwd, args.output);
  try {
    await deps.writeFile!(path, `${text}\n`);
  } catch (error) {
    deps.err(`laminar openapi: cannot write ${path}: ${describeLoadError(error)}`);
    return EXIT_OPENAPI_ERROR;
  }
  return 0;
}
