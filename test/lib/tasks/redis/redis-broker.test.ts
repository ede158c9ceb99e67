/**
 * RedisBroker beyond the conformance suite: messages Python Celery puts on Redis are read by laminar
 * (priorities mapped, an ETA task moved to the delayed set rather than delivered early), messages
 * laminar puts there are read by kombu, and a waiting reserve survives its Redis restarting.
 */
import { spawn, type ChildProcess } from "node:child_process";
import { createServer } from "node:net";
import { Redis } from "ioredis";
import t from "tap";
import { RedisBroker } from "../../../../lib/tasks/redis/redis-broker.js";
import { makeMessage } from "../../../conformance/tasks/broker-cases.js";
import { pythonCeleryUp, REDIS_URL, redisUp, runPython, testPrefix } from "./redis-test-support.js";

const redisAvailable = await redisUp();
const pythonAvailable = redisAvailable && pythonCeleryUp();
const noRedis = redisAvailable ? false : `no Redis at ${REDIS_URL}`;
const noPython = !redisAvailable ? noRedis : pythonAvailable ? false : "Python Celery is not installed (apt-get install python3-celery python3-redis)";

const PY_SEND = `
import json, sys
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', broker=cfg['url'])
app.conf.broker_transport_options = {'global_keyprefix': cfg['prefix']}
ids = []
ids.append(app.send_task('math.add', args=[2, 3], kwargs={'z': 1}, queue=cfg['queue']).id)
ids.append(app.send_task('math.add', args=[1, 1], queue=cfg['queue'], priority=9).id)
ids.append(app.send_task('math.add', args=[0, 0], queue=cfg['queue'], countdown=3600).id)
print(json.dumps(ids))
`;

t.test("Python Celery → laminar over Redis", { skip: noPython }, async (t) => {
  const prefix = testPrefix(t);
  const queue = `py-${prefix.slice(13, 21)}`;
  const [plain, lowest, later] = (await runPython(PY_SEND, { url: REDIS_URL, prefix, queue })) as string[];
  const broker = new RedisBroker({ url: REDIS_URL, prefix });
  t.teardown(() => broker.close());
  const got = await broker.reserve({ queues: [queue], max: 10, visibilityTimeoutMs: 30_000, consumer: "test" });
  t.same(got.map((d) => d.message.id), [plain, lowest], "Python's default priority (0, first on Redis) before its priority 9 (last on Redis); the ETA task not delivered");
  const first = got[0]!.message;
  t.same([first.task, first.args, first.kwargs, first.queue, first.priority, first.retries, first.rootId], ["math.add", [2, 3], { z: 1 }, queue, 9, 0, plain]);
  t.equal(got[1]!.message.priority, 0, "Redis priority 9 is laminar's lowest");
  const stats = (await broker.stats()).find((s) => s.queue === queue);
  t.same([stats?.leased, stats?.delayed], [2, 1], "the countdown task waits in laminar's delayed set, not in a worker");
  t.ok(later);
  for (const d of got) t.equal(await broker.ack(d), true);
});

const PY_READ = `
import json, sys
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', broker=cfg['url'])
app.conf.broker_transport_options = {'global_keyprefix': cfg['prefix']}
out = []
with app.connection_for_read() as conn:
    q = conn.SimpleQueue(cfg['queue'], no_ack=True)
    for _ in range(2):
        m = q.get(timeout=10)
        out.append({'headers': m.headers, 'body': m.decode(), 'priority': m.properties.get('priority'), 'content_type': m.content_type})
    q.close()
print(json.dumps(out))
`;

t.test("laminar → kombu over Redis: the envelope, headers and body Python reads", { skip: noPython }, async (t) => {
  const prefix = testPrefix(t);
  const queue = `lam-${prefix.slice(13, 21)}`;
  const broker = new RedisBroker({ url: REDIS_URL, prefix });
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "low", queue, args: [1, "x"], kwargs: { k: [true] }, priority: 0 }));
  await broker.publish(makeMessage({ id: "high", queue, args: [2], priority: 9, chain: [{ task: "next", id: "n1", args: [], kwargs: {}, options: {} }] }));
  const read = (await runPython(PY_READ, { url: REDIS_URL, prefix, queue })) as { headers: Record<string, unknown>; body: unknown; priority: number; content_type: string }[];
  t.same(read.map((m) => m.headers.id), ["high", "low"], "kombu takes laminar's priority 9 first");
  t.same(read.map((m) => m.priority), [0, 9], "written in Redis order");
  t.equal(read[0]!.content_type, "application/json");
  t.same(read[1]!.body, [[1, "x"], { k: [true] }, { callbacks: null, errbacks: null, chain: null, chord: null }]);
  t.same((read[0]!.body as unknown[])[2], { callbacks: null, errbacks: null, chain: [{ task: "next", args: [], kwargs: {}, options: { task_id: "n1" }, subtask_type: null, immutable: false }], chord: null });
  t.equal(read[1]!.headers.task, "test.noop");
  t.equal(read[1]!.headers.lang, "py");
});

/** A port nobody listens on now. */
function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.listen(0, "127.0.0.1", () => {
      const address = server.address();
      server.close(() => (typeof address === "object" && address ? resolve(address.port) : reject(new Error("no port"))));
    });
  });
}

async function startRedis(port: number): Promise<ChildProcess> {
  const child = spawn("redis-server", ["--port", String(port), "--bind", "127.0.0.1", "--save", "", "--appendonly", "no"], { stdio: "ignore" });
  const deadline = Date.now() + 10_000;
  while (Date.now() < deadline) {
    if (await redisUp(`redis://127.0.0.1:${port}`)) return child;
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
  child.kill("SIGKILL");
  throw new Error("redis-server did not start");
}

t.test("a waiting reserve goes on after its Redis restarts (celery#8030)", { skip: redisAvailable ? false : noRedis }, async (t) => {
  const port = await freePort();
  let server = await startRedis(port);
  t.teardown(() => void server.kill("SIGKILL"));
  const url = `redis://127.0.0.1:${port}`;
  const broker = new RedisBroker({ url });
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "before" }));
  const [before] = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 60_000, consumer: "c" });
  t.equal(before?.message.id, "before");
  // A reserve blocked in BRPOP when the server dies.
  const controller = new AbortController();
  const loop = (async () => {
    const deadline = Date.now() + 30_000;
    while (Date.now() < deadline && !controller.signal.aborted) {
      try {
        const got = await broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 60_000, consumer: "c", waitMs: 1000, signal: controller.signal });
        if (got.length > 0) return got[0]!.message.id;
      } catch {
        await new Promise((resolve) => setTimeout(resolve, 100));
      }
    }
    return undefined;
  })();
  await new Promise((resolve) => setTimeout(resolve, 200));
  server.kill("SIGKILL");
  await new Promise((resolve) => server.once("exit", resolve));
  await new Promise((resolve) => setTimeout(resolve, 500));
  server = await startRedis(port);
  const publisher = new Redis(url);
  t.teardown(() => publisher.disconnect());
  const other = new RedisBroker({ redis: publisher });
  await other.publish(makeMessage({ id: "after" }));
  t.equal(await loop, "after", "consuming again without a restart of the consumer");
  controller.abort();
});

const PY_RESTORE = `
import json, sys
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', broker=cfg['url'])
app.conf.broker_transport_options = {'global_keyprefix': cfg['prefix'], 'visibility_timeout': 1}
with app.connection_for_read() as conn:
    conn.default_channel.qos.restore_visible()
    q = conn.SimpleQueue(cfg['queue'], no_ack=True)
    m = q.get(timeout=10)
    out = {'id': m.headers['id'], 'redelivered': m.headers.get('redelivered')}
    q.close()
print(json.dumps(out))
`;

const PY_TAKE_AND_DIE = `
import json, os, sys
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', broker=cfg['url'])
app.conf.broker_transport_options = {'global_keyprefix': cfg['prefix']}
conn = app.connection_for_read()
q = conn.SimpleQueue(cfg['queue'], no_ack=False)
m = q.get(timeout=10)
print(json.dumps(m.headers['id']), flush=True)
os._exit(0)  # no ack and no clean-up: as a worker killed mid-task
`;

t.test("kombu's restore_visible gives back a lapsed laminar lease, and laminar restores a lapsed kombu one", { skip: noPython }, async (t) => {
  const prefix = testPrefix(t);
  const queue = `restore-${prefix.slice(13, 21)}`;
  // Python's visibility_timeout is 1 s here; laminar is told so, and leases for 1 ms.
  const broker = new RedisBroker({ url: REDIS_URL, prefix, kombuVisibilityTimeoutMs: 1000 });
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "laminar-leased", queue }));
  const [leased] = await broker.reserve({ queues: [queue], max: 1, visibilityTimeoutMs: 1, consumer: "c" });
  t.equal(leased?.message.id, "laminar-leased");
  await new Promise((resolve) => setTimeout(resolve, 20));
  const restored = (await runPython(PY_RESTORE, { url: REDIS_URL, prefix, queue })) as { id: string; redelivered: boolean };
  t.same(restored, { id: "laminar-leased", redelivered: true }, "Python restored laminar's lapsed lease and took it");
  t.equal(await broker.ack(leased!), false, "the laminar lease is gone");

  await broker.publish(makeMessage({ id: "python-leased", queue, args: [1, { a: [] }] }));
  t.equal(await runPython(PY_TAKE_AND_DIE, { url: REDIS_URL, prefix, queue }), "python-leased");
  t.same(await broker.reserve({ queues: [queue], max: 1, visibilityTimeoutMs: 60_000, consumer: "c" }), [], "Python's lease is held");
  const deadline = Date.now() + 10_000;
  let again: Awaited<ReturnType<RedisBroker["reserve"]>> = [];
  while (again.length === 0 && Date.now() < deadline) {
    again = await broker.reserve({ queues: [queue], max: 1, visibilityTimeoutMs: 60_000, consumer: "c", waitMs: 200 });
  }
  t.equal(again[0]?.message.id, "python-leased", "laminar restored the dead Python worker's lapsed lease");
  t.same(again[0]?.message.args, [1, { a: [] }], "the envelope came back intact (an empty list stays a list)");
});

const PY_REVOKE = `
import json, sys
from celery import Celery
cfg = json.load(sys.stdin)
app = Celery('t', broker=cfg['url'])
app.conf.broker_transport_options = {'global_keyprefix': cfg['prefix']}
app.control.revoke(cfg['id'], terminate=True)
print(json.dumps('sent'))
`;

t.test("revoke travels both ways on Celery's celery.pidbox broadcast", { skip: noPython }, async (t) => {
  const prefix = testPrefix(t);
  const broker = new RedisBroker({ url: REDIS_URL, prefix });
  t.teardown(() => broker.close());
  const channel = `${prefix}/0.celery.pidbox`;
  const watcher = new Redis(REDIS_URL);
  t.teardown(() => watcher.disconnect());
  const heard: string[] = [];
  watcher.on("message", (_c: string, text: string) => heard.push(text));
  await watcher.subscribe(channel);

  t.same(await broker.revocations(0), [], "the first poll starts listening");
  const deadline = Date.now() + 10_000;
  const admin = new Redis(REDIS_URL);
  t.teardown(() => admin.disconnect());
  // Wait until the broker's listener is subscribed too (the watcher is the other subscriber).
  while (Date.now() < deadline && Number(((await admin.call("PUBSUB", "NUMSUB", channel)) as [string, number])[1]) < 2) {
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
  await runPython(PY_REVOKE, { url: REDIS_URL, prefix, id: "py-revoked" });
  let revocations = await broker.revocations(0);
  while (revocations.length === 0 && Date.now() < deadline) {
    await new Promise((resolve) => setTimeout(resolve, 20));
    revocations = await broker.revocations(0);
  }
  t.same(revocations.map((r) => [r.taskId, r.terminate]), [["py-revoked", true]], "Python's app.control.revoke is recorded");
  t.equal(await broker.isRevoked("py-revoked"), true);

  await broker.revoke("lam-revoked", { terminate: true });
  while (heard.length < 2 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 20));
  const ours = JSON.parse(heard[1]!) as { body: string; properties: { delivery_info: unknown } };
  t.same(JSON.parse(Buffer.from(ours.body, "base64").toString("utf8")), {
    method: "revoke",
    arguments: { task_id: "lam-revoked", terminate: true, signal: "SIGTERM" },
    destination: null,
    pattern: null,
    matcher: null,
  }, "laminar's broadcast has the body Celery's control sends");
  t.same(ours.properties.delivery_info, { exchange: "celery.pidbox", routing_key: "" });
  await new Promise((resolve) => setTimeout(resolve, 50));
  t.same((await broker.revocations(0)).map((r) => r.taskId), ["py-revoked", "lam-revoked"], "its own broadcast is not recorded twice");
});

t.test("etaOnQueue: an ETA message goes on the queue at once for Python workers to hold", { skip: noPython }, async (t) => {
  const prefix = testPrefix(t);
  const queue = `eta-${prefix.slice(13, 21)}`;
  const broker = new RedisBroker({ url: REDIS_URL, prefix, etaOnQueue: true });
  t.teardown(() => broker.close());
  const eta = Date.now() + 3_600_000;
  await broker.publishMany([makeMessage({ id: "e1", queue, eta }), makeMessage({ id: "e2", queue, eta: eta + 1 })]);
  const read = (await runPython(PY_READ, { url: REDIS_URL, prefix, queue })) as { headers: Record<string, unknown> }[];
  t.same(read.map((m) => m.headers.id), ["e1", "e2"], "kombu gets them before they are due");
  t.equal(Date.parse(String(read[0]!.headers.eta)), eta, "with the eta header a Python worker waits for");

  await broker.publish(makeMessage({ id: "e3", queue, eta }));
  t.same(await broker.reserve({ queues: [queue], max: 5, visibilityTimeoutMs: 60_000, consumer: "c" }), [], "a laminar worker does not get it early");
  const stats = (await broker.stats()).find((s) => s.queue === queue);
  t.same([stats?.ready, stats?.delayed, stats?.leased], [0, 1, 0], "it moved it to the delayed set instead");
});
