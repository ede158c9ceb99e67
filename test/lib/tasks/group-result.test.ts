import t from "tap";
import { TaskTimeoutError } from "../../../lib/errors.js";
import { GroupResult } from "../../../lib/tasks/group-result.js";
import { serializeError } from "../../../lib/tasks/task-error.js";
import { harness } from "./publish-harness.js";

function groupOf(h: ReturnType<typeof harness>, ids: string[]) {
  return new GroupResult<number[]>("g", ids.map((id) => h.queue.asyncResult<number>(id)), h.queue);
}

t.test("results in the group's order whatever order they finish in", async (t) => {
  const h = harness();
  const group = groupOf(h, ["a", "b", "c"]);
  t.equal(await group.ready(), false);
  t.equal(await group.completedCount(), 0);
  const waiting = group.get({ timeout: 30 });
  await h.backend.store({ taskId: "c", state: "SUCCESS", result: 3 });
  t.equal(await group.completedCount(), 1);
  await h.backend.store({ taskId: "a", state: "SUCCESS", result: 1 });
  t.equal(await group.ready(), false);
  await h.backend.store({ taskId: "b", state: "SUCCESS", result: 2 });
  t.same(await waiting, [1, 2, 3]);
  t.equal(await group.ready(), true);
  t.equal(await group.successful(), true);
  t.equal(await group.failed(), false);
  t.equal(await group.completedCount(), 3);
});

t.test("get throws the first failure in order; counts see it", async (t) => {
  const h = harness();
  const group = groupOf(h, ["a", "b", "c"]);
  await h.backend.store({ taskId: "a", state: "SUCCESS", result: 1 });
  await h.backend.store({ taskId: "b", state: "FAILURE", error: serializeError(new RangeError("b broke")) });
  await h.backend.store({ taskId: "c", state: "FAILURE", error: serializeError(new TypeError("c broke")) });
  const error = (await t.rejects(group.get({ timeout: 1 }))) as unknown as Error;
  t.equal(error.name, "RangeError");
  t.equal(error.message, "b broke");
  t.equal(await group.failed(), true);
  t.equal(await group.successful(), false);
  t.equal(await group.ready(), true);
  t.equal(await group.completedCount(), 1);
});

t.test("one deadline for the whole group; revoke and forget reach every member", async (t) => {
  const h = harness();
  const group = groupOf(h, ["a", "b"]);
  await h.backend.store({ taskId: "a", state: "SUCCESS", result: 1 });
  const error = (await t.rejects(group.get({ timeout: 0.01 }), TaskTimeoutError)) as unknown as Error;
  t.match(error.message, /task g /, "the timeout names the group");
  await group.revoke();
  t.equal(await h.queue.asyncResult("a").state(), "SUCCESS");
  t.equal(await h.queue.asyncResult("b").state(), "REVOKED");
  t.equal(await h.broker.isRevoked("a"), true);
  await group.forget();
  t.equal(await h.queue.asyncResult("a").state(), "PENDING");
});

t.test("an empty group is ready with no results", async (t) => {
  const h = harness();
  const group = groupOf(h, []);
  t.same(await group.get(), []);
  t.equal(await group.ready(), true);
  t.equal(await group.completedCount(), 0);
});
