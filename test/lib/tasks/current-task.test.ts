import t from "tap";
import { setImmediate as tick } from "node:timers/promises";
import { currentTask, currentTaskOrUndefined, runInTaskContext } from "../../../lib/tasks/current-task.js";
import { Retry, type TaskContext } from "../../../lib/tasks/registry.js";
import { harness } from "./publish-harness.js";

function context(id: string, name = "t"): TaskContext {
  return { id, name, retries: 2, rootId: "root", parentId: "parent", groupId: "g", signal: new AbortController().signal, retry: (o) => new Retry(o) };
}

t.test("currentTask throws outside a task", async (t) => {
  t.throws(() => currentTask(), /outside a running task/);
  t.equal(currentTaskOrUndefined(), undefined);
  await runInTaskContext(context("x"), async () => undefined);
  t.throws(() => currentTask(), "the context does not leak after the task");
});

t.test("inside RegisteredTask.run the task sees its own context, across awaits, while another runs", async (t) => {
  const { queue } = harness();
  queue.task("who", async (label: string) => {
    const before = currentTask().id;
    await tick();
    await tick();
    return `${label}:${before}:${currentTask().id}:${currentTask().retries}`;
  });
  const run = queue.lookup("who")!.run;
  const [a, b] = await Promise.all([run(["a"], {}, context("id-a")), run(["b"], {}, context("id-b"))]);
  t.equal(a, "a:id-a:id-a:2");
  t.equal(b, "b:id-b:id-b:2");
});

t.test("a direct run() gets a context of its own", async (t) => {
  const { queue } = harness();
  const seen = queue.task("seen", async () => {
    const ctx = currentTask();
    const retry = ctx.retry({ countdown: 5 });
    return { id: ctx.id, name: ctx.name, root: ctx.rootId, retries: ctx.retries, aborted: ctx.signal.aborted, retry: retry instanceof Retry, countdown: retry.countdown };
  });
  const first = await seen.run();
  const second = await seen.run();
  t.match(first, { name: "seen", retries: 0, aborted: false, retry: true, countdown: 5 });
  t.equal(first.root, first.id);
  t.not(first.id, second.id);
});
