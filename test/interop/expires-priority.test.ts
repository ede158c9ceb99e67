/**
 * Message options a Python worker honours from laminar's messages: `expires` (an expired message is
 * discarded and REVOKED is stored, so laminar's `get()` throws TaskRevokedError) over Redis and
 * RabbitMQ, and priorities on RabbitMQ (queues declared with `x-max-priority` on both sides: laminar's
 * `maxPriority`, Celery's `task_queue_max_priority`). Each test blocks the solo Python worker with
 * `tasks.sleep` first, so what follows waits in the broker. Skips when a service is absent.
 */
import t from "tap";
import { AmqpBroker } from "../../lib/tasks/amqp/amqp-broker.js";
import { TaskRevokedError } from "../../lib/errors.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { AMQP_URL_NODE, startPythonWorker, uniqueName } from "./celery-harness.js";

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: an expired message is discarded by the Python worker and laminar sees it revoked`, { skip }, async (t) => {
    const queueName = uniqueName("laminar-interop");
    const side = laminarSide(t, kind, [queueName]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: queueName });
    const worker = await startPythonWorker({ ...side.python, queue: queueName });
    t.teardown(() => worker.stop());
    const blocker = await queue.sendTask("tasks.sleep", { args: [2] });
    const expiring = await queue.sendTask("tasks.add", { args: [1, 1], expires: 0.5 });
    t.equal(await blocker.get({ timeout: 30 }), 2);
    await t.rejects(expiring.get({ timeout: 30 }), TaskRevokedError);
    t.equal(await expiring.state(), "REVOKED");
  });
}

const amqpSkip = await skipFor("amqp");
t.test("amqp: a high-priority task published after low ones runs before them (x-max-priority on both sides)", { skip: amqpSkip }, async (t) => {
  const queueName = uniqueName("laminar-interop");
  const side = laminarSide(t, "amqp", [queueName]);
  await side.broker.close();
  const broker = new AmqpBroker({ url: AMQP_URL_NODE, maxPriority: 10 });
  const queue = new TaskQueue({ broker, backend: side.backend, defaultQueue: queueName });
  t.teardown(() => broker.close());
  const worker = await startPythonWorker({ ...side.python, queue: queueName, maxPriority: 10 });
  t.teardown(() => worker.stop());
  const blocker = await queue.sendTask("tasks.sleep", { args: [1.5] });
  const lows = [];
  for (let i = 0; i < 4; i++) lows.push(await queue.sendTask("tasks.add", { args: [i, 0], priority: 0 }));
  const high = await queue.sendTask("tasks.add", { args: [100, 0], priority: 9 });
  await blocker.get({ timeout: 30 });
  t.equal(await high.get({ timeout: 30 }), 100);
  for (const low of lows) await low.get({ timeout: 30 });
  const done = async (id: string): Promise<string> => (await side.backend.get(id))?.dateDone ?? "";
  const highDone = await done(high.id);
  const lowsDone = await Promise.all(lows.map((low) => done(low.id)));
  // One low may already sit in the Python worker's prefetch window (1) when the others arrive; the
  // rest wait in RabbitMQ's priority queue, where the high one overtakes them.
  const overtaken = lowsDone.filter((d) => d > highDone).length;
  t.ok(overtaken >= 3, `the high-priority task ran before at least 3 of the 4 low ones (${highDone} vs ${lowsDone.join(", ")})`);
});
