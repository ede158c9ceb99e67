/**
 * `laminar trace`: argument parsing, the waterfall printed for a fixture app with every layer
 * (in-process, through the real module loader), the lifespan around the request, the exit codes
 * for a usage error, an app that cannot load and a startup that fails, and the real executable.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { mkdtempSync, writeFileSync } from "node:fs";
import { readFile } from "node:fs/promises";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { App } from "../../../lib/app.js";
import { silentLogger } from "../../../lib/logger.js";
import { loadApp } from "../../../lib/cli/load-app.js";
import { runCli } from "../../../lib/cli/cli.js";
import { mainHelp } from "../../../lib/cli/help.js";
import { parseTraceArgs, runTrace, traceHelp, TRACE_USAGE, type TraceCommandDeps } from "../../../lib/cli/trace-command.js";
import { UsageError } from "../../../lib/cli/usage-error.js";
import { lifespanEvents } from "../../fixtures/cli/trace-app.js";

const FIXTURE = "test/fixtures/cli/trace-app.ts";

function deps(overrides: Partial<TraceCommandDeps> = {}): TraceCommandDeps & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    cwd: process.cwd(),
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    readFile: (path) => readFile(path),
    loadApp,
    ...overrides,
    stdout,
    stderr,
  };
}

t.test("parseTraceArgs", async (t) => {
  t.same(parseTraceArgs(["app.js", "/x"]), { target: "app.js", method: "GET", path: "/x", headers: [], data: undefined, repeat: 1 });
  t.same(parseTraceArgs(["app.js:api", "delete", "/x?y=1", "-H", "X-Token:  abc ", "--header", "a: b"]), {
    target: "app.js:api",
    method: "DELETE",
    path: "/x?y=1",
    headers: [
      ["x-token", "abc"],
      ["a", "b"],
    ],
    data: undefined,
    repeat: 1,
  });
  t.equal((parseTraceArgs(["app.js", "/x", "-d", "{}"]) as { method: string }).method, "POST", "a body without a method is a POST");
  t.equal((parseTraceArgs(["app.js", "PUT", "/x", "-d", "{}", "-n", "3"]) as { repeat: number }).repeat, 3);
  t.equal(parseTraceArgs(["app.js", "--help"]), "help");
  const bad: Array<[string[], RegExp]> = [
    [[], /missing <module>/],
    [["app.js"], /missing the request path/],
    [["app.js", "GET", "/x", "/y"], /unexpected argument/],
    [["app.js", "x"], /must start with "\/"/],
    [["app.js", "G-T", "/x"], /not an HTTP method/],
    [["app.js", "/x", "-H", "no colon"], /Name: value/],
    [["app.js", "/x", "-H", "bad name: v"], /Name: value/],
    [["app.js", "/x", "-H", "a: b\r\nInjected: 1"], /line break/],
    [["app.js", "/x", "-d"], /needs a value/],
    [["app.js", "/x", "-n", "0"], /whole number/],
    [["app.js", "/x", "-n", "1e3"], /whole number/],
    [["app.js", "/x", "--verbose"], /unknown option/],
  ];
  for (const [argv, message] of bad) t.throws(() => parseTraceArgs(argv), { name: "UsageError", message }, argv.join(" "));
  t.ok(new UsageError("x") instanceof Error);
});

t.test("the waterfall shows every layer, the lifespan runs around the request", async (t) => {
  lifespanEvents.length = 0;
  const run = deps();
  const code = await runTrace([`${FIXTURE}:createTraceApp`, "GET", "/items/7?x=1", "-H", "x-request-id: trace-1"], run);
  t.equal(code, 0, run.stderr.join("\n"));
  t.same(lifespanEvents, ["startup", "shutdown"]);
  const text = run.stdout.join("\n");
  const expected = [
    /^GET \/items\/7\?x=1 → 200 in [\d.]+ µs$/m,
    /1-2 server \+ adapter: the scope/,
    /http\/1\.1 GET path=\/items\/7 rawPath=\/items\/7 query="x=1"/,
    /x-request-id: trace-1/,
    /3 middleware .*→ error entered/,
    /3 middleware .*→ requestId entered/,
    /3 middleware .*→ exception entered/,
    /4 router .*match GET \/items\/7 → \/items\/\{id\} \{"id":"7"\}/,
    /6 validator .*path: ok/,
    /5 DI .*resolve graph: settings \(per request\), settings \(cached: reused\), label \(per request\)/,
    /7 handler .*getItem\(\)/,
    /8 serializer .*serialize: response schema, \d+ bytes/,
    /2 events .*http\.response\.start \(200, \d headers\)/,
    /2 events .*http\.response\.body \(\d+ bytes, last\)/,
    /3 middleware .*← exception left/,
    /3 middleware .*← error left/,
    /time by layer \(µs\): 3 middleware [\d.]+ · 4 router [\d.]+ · 5 DI [\d.]+ · 6 validator [\d.]+ · 7 handler [\d.]+ · 8 serializer [\d.]+ · 2 events [\d.]+ · total [\d.]+/,
    /^response 200$/m,
    /server-timing: middleware;dur=/,
    /\{"id":7,"label":"item-7","store":"open"\}/,
  ];
  for (const pattern of expected) t.match(text, pattern, String(pattern));
  // The onion: entered in order before the router, left in reverse after the events.
  const order = ["→ error entered", "→ requestId entered", "match GET", "http.response.start", "← requestId left", "← error left"].map((s) => text.indexOf(s));
  t.same([...order].sort((a, b) => a - b), order, "rows in time order");
  t.notOk(order.includes(-1));
  t.notMatch(text, /"hidden"/, "the body shown is what the serializer sent");
});

t.test("a body from a file, a 422 and a 404 are traced", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-trace-"));
  writeFileSync(join(dir, "body.json"), JSON.stringify({ name: "pen" }));
  let run = deps();
  t.equal(await runTrace([FIXTURE, "/items", "-d", `@${join(dir, "body.json")}`], run), 0);
  t.match(run.stdout.join("\n"), /^POST \/items → 201/m);
  t.match(run.stdout.join("\n"), /6 validator .*body: ok/);

  run = deps();
  t.equal(await runTrace([FIXTURE, "POST", "/items", "-d", '{"name": 5}'], run), 0, "a 4xx is still a successful trace");
  t.match(run.stdout.join("\n"), /6 validator .*body: 1 issue: body\.name: /);
  t.notMatch(run.stdout.join("\n"), /7 handler/);

  run = deps();
  t.equal(await runTrace([FIXTURE, "/missing"], run), 0);
  t.match(run.stdout.join("\n"), /4 router .*match GET \/missing → no route/);
  t.match(run.stdout.join("\n"), /^response 404$/m);

  run = deps();
  t.equal(await runTrace([FIXTURE, "/items", "-d", "@/nonexistent/laminar-trace-body"], run), 2);
  t.match(run.stderr.join("\n"), /cannot read/);
});

t.test("exit codes: usage 2, load error 4, startup failure 3; help", async (t) => {
  let run = deps();
  t.equal(await runTrace(["only-a-module.js"], run), 2);
  t.match(run.stderr.join("\n"), TRACE_USAGE);

  run = deps();
  t.equal(await runTrace(["test/fixtures/cli/does-not-exist.js", "/x"], run), 4);
  t.match(run.stderr.join("\n"), /cannot load the app/);

  const failing = new App({
    logger: silentLogger,
    async *lifespan() {
      throw new Error("database is down");
    },
  });
  run = deps({ loadApp: async () => failing });
  t.equal(await runTrace(["x.js", "/x"], run), 3);
  t.match(run.stderr.join("\n"), /lifespan startup failed: .*database is down/);

  run = deps();
  t.equal(await runTrace(["--help"], run), 0);
  t.equal(run.stdout.join("\n"), traceHelp());
  t.match(mainHelp(), /trace <module>\[:export\]/);

  // Through the dispatcher.
  const out: string[] = [];
  const code = await runCli(["trace", FIXTURE, "/items/2"], {
    ...deps(),
    env: {},
    signals: { subscribe: () => () => {} },
    readConfigFile: () => "{}",
    out: (line) => out.push(line),
  });
  t.equal(code, 0);
  t.match(out.join("\n"), /4 router .*\/items\/\{id\}/);
});

t.test("the laminar executable prints the waterfall", async (t) => {
  const child = spawn(process.execPath, [...process.execArgv, "lib/cli/bin.ts", "trace", FIXTURE, "GET", "/items/3", "-n", "2"], {
    cwd: process.cwd(),
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  let stdout = "";
  let stderr = "";
  child.stdout.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const [code] = (await once(child, "exit")) as [number];
  t.equal(code, 0, stderr);
  for (const layer of ["1-2 server + adapter", "3 middleware", "4 router", "5 DI", "6 validator", "7 handler", "8 serializer", "2 events"]) {
    t.ok(stdout.includes(layer), layer);
  }
  t.match(stdout, /\{"id":3,"label":"item-3","store":"open"\}/);
});
