/**
 * The broker-restart scenario the Redis and RabbitMQ tests share (issue 9, celery#8030: "the worker
 * stops consuming after a broker reconnect"): real `laminar worker --processes 2` workers consume from a broker
 * the test owns; the broker is SIGKILLed with tasks still queued, stays down a moment, and is started
 * again on the same port and data. The same worker processes (not replacements) must then run the
 * tasks that were queued before the crash and the ones published after it.
 */
import type { Test } from "tap";
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { sleep, startWorkers, until } from "./worker-harness.js";
import type { MasterBuild } from "../../supervisor/master-harness.js";
import type { OwnBroker } from "./own-brokers.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";

/**
 * Runs the scenario on `broker` with the workers `build` compiled (compileWorkers at the test file's
 * top level); results go to `backendUrl` (default: the broker's own URL).
 */
export async function brokerRestartScenario(t: Test, build: MasterBuild, broker: OwnBroker, backendUrl = broker.url): Promise<void> {
  const dir = mkdtempSync(join(tmpdir(), "laminar-restart-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const executions = join(dir, "executions.log");
  writeFileSync(executions, "");
  const master = startWorkers(t, build, join(dir, "unused.db"), executions, ["--processes", "2", "-c", "4", "--visibility-timeout", "5"], {
    LAMINAR_TEST_TASKS_URL: broker.url,
    LAMINAR_TEST_BACKEND_URL: backendUrl,
  });
  await until(() => master.listening().length >= 2, "two workers listening", master.output);
  const workers = master.listening();

  const queue = (): TaskQueue => new TaskQueue({ broker: connectBroker(broker.url), backend: connectBackend(backendUrl) });
  const succeeded = (q: TaskQueue, ids: string[], what: string): Promise<unknown> =>
    until(async () => (await q.backend.getMany(ids)).every((meta) => meta?.state === "SUCCESS"), what, master.output, 40_000);

  const before = queue();
  const first = [];
  for (let i = 0; i < 10; i++) first.push((await before.sendTask("record", { args: [i, 0] })).id);
  await succeeded(before, first, "the first tasks to succeed");
  // Queued behind slow tasks, so they are still in the broker when it dies: 2 × 4 slots, 8 × 3 s tasks.
  const slow = [];
  for (let i = 0; i < 8; i++) slow.push((await before.sendTask("record", { args: [100 + i, 3_000] })).id);
  const queued = [];
  for (let i = 0; i < 10; i++) queued.push((await before.sendTask("record", { args: [200 + i, 0] })).id);
  await until(() => readFileSync(executions, "utf8").split("\n").filter(Boolean).length >= 18, "the slow tasks to start", master.output);
  await before.close();

  await broker.kill();
  t.comment("broker killed");
  await sleep(1_500);
  await broker.restart();
  t.comment("broker restarted");

  const after = queue();
  t.teardown(() => after.close());
  const later = [];
  for (let i = 0; i < 10; i++) later.push((await after.sendTask("record", { args: [300 + i, 0] })).id);
  await succeeded(after, later, "the tasks published after the restart to succeed");
  t.pass("tasks published after the restart ran");
  await succeeded(after, queued, "the tasks queued before the crash to succeed");
  t.pass("tasks queued before the crash ran after it");
  // acksLate: each either finished and was acknowledged on the new connection, or (its lease void
  // after the reconnect) was delivered again; either way it ends SUCCESS.
  await succeeded(after, slow, "the tasks running during the crash to succeed");
  t.pass("tasks running during the crash succeeded");
  t.same(master.listening(), workers, "the same worker processes did it all: none was replaced");
  master.kill("SIGTERM");
  t.equal(await master.exited, 0, "it stops gracefully");
}
