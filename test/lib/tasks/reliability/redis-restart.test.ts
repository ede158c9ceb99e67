/**
 * A laminar worker survives its Redis going away and coming back (issue 9; celery#8030): Redis is
 * SIGKILLed and restarted by the test, on its own port and append-only file. See restart-scenario.ts.
 */
import t from "tap";
import { ownRedisMissing, startOwnRedis } from "./own-brokers.js";
import { brokerRestartScenario } from "./restart-scenario.js";
import { compileWorkers } from "./worker-harness.js";

// More than tap's 60 s default: the workers compile on a first run, and two Redis boots.
t.setTimeout(120_000);
const build = compileWorkers(t);

t.test("Redis SIGKILLed and restarted under a running worker: it keeps consuming, nothing lost", { skip: ownRedisMissing() ?? false }, async (t) => {
  await brokerRestartScenario(t, build, await startOwnRedis(t));
});
