/**
 * Revoke across languages on RabbitMQ: laminar's revoke is broadcast on Celery's `celery.pidbox`
 * fanout exchange (kombu's Mailbox format), so a Python worker discards the task when it arrives.
 * The task waits in laminar's delay queue (a countdown) while the revoke is sent. Skips when Python
 * Celery, Redis or RabbitMQ is absent.
 */
import t from "tap";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { laminarSide, skipFor } from "./brokers.js";
import { startPythonWorker, uniqueName } from "./celery-harness.js";

const skip = await skipFor("amqp");
t.test("amqp: a task laminar revokes is discarded by the Python worker (celery.pidbox broadcast)", { skip }, async (t) => {
  const queueName = uniqueName("laminar-interop");
  const side = laminarSide(t, "amqp", [queueName]);
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
