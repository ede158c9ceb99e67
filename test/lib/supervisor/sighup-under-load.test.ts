/**
 * SIGHUP under load, with real processes, on both servers: every worker is replaced and no request
 * fails. Replacement never stops a worker before its successor listens, and a stopping worker
 * answers its keep-alive connections' next request with `connection: close` instead of dropping
 * the connection under it (see the servers' graceful close).
 */
import t from "tap";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";
import { describeSummary, summarize } from "./load-generator.js";
import { loadAgainst, PID_APP, reusePortMigrates, stopAll, stoppedWorkers, unexpectedFailures, waitForNewWorkers } from "./replacement-support.js";

const build = compileForMaster(t, [PID_APP]);

for (const server of SERVERS) {
  t.test(`${server}: SIGHUP under load → every worker replaced, no failed request`, { skip: server === "uws" && uwsUnavailable }, async (t) => {
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(PID_APP), port, server });
    const before = await pollPids(port, (seen) => seen.size >= 2);
    t.equal(before.size, 2, "both workers answer");
    const loads = loadAgainst(port);
    t.teardown(() => stopAll(loads));
    await new Promise((resolve) => setTimeout(resolve, 500));

    const hupAt = Date.now();
    master.child.kill("SIGHUP");
    await master.waitForLog(() => stoppedWorkers(master) >= 2, 20_000);
    t.comment(`${server} SIGHUP: old workers gone ${Date.now() - hupAt} ms after the signal`);
    const after = await waitForNewWorkers(loads, before, hupAt, 2);
    await new Promise((resolve) => setTimeout(resolve, 300));
    const records = await stopAll(loads);
    const summary = summarize(records);
    t.comment(`${server} SIGHUP: ${describeSummary(summary)}; old ${[...before].join(",")} → new ${[...after].join(",")}`);
    if (server === "uws" && !reusePortMigrates()) {
      t.comment("net.ipv4.tcp_migrate_req is 0: fresh connections reset in a stopping uWS worker's accept queue are tolerated");
    }

    t.same(unexpectedFailures(server, records), [], "no request failed");
    t.ok(summary.sent > 100, `the load ran (${summary.sent} requests)`);
    t.equal(after.size, 2, "two new workers answer");
    const late = records.filter((r) => r.sentAt > Date.now() - 250 && r.pid !== undefined);
    t.ok(late.every((r) => !before.has(r.pid as number)), "the old workers no longer answer");
    t.match(master.output(), /reloading: fresh workers first/);

    const termAt = Date.now();
    master.child.kill("SIGTERM");
    t.equal(await master.exited(20_000), 0);
    t.comment(`${server}: SIGTERM → exit in ${Date.now() - termAt} ms`);
  });
}
