/**
 * Python sends (`app.send_task`), a laminar Worker runs a laminar task, Python's `AsyncResult.get()`
 * returns the value or raises the error — over Redis and over RabbitMQ, with Celery's Redis result
 * backend. Skips when Python Celery, Redis or RabbitMQ is absent. Each test has a queue of its own.
 */
import t from "tap";
import type { Logger } from "../../lib/logger.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { Worker } from "../../lib/tasks/worker/worker.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { runPythonClient, uniqueName } from "./celery-harness.js";

/** A JavaScript error named as Python's builtin, so Python raises that very class. */
class ValueError extends Error {
  override name = "ValueError";
}

/** A laminar error with no Python equivalent: Python raises an Exception subclass of that name. */
class BookNotFound extends Error {
  override name = "BookNotFound";
}

const errors: string[] = [];
const logger: Logger = { error: (obj: object) => void errors.push(JSON.stringify(obj)), warn: () => {}, info: () => {}, debug: () => {} };

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: Python send_task → laminar worker → Python AsyncResult.get()`, { skip }, async (t) => {
    const queueName = uniqueName("laminar-interop");
    const side = laminarSide(t, kind, [queueName]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: queueName });
    queue.task("laminar.add", (x: number, y: number) => x + y);
    queue.task("laminar.describe", (title: string, options: { copies: number }) => ({ title, copies: options.copies, shelf: [1, null, "é"] }));
    queue.task("laminar.invalid", (value: string) => {
      throw new ValueError(`bad value: ${value}`);
    });
    queue.task("laminar.missing", (id: number) => {
      throw new BookNotFound(`no book ${id}`);
    });
    const worker = new Worker(queue, { queues: [queueName], concurrency: 4, logger });
    worker.start();
    t.teardown(() => worker.stop({ gracefulTimeoutMs: 5_000 }));
    const env = side.python;

    t.test("the value comes back to Python", async (t) => {
      const outcome = await runPythonClient(env, { name: "laminar.add", args: [40, 2], queue: queueName, timeout: 30 });
      t.same(outcome.ok ? [outcome.value, outcome.state] : outcome, [42, "SUCCESS"]);
    });

    t.test("positional and keyword arguments, a JSON result", async (t) => {
      const outcome = await runPythonClient(env, { name: "laminar.describe", args: ["Dune"], kwargs: { copies: 3 }, queue: queueName, timeout: 30 });
      t.same(outcome.ok ? outcome.value : outcome, { title: "Dune", copies: 3, shelf: [1, null, "é"] });
    });

    t.test("a Python countdown: the laminar worker runs it once due (held by the broker meanwhile)", async (t) => {
      const sentAt = Date.now();
      const outcome = await runPythonClient(env, { name: "laminar.add", args: [1, 2], queue: queueName, countdown: 1, timeout: 30 });
      t.same(outcome.ok ? outcome.value : outcome, 3);
      const meta = outcome.ok ? await side.backend.get(outcome.id) : undefined;
      t.ok(meta?.dateDone !== undefined && Date.parse(meta.dateDone) >= sentAt + 1_000 - 50, `done after the countdown (${meta?.dateDone})`);
    });

    t.test("an error named ValueError is raised in Python as builtins.ValueError", async (t) => {
      const outcome = await runPythonClient(env, { name: "laminar.invalid", args: ["x"], queue: queueName, timeout: 30 });
      t.equal(outcome.ok, false);
      if (outcome.ok) return;
      t.same([outcome.type, outcome.module, outcome.state], ["ValueError", "builtins", "FAILURE"]);
      t.match(outcome.message, /bad value: x/);
    });

    t.test("a laminar-only error is raised in Python as an exception of that name", async (t) => {
      const outcome = await runPythonClient(env, { name: "laminar.missing", args: [7], queue: queueName, timeout: 30 });
      t.equal(outcome.ok, false);
      if (outcome.ok) return;
      t.equal(outcome.type, "BookNotFound");
      t.match(outcome.message, /no book 7/);
      t.not(outcome.type, "RuntimeError");
    });
  });
}
