/**
 * The workers bench's process handling against a real `laminar serve --workers 2` (the CLI and the
 * blocking app compiled by the master harness): the tree's worker pids are the processes that
 * answer, its memory is read per process, the blocking route refuses bad input, and stop() leaves
 * no process behind. On node:http, and on uWS when it loads. No timing asserts.
 */
import t from "tap";
import { existsSync } from "node:fs";
import { request } from "undici";
import { compileForMaster, freePort, pollPids, SERVERS, uwsUnavailable } from "../lib/supervisor/master-harness.js";
import { serve } from "../../bench/workers/serve-master.js";
import { watchTree } from "../../bench/workers/tree-stats.js";

t.setTimeout(55_000);
// The same list as test/examples/shared-state/workers.test.ts: one compilation serves both files.
const build = compileForMaster(t, ["bench/workers/blocking-app.ts", "examples/shared-state/app.ts", "lib/cli/bin.ts"]);

/** A process that has exited and been reaped has no /proc entry. */
const alive = (pid: number): boolean => existsSync(`/proc/${pid}`);

for (const server of SERVERS) {
  t.test(`laminar serve --workers 2 --server ${server}: workers found, measured and stopped`, { skip: server === "uws" ? uwsUnavailable : false }, async (t) => {
    const port = await freePort();
    const tree = await serve({ target: `${build.js("bench/workers/blocking-app.ts")}:app`, workers: 2, server, port, cli: build.js("lib/cli/bin.ts") });
    t.teardown(() => tree.stop(2_000));
    const workers = tree.workerPids();
    t.equal(workers.length, 2, "two worker processes under the master");
    t.notOk(workers.includes(tree.pid), "the master is not one of them");
    const answered = await pollPids(port, (seen) => seen.size >= 2);
    t.strictSame([...answered].sort((a, b) => a - b), workers, "the processes found are the ones that answer");

    const watch = watchTree(tree);
    const fast = await request(`http://127.0.0.1:${port}/hello`);
    t.strictSame(await fast.body.json(), { message: "hello" });
    const blocked = await request(`http://127.0.0.1:${port}/block?ms=5`);
    t.equal(blocked.statusCode, 200);
    t.equal(((await blocked.body.json()) as { blockedMs: number }).blockedMs, 5);
    const usage = watch.stop();
    t.equal(usage.workerRssMB.length, 2);
    for (const mb of [...usage.workerRssMB, usage.masterRssMB]) t.ok(mb > 1 && mb < 10_000, `a plausible RSS: ${mb} MB`);
    // Summed in another order: equal up to floating-point rounding.
    t.ok(Math.abs(usage.totalRssMB - (usage.masterRssMB + usage.workerRssMB[0]! + usage.workerRssMB[1]!)) < 1e-6, "total = master + workers");

    for (const bad of ["ms=5000", "ms=-1", "ms=abc"]) {
      const response = await request(`http://127.0.0.1:${port}/block?${bad}`);
      t.equal(response.statusCode, 422, `/block?${bad} is refused: a request cannot hold a worker for long`);
      await response.body.dump();
    }

    await tree.stop(5_000);
    t.notOk(alive(tree.pid), "the master is gone");
    // Workers leave once the master's IPC closes; give them a bounded moment.
    for (let i = 0; i < 100 && workers.some(alive); i++) await new Promise((resolve) => setTimeout(resolve, 50));
    t.notOk(workers.some(alive), "no worker is left behind");
  });
}

t.test("a target that does not load fails serve() with the CLI's output, not a hang", async (t) => {
  const port = await freePort();
  await t.rejects(
    serve({ target: `${build.js("bench/workers/blocking-app.ts")}:nothing`, workers: 1, server: "node", port, cli: build.js("lib/cli/bin.ts") }, 15_000),
    /laminar serve .*--workers 1 --server node: exited with code 4[\s\S]*exports no App named "nothing"/,
  );
});
