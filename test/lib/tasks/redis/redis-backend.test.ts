/**
 * RedisResultBackend against Python Celery's own Redis backend: results Python stores are read by
 * laminar (a value, a ValueError), results laminar stores are read by Python's `AsyncResult.get()`
 * (a value; a laminar error raised as an exception of the same name, not a SecurityError or a bare
 * RuntimeError), a Python store wakes a laminar `waitFor`, and a group laminar saved is restored by
 * Python's `GroupResult.restore`.
 */
import { randomUUID } from "node:crypto";
import t from "tap";
import { RedisResultBackend } from "../../../../lib/tasks/redis/redis-backend.js";
import { pythonCeleryUp, REDIS_URL, redisUp, runPython, testPrefix } from "./redis-test-support.js";

const redisAvailable = await redisUp();
const skip = !redisAvailable
  ? `no Redis at ${REDIS_URL}`
  : pythonCeleryUp()
    ? false
    : "Python Celery is not installed (apt-get install python3-celery python3-redis)";

const ids = (): string[] => Array.from({ length: 4 }, () => `laminar-test-${randomUUID()}`);

const PY_STORE = `
import json, sys, time
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', backend=cfg['url'])
time.sleep(cfg.get('delay', 0))
app.backend.store_result(cfg['ids'][0], {'sum': 5}, 'SUCCESS')
try:
    raise ValueError('bad ☃')
except ValueError as e:
    app.backend.mark_as_failure(cfg['ids'][1], e, traceback='Traceback (most recent call last):\\n  ValueError')
print(json.dumps('ok'))
`;

t.test("Python stores → laminar reads (and waitFor wakes)", { skip }, async (t) => {
  const taskIds = ids();
  testPrefix(t, () => taskIds.map((id) => `celery-task-meta-${id}`));
  const backend = new RedisResultBackend({ url: REDIS_URL });
  t.teardown(() => backend.close());
  const waiting = backend.waitFor(taskIds[1]!, { timeoutMs: 25_000 });
  await runPython(PY_STORE, { url: REDIS_URL, ids: taskIds, delay: 0.3 });
  const failed = await waiting;
  t.equal(failed?.state, "FAILURE", "woken by Python's PUBLISH");
  t.same([failed?.error?.type, failed?.error?.message, failed?.error?.module], ["ValueError", "bad ☃", "builtins"]);
  t.match(failed?.error?.stack, /^Traceback/);
  const ok = await backend.get(taskIds[0]!);
  t.same([ok?.state, ok?.result, ok?.taskId], ["SUCCESS", { sum: 5 }, taskIds[0]]);
  t.type(ok?.dateDone, "string");
});

const PY_GET = `
import json, sys
from celery import Celery
from celery.result import GroupResult
cfg = json.load(sys.stdin)
app = Celery('t', backend=cfg['url'])
out = {}
out['value'] = app.AsyncResult(cfg['ids'][0]).get(timeout=10)
try:
    app.AsyncResult(cfg['ids'][1]).get(timeout=10)
    out['error'] = None
except Exception as e:
    out['error'] = [type(e).__name__, type(e).__module__, list(e.args), isinstance(e, Exception)]
try:
    app.AsyncResult(cfg['ids'][2]).get(timeout=10)
    out['builtin'] = None
except Exception as e:
    out['builtin'] = [type(e).__name__, type(e).__module__, list(e.args)]
out['children'] = [c.id for c in (app.AsyncResult(cfg['ids'][0]).children or [])]
g = GroupResult.restore(cfg['group'], app=app)
out['group'] = [r.id for r in g.results] if g else None
out['chord_size'] = app.backend.client.get('celery-taskset-meta-' + cfg['group'] + '.s').decode()
print(json.dumps(out))
`;

t.test("laminar stores → Python's AsyncResult.get() returns or raises", { skip }, async (t) => {
  const taskIds = ids();
  const group = `laminar-test-${randomUUID()}`;
  testPrefix(t, () => [
    ...taskIds.map((id) => `celery-task-meta-${id}`),
    `celery-taskset-meta-${group}`,
    `celery-taskset-meta-${group}.s`,
  ]);
  const backend = new RedisResultBackend({ url: REDIS_URL });
  t.teardown(() => backend.close());
  await backend.store({ taskId: taskIds[0]!, state: "SUCCESS", result: [1, "two"], children: [taskIds[3]!] });
  await backend.store({ taskId: taskIds[1]!, state: "FAILURE", error: { type: "ValidationError", message: "price must be positive", stack: "ValidationError: …" } });
  await backend.store({ taskId: taskIds[2]!, state: "FAILURE", error: { type: "TypeError", message: "x is not a function" } });
  await backend.saveGroup(group, taskIds.slice(0, 3));
  const out = (await runPython(PY_GET, { url: REDIS_URL, ids: taskIds, group })) as Record<string, unknown>;
  t.same(out.value, [1, "two"]);
  t.same(out.error, ["ValidationError", "celery.exceptions", ["price must be positive"], true], "a laminar error arrives as an Exception subclass of its name");
  t.same(out.builtin, ["TypeError", "builtins", ["x is not a function"]], "a Python builtin name arrives as that builtin");
  t.same(out.children, [taskIds[3]], "children as Celery result tuples");
  t.same(out.group, taskIds.slice(0, 3), "GroupResult.restore reads laminar's group");
  t.equal(out.chord_size, "3", "the chord size key Python's workers read");
});

t.test("chord members counted in Celery's .j set, with the size from .s", { skip: redisAvailable ? false : `no Redis at ${REDIS_URL}` }, async (t) => {
  const prefix = testPrefix(t);
  const backend = new RedisResultBackend({ url: REDIS_URL, prefix });
  t.teardown(() => backend.close());
  const { Redis } = await import("ioredis");
  const redis = new Redis(REDIS_URL);
  t.teardown(() => redis.quit());

  await backend.saveGroup("g", ["a", "b"]);
  t.same(await backend.markGroupMember("g", "a", { index: 0, state: "SUCCESS", result: { n: 1 } }), { done: 1, first: true, size: 2 });
  t.same(await backend.markGroupMember("g", "a", { index: 0, state: "SUCCESS", result: { n: 99 } }), { done: 1, first: false, size: 2 }, "a redelivery with another result counts once");
  const failure = { type: "ValueError", message: "bad" };
  t.same(await backend.markGroupMember("g", "b", { index: 1, state: "FAILURE", error: failure }), { done: 2, first: true, size: 2 });
  const entries = (await redis.zrange(`${prefix}celery-taskset-meta-g.j`, 0, -1)).map((e) => JSON.parse(e) as unknown);
  t.same(entries, [
    [1, "a", "SUCCESS", { n: 1 }],
    [1, "b", "FAILURE", { exc_type: "ValueError", exc_message: ["bad"], exc_module: "builtins" }],
  ], "entries as Python's on_chord_part_return writes and unpacks them");

  // A chord Python started: no taskset meta, its size in .s (plus .t), a Python member already in .j.
  await redis.set(`${prefix}celery-taskset-meta-py.s`, "2");
  await redis.set(`${prefix}celery-taskset-meta-py.t`, "1");
  await redis.zadd(`${prefix}celery-taskset-meta-py.j`, 2, JSON.stringify([1, "python-member", "SUCCESS", 3]));
  t.same(await backend.markGroupMember("py", "laminar-member", { index: 0, state: "SUCCESS", result: 4 }), { done: 2, first: true, size: 3 }, "size is .s + .t");
  t.same(await backend.getGroup("py"), ["laminar-member", "python-member"], "members from .j in group-index order");
  t.same(await backend.markGroupMember("plain", "m"), { done: 1, first: true }, "a group without .s keeps laminar's own count, no size");
  t.equal(await backend.getGroup("nothing"), undefined);
});
