/**
 * `--max-requests` under load, with real processes, on both servers: each worker asks to retire
 * after its limit (plus jitter), a replacement starts first, and no request fails.
 */
import t from "tap";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";
import { describeSummary, summarize } from "./load-generator.js";
import { loadAgainst, PID_APP, stopAll, stoppedWorkers, unexpectedFailures } from "./replacement-support.js";

const build = compileForMaster(t, [PID_APP]);
const LIMIT = 300;
const JITTER = 50;

for (const server of SERVERS) {
  t.test(`${server}: --max-requests under load → workers retire one by one, no failed request`, { skip: server === "uws" && uwsUnavailable }, async (t) => {
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(PID_APP), port, server, maxRequests: LIMIT, maxRequestsJitter: JITTER });
    const before = await pollPids(port, (seen) => seen.size >= 2);
    t.equal(before.size, 2, "both workers answer");
    const loads = loadAgainst(port);
    t.teardown(() => stopAll(loads));
    const startedAt = Date.now();
    // Two generations of replacements: about 4 × 325 requests.
    await master.waitForLog(() => stoppedWorkers(master) >= 4, 25_000);
    const records = await stopAll(loads);
    const summary = summarize(records);
    const pids = new Set(records.filter((r) => r.pid !== undefined).map((r) => r.pid as number));
    t.comment(`${server} --max-requests ${LIMIT} (jitter ${JITTER}): ${describeSummary(summary)}; ${pids.size} workers answered in ${Date.now() - startedAt} ms`);

    t.same(unexpectedFailures(server, records), [], "no request failed");
    t.ok(pids.size >= 4, `retired workers were replaced (${pids.size} pids answered)`);
    const retired = master.logs().filter((line) => line.msg === "supervisor: worker reached --max-requests; replacing it");
    t.ok(retired.length >= 4, "the master logged each retirement");
    for (const line of retired) {
      const served = line.requests as number;
      t.ok(served >= LIMIT && served <= LIMIT + JITTER, `worker ${String(line.worker)} asked to retire after ${served} requests (${LIMIT} + jitter ≤ ${JITTER})`);
    }

    master.child.kill("SIGTERM");
    t.equal(await master.exited(20_000), 0);
  });
}
