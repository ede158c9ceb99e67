/**
 * The async pool on its own: the task's context and signal, soft and hard limits, the control
 * signal, and close().
 */
import t from "tap";
import { NotRegistered, SoftTimeLimitExceeded, TimeLimitExceeded } from "../../../../lib/errors.js";
import { MemoryResultBackend } from "../../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../../lib/tasks/memory/memory-broker.js";
import type { TaskContext } from "../../../../lib/tasks/registry.js";
import { AsyncPool, PoolClosedError } from "../../../../lib/tasks/worker/async-pool.js";
import { gate, message, TestRegistry } from "./harness.js";

const registry = new TestRegistry(new MemoryBroker(), new MemoryResultBackend());
const pool = new AsyncPool(registry);
const never = (signal: AbortSignal) => new Promise((_resolve, reject) => signal.addEventListener("abort", () => reject(signal.reason)));

registry.define("add", (_ctx, x: number, y: number) => x + y);
registry.define("ctx", (ctx) => ({ id: ctx.id, name: ctx.name, retries: ctx.retries, rootId: ctx.rootId, parentId: ctx.parentId, groupId: ctx.groupId }));
registry.define("throws-sync", () => {
  throw new RangeError("sync");
});
registry.define("cooperative", (ctx) => never(ctx.signal));
registry.define("stubborn", () => new Promise(() => {}));
registry.define("catches-soft", async (ctx) => {
  try {
    await never(ctx.signal);
  } catch (error) {
    return `cleaned up after ${(error as Error).name}`;
  }
});

t.test("resolves with the value; the context describes the message", async (t) => {
  const control = { signal: new AbortController().signal };
  t.equal(await pool.execute(message("add", [2, 3]), control), 5);
  const m = message("ctx", [], { retries: 2, rootId: "root", parentId: "parent", group: { id: "g", index: 0, size: 1 } });
  t.same(await pool.execute(m, control), { id: m.id, name: "ctx", retries: 2, rootId: "root", parentId: "parent", groupId: "g" });
  await t.rejects(pool.execute(message("throws-sync"), control), RangeError);
  await t.rejects(pool.execute(message("nope"), control), NotRegistered);
  t.equal(pool.size, 0, "nothing left running");
});

t.test("soft limit: the task's signal aborts with SoftTimeLimitExceeded; a task may catch it", async (t) => {
  const control = { signal: new AbortController().signal, softTimeLimitMs: 5 };
  const error = await pool.execute(message("cooperative"), control).catch((e: unknown) => e);
  t.ok(error instanceof SoftTimeLimitExceeded, "the task rethrew its signal's reason");
  t.match((error as Error).message, /0\.005s/);
  t.equal(await pool.execute(message("catches-soft"), control), "cleaned up after SoftTimeLimitExceeded");
});

t.test("hard limit: rejects with TimeLimitExceeded even when the task ignores its signal; the signal aborts too", async (t) => {
  let seen: AbortSignal | undefined;
  registry.define("sees-signal", (ctx: TaskContext) => {
    seen = ctx.signal;
    return new Promise(() => {});
  });
  const error = await pool.execute(message("sees-signal"), { signal: new AbortController().signal, hardTimeLimitMs: 5 }).catch((e: unknown) => e);
  t.ok(error instanceof TimeLimitExceeded);
  t.ok(seen?.aborted, "the task's signal was aborted so a cooperative task can stop");
  t.ok(seen?.reason instanceof TimeLimitExceeded);
  t.equal(pool.size, 0);
});

t.test("control signal: rejects with its reason at once; an already aborted one never runs the task", async (t) => {
  const controller = new AbortController();
  const running = pool.execute(message("stubborn"), { signal: controller.signal });
  const reason = new Error("terminated");
  controller.abort(reason);
  await t.rejects(running, reason);
  const before = registry.callsOf("add");
  await t.rejects(pool.execute(message("add", [1, 1]), { signal: controller.signal }), reason);
  t.equal(registry.callsOf("add"), before, "not called");
});

t.test("a task finishing before its limits clears them (no late rejection, no timer kept)", async (t) => {
  const value = await pool.execute(message("add", [1, 2]), { signal: new AbortController().signal, softTimeLimitMs: 10_000, hardTimeLimitMs: 10_000 });
  t.equal(value, 3);
  t.equal(pool.size, 0);
});

t.test("close(): running executions reject with PoolClosedError, later ones too", async (t) => {
  const own = new AsyncPool(registry);
  const held = gate();
  registry.define("held", () => held.promise);
  const running = own.execute(message("held"), { signal: new AbortController().signal });
  await own.close();
  await t.rejects(running, PoolClosedError);
  await t.rejects(own.execute(message("add", [1, 1]), { signal: new AbortController().signal }), PoolClosedError);
  held.open();
});
