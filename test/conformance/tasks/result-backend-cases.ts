/**
 * The result backend conformance suite: every {@link ResultBackend} implementation runs it. Waits
 * are bounded and short; nothing asserts how long anything took.
 *
 * @module
 */
import type { Test } from "tap";
import type { ResultBackend, TaskMeta } from "../../../lib/tasks/result-backend.js";

/** A fake clock the factory must hand to the backend it builds (used when a meta has no `updatedAt`). */
export interface BackendClock {
  now: () => number;
}

/** Builds a fresh, empty backend using `clock`. */
export type MakeBackend = (clock: BackendClock) => ResultBackend | Promise<ResultBackend>;

const T0 = 1_800_000_000_000;

/**
 * Runs the result backend conformance cases against `make`.
 *
 * @example
 * resultBackendConformance(t, "MemoryResultBackend", (clock) => new MemoryResultBackend(clock));
 */
export function resultBackendConformance(t: Test, name: string, make: MakeBackend): void {
  const setup = async (t: Test): Promise<{ backend: ResultBackend; advance(ms: number): void }> => {
    let time = T0;
    const backend = await make({ now: () => time });
    t.teardown(() => backend.close());
    return { backend, advance: (ms) => void (time += ms) };
  };

  t.test(`${name}: store and get`, async (t) => {
    const { backend } = await setup(t);
    t.equal(await backend.get("unknown"), undefined, "unknown: undefined (PENDING)");
    const meta: TaskMeta = {
      taskId: "a",
      state: "FAILURE",
      name: "test.fail",
      error: { type: "ValueError", message: "bad ☃", stack: "ValueError: bad\n  at x", module: "builtins", data: { code: 7 } },
      retries: 2,
      worker: "host:1:0",
      dateDone: new Date(T0).toISOString(),
      children: ["b", "c"],
      updatedAt: T0 + 5,
    };
    await backend.store(meta);
    t.same(await backend.get("a"), meta, "whole");
    await backend.store({ taskId: "r", state: "SUCCESS", result: { list: [1, "x", null], n: 1.5 } });
    const stored = await backend.get("r");
    t.same(stored?.result, { list: [1, "x", null], n: 1.5 }, "a JSON result");
    t.equal(stored?.updatedAt, T0, "updatedAt filled from the clock when absent");
    const read = await backend.get("r");
    (read!.result as { n: number }).n = 99;
    t.same((await backend.get("r"))?.result, { list: [1, "x", null], n: 1.5 }, "mutating what was read changes nothing");
  });

  t.test(`${name}: a non-ready state never replaces a ready one; a ready one replaces anything`, async (t) => {
    const { backend } = await setup(t);
    await backend.store({ taskId: "a", state: "STARTED" });
    await backend.store({ taskId: "a", state: "RETRY", retries: 1 });
    t.equal((await backend.get("a"))?.state, "RETRY", "non-ready over non-ready");
    await backend.store({ taskId: "a", state: "SUCCESS", result: 5 });
    for (const state of ["PENDING", "RECEIVED", "STARTED", "RETRY"] as const) {
      await backend.store({ taskId: "a", state, worker: "late" });
      const meta = await backend.get("a");
      t.same([meta?.state, meta?.result, meta?.worker], ["SUCCESS", 5, undefined], `a late ${state} is ignored`);
    }
    await backend.store({ taskId: "a", state: "REVOKED" });
    t.equal((await backend.get("a"))?.state, "REVOKED", "ready over ready");
  });

  t.test(`${name}: waitFor resolves on a later ready store`, async (t) => {
    const { backend } = await setup(t);
    const waiting = backend.waitFor("a", { timeoutMs: 20_000 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await backend.store({ taskId: "a", state: "STARTED" });
    await backend.store({ taskId: "other", state: "SUCCESS", result: 0 });
    await new Promise((resolve) => setTimeout(resolve, 5));
    await backend.store({ taskId: "a", state: "SUCCESS", result: 42 });
    const meta = await waiting;
    t.same([meta?.state, meta?.result], ["SUCCESS", 42], "not woken by STARTED nor by another task");
    const again = await backend.waitFor("a", { timeoutMs: 1 });
    t.equal(again?.result, 42, "already ready: at once");
  });

  t.test(`${name}: waitFor gives undefined on timeout and on abort`, async (t) => {
    const { backend } = await setup(t);
    await backend.store({ taskId: "running", state: "STARTED" });
    t.equal(await backend.waitFor("running", { timeoutMs: 20 }), undefined, "timeout");
    t.equal(await backend.waitFor("never", { timeoutMs: 0 }), undefined, "zero timeout");
    const controller = new AbortController();
    const waiting = backend.waitFor("running", { timeoutMs: 60_000, signal: controller.signal });
    setTimeout(() => controller.abort(), 5);
    t.equal(await waiting, undefined, "abort");
    t.equal(await backend.waitFor("running", { timeoutMs: 60_000, signal: AbortSignal.abort() }), undefined, "already aborted");
  });

  t.test(`${name}: getMany keeps the order asked for`, async (t) => {
    const { backend } = await setup(t);
    await backend.store({ taskId: "b", state: "SUCCESS", result: "B" });
    await backend.store({ taskId: "a", state: "SUCCESS", result: "A" });
    const got = await backend.getMany(["a", "missing", "b", "a"]);
    t.same(got.map((m) => m?.result), ["A", undefined, "B", "A"]);
    t.same(await backend.getMany([]), []);
  });

  t.test(`${name}: groups`, async (t) => {
    const { backend } = await setup(t);
    t.equal(await backend.getGroup("g"), undefined);
    const members = ["m3", "m1", "m2"];
    await backend.saveGroup("g", members);
    members.push("m4");
    t.same(await backend.getGroup("g"), ["m3", "m1", "m2"], "in order, a copy");
    await backend.saveGroup("empty", []);
    t.same(await backend.getGroup("empty"), [], "an empty group is still a group");
  });

  t.test(`${name}: markGroupMember counts each member once`, async (t) => {
    const { backend } = await setup(t);
    t.same(await backend.markGroupMember("g", "m1"), { done: 1, first: true });
    t.same(await backend.markGroupMember("g", "m1"), { done: 1, first: false }, "a redelivered member counts once");
    t.same(await backend.markGroupMember("g", "m2"), { done: 2, first: true });
    t.same(await backend.markGroupMember("other", "m1"), { done: 1, first: true }, "groups are separate");
    const results = await Promise.all(["m3", "m3", "m4", "m3", "m4"].map((m) => backend.markGroupMember("g", m)));
    t.equal(results.filter((r) => r.first).length, 2, "concurrent marks: one first per member");
    t.equal(results.filter((r) => r.first && r.done === 4).length, 1, "exactly one call sees the group complete first");
  });

  t.test(`${name}: recent, newest first, by state`, async (t) => {
    const { backend, advance } = await setup(t);
    await backend.store({ taskId: "old-fail", state: "FAILURE", updatedAt: T0 - 3_000 });
    await backend.store({ taskId: "ok", state: "SUCCESS", updatedAt: T0 - 2_000 });
    await backend.store({ taskId: "new-fail", state: "FAILURE", updatedAt: T0 - 1_000 });
    advance(10);
    await backend.store({ taskId: "running", state: "STARTED" });
    t.same((await backend.recent({ limit: 10 })).map((m) => m.taskId), ["running", "new-fail", "ok", "old-fail"]);
    t.same((await backend.recent({ limit: 2 })).map((m) => m.taskId), ["running", "new-fail"], "limit");
    t.same((await backend.recent({ state: "FAILURE", limit: 10 })).map((m) => m.taskId), ["new-fail", "old-fail"]);
    t.same(await backend.recent({ state: "REVOKED", limit: 10 }), []);
    await backend.store({ taskId: "old-fail", state: "SUCCESS", updatedAt: T0 + 50 });
    t.same((await backend.recent({ limit: 1 })).map((m) => [m.taskId, m.state]), [["old-fail", "SUCCESS"]], "a new store moves it to the front");
    t.same((await backend.recent({ state: "FAILURE", limit: 10 })).map((m) => m.taskId), ["new-fail"], "by its current state");
  });

  t.test(`${name}: a broken meta is refused at store`, async (t) => {
    const { backend } = await setup(t);
    const bad: unknown[] = [
      null,
      { state: "SUCCESS" },
      { taskId: "", state: "SUCCESS" },
      { taskId: 7, state: "SUCCESS" },
      { taskId: "x", state: "DONE" },
      { taskId: "x", state: undefined },
      { taskId: "x", state: "SUCCESS", result: 10n },
    ];
    for (const meta of bad) await t.rejects(backend.store(meta as TaskMeta), TypeError);
    t.equal(await backend.get("x"), undefined, "nothing stored");
    await backend.store({ taskId: "x", state: "SUCCESS", updatedAt: Number.NaN });
    t.equal((await backend.get("x"))?.updatedAt, T0, "a non-finite updatedAt is replaced by the clock's");
  });

  t.test(`${name}: forget`, async (t) => {
    const { backend } = await setup(t);
    await backend.store({ taskId: "a", state: "SUCCESS", result: 1 });
    await backend.store({ taskId: "b", state: "SUCCESS", result: 2 });
    await backend.forget("a");
    await backend.forget("never-stored");
    t.equal(await backend.get("a"), undefined);
    t.equal((await backend.get("b"))?.result, 2, "others stay");
    t.same((await backend.recent({ limit: 10 })).map((m) => m.taskId), ["b"]);
    await backend.store({ taskId: "a", state: "STARTED" });
    t.equal((await backend.get("a"))?.state, "STARTED", "forgotten: a non-ready state can be stored again");
  });
}
