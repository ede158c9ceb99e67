/**
 * What a finished task publishes: a chain's next link with the result prepended, a chord's
 * callback with the members' results in member order (once, however often a member is delivered),
 * and the failure of what waited for a task that failed for good.
 */
import t from "tap";
import { newTaskId, type Signature, type TaskMessage } from "../../../../lib/tasks/message.js";
import { message, ready, setup, until } from "./harness.js";

const sig = (task: string, args: unknown[] = [], options: Signature["options"] = {}): Signature => ({ task, id: newTaskId(), args, kwargs: {}, options });

t.test("chain a → b → c: each result is prepended to the next link's args", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("add", (_ctx, x: number, y: number) => x + y);
  registry.define("mul", (_ctx, x: number, y: number) => x * y, { queue: "math", priority: 5 });
  const published: TaskMessage[] = [];
  const publish = broker.publish.bind(broker);
  broker.publish = async (m) => {
    published.push(m);
    return publish(m);
  };
  makeWorker({ queues: ["celery", "math"] }).start();
  const b = sig("mul", [10]);
  const c = sig("add", [1], { queue: "celery" });
  const a = message("add", [2, 3], { chain: [b, c] });
  await broker.publish(a);
  const last = await ready(backend, c.id);
  t.equal(last.result, 51, "(2 + 3) × 10 + 1");
  t.equal((await backend.get(b.id))?.result, 50);
  t.same((await backend.get(a.id))?.children, [b.id], "the parent names its child");
  const [pb, pc] = published.slice(1);
  t.same(pb?.args, [5, 10]);
  t.equal(pb?.id, b.id);
  t.equal(pb?.parentId, a.id);
  t.equal(pb?.rootId, a.id);
  t.equal(pb?.queue, "math", "the registered task's queue when the link names none");
  t.equal(pb?.priority, 5);
  t.same(pb?.chain, [c], "the rest of the chain travels along");
  t.equal(pc?.parentId, b.id);
  t.equal(pc?.rootId, a.id);
  t.equal(pc?.queue, "celery");
  t.equal(pc?.chain, undefined, "the last link carries no chain");
});

t.test("a link's countdown becomes an eta counted from when it is published", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("one", () => 1);
  makeWorker().start();
  const later = sig("one", [], { countdown: 3600 });
  const a = message("one", [], { chain: [later] });
  await broker.publish(a);
  await ready(backend, a.id);
  await until(async () => (await broker.stats()).find((s) => s.queue === "celery")?.delayed === 1, "held by the broker");
  t.equal(await backend.get(later.id), undefined, "not run");
});

t.test("a failing link fails the rest of the chain with its error", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("ok", () => 1);
  registry.define("bad", () => {
    throw new RangeError("out of stock");
  });
  makeWorker().start();
  const b = sig("bad");
  const c = sig("ok");
  const d = sig("ok");
  await broker.publish(message("ok", [], { chain: [b, c, d] }));
  for (const link of [c, d]) {
    const meta = await ready(backend, link.id);
    t.equal(meta.state, "FAILURE");
    t.equal(meta.error?.type, "RangeError");
    t.equal(meta.error?.message, "out of stock");
    t.same(meta.error?.data, { dependency: b.id });
  }
  t.equal(registry.callsOf("ok"), 1, "the links after the failure never ran");
});

/** Publishes a chord's header members (group saved first, as the publisher does). */
async function publishChord(
  broker: { publishMany(m: readonly TaskMessage[]): Promise<void> },
  backend: { saveGroup(id: string, ids: readonly string[]): Promise<void> },
  members: { task: string; args: unknown[] }[],
  callback: Signature,
): Promise<TaskMessage[]> {
  const groupId = newTaskId();
  const messages = members.map((m, index) => message(m.task, m.args, { group: { id: groupId, index, size: members.length }, chord: callback }));
  await backend.saveGroup(groupId, messages.map((m) => m.id));
  await broker.publishMany(messages);
  return messages;
}

t.test("chord: the callback gets the results in member order, whatever order they finish in", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("slow.square", async (_ctx, x: number, delayMs: number) => {
    await new Promise((resolve) => setTimeout(resolve, delayMs));
    return x * x;
  });
  const received: unknown[][] = [];
  registry.define("collect", (_ctx, ...args: unknown[]) => {
    received.push(args);
    return (args[0] as number[]).reduce((a, b) => a + b, 0);
  });
  makeWorker({ concurrency: 4 }).start();
  const callback = sig("collect", ["tag"]);
  const members = await publishChord(broker, backend, [
    { task: "slow.square", args: [1, 15] },
    { task: "slow.square", args: [2, 8] },
    { task: "slow.square", args: [3, 1] },
  ], callback);
  const meta = await ready(backend, callback.id);
  t.equal(meta.result, 14);
  t.same(received, [[[1, 4, 9], "tag"]], "member order, then the callback's own args; called once");
  t.ok(members.every((m) => m.id), "members published");
});

t.test("chord: a failing member fails the callback with the member's own error; the callback never runs", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  class InventoryError extends Error {
    override name = "InventoryError";
  }
  registry.define("ok", async () => {
    await new Promise((resolve) => setTimeout(resolve, 5));
    return 1;
  });
  registry.define("bad", () => {
    throw new InventoryError("sku 7 missing");
  });
  registry.define("bad2", () => {
    throw new TypeError("second failure");
  });
  registry.define("cb", () => "should not run");
  makeWorker({ concurrency: 1 }).start();
  const callback = sig("cb");
  const members = await publishChord(broker, backend, [
    { task: "bad", args: [] },
    { task: "ok", args: [] },
    { task: "bad2", args: [] },
    { task: "ok", args: [] },
  ], callback);
  for (const m of members) await ready(backend, m.id);
  const meta = await ready(backend, callback.id);
  t.equal(meta.state, "FAILURE");
  t.equal(meta.error?.type, "InventoryError", "the first failing member's type, not a generic ChordError");
  t.equal(meta.error?.message, "sku 7 missing");
  t.match(meta.error?.stack, /sku 7 missing/);
  t.same(meta.error?.data, { dependency: members[0]?.id });
  t.equal(registry.callsOf("cb"), 0);
});

t.test("chord: a duplicate delivery of the last member does not publish the callback twice", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("id", (_ctx, x: number) => x);
  registry.define("cb", (_ctx, results: number[]) => results);
  const worker = makeWorker();
  worker.start();
  const callback = sig("cb");
  const members = await publishChord(broker, backend, [
    { task: "id", args: [1] },
    { task: "id", args: [2] },
  ], callback);
  t.same((await ready(backend, callback.id)).result, [1, 2]);
  // The last member delivered again (a lease that lapsed, at-least-once): it runs, but counts once.
  await broker.publish(members[1]!);
  await until(() => registry.callsOf("id") === 3, "duplicate ran");
  await until(() => worker.processed === 4, "duplicate finished");
  // Give a wrongly published second callback every chance to be reserved and run.
  await new Promise((resolve) => setTimeout(resolve, 20));
  t.equal(registry.callsOf("cb"), 1);
});

t.test("chord: a group whose member list was not saved fails the callback with ChordError", async (t) => {
  const { broker, backend, registry, makeWorker } = setup(t);
  registry.define("id", (_ctx, x: number) => x);
  registry.define("cb", () => "no");
  makeWorker().start();
  const callback = sig("cb");
  await broker.publish(message("id", [1], { group: { id: "unsaved", index: 0, size: 1 }, chord: callback }));
  const meta = await ready(backend, callback.id);
  t.equal(meta.error?.type, "ChordError");
  t.equal(registry.callsOf("cb"), 0);
});
