/**
 * Celery task metas ⇄ laminar's TaskMeta, against metas Celery 5.2's Redis backend stored
 * (`store_result`, `mark_as_failure`, `mark_as_revoked`), copied here so the check runs without Python.
 */
import t from "tap";
import { fromCeleryMeta, toCeleryMeta } from "../../../../lib/tasks/celery/result-meta.js";

const PY_OK = `{"status": "SUCCESS", "result": {"sum": 5}, "traceback": null, "children": null, "date_done": "2026-11-29T05:52:53.700729", "task_id": "ok"}`;
const PY_FAIL = `{"status": "FAILURE", "result": {"exc_type": "ValueError", "exc_message": ["bad"], "exc_module": "builtins"}, "traceback": "Traceback ...", "children": null, "date_done": "2026-11-29T05:52:53.702798", "task_id": "fail"}`;
const PY_REVOKED = `{"status": "REVOKED", "result": {"exc_type": "TaskRevokedError", "exc_message": ["revoked"], "exc_module": "celery.exceptions"}, "traceback": null, "children": null, "date_done": "2026-11-29T05:52:53.703552", "task_id": "rev"}`;

t.test("Python's metas read as laminar's", async (t) => {
  t.same(fromCeleryMeta(JSON.parse(PY_OK), "ok"), { taskId: "ok", state: "SUCCESS", result: { sum: 5 }, dateDone: "2026-11-29T05:52:53.700729" });
  t.same(fromCeleryMeta(JSON.parse(PY_FAIL), "fail"), {
    taskId: "fail",
    state: "FAILURE",
    error: { type: "ValueError", message: "bad", module: "builtins", stack: "Traceback ..." },
    dateDone: "2026-11-29T05:52:53.702798",
  });
  t.same(fromCeleryMeta(JSON.parse(PY_REVOKED), "rev"), { taskId: "rev", state: "REVOKED", dateDone: "2026-11-29T05:52:53.703552" }, "Celery's own TaskRevokedError is just REVOKED");
  t.equal(fromCeleryMeta({ status: "DONE" }, "x"), undefined, "an unknown state is not a meta");
  t.equal(fromCeleryMeta("text", "x"), undefined);
  t.same(fromCeleryMeta({ status: "SUCCESS", result: null }, "x"), { taskId: "x", state: "SUCCESS", result: null }, "a null result is a result; the id from the key");
});

t.test("laminar's metas in Celery's shape", async (t) => {
  const success = toCeleryMeta({ taskId: "a", state: "SUCCESS", result: [1], children: ["c1"], dateDone: "2030-01-01T00:00:00.000Z", updatedAt: 5, name: "t", retries: 1, worker: "w" });
  t.same(success, {
    status: "SUCCESS",
    result: [1],
    traceback: null,
    children: [[["c1", null], null]],
    date_done: "2030-01-01T00:00:00.000Z",
    task_id: "a",
    name: "t",
    retries: 1,
    worker: "w",
    laminar_updated_at: 5,
  });
  const revoked = toCeleryMeta({ taskId: "r", state: "REVOKED", updatedAt: 0 });
  t.same(revoked.result, { exc_type: "TaskRevokedError", exc_message: ["revoked"], exc_module: "celery.exceptions" }, "never a null result Python would `raise`");
  t.equal(toCeleryMeta({ taskId: "s", state: "STARTED" }).date_done, null, "not ready: no date");
  const failure = toCeleryMeta({ taskId: "f", state: "FAILURE", error: { type: "ValidationError", message: "m", stack: "S" } });
  t.same([failure.result, failure.traceback], [{ exc_type: "ValidationError", exc_message: ["m"], exc_module: "laminar" }, "S"]);
});
