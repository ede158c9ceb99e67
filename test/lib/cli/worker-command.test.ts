/**
 * `laminar worker` and its arguments: parsing (defaults, every flag, hostile values), the dispatch
 * to the supervisor, and the single-process worker run in-process on an in-memory queue (tasks
 * published by the test run; SIGTERM stops it gracefully and closes the registry; load failures
 * exit 4).
 */
import t from "tap";
import { runCli, type CliDeps } from "../../../lib/cli/cli.js";
import { mainHelp } from "../../../lib/cli/help.js";
import { loadRegistry } from "../../../lib/cli/load-registry.js";
import type { ShutdownSignal } from "../../../lib/cli/signals.js";
import { UsageError } from "../../../lib/cli/usage-error.js";
import { parseWorkerArgs } from "../../../lib/cli/worker-args.js";
import { masterConfigFor, TASK_WORKER_ENTRY, type RunTaskMaster } from "../../../lib/cli/worker-command.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR, type ServeConfig } from "../../../lib/supervisor/serve-config.js";
import { TaskQueue } from "../../../lib/tasks/task-queue.js";
import { MemoryBroker } from "../../../lib/tasks/memory/memory-broker.js";
import { MemoryResultBackend } from "../../../lib/tasks/memory/memory-backend.js";
import { TASK_WORKER_CONFIG_ENV, taskWorkerNeedsMaster, type TaskWorkerConfig } from "../../../lib/tasks/worker-process/task-worker-config.js";

t.test("parseWorkerArgs: defaults depend on the pool", async (t) => {
  t.same(parseWorkerArgs(["tasks.js"], 8), {
    target: "tasks.js",
    queues: ["celery"],
    pool: "async",
    concurrency: 16,
    processes: 1,
    gracefulTimeout: 30,
    timeout: 30,
    maxTasksPerChild: 0,
    maxMemoryPerChild: 0,
    logLevel: "info",
    beat: false,
  });
  t.equal((parseWorkerArgs(["tasks.js", "--pool", "process"], 8) as TaskWorkerConfig).concurrency, 8, "process pool: one child per core");
  t.equal((parseWorkerArgs(["tasks.js", "-P", "process"], 0) as TaskWorkerConfig).concurrency, 1, "never below 1");
  t.equal(parseWorkerArgs(["tasks.js", "--help"], 2), "help");
  t.equal(parseWorkerArgs(["-h"], 2), "help");
});

t.test("parseWorkerArgs: every flag, long, short and inline", async (t) => {
  const config = parseWorkerArgs(
    [
      "dist/tasks.js:queue",
      "-c", "4",
      "-Q", "mail, reports,mail",
      "--pool=process",
      "--processes", "3",
      "--graceful-timeout", "2.5",
      "--timeout=0",
      "--max-tasks-per-child", "100",
      "--max-memory-per-child", "512",
      "--visibility-timeout", "60",
      "-l", "warn",
      "-B",
    ],
    2,
  ) as TaskWorkerConfig;
  t.same(config, {
    target: "dist/tasks.js:queue",
    queues: ["mail", "reports"],
    pool: "process",
    concurrency: 4,
    processes: 3,
    gracefulTimeout: 2.5,
    timeout: 0,
    maxTasksPerChild: 100,
    maxMemoryPerChild: 512,
    visibilityTimeout: 60,
    logLevel: "warn",
    beat: true,
  });
  t.equal((parseWorkerArgs(["t.js", "--loglevel", "debug"], 2) as TaskWorkerConfig).logLevel, "debug", "Celery's spelling");
});

t.test("parseWorkerArgs: usage errors name the flag", async (t) => {
  const bad: Array<[string[], RegExp]> = [
    [[], /missing <module>/],
    [["a.js", "b.js"], /unexpected argument b.js/],
    [["a.js", "--pool", "thread"], /--pool: "thread" is not one of async, process/],
    [["a.js", "--pool"], /--pool needs a value/],
    [["a.js", "--pool="], /--pool needs a value/],
    [["a.js", "-c", "0"], /--concurrency: must be at least 1, got 0/],
    [["a.js", "-c", "eight"], /--concurrency: "eight" is not an integer/],
    [["a.js", "--concurrency", "-3"], /--concurrency: "-3" is not an integer/],
    [["a.js", "--processes", "1.5"], /--processes: "1.5" is not an integer/],
    [["a.js", "--processes", "0"], /--processes: must be at least 1/],
    [["a.js", "--processes", "99999999999999999999"], /--processes: must be at least 1/],
    [["a.js", "--graceful-timeout", "-1"], /--graceful-timeout: "-1" is not a number of seconds/],
    [["a.js", "--graceful-timeout", "1e3"], /is not a number of seconds/],
    [["a.js", "--visibility-timeout", "0"], /--visibility-timeout: must be above 0/],
    [["a.js", "--max-memory-per-child", "1.5GB"], /--max-memory-per-child: "1.5GB" is not an integer/],
    [["a.js", "--max-tasks-per-child", "x"], /is not an integer/],
    [["a.js", "--queues", "a,,b"], /--queues: "a,,b" has an empty queue name/],
    [["a.js", "--log-level", "verbose"], /--log-level: "verbose" is not one of/],
    [["a.js", "--autoscale", "4,1"], /unknown option --autoscale/],
  ];
  for (const [argv, message] of bad) t.throws(() => parseWorkerArgs(argv, 2), { constructor: UsageError, message }, argv.join(" "));
});

t.test("needs the master for several processes, or per-process limits on the async pool", async (t) => {
  const base = parseWorkerArgs(["a.js"], 2) as TaskWorkerConfig;
  t.equal(taskWorkerNeedsMaster(base), false);
  t.equal(taskWorkerNeedsMaster({ ...base, processes: 2 }), true);
  t.equal(taskWorkerNeedsMaster({ ...base, maxTasksPerChild: 10 }), true);
  t.equal(taskWorkerNeedsMaster({ ...base, maxMemoryPerChild: 10 }), true);
  t.equal(taskWorkerNeedsMaster({ ...base, pool: "process", maxTasksPerChild: 10, maxMemoryPerChild: 10 }), false, "the process pool recycles its own children");
  const serve = masterConfigFor({ ...base, processes: 3, gracefulTimeout: 7, timeout: 9, logLevel: "warn" });
  t.match(serve, { target: "a.js", workers: 3, gracefulTimeout: 7, timeout: 9, logLevel: "warn", maxRequests: 0, reload: false });
});

interface Harness {
  deps: CliDeps;
  out: string[];
  err: string[];
  signal(signal: ShutdownSignal): void;
  closed(): boolean;
  queue: TaskQueue;
}

function harness(overrides: Partial<CliDeps> = {}): Harness {
  const out: string[] = [];
  const err: string[] = [];
  let deliver: ((signal: ShutdownSignal) => void) | undefined;
  const queue = new TaskQueue({ broker: new MemoryBroker(), backend: new MemoryResultBackend() });
  let closed = false;
  const close = queue.close.bind(queue);
  queue.close = async () => {
    closed = true;
    await close();
  };
  const deps: CliDeps = {
    cwd: process.cwd(),
    env: {},
    out: (line) => out.push(line),
    err: (line) => err.push(line),
    signals: {
      subscribe(handler) {
        deliver = handler;
        return () => (deliver = undefined);
      },
    },
    readFile: async () => Buffer.from(""),
    readConfigFile: () => "",
    loadApp: async () => {
      throw new Error("no app here");
    },
    loadRegistry: async () => queue,
    createWorker: undefined,
    ...overrides,
  };
  return { deps, out, err, signal: (s) => deliver?.(s), closed: () => closed, queue };
}

async function until(condition: () => boolean | Promise<boolean>, what: string): Promise<void> {
  for (let i = 0; i < 1000; i++) {
    if (await condition()) return;
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
  throw new Error(`timed out waiting for ${what}`);
}

t.test("laminar worker runs published tasks in-process; SIGTERM stops it and closes the registry", async (t) => {
  const h = harness();
  const add = h.queue.task("math.add", async (x: number, y: number) => x + y);
  const running = runCli(["worker", "tasks.js", "-c", "2", "--log-level", "silent"], h.deps);
  await until(() => h.out.length > 0, "the banner");
  t.match(h.out[0], /^laminar worker: consuming celery \(pool async, concurrency 2, pid \d+\); 1 task: math\.add$/);
  t.equal(h.deps.env.LOG_LEVEL, "silent", "LOG_LEVEL set before the registry is imported");
  const result = await add.delay(2, 3);
  t.equal(await result.get({ timeout: 10 }), 5);
  h.signal("SIGTERM");
  t.equal(await running, 0);
  t.ok(h.closed(), "the registry was closed");
  t.match(h.err.join("\n"), /SIGTERM, stopping gracefully/);
  t.match(h.err.join("\n"), /stopped \(1 tasks processed\)/);
});

t.test("a second signal exits at once with 128 + n", async (t) => {
  const h = harness();
  let release!: () => void;
  h.deps.createWorker = () => ({
    id: "fake",
    processed: 0,
    start() {},
    // A stop that never finishes by itself: running tasks that ignore their signal.
    stop: () => new Promise<void>((resolve) => (release = resolve)),
  });
  const running = runCli(["worker", "tasks.js", "-l", "silent"], h.deps);
  await until(() => h.out.length > 0, "the banner");
  h.signal("SIGINT");
  h.signal("SIGINT");
  t.equal(await running, 130);
  t.match(h.err.at(-1), /second SIGINT, exiting now/);
  release();
});

t.test("a signal during the load stops right after it", async (t) => {
  let loaded!: () => void;
  const h = harness();
  const queue = h.queue;
  h.deps.loadRegistry = () => new Promise((resolve) => (loaded = () => resolve(queue)));
  const running = runCli(["worker", "tasks.js", "-l", "silent"], h.deps);
  await until(() => loaded !== undefined, "the load");
  h.signal("SIGTERM");
  loaded();
  t.equal(await running, 0);
  t.ok(h.closed());
});

t.test("load and start failures: exit 4 for the registry, 3 for the worker", async (t) => {
  const cases: Array<[string, RegExp]> = [
    ["test/fixtures/tasks/queue-tasks.ts:notTasks", /export "notTasks" is not a task registry/],
    ["test/fixtures/tasks/throwing-tasks.ts", /fixture: the broker URL is not set/],
    ["test/fixtures/tasks/missing.ts", /Could not import test\/fixtures\/tasks\/missing\.ts/],
    ["test/fixtures/tasks/queue-tasks.ts:nope", /exports no task registry named "nope"/],
  ];
  for (const [target, message] of cases) {
    const h = harness({ loadRegistry });
    t.equal(await runCli(["worker", target, "-l", "silent"], h.deps), EXIT_APP_LOAD_ERROR, target);
    t.match(h.err.join("\n"), message);
    t.match(h.err.join("\n"), /cannot load the task registry/);
  }
  const h = harness();
  h.deps.createWorker = () => ({
    id: "x",
    processed: 0,
    start() {
      throw new Error("broker refused");
    },
    stop: async () => {},
  });
  t.equal(await runCli(["worker", "tasks.js", "-l", "silent"], h.deps), EXIT_WORKER_BOOT_ERROR);
  t.match(h.err.join("\n"), /cannot start: broker refused/);
  t.ok(h.closed(), "the registry is closed after a failed start");
  // The process pool: its children cannot load what the worker could (a registry only in memory here).
  const p = harness();
  t.equal(await runCli(["worker", "test/fixtures/tasks/throwing-tasks.ts", "--pool", "process", "-c", "1", "-l", "silent"], p.deps), EXIT_APP_LOAD_ERROR);
  t.match(p.err.join("\n"), /the process pool cannot start: .*fixture: the broker URL is not set/s);
});

t.test("--beat runs the module's schedule in the worker and gives its lock up at the stop", async (t) => {
  const h = harness();
  h.queue.task("pid", async () => process.pid);
  const logged: string[] = [];
  h.deps.logger = { info: (_o, msg) => void logged.push(msg ?? ""), warn() {}, error: (o, msg) => void logged.push(`${msg} ${JSON.stringify(o)}`), debug() {} };
  const released: string[] = [];
  const release = h.queue.broker.releaseLock.bind(h.queue.broker);
  h.queue.broker.releaseLock = async (name, owner) => (released.push(name), release(name, owner));
  const running = runCli(["worker", "test/fixtures/tasks/queue-tasks.ts", "--beat", "-l", "silent"], h.deps);
  await until(() => logged.includes("beat: published"), "a tick published by the beat");
  const done = await until(async () => (await h.queue.backend.recent({ state: "SUCCESS", limit: 5 })).length > 0, "the tick's task to run").then(() => true);
  t.ok(done, "the beat's task ran in the worker");
  h.signal("SIGTERM");
  t.equal(await running, 0);
  t.same(released, ["beat"], "the leader's lock given up at the stop");
});

t.test("--beat without a schedule export exits 4 and starts nothing", async (t) => {
  const h = harness();
  t.equal(await runCli(["worker", "test/fixtures/tasks/pool-tasks.ts", "--beat", "-l", "silent"], h.deps), EXIT_APP_LOAD_ERROR);
  t.match(h.err.join("\n"), /--beat: test\/fixtures\/tasks\/pool-tasks\.ts exports no "schedule"/);
  t.ok(h.closed());
});

t.test("the process pool: tasks run in children of the worker", async (t) => {
  const h = harness({ loadRegistry });
  const queue = (await loadRegistry("test/fixtures/tasks/queue-tasks.ts")) as TaskQueue;
  h.deps.loadRegistry = async () => queue;
  const running = runCli(["worker", "test/fixtures/tasks/queue-tasks.ts", "--pool", "process", "-c", "2", "-l", "silent"], h.deps);
  await until(() => h.out.length > 0 || h.err.length > 0, "the banner");
  t.match(h.out[0], /pool process, concurrency 2/, h.err.join("\n"));
  // A child has its own in-memory registry: only the worker's broker matters, the child runs the function.
  const result = await queue.sendTask("pid");
  const pid = await result.get({ timeout: 20 });
  t.type(pid, "number");
  t.not(pid, process.pid, "ran in a child process");
  h.signal("SIGTERM");
  t.equal(await running, 0);
});

t.test("--processes and async per-process limits go to the supervisor with the task worker entry", async (t) => {
  const calls: Array<{ config: ServeConfig; workerEntry: string; workerEnv: Record<string, string> }> = [];
  const runTaskMaster: RunTaskMaster = async (config, options) => (calls.push({ config, ...options }), 0);
  const h = harness({ runTaskMaster });
  t.equal(await runCli(["worker", "tasks.js", "--processes", "2", "-Q", "a,b"], h.deps), 0);
  t.equal(await runCli(["worker", "tasks.js", "--max-tasks-per-child", "5"], h.deps), 0);
  t.equal(calls.length, 2);
  t.equal(calls[0]!.config.workers, 2);
  t.equal(calls[0]!.workerEntry, TASK_WORKER_ENTRY);
  t.match(TASK_WORKER_ENTRY, /lib\/tasks\/worker-process\/task-worker-main\.js$/);
  const passed = JSON.parse(calls[0]!.workerEnv[TASK_WORKER_CONFIG_ENV]!) as TaskWorkerConfig;
  t.same(passed.queues, ["a", "b"]);
  t.equal(calls[1]!.config.workers, 1);
  const without = harness();
  t.equal(await runCli(["worker", "tasks.js", "--processes", "2"], without.deps), 2, "no supervisor in this build");
  t.match(without.err.join("\n"), /need the supervisor/);
});

t.test("help and usage through runCli", async (t) => {
  const h = harness();
  t.equal(await runCli(["worker", "--help"], h.deps), 0);
  t.match(h.out.at(-1), /Usage: laminar worker <module>\[:export\]/);
  t.match(h.out.at(-1), /--max-memory-per-child MB/);
  t.equal(await runCli(["worker", "tasks.js", "--pool", "gevent"], h.deps), 2);
  t.match(h.err.at(-1), /laminar worker: --pool: "gevent" is not one of async, process\nUsage: laminar worker/);
  t.match(mainHelp(), /worker <module>\[:export\]/);
  t.match(mainHelp(), /tasks inspect <module>\[:export\]/);
});
