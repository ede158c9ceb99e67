/**
 * Canvas across languages, over Redis and over RabbitMQ with Celery's Redis result backend: a laminar
 * group whose members a Python worker runs; a chord whose header runs in Python and whose callback is
 * a laminar task (the Python worker fires it from Celery's chord bookkeeping in the Redis backend);
 * and chords whose header mixes Python and laminar members, started from laminar and from Python,
 * with either side finishing the last member (both count in Celery's `.j` set, so either completes
 * it). Skips when Python Celery, Redis or RabbitMQ is absent.
 */
import t from "tap";
import type { Logger } from "../../lib/logger.js";
import { chord, group } from "../../lib/tasks/canvas.js";
import { TaskQueue } from "../../lib/tasks/task-queue.js";
import { Worker } from "../../lib/tasks/worker/worker.js";
import { BROKER_KINDS, laminarSide, skipFor } from "./brokers.js";
import { runPythonChord, startPythonWorker, uniqueName } from "./celery-harness.js";

const quiet: Logger = { error: () => {}, warn: () => {}, info: () => {}, debug: () => {} };

for (const kind of BROKER_KINDS) {
  const skip = await skipFor(kind);
  t.test(`${kind}: canvas across laminar and Python`, { skip }, async (t) => {
    const pythonQueue = uniqueName("laminar-interop-py");
    const laminarQueue = uniqueName("laminar-interop-js");
    const side = laminarSide(t, kind, [pythonQueue, laminarQueue]);
    const queue = new TaskQueue({ broker: side.broker, backend: side.backend, defaultQueue: laminarQueue });
    const sum = queue.task("laminar.sum", (values: unknown[]) => values.reduce<number>((a, b) => a + Number(b), 0), { queue: laminarQueue });
    // A laminar member that takes `ms`: the side that finishes a mixed chord's last member is chosen by it.
    const slowMul = queue.task(
      "laminar.slow_mul",
      async (x: number, y: number, ms: number) => {
        await new Promise((resolve) => setTimeout(resolve, ms));
        return x * y;
      },
      { queue: laminarQueue },
    );
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

    t.test("a chord from laminar mixing both sides, laminar's member last: the laminar worker completes it", async (t) => {
      const result = await chord([add(1, 2), slowMul.s(3, 4, 1_500), add(5, 6)], sum.s()).applyAsync();
      t.equal(await result.get({ timeout: 30 }), 3 + 12 + 11);
    });

    t.test("a chord from laminar mixing both sides, Python's member last: the Python worker completes it", async (t) => {
      const nap = queue.signature("tasks.sleep", { args: [1.5], queue: pythonQueue });
      // tasks.sleep returns the seconds it slept.
      const result = await chord([slowMul.s(3, 4, 0), nap, add(5, 6)], sum.s()).applyAsync();
      t.equal(await result.get({ timeout: 30 }), 12 + 1.5 + 11);
    });

    t.test("a chord from Python mixing both sides, laminar's member last: the laminar worker completes it", async (t) => {
      const outcome = await runPythonChord(side.python, {
        header: [
          { name: "tasks.add", args: [1, 2], queue: pythonQueue },
          { name: "laminar.slow_mul", args: [3, 4, 1_500], queue: laminarQueue },
        ],
        body: { name: "laminar.sum", queue: laminarQueue },
      });
      t.same(outcome.ok ? outcome.value : outcome, 15);
    });

    t.test("a chord from Python mixing both sides, Python's member last: the Python worker completes it", async (t) => {
      const outcome = await runPythonChord(side.python, {
        header: [
          { name: "laminar.slow_mul", args: [3, 4, 0], queue: laminarQueue },
          { name: "tasks.sleep", args: [1.5], queue: pythonQueue },
        ],
        body: { name: "laminar.sum", queue: laminarQueue },
      });
      t.same(outcome.ok ? outcome.value : outcome, 12 + 1.5);
    });
  });
}
