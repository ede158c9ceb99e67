/**
 * `laminar trace <module>[:export] [METHOD] <path> [-d body] [-H 'name: value']…`: loads the app,
 * runs its lifespan startup, sends one request through it in-process with the lifecycle trace on,
 * and prints the request's walk through the layers as a waterfall (lib/trace/waterfall.ts), then
 * the response. The lifespan shutdown runs before it returns.
 *
 * In-process means no socket: layer 1 (the connection server) is the test client, which builds the
 * scope as the adapters do. Everything from the middleware to the serializer runs as it does
 * behind a server.
 *
 * @module
 */
import { resolve } from "node:path";
import type { App } from "../app.js";
import type { HeaderList } from "../../layers/adapter/events.js";
import { TestClient } from "../test-client.js";
import type { TraceRecord } from "../trace/trace-record.js";
import { formatTrace } from "../trace/waterfall.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "../supervisor/serve-config.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";
import { describeLoadError } from "./load-app.js";
import { logToStderrByDefault } from "../logger.js";

/** What `laminar trace` uses from its surroundings. */
export interface TraceCommandDeps {
  /** Directory the module and `-d @file` paths are relative to. */
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  readFile(path: string): Promise<Buffer>;
  loadApp(target: string, cwd: string): Promise<App>;
}

/** A parsed `laminar trace` command line. */
export interface TraceRequest {
  readonly target: string;
  readonly method: string;
  readonly path: string;
  readonly headers: HeaderList;
  /** The body as given (`@file` not yet read), or undefined. */
  readonly data: string | undefined;
  /** How many times the request is sent; the last one is shown (the earlier ones warm the code up). */
  readonly repeat: number;
}

/** The usage line, as the help and the README show it. */
export const TRACE_USAGE = "laminar trace <module>[:export] [METHOD] <path> [-d BODY|@FILE] [-H 'Name: value']... [-n N]";

/** `laminar trace --help`. */
export function traceHelp(): string {
  return [
    `Usage: ${TRACE_USAGE}`,
    "",
    "Runs one request through the app in-process with the lifecycle trace on, and prints its walk",
    "through the layers: the scope the adapter built, each middleware entered and left, the route",
    "matched and its params, the dependency graph resolved (and what was cached), the validation",
    "result, the handler, the serializer and the events sent back, with µs for each; then the response.",
    "",
    "  <module>[:export]   as for laminar serve: a JavaScript file; a function export is called.",
    "  METHOD              default GET, or POST when a body is given.",
    "  <path>              the request target, with its query string: /books?limit=2",
    "  -d, --data BODY     the request body; @FILE reads it from a file. Content-Type defaults to",
    "                      application/json when a body is given.",
    "  -H, --header 'Name: value'   a request header (repeatable).",
    "  -n, --repeat N      send the request N times (default 1) and show the last: the first request of",
    "                      a process pays for lazy compilation, so its times are not the steady state.",
    "                      The request's side effects (a POST's insert) happen N times.",
    "  -h, --help          print this help.",
    "",
    "The app's lifespan startup runs before the request and its shutdown after. Its logger still",
    "writes (LOG_LEVEL=warn quiets it, and then leaves out an access log that logs at info).",
    "",
    "Exit codes: 0 the request ran (whatever its status)  2 usage error  3 the lifespan startup failed",
    "  4 the app could not be loaded",
    "",
  ].join("\n");
}

/** Parses the arguments after `trace`; `"help"` for `--help`. Throws UsageError. */
export function parseTraceArgs(argv: readonly string[]): TraceRequest | "help" {
  const positional: string[] = [];
  const headers: HeaderList = [];
  let data: string | undefined;
  let repeat = 1;
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "-d" || arg === "--data" || arg === "-H" || arg === "--header" || arg === "-n" || arg === "--repeat") {
      const value = argv[++i];
      if (value === undefined) throw new UsageError(`${arg} needs a value`);
      if (arg === "-d" || arg === "--data") data = value;
      else if (arg === "-n" || arg === "--repeat") repeat = parseRepeat(value);
      else headers.push(parseHeader(value));
      continue;
    }
    if (arg.startsWith("-") && arg !== "-") throw new UsageError(`unknown option ${arg}`);
    positional.push(arg);
  }
  const [target, first, second, ...extra] = positional;
  if (target === undefined) throw new UsageError("missing <module>[:export]");
  if (first === undefined) throw new UsageError("missing the request path, e.g. /books/1");
  if (extra.length > 0) throw new UsageError(`unexpected argument ${extra[0]}`);
  const method = second !== undefined ? first.toUpperCase() : data !== undefined ? "POST" : "GET";
  const path = second ?? first;
  if (!/^[A-Z]+$/.test(method)) throw new UsageError(`${JSON.stringify(first)} is not an HTTP method`);
  if (!path.startsWith("/")) throw new UsageError(`the path must start with "/": ${JSON.stringify(path)}`);
  return { target, method, path, headers, data, repeat };
}

/** `-n`: a whole number from 1 to 10000. */
function parseRepeat(text: string): number {
  const value = Number(text);
  if (!/^\d+$/.test(text) || value < 1 || value > 10_000) throw new UsageError(`-n expects a whole number from 1 to 10000, got ${JSON.stringify(text)}`);
  return value;
}

/** `Name: value` → `["name", "value"]`. */
function parseHeader(text: string): [string, string] {
  const colon = text.indexOf(":");
  const name = colon === -1 ? "" : text.slice(0, colon).trim().toLowerCase();
  if (!/^[!#$%&'*+\-.^_`|~0-9a-z]+$/.test(name)) throw new UsageError(`-H expects 'Name: value', got ${JSON.stringify(text)}`);
  const value = text.slice(colon + 1).trim();
  if (/[\r\n\0]/.test(value)) throw new UsageError(`header ${name}: the value contains a line break or NUL`);
  return [name, value];
}

/**
 * Runs `laminar trace` and resolves with the exit code.
 *
 * @example
 * await runTrace(["dist/examples/bookstore/app.js:createBookstore", "GET", "/books/1"], deps);
 */
export async function runTrace(argv: readonly string[], deps: TraceCommandDeps): Promise<number> {
  let request: TraceRequest;
  try {
    const parsed = parseTraceArgs(argv);
    if (parsed === "help") {
      deps.out(traceHelp());
      return 0;
    }
    request = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`laminar trace: ${error.message}\nUsage: ${TRACE_USAGE}`);
    return EXIT_USAGE;
  }
  let body: Buffer | undefined;
  if (request.data !== undefined) {
    try {
      body = request.data.startsWith("@") ? await deps.readFile(resolve(deps.cwd, request.data.slice(1))) : Buffer.from(request.data);
    } catch (error) {
      deps.err(`laminar trace: cannot read ${request.data.slice(1)}: ${describeLoadError(error)}`);
      return EXIT_USAGE;
    }
  }
  let app: App;
  // The app's own log lines (startup warnings) must not mix with what this command prints.
  logToStderrByDefault();
  try {
    app = await deps.loadApp(request.target, deps.cwd);
  } catch (error) {
    deps.err(`laminar trace: cannot load the app ${request.target}: ${describeLoadError(error)}`);
    return EXIT_APP_LOAD_ERROR;
  }
  let record: TraceRecord | undefined;
  app.setTrace({ serverTiming: true, onTrace: (traced) => (record = traced) });
  const client = new TestClient(app, { raiseServerExceptions: false });
  try {
    await client.start();
  } catch (error) {
    deps.err(`laminar trace: the lifespan startup failed: ${describeLoadError(error)}`);
    return EXIT_WORKER_BOOT_ERROR;
  }
  try {
    const headers: HeaderList = [...request.headers];
    if (body !== undefined && !headers.some(([name]) => name === "content-type")) headers.push(["content-type", "application/json"]);
    let response = await client.request(request.method, request.path, { headers, body });
    for (let i = 1; i < request.repeat; i++) response = await client.request(request.method, request.path, { headers, body });
    if (record === undefined) {
      deps.err("laminar trace: the request produced no trace (the app was not built by laminar's App pipeline)");
    } else {
      deps.out(formatTrace(record, { status: response.status, headers: response.headerList, body: response.body }).trimEnd());
    }
  } finally {
    try {
      await client.stop();
    } catch (error) {
      deps.err(`laminar trace: the lifespan shutdown failed: ${describeLoadError(error)}`);
    }
  }
  return 0;
}
