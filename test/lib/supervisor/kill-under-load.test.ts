/**
 * `kill -9` of one of two workers while clients keep sending: only the requests in flight on the
 * killed worker may fail, and a replacement worker serves. Four keep-alive clients and four that
 * open a connection per request (so the master or the kernel spreads them over the workers and
 * the replacement gets some) hit `/work?ms=20` of the fixture app, on both servers.
 */
import t from "tap";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";
import { describeSummary, startLoad, succeeded, summarize } from "./load-generator.js";

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const build = compileForMaster(t, [PID_APP]);
const LOOPS_PER_MODE = 4;

for (const server of SERVERS) {
  t.test(`${server} workers: kill -9 one under load → only its in-flight requests fail, a replacement serves`, { skip: server === "uws" && uwsUnavailable }, async (t) => {
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(PID_APP), port, server });
    const first = await pollPids(port, (seen) => seen.size >= 2);
    t.equal(first.size, 2, `both workers answer (${[...first].join(", ")})`);
    const [victim, survivor] = [...first] as [number, number];

    const url = `http://127.0.0.1:${port}/work?ms=20`;
    const loads = [
      startLoad({ url, connections: LOOPS_PER_MODE, mode: "keep-alive", maxMs: 20_000 }),
      startLoad({ url, connections: LOOPS_PER_MODE, mode: "fresh", maxMs: 20_000 }),
    ];
    t.teardown(() => Promise.all(loads.map((load) => load.stop())));
    const fresh = loads[1]!;
    // Both workers are serving this load before the kill.
    for (const pid of first) t.ok(await fresh.waitFor((r) => succeeded(r) && r.pid === pid, 10_000), `worker ${pid} serves the load`);

    const killedAt = Date.now();
    process.kill(victim, "SIGKILL");
    const replaced = await fresh.waitFor((r) => succeeded(r) && r.sentAt > killedAt && r.pid !== undefined && !first.has(r.pid), 15_000);
    t.ok(replaced, "a new worker answers requests sent after the kill", { output: master.output() });
    if (replaced !== undefined) t.comment(`${server}: time to replacement (kill → first response from worker ${replaced.pid}): ${(replaced.headersAt as number) - killedAt} ms`);
    // Some more load on the two workers, the replacement among them.
    await new Promise((resolve) => setTimeout(resolve, 500));
    const keepAliveRecords = await loads[0]!.stop();
    const freshRecords = await fresh.stop();
    const records = [...keepAliveRecords, ...freshRecords];
    t.comment(`${server} keep-alive: ${describeSummary(summarize(keepAliveRecords))}`);
    t.comment(`${server} fresh: ${describeSummary(summarize(freshRecords))}`);

    // A connection node:cluster's master had handed to the victim just before the kill is never
    // answered (the master waits for the dead worker's ack): it fails by the client's timeout.
    const failures = records.filter((r) => !succeeded(r));
    t.ok(failures.length <= 2 * LOOPS_PER_MODE, `at most one failure per client connection (${failures.length} failed)`, { failures: summarize(failures).errors });
    t.same(failures.filter((r) => r.endedAt < killedAt), [], "nothing failed before the kill");
    t.same(failures.filter((r) => r.pid !== undefined && r.pid !== victim), [], "no response from another worker was cut");
    t.ok(records.some((r) => succeeded(r) && r.sentAt > killedAt && r.pid === survivor), "the other worker serves after the kill");
    t.match(master.output(), new RegExp(`"worker":${victim}.*worker died; replacing it`), "the master logs the death");
  });
}
