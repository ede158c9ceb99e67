/**
 * A worker whose boot is slow (its app's import keeps the CPU busy for 1.5 s, as a big app's
 * module graph does) under a heartbeat timeout of 1 s: a boot is not a blocked request, so the
 * worker comes up and serves instead of being killed at import, again and again.
 */
import t from "tap";
import { compileForMaster, freePort, pollPids, startMaster } from "./master-harness.js";

const SLOW_BOOT_APP = "test/fixtures/supervisor/slow-boot-app.ts";
const build = compileForMaster(t, [SLOW_BOOT_APP]);

t.test("a boot slower than the heartbeat timeout is not taken for a blocked worker", async (t) => {
  const port = await freePort();
  // One worker is enough; should the boot be taken for a blocked loop, it is killed and booted in
  // a loop, burning a core the test files running meanwhile need.
  const master = startMaster(t, build, { target: build.js(SLOW_BOOT_APP), port, timeout: 1, workers: 1 });
  // Bounded: 160 attempts 25 ms apart plus the refused requests themselves, some 5 s (the boot takes 1.5).
  const pids = await pollPids(port, (seen) => seen.size >= 1, 160);
  t.equal(pids.size, 1, `the worker serves (${[...pids].join(", ")})`);
  t.notMatch(master.output(), /sent no heartbeat/, "no worker was killed as blocked", { output: master.output() });
  t.match(master.output(), /worker listening/);
});
