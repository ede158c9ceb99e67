/**
 * The shared-state example in one process (the in-process test client, no workers): every store
 * counts right when there is one process, the SQLite count survives a restart (it is in the file)
 * while the memory one does not, and a Redis that is down makes only the Redis route fail, with a
 * 503, while memory and SQLite keep counting.
 */
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { createServer } from "node:net";
import { TestClient } from "../../../lib/test-client.js";
import { createSharedStateApp } from "../../../examples/shared-state/app.js";
import { redisUp, REDIS_URL, testPrefix } from "../../lib/tasks/redis/redis-test-support.js";

const redisAvailable = await redisUp();

/** A port nothing listens on: bound, read, released. */
async function closedPort(): Promise<number> {
  const probe = createServer();
  await new Promise<void>((done) => probe.listen(0, "127.0.0.1", done));
  const { port } = probe.address() as { port: number };
  await new Promise((done) => probe.close(done));
  return port;
}

t.test("one process: memory and SQLite count every visit; SQLite keeps its count across a restart", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-shared-state-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const options = { databaseFile: join(dir, "visits.db"), redisUrl: `redis://127.0.0.1:${await closedPort()}/0` };
  const first = new TestClient(createSharedStateApp(options));
  await first.start();
  for (let i = 1; i <= 3; i++) {
    for (const store of ["memory", "sqlite"]) {
      const response = await first.post(`/visits/${store}`);
      t.equal(response.status, 200);
      t.strictSame(response.json(), { store, pid: process.pid, visits: i });
    }
  }
  await first.stop();
  const second = new TestClient(createSharedStateApp(options));
  await second.start();
  t.equal((await second.get("/visits/sqlite")).json<{ visits: number }>().visits, 3, "the file kept the count");
  t.equal((await second.get("/visits/memory")).json<{ visits: number }>().visits, 0, "a new process starts from zero");
  await second.stop();
});

t.test("Redis down: its route answers 503, the others keep working", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-shared-state-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = new TestClient(createSharedStateApp({ databaseFile: join(dir, "visits.db"), redisUrl: `redis://127.0.0.1:${await closedPort()}/0` }), { raiseServerExceptions: false });
  await client.start();
  t.teardown(() => client.stop());
  const redis = await client.post("/visits/redis");
  t.equal(redis.status, 503);
  t.match(redis.json<{ detail: string }>().detail, /Redis at redis:\/\/127\.0\.0\.1:\d+\/0 is not reachable/);
  t.equal((await client.get("/visits/redis")).status, 503);
  t.equal((await client.post("/visits/memory")).status, 200);
  t.equal((await client.post("/visits/sqlite")).status, 200);
});

t.test("Redis up, one process: INCR counts every visit, concurrent ones included", { skip: redisAvailable ? false : "Redis is not reachable on 127.0.0.1:6379" }, async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-shared-state-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const client = new TestClient(createSharedStateApp({ databaseFile: join(dir, "visits.db"), redisUrl: REDIS_URL, redisKey: `${testPrefix(t)}visits` }));
  await client.start();
  t.teardown(() => client.stop());
  const answers = await Promise.all(Array.from({ length: 20 }, () => client.post("/visits/redis")));
  t.strictSame(answers.map((a) => a.json<{ visits: number }>().visits).sort((a, b) => a - b), Array.from({ length: 20 }, (_, i) => i + 1));
  t.equal((await client.get("/visits/redis")).json<{ visits: number }>().visits, 20);
});
