/**
 * `laminar` as a real process. The child runs lib/cli/bin.ts through the same TypeScript loader tap
 * gave this test (`process.execArgv`), so it tests the current source without a build step and
 * without a stale dist/.
 */
import t, { type Test } from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { request } from "undici";
import { EXIT_APP_LOAD_ERROR } from "../../../lib/supervisor/serve-config.js";

const BIN = "lib/cli/bin.ts";

interface Run {
  child: ChildProcess;
  stdout: () => string;
  stderr: () => string;
  /** Resolves with the listening URL printed on stdout, or rejects if the process exits first. */
  url: Promise<string>;
  exit: Promise<number | null>;
}

function laminar(t: Test, args: string[]): Run {
  const child = spawn(process.execPath, [...process.execArgv, BIN, ...args], {
    cwd: process.cwd(),
    env: { ...process.env, LAMINAR_LOG_LEVEL: "warn" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  let stdout = "";
  let stderr = "";
  child.stdout!.setEncoding("utf8").on("data", (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  const exit = once(child, "exit").then(([code]) => code as number | null);
  const url = new Promise<string>((resolve, reject) => {
    child.stdout!.on("data", () => {
      const match = /^laminar: listening on (\S+)/m.exec(stdout);
      if (match) resolve(match[1]!);
    });
    void exit.then((code) => reject(new Error(`exited ${code} before listening:\n${stderr}`)));
  });
  url.catch(() => {});
  // Bounded: a child that hangs is killed when the test ends, so the file cannot outlive tap's timeout.
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, stdout: () => stdout, stderr: () => stderr, url, exit };
}

t.test("serve: prints the URL, answers, and exits 0 on SIGTERM", async (t) => {
  const run = laminar(t, ["serve", "test/fixtures/cli/hello-app.ts", "--port", "0", "--host", "127.0.0.1"]);
  const url = await run.url;
  t.match(url, /^http:\/\/127\.0\.0\.1:\d+$/);
  const response = await request(`${url}/hello`);
  t.equal(response.statusCode, 200);
  t.same(await response.body.json(), { message: "hello" });
  run.child.kill("SIGTERM");
  t.equal(await run.exit, 0, run.stderr());
  t.match(run.stderr(), /SIGTERM, shutting down gracefully/);
});

t.test("serve: an app that throws at import exits 4 with the error on stderr", async (t) => {
  const run = laminar(t, ["serve", "test/fixtures/cli/throwing-app.ts", "--port", "0"]);
  t.equal(await run.exit, EXIT_APP_LOAD_ERROR);
  t.match(run.stderr(), /cannot load the app test\/fixtures\/cli\/throwing-app\.ts/);
  t.match(run.stderr(), /fixture: the database URL is not set/);
  t.notMatch(run.stdout(), /listening on/);
});

t.test("serve: a bad flag exits 2", async (t) => {
  const run = laminar(t, ["serve", "test/fixtures/cli/hello-app.ts", "--server", "apache"]);
  t.equal(await run.exit, 2);
  t.match(run.stderr(), /--server: "apache" is not one of node, uws/);
});
