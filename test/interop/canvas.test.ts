/**
 * Canvas across languages, over Redis and over RabbitMQ with Celery's Redis result backend: a laminar
 * group whose members a Python worker runs, and a chord whose header runs in Python and whose
 * callback is a laminar task on a laminar worker (the Python worker fires it from Celery's chord
 * bookkeeping in the Redis backend). Skips when Python Celery, Redis or RabbitMQ is absent.
 */
import t from "tap";
import type { Logger } from "../../lib/logger.js";
import { chord, group } from "../../lib/tasks/canvas.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { Worker } from "../../lib/tasks/worker/worker.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { startPythonWorker, uniqueName } from "./celery-harness.js";

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: canvas across laminar and Python`, { skip }, async (t) => {
    const pythonQueue = uniqueName("laminar-interop-py");
    const laminarQueue = uniqueName("laminar-interop-js");
    const side = laminarSide(t, kind, [pythonQueue, laminarQueue]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: laminarQueue });
    const sum = queue.task("laminar.sum", (values: unknown[]) => values.reduce<number>((a, b) => a + Number(b), 0), { queue: laminarQueue });
    const worker = new Worker(queue, { queues: [laminarQueue], concurrency: 4, logger: quiet });
    worker.start();
    t.teardown(() => worker.stop({ gracefulTimeoutMs: 5_000 }));
    const python = await startPythonWorker({ ...side.python, queue: pythonQueue });
    t.teardown(() => python.stop());
    const add = (x: number, y: number) => queue.signature("tasks.add", { args: [x, y], queue: pythonQueue });

    t.test("a group run by the Python worker: results in member order", async (t) => {
      const result = await group(add(1, 1), add(2, 2), add(3, 3)).applyAsync();
      t.same(await result.get({ timeout: 30 }), [2, 4, 6]);
    });

    t.test("a chord: header in Python, callback in laminar", async (t) => {
      const result = await chord([add(1, 2), add(3, 4), add(5, 6)], sum.s()).applyAsync();
      t.equal(await result.get({ timeout: 30 }), 21);
    });
  });
}
