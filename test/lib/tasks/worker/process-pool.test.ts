/**
 * The process pool with real children (forked from the .ts sources under tap's loader, see
 * process-pool.ts): tasks run in another process, limits kill or abort them, errors and Retry
 * cross the boundary with their type, a child killed from outside fails its task with
 * WorkerLostError and is replaced, and children are recycled.
 */
import t, { type Test } from "tap";
import { ProcessPool, type ProcessPoolOptions } from "../../../../lib/tasks/worker/process-pool.js";
import type { TaskMessage } from "../../../../lib/tasks/message.js";
import { Retry } from "../../../../lib/tasks/registry.js";
import { TaskArgumentsError, TimeLimitExceeded, WorkerLostError } from "../../../../lib/errors.js";

const TARGET = "test/fixtures/tasks/pool-tasks.ts";
// Fourteen scenarios that each start child processes: close to tap's 60 s default in all, and past
// it once on a loaded machine (the last test timed out mid-way). Bounded, but with room.
t.setTimeout(180_000);

function pool(t: Test, options: Partial<ProcessPoolOptions> = {}): ProcessPool {
  const created = new ProcessPool({ target: TARGET, size: 1, ...options });
  t.teardown(() => created.close());
  return created;
}

let counter = 0;
function message(task: string, args: unknown[] = [], kwargs: Record<string, unknown> = {}): TaskMessage {
  const id = `task-${++counter}`;
  return { id, task, args, kwargs, queue: "celery", priority: 0, retries: 2, rootId: id, publishedAt: Date.now() };
}

function run(p: ProcessPool, task: string, args: unknown[] = [], control: { signal?: AbortSignal; softTimeLimitMs?: number; hardTimeLimitMs?: number } = {}): Promise<unknown> {
  return p.execute(message(task, args), { signal: control.signal ?? new AbortController().signal, ...control });
}

t.test("a CPU-bound task runs in a child process and returns its result", async (t) => {
  const p = pool(t);
  await p.start();
  t.equal(p.pids.length, 1);
  const result = (await run(p, "cpu", [200_000])) as { pid: number; sum: number };
  t.not(result.pid, process.pid, "ran in another process");
  t.equal(result.pid, p.pids[0], "in the pool's child");
  t.equal(result.sum > 0, true);
  t.equal(await run(p, "add", [2, 3]), 5);
  const echoed = (await p.execute({ ...message("echo", [1], { a: "b" }), id: "fixed-id" }, { signal: new AbortController().signal })) as Record<string, unknown>;
  t.same(echoed, { args: [1], kwargs: { a: "b" }, id: "fixed-id", name: "echo", retries: 2 }, "the task context is built from the message");
});

t.test("execute queues when every child is busy; size children run at once", async (t) => {
  const p = pool(t, { size: 2 });
  const results = (await Promise.all([run(p, "sleep", [150]), run(p, "sleep", [150]), run(p, "sleep", [10]), run(p, "pid")])) as number[];
  t.equal(new Set(results).size, 2, "two children shared four tasks");
  for (const pid of results) t.not(pid, process.pid);
});

t.test("the hard time limit kills a busy-looping task; the pool keeps working", async (t) => {
  const p = pool(t);
  const before = (await run(p, "pid")) as number;
  await t.rejects(run(p, "spin", [], { hardTimeLimitMs: 300 }), { constructor: TimeLimitExceeded, name: "TimeLimitExceeded", message: "Time limit (0.3s) exceeded" });
  const after = (await run(p, "pid")) as number;
  t.not(after, before, "a fresh child replaced the killed one");
  t.notOk(p.pids.includes(before), "the killed child is gone");
});

t.test("the soft time limit reaches the task's signal", async (t) => {
  const p = pool(t);
  const result = await run(p, "wait-signal", [], { softTimeLimitMs: 100, hardTimeLimitMs: 20_000 });
  t.same(result, { aborted: true, name: "SoftTimeLimitExceeded", message: "Soft time limit (0.1s) exceeded" });
});

t.test("aborting control.signal kills a running task and rejects with the reason; a queued one just leaves", async (t) => {
  const p = pool(t);
  const pid = (await run(p, "pid")) as number;
  const running = new AbortController();
  const queued = new AbortController();
  const first = run(p, "spin", [], { signal: running.signal });
  const second = run(p, "pid", [], { signal: queued.signal });
  queued.abort(new Error("revoked while queued"));
  await t.rejects(second, { message: "revoked while queued" });
  running.abort(new Error("terminated"));
  await t.rejects(first, { message: "terminated" });
  t.not(await run(p, "pid"), pid);
  const already = new AbortController();
  already.abort(new Error("too late"));
  await t.rejects(run(p, "pid", [], { signal: already.signal }), { message: "too late" });
});

t.test("a Retry crosses the boundary as a Retry, with its countdown, maxRetries and exc", async (t) => {
  const p = pool(t);
  const error = (await run(p, "retry").catch((e: unknown) => e)) as Retry;
  t.ok(error instanceof Retry, "an instance of Retry");
  t.equal(error.countdown, 5);
  t.equal(error.maxRetries, 7);
  t.equal(error.eta, undefined);
  t.ok(error.exc instanceof Error);
  t.equal(error.exc?.name, "RangeError");
  t.equal(error.exc?.message, "the service said later");
  t.match(error.exc?.stack, /pool-tasks/, "the exc keeps the child's stack");
});

t.test("errors keep their name, message, stack and data", async (t) => {
  const p = pool(t);
  const typeError = (await run(p, "type-error").catch((e: unknown) => e)) as Error;
  t.ok(typeError instanceof Error);
  t.equal(typeError.name, "TypeError");
  t.equal(typeError.message, "cannot read the thing");
  t.match(typeError.stack, /pool-tasks/);
  t.notOk(typeError instanceof Retry);
  const custom = (await run(p, "custom-error").catch((e: unknown) => e)) as Error & { status?: number };
  t.equal(custom.name, "QuotaError");
  t.equal(custom.status, 429);
  const args = await run(p, "args-error").catch((e: unknown) => e);
  t.ok(args instanceof TaskArgumentsError, "a catalogued error is rebuilt as its class (the worker never retries it)");
  t.equal((args as Error).message, "Arguments of task args-error are invalid: x must be a number");
  const text = (await run(p, "throw-string").catch((e: unknown) => e)) as Error;
  t.equal(text.message, "just a string");
  await t.rejects(run(p, "no.such.task"), { name: "NotRegistered", message: "Task no.such.task is not registered on this worker" });
  await t.rejects(run(p, "bigint"), { name: "TypeError", message: /The result of bigint is not JSON/ });
  t.equal(await run(p, "add", [1, 1]), 2, "the same child keeps working after failures");
});

t.test("a child killed with SIGKILL from outside mid-task fails it with WorkerLostError; the next task runs", async (t) => {
  const p = pool(t);
  const pid = (await run(p, "pid")) as number;
  const long = run(p, "sleep", [20_000]);
  process.kill(pid, "SIGKILL");
  const error = await long.catch((e: unknown) => e);
  t.ok(error instanceof WorkerLostError, String(error));
  t.match((error as Error).message, /Worker exited prematurely: signal SIGKILL/);
  const next = (await run(p, "pid")) as number;
  t.not(next, pid);
  const crash = await run(p, "crash").catch((e: unknown) => e);
  t.ok(crash instanceof WorkerLostError);
  t.match((crash as Error).message, /exit code 3/);
  t.type(await run(p, "pid"), "number");
});

t.test("maxTasksPerChild recycles children", async (t) => {
  const p = pool(t, { maxTasksPerChild: 2 });
  const pids: number[] = [];
  for (let i = 0; i < 6; i++) pids.push((await run(p, "pid")) as number);
  t.equal(pids[0], pids[1]);
  t.equal(pids[2], pids[3]);
  t.equal(new Set(pids).size, 3, "three children for six tasks");
});

t.test("maxMemoryPerChild recycles a child above it after a task", async (t) => {
  // Every child's RSS is above 1 MB: each task leaves its child over the limit, so it is replaced.
  const limited = pool(t, { maxMemoryPerChild: 1024 * 1024 });
  const a = (await run(limited, "pid")) as number;
  const b = (await run(limited, "pid")) as number;
  t.not(a, b);
  // A generous limit keeps the child, even after it grew by 20 MB.
  const roomy = pool(t, { maxMemoryPerChild: 4 * 1024 * 1024 * 1024 });
  const c = (await run(roomy, "grow")) as number;
  t.equal(await run(roomy, "pid"), c);
});

t.test("a target that is not a registry, or throws at import, fails start() and every execute with the reason", async (t) => {
  const notRegistry = pool(t, { target: `${TARGET}:notRegistry` });
  await t.rejects(notRegistry.start(), { message: /export "notRegistry" is not a task registry/ });
  await t.rejects(run(notRegistry, "pid"), { message: /is not a task registry/ });
  const throwing = pool(t, { target: "test/fixtures/tasks/throwing-tasks.ts", size: 2 });
  const queued = run(throwing, "pid");
  await t.rejects(queued, { message: /fixture: the broker URL is not set/ });
  const missing = pool(t, { target: "test/fixtures/tasks/nope.ts" });
  await t.rejects(missing.start(), { message: /Could not import/ });
});

t.test("close() kills the children; running executions reject, later ones too", async (t) => {
  const p = new ProcessPool({ target: TARGET, size: 2 });
  await p.start();
  const pids = p.pids;
  // Two children, three executions: two run, one waits.
  const settled = Promise.allSettled([run(p, "spin"), run(p, "sleep", [20_000]), run(p, "pid")]);
  await p.close();
  const results = await settled;
  t.same(results.map((r) => r.status), ["rejected", "rejected", "rejected"]);
  t.ok((results[0] as PromiseRejectedResult).reason instanceof WorkerLostError);
  t.match((results[2] as PromiseRejectedResult).reason, { message: /closed before the task started/ });
  t.same(p.pids, []);
  for (const pid of pids) t.throws(() => process.kill(pid, 0), { code: "ESRCH" }, `child ${pid} is gone`);
  await t.rejects(run(p, "pid"), { message: /closed/ });
  await p.close();
});

t.test("options are checked", async (t) => {
  for (const size of [0, -1, 1.5, Number.NaN]) t.throws(() => new ProcessPool({ target: TARGET, size }), RangeError, String(size));
});

t.test("a busy child whose parent was SIGKILLed does not live on", async (t) => {
  const { spawn } = await import("node:child_process");
  const parent = spawn(process.execPath, [...process.execArgv, "test/fixtures/tasks/pool-parent.ts"], { stdio: ["ignore", "pipe", "inherit"] });
  t.teardown(() => void parent.kill("SIGKILL"));
  let text = "";
  const childPid = await new Promise<number>((resolve, reject) => {
    parent.stdout!.on("data", (chunk: Buffer) => {
      text += chunk.toString();
      const match = /child (\d+)/.exec(text);
      if (match) resolve(Number(match[1]));
    });
    parent.on("exit", (code) => reject(new Error(`the parent exited (${code}) first: ${text}`)));
  });
  t.teardown(() => {
    try {
      process.kill(childPid, "SIGKILL");
    } catch {
      // Gone, as it should be.
    }
  });
  parent.kill("SIGKILL");
  let alive = true;
  for (let i = 0; i < 200 && alive; i++) {
    await new Promise((resolve) => setTimeout(resolve, 50));
    try {
      process.kill(childPid, 0);
    } catch {
      alive = false;
    }
  }
  t.notOk(alive, "the orphaned child killed itself");
});
