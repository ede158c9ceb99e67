/**
 * `laminar openapi`: argument parsing, the bookstore's document printed (3.1 and 3.0.3, both
 * valid) through the real module loader, --output, the exit codes for usage errors, an app that
 * cannot load, routes that cannot be described and a file that cannot be written, the dispatcher
 * and the real executable.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { readFileSync, writeFileSync } from "node:fs";
import { writeFile } from "node:fs/promises";
import { join } from "node:path";
import { loadApp } from "../../../lib/cli/load-app.js";
import { runCli } from "../../../lib/cli/cli.js";
import { mainHelp } from "../../../lib/cli/help.js";
import { OPENAPI_USAGE, openapiHelp, parseOpenApiArgs, runOpenApi, type OpenApiCommandDeps } from "../../../lib/cli/openapi-command.js";
import { UsageError } from "../../../lib/cli/usage-error.js";
import { validateDocument } from "../openapi/validate-document.js";

const BOOKSTORE = "examples/bookstore/app.ts:createBookstore";

function deps(overrides: Partial<OpenApiCommandDeps> = {}): OpenApiCommandDeps & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return {
    cwd: process.cwd(),
    out: (line) => stdout.push(line),
    err: (line) => stderr.push(line),
    loadApp,
    writeFile: (path, text) => writeFile(path, text),
    ...overrides,
    stdout,
    stderr,
  };
}

t.test("parseOpenApiArgs", async (t) => {
  t.same(parseOpenApiArgs(["app.js"]), { target: "app.js", version: undefined, output: undefined });
  t.same(parseOpenApiArgs(["app.js:api", "--openapi-version", "3.0.3", "-o", "out.json"]), { target: "app.js:api", version: "3.0.3", output: "out.json" });
  t.same(parseOpenApiArgs(["--openapi-version=3.1.0", "--output=x.json", "app.js"]), { target: "app.js", version: "3.1.0", output: "x.json" });
  t.equal(parseOpenApiArgs(["app.js", "-h"]), "help");
  const bad: Array<[string[], RegExp]> = [
    [[], /missing <module>/],
    [["a.js", "b.js"], /unexpected argument b.js/],
    [["a.js", "--openapi-version", "3.2.0"], /must be 3.1.0 or 3.0.3/],
    [["a.js", "--openapi-version"], /needs a value/],
    [["a.js", "--output="], /needs a value/],
    [["a.js", "--pretty"], /unknown option --pretty/],
  ];
  for (const [argv, message] of bad) t.throws(() => parseOpenApiArgs(argv), { constructor: UsageError, message }, argv.join(" "));
});

t.test("prints the bookstore's document", async (t) => {
  for (const version of [undefined, "3.0.3"] as const) {
    const d = deps();
    const code = await runOpenApi(version === undefined ? [BOOKSTORE] : [BOOKSTORE, "--openapi-version", version], d);
    t.equal(code, 0, d.stderr.join("\n"));
    t.equal(d.stdout.length, 1, "one JSON text");
    const document = JSON.parse(d.stdout[0]!) as { openapi: string; paths: Record<string, unknown> };
    t.equal(document.openapi, version ?? "3.1.0");
    t.ok("/books/{id}" in document.paths);
    t.ok((await validateDocument(document)).valid, `the printed ${document.openapi} document validates`);
  }
});

t.test("--output writes a file", async (t) => {
  const dir = t.testdir();
  const d = deps({ cwd: dir });
  t.equal(await runOpenApi([join(process.cwd(), BOOKSTORE), "--output", "spec.json"], d), 0, d.stderr.join("\n"));
  t.same(d.stdout, [], "nothing on stdout");
  const text = readFileSync(join(dir, "spec.json"), "utf8");
  t.ok(text.endsWith("}\n"));
  t.equal((JSON.parse(text) as { openapi: string }).openapi, "3.1.0");

  const failing = deps({ writeFile: async () => Promise.reject(new Error("disk full")) });
  t.equal(await runOpenApi([BOOKSTORE, "-o", "x.json"], failing), 1);
  t.match(failing.stderr.join("\n"), /cannot write .*x\.json: disk full/);
  const noWriter = deps({ writeFile: undefined });
  t.equal(await runOpenApi([BOOKSTORE, "-o", "x.json"], noWriter), 2);
});

t.test("exit codes", async (t) => {
  const usage = deps();
  t.equal(await runOpenApi(["--bogus"], usage), 2);
  t.match(usage.stderr.join("\n"), new RegExp(`unknown option --bogus\\nUsage: ${OPENAPI_USAGE.replace(/[[\]|.]/g, "\\$&")}`));

  const help = deps();
  t.equal(await runOpenApi(["--help"], help), 0);
  t.equal(help.stdout.join("\n"), openapiHelp());

  const missing = deps();
  t.equal(await runOpenApi(["no/such/module.js"], missing), 4);
  t.match(missing.stderr.join("\n"), /cannot load the app no\/such\/module\.js/);

  const dir = t.testdir();
  const duplicate = join(dir, "duplicate.mjs");
  writeFileSync(
    duplicate,
    `import { App } from ${JSON.stringify(join(process.cwd(), "lib/app.ts"))};
export const app = new App();
app.get("/a", { operationId: "same" }, () => ({}));
app.get("/b", { operationId: "same" }, () => ({}));
`,
  );
  const broken = deps();
  t.equal(await runOpenApi([duplicate], broken), 1, "routes that cannot be described");
  t.match(broken.stderr.join("\n"), /the document cannot be generated: operationId "same" of GET \/b is already the operationId of GET \/a/);
  t.same(broken.stdout, [], "no partial document");
});

t.test("the dispatcher and the executable", async (t) => {
  t.match(mainHelp(), /openapi <module>\[:export\]/);
  const stdout: string[] = [];
  const code = await runCli(["openapi", BOOKSTORE], {
    cwd: process.cwd(),
    env: {},
    out: (line: string) => stdout.push(line),
    err: () => undefined,
    signals: { subscribe: () => () => undefined },
    readFile: async () => Buffer.alloc(0),
    readConfigFile: () => "{}",
    loadApp,
  } as never);
  t.equal(code, 0);
  t.equal((JSON.parse(stdout.join("")) as { info: { title: string } }).info.title, "laminar");

  const child = spawn(process.execPath, [...process.execArgv, "lib/cli/bin.ts", "openapi", BOOKSTORE, "--openapi-version", "3.0.3"], {
    stdio: ["ignore", "pipe", "pipe"],
    env: { ...process.env, LOG_LEVEL: "warn" },
  });
  const chunks: Buffer[] = [];
  child.stdout.on("data", (chunk: Buffer) => chunks.push(chunk));
  const [exit] = (await Promise.race([once(child, "exit"), new Promise((_, reject) => setTimeout(() => reject(new Error("laminar openapi did not exit")), 30_000).unref())])) as [number];
  t.equal(exit, 0);
  const document = JSON.parse(Buffer.concat(chunks).toString()) as { openapi: string };
  t.equal(document.openapi, "3.0.3");
  t.ok((await validateDocument(document)).valid);
});
