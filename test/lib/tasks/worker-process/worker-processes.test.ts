/**
 * `laminar worker --processes 2` as real processes: the compiled CLI (compiled as the supervisor's
 * tests compile the master, see master-harness.ts) starts the master, which forks two compiled task
 * worker entries on a temporary SQLite broker. Tasks published from this test run there; a worker
 * killed with SIGKILL is replaced by the master and its acksLate task runs again; SIGTERM lets a
 * running task finish and every process exits, the master with 0. Bounded counts and deadlines.
 */
import t, { type Test } from "tap";
import { spawn } from "node:child_process";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { compileForMaster, root } from "../../supervisor/master-harness.js";
import { connectBackend, connectBroker } from "../../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";

const FIXTURE = "test/fixtures/tasks/queue-tasks.ts";
const build = compileForMaster(t, ["lib/cli/bin.ts", "lib/tasks/worker-process/task-worker-main.ts", "lib/tasks/worker/process-pool-child.ts", FIXTURE]);

const dir = mkdtempSync(join(tmpdir(), "laminar-worker-processes-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "tasks.db");

type Log = Record<string, unknown>;

function alive(pid: number): boolean {
  try {
    process.kill(pid, 0);
    return true;
  } catch {
    return false;
  }
}

async function until<T>(probe: () => T | undefined | false | Promise<T | undefined | false>, what: string, output: () => string, ms = 30_000): Promise<T> {
  const deadline = Date.now() + ms;
  for (;;) {
    const value = await probe();
    if (value !== undefined && value !== false) return value;
    if (Date.now() > deadline) throw new Error(`timed out waiting for ${what}:\n${output()}`);
    await new Promise((resolve) => setTimeout(resolve, 50));
  }
}

interface Running {
  output(): string;
  logs(): Log[];
  listening(): number[];
  exited: Promise<number | null>;
  kill(signal: NodeJS.Signals): void;
}

/** Runs the compiled `laminar worker <fixture> ...args` on the test's SQLite file; SIGKILLed when `t` ends. */
function laminarWorker(t: Test, args: string[]): Running {
  const child = spawn(process.execPath, [build.js("lib/cli/bin.ts"), "worker", build.js(FIXTURE), ...args], {
    cwd: root,
    env: { ...process.env, LAMINAR_TEST_TASKS_DB: file, LOG_LEVEL: "info" },
    stdio: ["ignore", "pipe", "pipe"],
  });
  t.teardown(() => void child.kill("SIGKILL"));
  let text = "";
  child.stdout!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  child.stderr!.on("data", (chunk: Buffer) => (text += chunk.toString()));
  const logs = (): Log[] =>
    text.split("\n").flatMap((line) => {
      if (!line.startsWith("{")) return [];
      try {
        return [JSON.parse(line) as Log];
      } catch {
        return [];
      }
    });
  return {
    output: () => text,
    logs,
    listening: () => logs().filter((l) => l.msg === "supervisor: worker listening").map((l) => l.worker as number),
    exited: new Promise<number | null>((resolve) => child.on("exit", (code) => resolve(code))),
    kill: (signal) => void child.kill(signal),
  };
}

function exitCode(run: Running): Promise<number | null> {
  return Promise.race([run.exited, new Promise<never>((_, fail) => setTimeout(() => fail(new Error(`master still running:\n${run.output()}`)), 40_000).unref())]);
}

t.test("two supervised task workers: run tasks, a killed one is replaced, SIGTERM stops all with 0", async (t) => {
  const run = laminarWorker(t, ["--processes", "2", "-c", "4", "--graceful-timeout", "15", "--visibility-timeout", "2"]);
  const { output, logs, listening } = run;
  const first = await until(() => listening().length >= 2 && listening(), "two workers listening", output);
  t.equal(new Set(first).size, 2);
  t.ok(logs().some((l) => l.msg === "supervisor: worker listening" && l.url === "tasks://celery"), "the task worker reports its queues as its url");

  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${file}`), backend: connectBackend(`sqlite://${file}`) });
  t.teardown(() => queue.close());

  // Tasks published from here run in the workers.
  const results = await Promise.all(Array.from({ length: 20 }, (_, i) => queue.sendTask("math.add", { args: [i, 1] })));
  const values = await Promise.all(results.map((r) => r.get({ timeout: 30 })));
  t.same(values, Array.from({ length: 20 }, (_, i) => i + 1));
  const ranIn = new Set(await Promise.all(Array.from({ length: 6 }, async () => (await queue.sendTask("pid")).get({ timeout: 30 }) as Promise<number>)));
  for (const pid of ranIn) t.ok(first.includes(pid), `ran in a supervised worker (${pid})`);
  const workers = await until(async () => {
    const seen = await queue.broker.workers(10_000);
    return seen.length >= 2 && seen;
  }, "both workers' broker heartbeats", output);
  t.same(new Set(workers.map((w) => w.pid)), new Set(first), "inspect sees both workers");

  // kill -9 one worker while it runs a long acksLate task: the master replaces it and the task runs again.
  const long = await queue.sendTask("sleep", { args: [4000] });
  // STARTED names the worker (its id); the broker's worker list maps that id to a pid.
  const victim = await until(async () => {
    const meta = await queue.backend.get(long.id);
    if (meta?.state !== "STARTED" || meta.worker === undefined) return undefined;
    return (await queue.broker.workers(10_000)).find((w) => w.id === meta.worker)?.pid;
  }, "the sleep task to start", output);
  process.kill(victim, "SIGKILL");
  const replacement = await until(() => listening().find((pid) => !first.includes(pid)), "a replacement worker", output);
  t.not(replacement, victim);
  t.ok(logs().some((l) => l.msg === "supervisor: worker died; replacing it" && l.worker === victim), "the master saw the death");
  const rerun = (await long.get({ timeout: 30 })) as number;
  t.not(rerun, victim, "the killed worker's acksLate task ran again in a live worker (its lease lapsed)");

  // SIGTERM while a task runs: it finishes, then everything exits with 0.
  const last = await queue.sendTask("sleep", { args: [800] });
  await until(async () => (await last.state()) === "STARTED", "the last task to start", output);
  const pids = [...new Set([...first, replacement])].filter((pid) => pid !== victim);
  run.kill("SIGTERM");
  t.equal(await exitCode(run), 0, output());
  t.equal(await last.state(), "SUCCESS", "the running task finished during the graceful stop");
  for (const pid of pids) t.notOk(alive(pid), `worker ${pid} exited`);
  t.match(output(), /supervisor: graceful shutdown/);
});

t.test("--max-tasks-per-child on the async pool: the worker process retires and the master replaces it", async (t) => {
  const run = laminarWorker(t, ["--max-tasks-per-child", "3", "-c", "1", "--graceful-timeout", "10"]);
  const [first] = await until(() => run.listening().length >= 1 && run.listening(), "the worker listening", run.output);
  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${file}`), backend: connectBackend(`sqlite://${file}`) });
  t.teardown(() => queue.close());
  // The first three run where they can only run: in the first worker (one at a time, no other process yet).
  for (let i = 0; i < 3; i++) t.equal(await (await queue.sendTask("pid")).get({ timeout: 30 }), first, `task ${i + 1} in the first worker`);
  await until(() => run.logs().some((l) => l.worker === first && l.requests === 3 && /replacing it/.test(String(l.msg))), "the first to ask to retire after 3 tasks", run.output);
  // The master stops it once its replacement consumes; from then on tasks run in the replacement.
  await until(() => run.logs().some((l) => l.msg === "supervisor: retired worker exited" && l.worker === first), "the retired worker to exit", run.output);
  const other = (await (await queue.sendTask("pid")).get({ timeout: 30 })) as number;
  t.not(other, first, "the next task ran in a fresh worker process");
  t.ok(run.listening().includes(other), "the master's replacement");
  run.kill("SIGTERM");
  t.equal(await exitCode(run), 0, run.output());
});

t.test("--pool process under the supervisor: tasks run in the pool's children", async (t) => {
  const run = laminarWorker(t, ["--processes", "2", "--pool", "process", "-c", "1", "--graceful-timeout", "10"]);
  const workers = await until(() => run.listening().length >= 2 && run.listening(), "two workers listening", run.output);
  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${file}`), backend: connectBackend(`sqlite://${file}`) });
  t.teardown(() => queue.close());
  const pids = await Promise.all(Array.from({ length: 4 }, async () => (await queue.sendTask("pid")).get({ timeout: 30 }) as Promise<number>));
  for (const pid of pids) {
    t.notOk(workers.includes(pid), `not in a worker process itself (${pid})`);
    t.not(pid, process.pid);
  }
  run.kill("SIGTERM");
  t.equal(await exitCode(run), 0, run.output());
  for (const pid of new Set(pids)) t.notOk(alive(pid), `pool child ${pid} exited with its worker`);
});

t.test("--processes 2 --beat: both run a scheduler, each tick is published once", async (t) => {
  const run = laminarWorker(t, ["--processes", "2", "--beat", "--graceful-timeout", "10"]);
  await until(() => run.listening().length >= 2, "two workers listening", run.output);
  const published = (): Log[] => run.logs().filter((l) => l.msg === "beat: published");
  await until(() => published().length >= 3, "three ticks published", run.output);
  run.kill("SIGTERM");
  t.equal(await exitCode(run), 0, run.output());
  const ticks = published().map((l) => l.tick as string);
  t.equal(new Set(ticks).size, ticks.length, `no tick published twice: ${ticks.join(", ")}`);
  t.equal(new Set(published().map((l) => l.entry)).size, 1);
});

t.test("--max-memory-per-child on the async pool: a worker above it asks to be replaced", async (t) => {
  // 1 MB: every Node process is above it, so each worker retires at its first heartbeat once consuming.
  const run = laminarWorker(t, ["--max-memory-per-child", "1", "--graceful-timeout", "5", "--timeout", "2"]);
  const [first] = await until(() => run.listening().length >= 1 && run.listening(), "the worker listening", run.output);
  await until(() => run.logs().some((l) => l.worker === first && /replacing it/.test(String(l.msg))), "the first to ask to retire", run.output);
  await until(() => run.listening().some((pid) => pid !== first), "a replacement listening", run.output);
  // Replacements keep coming (each one is above 1 MB too): a SIGTERM in the middle of that still stops cleanly.
  run.kill("SIGTERM");
  t.equal(await exitCode(run), 0, run.output());
});
