/**
 * Celery's broadcast revoke (kombu Mailbox body) read and written.
 */
import t from "tap";
import { parseRevoke, revokeBody } from "../../../../lib/tasks/amqp/pidbox.js";

const json = (value: unknown): Buffer => Buffer.from(JSON.stringify(value));

t.test("Python's app.control.revoke bodies: one id or a list, terminate or not", async (t) => {
  const body = { method: "revoke", arguments: { task_id: "a", terminate: false, signal: null }, destination: null, pattern: null, matcher: null };
  t.same(parseRevoke(json(body)), { taskIds: ["a"], terminate: false });
  t.same(parseRevoke(json({ ...body, arguments: { task_id: ["a", "b", 3, ""], terminate: true } })), { taskIds: ["a", "b"], terminate: true }, "non-string ids dropped");
});

t.test("not a revoke meant for every worker: ignored", async (t) => {
  const base = { method: "revoke", arguments: { task_id: "a" } };
  for (const content of [
    Buffer.from("not json"),
    json(null),
    json({ ...base, method: "ping" }),
    json({ ...base, arguments: null }),
    json({ ...base, arguments: { task_id: [] } }),
    json({ ...base, destination: ["celery@host"] }),
    json({ ...base, pattern: "celery@*", matcher: "glob" }),
  ]) {
    t.equal(parseRevoke(content), undefined, content.toString());
  }
  t.same(parseRevoke(json({ ...base, destination: [] })), { taskIds: ["a"], terminate: false }, "an empty destination is everyone");
});

t.test("laminar's body reads back with its origin, in the shape Python dispatches", async (t) => {
  const body = revokeBody("x", true, "me");
  t.same(Object.keys(body).slice(0, 5), ["method", "arguments", "destination", "pattern", "matcher"]);
  t.same(parseRevoke(json(body)), { taskIds: ["x"], terminate: true, origin: "me" });
});
