/**
 * What the canvas publishes, read straight from the broker (the worker's side of a workflow is
 * tested with a worker in canvas-worker.test.ts).
 */
import t from "tap";
import { Type } from "@sinclair/typebox";
import { TaskArgumentsError } from "../../../lib/errors.js";
import { chain, chord, group } from "../../../lib/tasks/canvas.js";
import type { TaskMessage } from "../../../lib/tasks/message.js";
import { harness, START } from "./publish-harness.js";

function setup() {
  const h = harness();
  const add = h.queue.task("math.add", (x: number, y: number) => x + y);
  const mul = h.queue.task("math.mul", (x: number, y: number) => x * y, { queue: "math", priority: 5 });
  const sum = h.queue.task("math.sum", (xs: number[]) => xs.reduce((a, b) => a + b, 0));
  const checked = h.queue.task("checked", (x: number) => x, { argsSchema: Type.Tuple([Type.Integer()]) });
  return { ...h, add, mul, sum, checked };
}

t.test("chain: the first message carries the rest, ids chosen up front; the result is the last link's", async (t) => {
  const { add, mul, published } = setup();
  const second = mul.s(10);
  const third = add.s(1).set({ countdown: 30, expires: 120 });
  const result = await chain(add.s(2, 3), second, third).applyAsync();
  t.equal(result.id, third.id);
  const messages = await published();
  t.equal(messages.length, 1, "only the first link is published now");
  const first = messages[0]!;
  t.match(first, { task: "math.add", args: [2, 3], rootId: first.id, queue: "celery", priority: 0 });
  t.notOk("group" in first || "chord" in first);
  t.strictSame(first.chain, [
    { task: "math.mul", id: second.id, args: [10], kwargs: {}, options: { queue: "math", priority: 5 } },
    // countdown stays in seconds (it counts from when the link is published); expires is resolved now.
    { task: "math.add", id: third.id, args: [1], kwargs: {}, options: { countdown: 30, expires: START + 120_000, queue: "celery", priority: 0 } },
  ]);
  t.same(await published(["math"]), [], "later links wait for the worker");
});

t.test("chain of one, eta on the first link, and refusals", async (t) => {
  const { add, mul, checked, published } = setup();
  const single = await chain(add.s(1, 1).set({ countdown: 2 })).applyAsync();
  const [message] = await published();
  t.equal(message!.id, single.id);
  t.equal(message!.eta, START + 2000);
  t.notOk("chain" in message!, "no empty chain field");
  await t.rejects(chain(checked.s(1.5 as number), mul.s(2)).applyAsync(), TaskArgumentsError, "the first link's args are checked at publish");
  t.throws(() => chain(...([] as unknown as [never])), TypeError);
  const link = mul.s(2);
  t.throws(() => chain(add.s(1, 2), link, link as never), /appears twice/);
  t.throws(() => chain(add.s(1, 2), ((x: number) => x) as never), /takes signatures/);
  t.throws(() => chain(null as never), /takes signatures/);
  t.same(await published(), []);
});

t.test("group: members saved in the backend before they are published, each knowing its place", async (t) => {
  const { queue, add, mul, backend, broker, published } = setup();
  const members = [add.s(1, 1), mul.s(2, 2), add.s(3, 3)];
  const built = group(members);
  let savedWhenPublished: string[] | undefined;
  const publishMany = broker.publishMany.bind(broker);
  broker.publishMany = async (messages: readonly TaskMessage[]) => {
    savedWhenPublished = await backend.getGroup(built.id);
    return publishMany(messages);
  };
  const result = await built.applyAsync();
  t.equal(result.id, built.id);
  t.same(savedWhenPublished, members.map((m) => m.id), "saveGroup ran before publishMany");
  t.same(result.results.map((r) => r.id), members.map((m) => m.id));
  const messages = [...(await published()), ...(await published(["math"]))];
  t.same(
    messages.map((m) => [m.id, m.group]).sort(),
    members.map((m, index) => [m.id, { id: built.id, index, size: 3 }]).sort(),
  );
  t.ok(messages.every((m) => m.chord === undefined && m.chain === undefined && m.rootId === m.id));
  t.match(messages.find((m) => m.task === "math.mul"), { queue: "math", priority: 5 });
  t.same((await queue.groupResult(built.id))!.results.map((r) => r.id), members.map((m) => m.id));
  // Results come back in the group's order.
  await backend.store({ taskId: members[2]!.id, state: "SUCCESS", result: 6 });
  await backend.store({ taskId: members[0]!.id, state: "SUCCESS", result: 2 });
  await backend.store({ taskId: members[1]!.id, state: "SUCCESS", result: 4 });
  t.same(await result.get({ timeout: 1 }), [2, 4, 6]);
});

t.test("group: an empty one is ready at once; a bad member publishes nothing", async (t) => {
  const { add, checked, backend, published } = setup();
  const empty = await group().applyAsync();
  t.same(await empty.get(), []);
  t.equal(await empty.ready(), true);
  const bad = group(add.s(1, 1), checked.s("x" as unknown as number));
  await t.rejects(bad.applyAsync(), TaskArgumentsError);
  t.equal(await backend.getGroup(bad.id), undefined, "not even the group was saved");
  t.same(await published(), []);
  const member = add.s(1, 1);
  t.throws(() => group(member, member), /appears twice/);
  t.throws(() => group([add.s(1, 1), "math.add" as never]), /takes signatures/);
});

t.test("chord: every header member carries the group and the callback; the result is the callback's", async (t) => {
  const { add, sum, backend, published } = setup();
  const callback = sum.s().set({ priority: 3 });
  const header = [add.s(1, 1), add.s(2, 2)];
  const result = await chord(header, callback).applyAsync();
  t.equal(result.id, callback.id);
  const messages = await published();
  t.equal(messages.length, 2, "the callback itself is not published");
  const groupId = messages[0]!.group!.id;
  t.same(await backend.getGroup(groupId), header.map((m) => m.id));
  for (const [index, message] of messages.entries()) {
    t.same(message.group, { id: groupId, index, size: 2 });
    t.strictSame(message.chord, { task: "math.sum", id: callback.id, args: [], kwargs: {}, options: { priority: 3, queue: "celery" } });
  }
  const g = group(add.s(5, 5));
  const viaGroup = await chord(g, sum.s()).applyAsync();
  const [member] = await published();
  t.equal(member!.group!.id, g.id, "a group given as the header keeps its id");
  t.equal(member!.chord!.id, viaGroup.id);
});

t.test("chord refusals", async (t) => {
  const { add, sum, published } = setup();
  t.throws(() => chord([], sum.s()), /at least one/);
  t.throws(() => chord(group(), sum.s()), /at least one/);
  const member = add.s(1, 1);
  t.throws(() => chord([member, member], sum.s()), /appears twice/);
  t.throws(() => chord([add.s(1, 1)], "math.sum" as never), /takes signatures/);
  t.same(await published(), []);
});

t.test("signature: set() copies, taskId renames, applyAsync publishes a complete one", async (t) => {
  const { queue, add, published } = setup();
  const base = add.s(1, 2);
  const later = base.set({ eta: new Date(START + 5000), taskId: "mine", kwargs: { k: 1 } });
  t.equal(base.id === later.id, false);
  t.equal(later.id, "mine");
  t.same(base.options, {}, "the original is unchanged");
  t.same(later.set({ countdown: 1 }).options, { countdown: 1 }, "countdown replaces eta");
  t.same(base.set({ countdown: 1 }).set({ eta: START }).options, { eta: START }, "eta replaces countdown");
  t.throws(() => base.set({ priority: 11 }), RangeError);
  t.throws(() => base.set({ taskId: "" }), TypeError);
  const result = await later.delay();
  t.equal(result.id, "mine");
  const [message] = await published();
  t.match(message, { id: "mine", args: [1, 2], kwargs: { k: 1 }, eta: START + 5000 });
  const byName = await queue.signature("remote.x", { args: [1], countdown: 3 }).applyAsync();
  const [remote] = await published();
  t.match(remote, { id: byName.id, task: "remote.x", args: [1], eta: START + 3000, queue: "celery" });
});
