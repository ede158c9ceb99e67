/**
 * The shared-state example under a real `laminar serve --workers 2` (the supervisor's master and
 * two cluster workers, compiled by the master harness): 200 visits per store, each on a fresh
 * connection so the master hands them to both workers, 8 at a time.
 *
 * What it shows, and what a broken store gets wrong:
 * - memory: each worker counts its own visits (1, 2, … k with no gap or repeat), the per-worker
 *   counts add up to 200, and no worker's count is 200 — the claim that worker memory is not shared;
 * - SQLite and Redis: the 200 answers are exactly 1 … 200 (an increment that was lost, or two that
 *   returned the same number, as a read-then-write counter would under concurrency, fail this),
 *   and the final count read back is 200.
 *
 * Redis is the shared one on 127.0.0.1:6379 (a key of this test's own, deleted afterwards); its
 * part skips when Redis is absent.
 */
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { request } from "undici";
import { compileForMaster, freePort, pollPids, startMaster } from "../../lib/supervisor/master-harness.js";
import { redisUp, testPrefix } from "../../lib/tasks/redis/redis-test-support.js";

const VISITS = 200;
const PARALLEL = 8;

interface Visit {
  store: string;
  pid: number;
  visits: number;
}

/** `count` POSTs to `/visits/{store}`, `PARALLEL` at a time, each on a new connection. */
async function visit(port: number, store: string, count: number): Promise<Visit[]> {
  const answers: Visit[] = [];
  let next = 0;
  const lane = async (): Promise<void> => {
    while (next < count) {
      next++;
      const response = await request(`http://127.0.0.1:${port}/visits/${store}`, { method: "POST", reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
      const body = await response.body.text();
      if (response.statusCode !== 200) throw new Error(`POST /visits/${store}: ${response.statusCode} ${body}`);
      answers.push(JSON.parse(body) as Visit);
    }
  };
  await Promise.all(Array.from({ length: PARALLEL }, lane));
  return answers;
}

async function readCount(port: number, store: string): Promise<Visit> {
  const response = await request(`http://127.0.0.1:${port}/visits/${store}`, { reset: true, headersTimeout: 10_000, bodyTimeout: 10_000 });
  return (await response.body.json()) as Visit;
}

const range = (n: number): number[] => Array.from({ length: n }, (_, i) => i + 1);

t.setTimeout(55_000);
// The same list as test/bench/workers-serve.test.ts: one compilation serves both files.
const build = compileForMaster(t, ["bench/workers/blocking-app.ts", "examples/shared-state/app.ts", "lib/cli/bin.ts"]);
const redisAvailable = await redisUp();

t.test("a visit counter under --workers 2: memory is per worker, SQLite and Redis are shared", async (t) => {
  const dir = mkdtempSync(join(tmpdir(), "laminar-shared-state-"));
  t.teardown(() => rmSync(dir, { recursive: true, force: true }));
  const redisKey = `${testPrefix(t)}visits`;
  const port = await freePort();
  const master = startMaster(
    t,
    build,
    { target: `${build.js("examples/shared-state/app.ts")}:createSharedStateApp`, port, workers: 2, logLevel: "warn" },
    { env: { SHARED_STATE_DB: join(dir, "visits.db"), SHARED_STATE_REDIS_KEY: redisKey } },
  );
  const pids = await pollPids(port, (seen) => seen.size >= 2);
  t.equal(pids.size, 2, `two workers answer /pid\n${master.output()}`);

  t.test("memory: each worker counts its own", async (t) => {
    const answers = await visit(port, "memory", VISITS);
    const byPid = new Map<number, number[]>();
    for (const a of answers) byPid.set(a.pid, [...(byPid.get(a.pid) ?? []), a.visits]);
    t.equal(byPid.size, 2, "both workers answered");
    for (const pid of byPid.keys()) t.ok(pids.has(pid), `pid ${pid} is one of the workers`);
    const perWorker = [...byPid.values()].map((seen) => {
      t.strictSame([...seen].sort((a, b) => a - b), range(seen.length), "a worker's own answers are 1 … k");
      return seen.length;
    });
    t.equal(perWorker.reduce((a, b) => a + b, 0), VISITS, "the per-worker counts add up to every visit");
    for (const count of perWorker) t.not(count, VISITS, `no single worker saw all ${VISITS} (this one: ${count})`);
    const read = await readCount(port, "memory");
    t.ok(perWorker.includes(read.visits), "a read shows only the answering worker's count");
    t.not(read.visits, VISITS);
  });

  t.test("SQLite: one count for every worker", async (t) => {
    const answers = await visit(port, "sqlite", VISITS);
    t.equal(new Set(answers.map((a) => a.pid)).size, 2, "both workers answered");
    t.strictSame(answers.map((a) => a.visits).sort((a, b) => a - b), range(VISITS), "the answers are exactly 1 … 200: none lost, none repeated");
    t.equal((await readCount(port, "sqlite")).visits, VISITS);
  });

  t.test("Redis: one count for every worker", { skip: redisAvailable ? false : "Redis is not reachable on 127.0.0.1:6379" }, async (t) => {
    const answers = await visit(port, "redis", VISITS);
    t.equal(new Set(answers.map((a) => a.pid)).size, 2, "both workers answered");
    t.strictSame(answers.map((a) => a.visits).sort((a, b) => a - b), range(VISITS), "the answers are exactly 1 … 200: none lost, none repeated");
    t.equal((await readCount(port, "redis")).visits, VISITS);
  });

  t.test("an unknown store is a 422 naming the allowed ones", async (t) => {
    const response = await request(`http://127.0.0.1:${port}/visits/files`, { method: "POST", reset: true });
    t.equal(response.statusCode, 422);
    const body = (await response.body.json()) as { detail: Array<{ loc: string[] }> };
    t.strictSame(body.detail[0]?.loc, ["path", "store"]);
  });
});
