/**
 * A laminar worker survives its RabbitMQ going away and coming back (issue 9): a RabbitMQ node of the
 * test's own is SIGKILLed and restarted on the same port and data (durable queues, persistent
 * messages). Results go to a SQLite file: RabbitMQ keeps none. See restart-scenario.ts.
 */
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { ownRabbitMissing, startOwnRabbit } from "./own-brokers.js";
import { brokerRestartScenario } from "./restart-scenario.js";
import { compileWorkers } from "./worker-harness.js";

// More than tap's 60 s default: two RabbitMQ boots (~5 s each here, far more on a loaded machine).
t.setTimeout(150_000);
const build = compileWorkers(t);

t.test("RabbitMQ SIGKILLed and restarted under a running worker: it keeps consuming, nothing lost", { skip: ownRabbitMissing() ?? false }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-rabbit-results-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  await brokerRestartScenario(t, build, await startOwnRabbit(t), `sqlite://${join(dir, "results.db")}`);
});
