/**
 * `laminar serve --server http2 --workers 2` as a real process: the CLI (compiled with the
 * supervisor, see master-harness.ts) starts a master whose two workers share the port through
 * node:cluster, and both answer h2c requests; SIGTERM ends it with code 0.
 */
import t from "tap";
import { spawn } from "node:child_process";
import { once } from "node:events";
import { compileForMaster, freePort } from "./master-harness.js";
import { h2connect, h2request } from "../../conformance/server/http2-client.js";

t.setTimeout(55_000);

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const build = compileForMaster(t, ["lib/cli/bin.ts"]);

t.test("laminar serve --server http2 --workers 2 serves h2c from both workers", async (t) => {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [build.js("lib/cli/bin.ts"), "serve", build.js(PID_APP), "--server", "http2", "--workers", "2", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn"],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout!.resume();
  const exit = once(child, "exit").then(([code]) => code as number | null);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });

  // Each new connection goes to a worker (cluster's round robin); ask until both pids were seen.
  const pids = new Set<number>();
  for (let attempt = 0; attempt < 400 && pids.size < 2 && child.exitCode === null; attempt++) {
    try {
      const session = await h2connect(`http://127.0.0.1:${port}`);
      const res = await h2request(session, { ":path": "/pid" });
      session.close();
      if (res.status === 200) {
        pids.add((JSON.parse(res.body.toString()) as { pid: number }).pid);
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50)); // not listening yet
    }
  }
  t.equal(pids.size, 2, `both workers answered over h2c (${[...pids].join(", ")}) ${stderr}`);
  t.notOk(pids.has(child.pid as number), "the master itself does not serve");
  child.kill("SIGTERM");
  t.equal(await exit, 0, stderr);
});
