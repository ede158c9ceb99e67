import t from "tap";
import { TaskRevokedError, TaskTimeoutError } from "../../../lib/errors.js";
import { AsyncResult } from "../../../lib/tasks/async-result.js";
import { serializeError, TaskFailedError } from "../../../lib/tasks/task-error.js";
import { harness } from "./publish-harness.js";

class ValueError extends Error {
  readonly code = "E_VALUE";
  constructor(message: string) {
    super(message);
    this.name = "ValueError";
  }
}

t.test("state goes PENDING → STARTED → SUCCESS as the backend records it; get returns the result", async (t) => {
  const { queue, backend } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const result = await add.delay(2, 3);
  t.equal(await result.state(), "PENDING");
  t.equal(await result.info(), undefined);
  t.equal(await result.ready(), false);
  await backend.store({ taskId: result.id, state: "RECEIVED" });
  t.equal(await result.state(), "RECEIVED");
  await backend.store({ taskId: result.id, state: "STARTED", worker: "w1" });
  t.equal(await result.state(), "STARTED");
  t.equal(await result.ready(), false);
  // The result arrives while get() waits (the wait is woken by the store, not by a timer).
  const waiting = result.get({ timeout: 30 });
  await backend.store({ taskId: result.id, state: "SUCCESS", result: 5 });
  t.equal(await waiting, 5);
  t.equal(await result.get(), 5, "no timeout: waits until ready (already is)");
  t.equal(await result.state(), "SUCCESS");
  t.equal(await result.ready(), true);
  t.equal(await result.successful(), true);
  t.equal(await result.failed(), false);
  t.match(await result.info(), { taskId: result.id, state: "SUCCESS", result: 5 });
  t.equal(String(result), `AsyncResult(${result.id})`);
});

t.test("get rebuilds a stored FAILURE: type name, message, stack, data", async (t) => {
  const { queue, backend } = harness();
  const result = queue.asyncResult<number>("failed-1");
  const original = new ValueError("bad value 7");
  await backend.store({ taskId: "failed-1", state: "FAILURE", error: serializeError(original) });
  const error = (await t.rejects(result.get({ timeout: 1 }))) as unknown as TaskFailedError;
  t.ok(error instanceof TaskFailedError);
  t.ok(error instanceof Error);
  t.equal(error.name, "ValueError");
  t.equal(error.message, "bad value 7");
  t.equal(error.stack, original.stack, "the stack of the process that raised it");
  t.equal((error as unknown as { code: string }).code, "E_VALUE");
  t.equal(error.taskId, "failed-1");
  t.equal(await result.failed(), true);
  t.equal(await result.successful(), false);
  // A FAILURE stored without an error (a foreign backend) still throws, with a message saying so.
  await backend.store({ taskId: "failed-2", state: "FAILURE" });
  await t.rejects(queue.asyncResult("failed-2").get({ timeout: 1 }), /failed without a recorded error/);
});

t.test("get times out with TaskTimeoutError, honours an abort signal, refuses a bad timeout", async (t) => {
  const { queue, backend } = harness();
  const result = queue.asyncResult("never-runs");
  const timeout = (await t.rejects(result.get({ timeout: 0.01 }), TaskTimeoutError)) as unknown as Error;
  t.match(timeout.message, /never-runs/);
  t.equal(timeout.name, "TimeoutError");
  await t.rejects(result.get({ timeout: 0 }), TaskTimeoutError, "timeout 0 looks once");
  await backend.store({ taskId: "never-runs", state: "STARTED" });
  await t.rejects(result.get({ timeout: 0 }), TaskTimeoutError, "a non-ready state is still a timeout");

  const controller = new AbortController();
  const waiting = result.get({ signal: controller.signal });
  controller.abort(new Error("caller gone"));
  await t.rejects(waiting, /caller gone/);
  await t.rejects(result.get({ signal: AbortSignal.abort(new Error("already")) }), /already/);
  for (const bad of [-1, Number.NaN, "5" as unknown as number]) {
    await t.rejects(result.get({ timeout: bad }), RangeError, `timeout ${String(bad)}`);
  }
});

t.test("revoke a pending task: the broker never delivers it, REVOKED is stored, get throws TaskRevokedError", async (t) => {
  const { queue, broker, published } = harness();
  const add = queue.task("math.add", (x: number, y: number) => x + y);
  const result = await add.delay(1, 2);
  const kept = await add.delay(3, 4);
  await result.revoke();
  t.equal(await broker.isRevoked(result.id), true);
  t.equal(await result.state(), "REVOKED");
  t.equal(await result.ready(), true);
  t.equal(await result.failed(), false, "REVOKED is not a failure, as in Celery");
  const error = await t.rejects(result.get({ timeout: 1 }));
  t.ok(error instanceof TaskRevokedError, "the catalogued class, so instanceof works");
  t.match((error as unknown as Error).message, new RegExp(`${result.id}.*revoked`));
  t.same((await published()).map((message) => message.id), [kept.id], "the revoked message is never reserved");
  const revocations = await broker.revocations(0);
  t.match(revocations, [{ taskId: result.id, terminate: false }]);
});

t.test("revoke leaves finished tasks alone, and a running one unless terminate", async (t) => {
  const { queue, backend, broker } = harness();
  await backend.store({ taskId: "done", state: "SUCCESS", result: 1 });
  await queue.asyncResult("done").revoke();
  t.equal(await queue.asyncResult("done").state(), "SUCCESS");
  t.equal(await queue.asyncResult("done").get(), 1);

  await backend.store({ taskId: "running", state: "STARTED", name: "slow" });
  await queue.asyncResult("running").revoke();
  t.equal(await queue.asyncResult("running").state(), "STARTED", "without terminate it keeps running and records its own end");
  await queue.asyncResult("running").revoke({ terminate: true });
  t.match(await queue.asyncResult("running").info(), { state: "REVOKED", name: "slow", error: { type: "TaskRevokedError" } });
  t.match(await broker.revocations(0), [{ taskId: "done" }, { taskId: "running", terminate: false }, { taskId: "running", terminate: true }]);

  await backend.store({ taskId: "retrying", state: "RETRY" });
  await queue.asyncResult("retrying").revoke();
  t.equal(await queue.asyncResult("retrying").state(), "REVOKED", "a task waiting for its retry never runs again");
});

t.test("a REVOKED stored by a worker keeps its reason", async (t) => {
  const { queue, backend } = harness();
  await backend.store({ taskId: "exp", state: "REVOKED", error: { type: "TaskRevokedError", message: "Task exp was revoked: expired" } });
  const error = await t.rejects(queue.asyncResult("exp").get());
  t.ok(error instanceof TaskRevokedError);
  t.equal((error as unknown as Error).message, "Task exp was revoked: expired");
  await backend.store({ taskId: "bare", state: "REVOKED" });
  const bare = await t.rejects(queue.asyncResult("bare").get());
  t.ok(bare instanceof TaskRevokedError);
});

t.test("forget drops the stored result", async (t) => {
  const { queue, backend } = harness();
  await backend.store({ taskId: "f", state: "SUCCESS", result: 1 });
  const result: AsyncResult<number> = queue.asyncResult<number>("f");
  await result.forget();
  t.equal(await result.state(), "PENDING");
});
