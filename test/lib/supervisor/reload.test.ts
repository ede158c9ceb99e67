/**
 * `--reload` with real processes: a changed file under the watched directory rolls the workers;
 * a change that breaks the app (a syntax error) keeps the running worker serving until a later
 * change fixes it; a watched directory that does not exist stops the master with exit 2.
 */
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { pathToFileURL } from "node:url";
import { compileForMaster, freePort, pollPids, startMaster } from "./master-harness.js";
import { PID_APP } from "./replacement-support.js";

const build = compileForMaster(t, [PID_APP, "lib/app.ts"]);

t.test("--reload: a changed file rolls the workers; a broken app keeps the running ones until it is fixed", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-reload-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const appFile = join(dir, "app.mjs");
  const appModule = pathToFileURL(build.js("lib/app.ts")).href;
  const writeApp = (version: string): void =>
    writeFileSync(appFile, `import { App } from ${JSON.stringify(appModule)};\nexport const app = new App();\napp.get("/pid", () => ({ pid: process.pid, version: ${JSON.stringify(version)} }));\n`);
  writeApp("v1");
  const port = await freePort();
  const master = startMaster(t, build, { target: appFile, port, workers: 1, reload: true, reloadDirs: dir });
  const first = await pollPids(port, (seen) => seen.size >= 1);
  t.equal(first.size, 1);
  await master.waitForLog((line) => line.msg === "supervisor: --reload: watching for source changes", 10_000);

  writeApp("v2");
  const second = await pollPids(port, (seen) => [...seen].some((pid) => !first.has(pid)));
  const v2 = [...second].find((pid) => !first.has(pid));
  t.ok(v2 !== undefined, "a new worker serves after the change");
  t.match(master.output(), /changed: [^"]*app\.mjs[^\n]*reloading/);

  // A syntax error: the fresh worker cannot load the app; the v2 worker keeps serving.
  writeFileSync(appFile, "export const app = ;\n");
  await master.waitForLog((line) => typeof line.msg === "string" && line.msg.includes("replacement abandoned"), 15_000);
  const during = await pollPids(port, (seen) => seen.size >= 1, 20);
  t.same([...during], [v2], "the running worker still answers");

  writeApp("v3");
  const third = await pollPids(port, (seen) => [...seen].some((pid) => pid !== v2 && !first.has(pid)));
  t.ok([...third].some((pid) => pid !== v2), "fixed: a fresh worker serves again");
  t.equal(master.child.exitCode, null, "the master never stopped");

  master.child.kill("SIGTERM");
  t.equal(await master.exited(20_000), 0);
});

t.test("--reload with a directory that does not exist: exit 2 before any worker starts", async (t) => {
  const master = startMaster(t, build, { target: build.js(PID_APP), port: 0, workers: 1, reload: true, reloadDirs: "/nonexistent/laminar-reload" });
  t.equal(await master.exited(10_000), 2);
  t.match(master.output(), /--reload cannot watch/);
  t.notMatch(master.output(), /worker spawned/);
});
