/**
 * Revoke across languages on Redis and RabbitMQ, both ways: laminar's revoke is broadcast on Celery's
 * `celery.pidbox` fanout exchange (kombu's Mailbox format), so a Python worker discards the task when
 * it arrives; Python's `app.control.revoke` reaches a consuming laminar broker, whose worker drops it.
 * The task waits in a delay queue (a countdown) while the revoke is sent. Skips when Python
 * Celery, Redis or RabbitMQ is absent.
 */
import t from "tap";
import type { Logger } from "../../lib/logger.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { Worker } from "../../lib/tasks/worker/worker.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { revokeFromPython, startPythonWorker, uniqueName } from "./celery-harness.js";

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: a task laminar revokes is discarded by the Python worker (celery.pidbox broadcast)`, { skip }, async (t) => {
    const queueName = uniqueName("laminar-interop");
    const side = laminarSide(t, kind, [queueName]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: queueName });
    const worker = await startPythonWorker({ ...side.python, queue: queueName });
    t.teardown(() => worker.stop());

    const revoked = await queue.sendTask("tasks.add", { args: [1, 2], countdown: 1 });
    const kept = await queue.sendTask("tasks.add", { args: [3, 4], countdown: 1 });
    await revoked.revoke();
    t.equal(await kept.get({ timeout: 30 }), 7, "the other task ran");
    const deadline = Date.now() + 20_000;
    while (!worker.output().includes(`Discarding revoked task: tasks.add[${revoked.id}]`) && Date.now() < deadline) {
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
    t.match(worker.output(), `Discarding revoked task: tasks.add[${revoked.id}]`, "the Python worker got the revoke and discarded the task");
    t.not((await side.backend.get(revoked.id))?.state, "SUCCESS", "it never ran");
  });

  t.test(`${kind}: a revoke sent from Python (app.control.revoke) reaches a laminar worker, which drops the task`, { skip }, async (t) => {
    const queueName = uniqueName("laminar-interop");
    const side = laminarSide(t, kind, [queueName]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: queueName });
    const ran: number[] = [];
    const add = queue.task("laminar.add", (x: number, y: number) => {
      ran.push(x + y);
      return x + y;
    });
    const worker = new Worker(queue, { queues: [queueName], concurrency: 2, logger: quiet });
    worker.start();
    t.teardown(() => worker.stop({ gracefulTimeoutMs: 5_000 }));
    // The worker consumes (and so listens on celery.pidbox) before anything is revoked.
    t.equal(await (await add.delay(0, 0)).get({ timeout: 30 }), 0);

    const revoked = await add.applyAsync({ args: [1, 2], countdown: 1 });
    await revokeFromPython(side.python, [revoked.id]);
    const deadline = Date.now() + 10_000;
    while (!(await side.broker.isRevoked(revoked.id)) && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 50));
    t.equal(await side.broker.isRevoked(revoked.id), true, "the broadcast reached the laminar broker's control store");
    const kept = await add.applyAsync({ args: [3, 4], countdown: 1 });
    t.equal(await kept.get({ timeout: 30 }), 7, "a task due at the same time ran");
    t.same(ran.filter((v) => v !== 0), [7], "the revoked one never ran");
  });
}
