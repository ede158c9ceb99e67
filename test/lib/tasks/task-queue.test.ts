import t from "tap";
import { Type } from "@sinclair/typebox";
import { TaskArgumentsError } from "../../../lib/errors.js";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import type { TaskContext } from "../../../lib/tasks/registry.js";
import { TaskQueue } from "../../../lib/tasks/task-queue.js";
import { harness, START } from "./publish-harness.js";

function context(name: string, id = "ctx-1"): TaskContext {
  return { id, name, retries: 0, rootId: id, signal: new AbortController().signal, retry: () => new Error("no") as never };
}

t.test("delay publishes one message with Celery's defaults and stores nothing", async (t) => {
  const { queue, backend, published } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const result = await add.delay(2, 3);
  const [message, ...others] = await published();
  t.same(others, []);
  t.strictSame(message, {
    id: result.id,
    task: "math.add",
    args: [2, 3],
    kwargs: {},
    queue: "celery",
    priority: 0,
    retries: 0,
    rootId: result.id,
    publishedAt: START,
    origin: message!.origin,
  });
  t.match(message!.origin, /^.+:\d+$/);
  t.equal(await backend.get(result.id), undefined, "PENDING is the absence of a record, as in Celery");
  t.equal(await result.state(), "PENDING");
  t.not((await add.delay(2, 3)).id, result.id, "every publication gets a new id");
});

t.test("applyAsync: countdown, eta, expires, priority, queue, taskId", async (t) => {
  const { queue, published, clock } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  await add.applyAsync({ args: [1, 1], countdown: 1.5, taskId: "a" });
  await add.applyAsync({ args: [1, 2], eta: new Date(START + 5000), taskId: "b" });
  await add.applyAsync({ args: [1, 3], eta: START + 7000, expires: 60, taskId: "c" });
  await add.applyAsync({ args: [1, 4], expires: new Date(START + 90_000), priority: 9, taskId: "d" });
  await add.applyAsync({ args: [1, 5], expires: START - 1000, taskId: "e" }); // already expired: allowed, the worker revokes it
  await add.applyAsync({ args: [1, 6], queue: "math", priority: 0, taskId: "f" });
  clock.now += 1000;
  await add.applyAsync({ args: [1, 7], countdown: 0, taskId: "g" });
  const byId = new Map((await published()).map((message) => [message.id, message]));
  t.equal(byId.get("a")!.eta, START + 1500, "countdown seconds become eta = now + countdown * 1000");
  t.equal(byId.get("b")!.eta, START + 5000);
  t.equal(byId.get("c")!.eta, START + 7000);
  t.equal(byId.get("c")!.expires, START + 60_000, "a small expires counts seconds from now");
  t.equal(byId.get("d")!.expires, START + 90_000);
  t.equal(byId.get("d")!.priority, 9);
  t.equal(byId.get("e")!.expires, START - 1000);
  t.equal(byId.get("g")!.eta, START + 1000);
  t.equal(byId.get("g")!.publishedAt, START + 1000);
  t.equal(byId.size, 6, "the message on another queue is not in the default one");
  const [math] = await published(["math"]);
  t.equal(math!.id, "f");
  t.equal(math!.rootId, "f", "rootId is the task's own id");
  t.notOk("eta" in math! || "expires" in math!, "absent options are left out, not undefined");
});

t.test("task options give the defaults; the call overrides them", async (t) => {
  const { queue, published } = harness({ defaultQueue: "default" });
  const report = queue.task("reports.build", (month: string) => month, { queue: "reports", priority: 7 });
  const other = queue.task("other", () => 1);
  await report.delay("2030-01");
  await report.applyAsync({ args: ["2030-02"], queue: "urgent", priority: 9 });
  await other.delay();
  await queue.sendTask("remote.task", { args: [1], kwargs: { a: 1 } });
  const [fromOptions] = await published(["reports"]);
  t.match(fromOptions, { queue: "reports", priority: 7, args: ["2030-01"] });
  const [overridden] = await published(["urgent"]);
  t.match(overridden, { queue: "urgent", priority: 9 });
  const defaults = await published(["default"]);
  t.same(defaults.map((m) => [m.task, m.queue, m.priority, m.kwargs]), [["other", "default", 0, {}], ["remote.task", "default", 0, { a: 1 }]]);
});

t.test("bad publish options throw before anything is published", async (t) => {
  const { queue, published } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  for (const priority of [10, -1, 1.5, Number.NaN, Infinity, "5" as unknown as number]) {
    await t.rejects(add.applyAsync({ args: [1, 2], priority }), RangeError, `priority ${String(priority)}`);
  }
  await t.rejects(add.applyAsync({ args: [1, 2], countdown: 5, eta: START }), TypeError, "countdown and eta together");
  await t.rejects(add.applyAsync({ args: [1, 2], countdown: Number.NaN }), RangeError);
  await t.rejects(add.applyAsync({ args: [1, 2], eta: new Date("nonsense") }), RangeError);
  await t.rejects(add.applyAsync({ args: [1, 2], expires: Number.POSITIVE_INFINITY }), RangeError);
  await t.rejects(add.applyAsync({ args: [1, 2], queue: "" }), TypeError);
  await t.rejects(add.applyAsync({ args: [1, 2], taskId: "" }), TypeError);
  await t.rejects(queue.sendTask("x", { args: "nope" as unknown as unknown[] }), TypeError);
  await t.rejects(queue.sendTask(""), TypeError);
  t.same(await published(), []);
});

t.test("bad task definitions fail at definition", async (t) => {
  const { queue } = harness();
  queue.task("taken", () => 1);
  t.throws(() => queue.task("taken", () => 2), /already registered/);
  t.throws(() => queue.task("", () => 1), TypeError);
  t.throws(() => queue.task("x", "not a function" as never), TypeError);
  t.throws(() => queue.task("p", () => 1, { priority: 12 }), RangeError);
  t.throws(() => queue.task("q", () => 1, { queue: "" }), TypeError);
  t.throws(() => queue.task("s", () => 1, { argsSchema: Type.Tuple([Type.Number({ minimun: 1 } as never)]) }), /Invalid schema/);
  t.throws(() => new TaskQueue({ broker: new MemoryBroker() } as never), TypeError);
  t.same(queue.names(), ["taken"]);
});

t.test("argsSchema: refused at publish (nothing published) and again at execution", async (t) => {
  const { queue, published } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y, {
    argsSchema: Type.Tuple([Type.Number(), Type.Number({ maximum: 100 })]),
  });
  const error = await t.rejects(add.delay(1, "2" as unknown as number), TaskArgumentsError);
  t.match((error as unknown as Error).message, /math\.add.*args\[1\]/);
  await t.rejects(add.delay(1, 101), /args\[1\]/);
  await t.rejects(add.applyAsync({ args: [1] as unknown as [number, number] }), TaskArgumentsError);
  await t.rejects(queue.sendTask("math.add", { args: [1, "x"] }), TaskArgumentsError, "by name, a locally registered task is checked too");
  t.same(await published(), [], "nothing was published");
  await add.delay(1, 2);
  t.equal((await published()).length, 1);

  const registered = queue.lookup("math.add")!;
  await t.rejects(registered.run([1, "forged"], {}, context("math.add")), TaskArgumentsError, "a forged message is refused by the worker");
  await t.rejects(registered.run("not a list" as never, {}, context("math.add")), TypeError);
  t.equal(await registered.run([1, 2], {}, context("math.add")), 3);
  await t.rejects(add.run(1, "2" as unknown as number), TaskArgumentsError, "a direct call is checked the same way");
});

t.test("kwargs arrive as one extra last argument, only when non-empty", async (t) => {
  const { queue, published } = harness();
  const seen: unknown[][] = [];
  queue.task("greet", (...args: unknown[]) => {
    seen.push(args);
    return args.length;
  });
  const registered = queue.lookup("greet")!;
  t.equal(await registered.run(["ada"], {}, context("greet")), 1);
  t.equal(await registered.run(["ada"], { polite: true }, context("greet")), 2);
  t.equal(await registered.run([], { polite: true }, context("greet")), 1);
  t.same(seen, [["ada"], ["ada", { polite: true }], [{ polite: true }]]);
  await queue.sendTask("greet", { args: ["ada"], kwargs: { polite: true } });
  const [message] = await published();
  t.same(message!.kwargs, { polite: true });
  t.same(message!.args, ["ada"]);
});

t.test("the registry a worker reads: lookup, names, options, errors and sync functions", async (t) => {
  const { queue } = harness();
  const fail = queue.task("fail", () => {
    throw new TypeError("boom");
  }, { maxRetries: 1 });
  queue.task("sync", (x: number) => x * 2);
  t.same(queue.names(), ["fail", "sync"]);
  t.equal(queue.lookup("nope"), undefined);
  const registered = queue.lookup("fail")!;
  t.equal(registered.name, "fail");
  t.same(registered.options, { maxRetries: 1 });
  t.equal(registered.options, fail.options);
  await t.rejects(registered.run([], {}, context("fail")), TypeError, "a synchronous throw becomes a rejection");
  t.equal(await queue.lookup("sync")!.run([21], {}, context("sync")), 42);
  t.equal(String(fail), "Task(fail)");
});

t.test("asyncResult, groupResult and close", async (t) => {
  const broker = new MemoryBroker();
  const backend = new MemoryResultBackend();
  const queue = new TaskQueue({ broker, backend });
  t.equal(queue.asyncResult("abc").id, "abc");
  t.throws(() => queue.asyncResult(""), TypeError);
  t.equal(await queue.groupResult("missing"), undefined);
  await backend.saveGroup("g1", ["a", "b"]);
  const group = await queue.groupResult("g1");
  t.same(group!.results.map((result) => result.id), ["a", "b"]);
  const closed: string[] = [];
  const brokerClose = broker.close.bind(broker);
  broker.close = async () => {
    closed.push("broker");
    return brokerClose();
  };
  backend.close = async () => {
    closed.push("backend");
    throw new Error("backend close failed");
  };
  await t.rejects(queue.close(), /backend close failed/, "a failing close is reported…");
  t.same(closed.sort(), ["backend", "broker"], "…after both were closed");
});
