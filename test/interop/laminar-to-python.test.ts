/**
 * laminar publishes, a real Python Celery worker runs, laminar reads the result — over Redis
 * (kombu's Redis transport) and over RabbitMQ, both with Celery's Redis result backend. Skips when
 * Python Celery, Redis or RabbitMQ is absent. Each test has a queue of its own and its own worker.
 */
import t from "tap";
import { TaskFailedError } from "../../lib/tasks/task-error.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { startPythonWorker, uniqueName } from "./celery-harness.js";

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: laminar → Python worker → laminar AsyncResult.get()`, { skip }, async (t) => {
    const queueName = uniqueName("laminar-interop");
    const side = laminarSide(t, kind, [queueName]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: queueName });
    const worker = await startPythonWorker({ ...side.python, queue: queueName });
    t.teardown(() => worker.stop());

    t.test("tasks.add returns the sum", async (t) => {
      const result = await queue.sendTask("tasks.add", { args: [20, 22] });
      t.equal(await result.get({ timeout: 30 }), 42);
      t.equal(await result.state(), "SUCCESS");
    });

    t.test("kwargs and nested JSON survive both ways", async (t) => {
      const result = await queue.sendTask("tasks.echo", { args: [1, "é ☃", { a: [null, true] }], kwargs: { k: { deep: [1.5] } } });
      t.same(await result.get({ timeout: 30 }), { args: [1, "é ☃", { a: [null, true] }], kwargs: { k: { deep: [1.5] } } });
    });

    t.test("a Python ValueError arrives as an error named ValueError with its message", async (t) => {
      const result = await queue.sendTask("tasks.fail", { args: ["no such book"] });
      const error = await result.get({ timeout: 30 }).then(
        () => undefined,
        (e: unknown) => e,
      );
      t.type(error, TaskFailedError);
      t.equal((error as Error).name, "ValueError");
      t.match((error as Error).message, /no such book/);
      t.equal(await result.state(), "FAILURE");
    });

    t.test("a Python task that retries once then succeeds", async (t) => {
      const result = await queue.sendTask("tasks.retry_once", { args: [7] });
      t.same(await result.get({ timeout: 30 }), { value: 7, retries: 1 });
    });

    // RabbitMQ: held in laminar's delay queue until due. Redis (etaOnQueue): on the queue with its
    // eta header, held by the Python worker as Celery's own ETA tasks are.
    t.test("a countdown: the Python worker runs it once it is due, not before", async (t) => {
      const sentAt = Date.now();
      const result = await queue.sendTask("tasks.add", { args: [1, 1], countdown: 1 });
      t.equal(await result.get({ timeout: 30 }), 2);
      const meta = await side.backend.get(result.id);
      t.ok(meta?.dateDone !== undefined && Date.parse(meta.dateDone.endsWith("Z") || /[+-]\d\d:\d\d$/.test(meta.dateDone) ? meta.dateDone : `${meta.dateDone}Z`) >= sentAt + 1_000, "done after the countdown");
    });
  });
}
