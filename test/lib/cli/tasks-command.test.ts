/**
 * `laminar tasks inspect` on a temporary SQLite file written by the test the way workers would:
 * queue depths, a live worker and its running task, a failure and a dead letter, as text and JSON;
 * the rendering of hostile values; usage and load errors.
 */
import t from "tap";
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { runCli, type CliDeps } from "../../../lib/cli/cli.js";
import { parseTasksArgs, renderInspection, runTasksCommand, type Inspection, type TasksCommandDeps } from "../../../lib/cli/tasks-command.js";
import { loadRegistry } from "../../../lib/cli/load-registry.js";
import { UsageError } from "../../../lib/cli/usage-error.js";
import { connectBackend, connectBroker } from "../../../lib/tasks/connect.js";
import { TaskQueue } from "../../../lib/tasks/task-queue.js";
import { EXIT_APP_LOAD_ERROR } from "../../../lib/supervisor/serve-config.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-inspect-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
const file = join(dir, "tasks.db");
// Read by the fixture when it is imported (by loadRegistry below).
process.env.LAMINAR_TEST_TASKS_DB = file;
const FIXTURE = "test/fixtures/tasks/queue-tasks.ts";

function deps(): TasksCommandDeps & { stdout: string[]; stderr: string[] } {
  const stdout: string[] = [];
  const stderr: string[] = [];
  return { cwd: process.cwd(), out: (line) => stdout.push(line), err: (line) => stderr.push(line), loadRegistry, now: () => 1_000_000, stdout, stderr };
}

t.test("inspect shows what workers left in the broker and the backend", async (t) => {
  const queue = new TaskQueue({ broker: connectBroker(`sqlite://${file}`), backend: connectBackend(`sqlite://${file}`) });
  t.teardown(() => queue.close());
  await queue.sendTask("math.add", { args: [1, 2] });
  await queue.sendTask("math.add", { args: [3, 4] });
  await queue.sendTask("math.add", { args: [5, 6], queue: "reports", countdown: 3600 });
  const [leased] = await queue.broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 60_000, consumer: "test" });
  await queue.broker.deadLetter(leased!, "NotRegistered: math.add\nsecond line");
  const [running] = await queue.broker.reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 60_000, consumer: "test" });
  const now = Date.now();
  await queue.broker.heartbeat({
    id: "host:42:1",
    pid: 42,
    hostname: "host",
    queues: ["celery", "reports"],
    concurrency: 16,
    startedAt: now - 5000,
    seenAt: now,
    processed: 7,
    running: [{ id: running!.message.id, task: "math.add", startedAt: now - 1000 }],
  });
  await queue.backend.store({ taskId: "failed-1", state: "FAILURE", name: "fail", error: { type: "RangeError", message: "the fixture fails on purpose" }, retries: 3, dateDone: new Date(now).toISOString(), updatedAt: now });
  await queue.backend.store({ taskId: "ok-1", state: "SUCCESS", name: "math.add", result: 3, updatedAt: now });

  const json = deps();
  json.now = () => now;
  t.equal(await runTasksCommand(["inspect", FIXTURE, "--json"], json), 0, json.stderr.join("\n"));
  const inspection = JSON.parse(json.stdout.join("\n")) as Inspection;
  const byQueue = Object.fromEntries(inspection.queues.map((q) => [q.queue, q]));
  t.match(byQueue.celery, { ready: 0, leased: 1, dead: 1 });
  t.match(byQueue.reports, { ready: 0, delayed: 1 });
  t.equal(inspection.workers.length, 1);
  t.equal(inspection.workers[0]!.running[0]!.id, running!.message.id);
  t.same(inspection.failures.map((f) => f.taskId), ["failed-1"], "only failures");
  t.equal(inspection.deadLetters.length, 1);

  const text = deps();
  text.now = () => now;
  // The factory export: a fresh queue (the module's `tasks` was closed by the first inspect).
  t.equal(await runCli(["tasks", "inspect", `${FIXTURE}:createTasks`], { ...(text as unknown as CliDeps), loadRegistry } as CliDeps), 0, text.stderr.join("\n"));
  const out = text.stdout.join("\n");
  t.match(out, /queue\s+ready\s+delayed\s+leased\s+dead/);
  t.match(out, /celery\s+0\s+0\s+1\s+1/);
  t.match(out, /reports\s+0\s+1\s+0\s+0/);
  t.match(out, /host:42:1 {2}pid 42 on host {2}queues celery,reports {2}concurrency 16 {2}processed 7/);
  t.match(out, new RegExp(`running math\\.add\\[${running!.message.id}\\] for 1\\.0 s`));
  t.match(out, /fail\[failed-1\] {2}RangeError: the fixture fails on purpose {2}\(after 3 retries\)/);
  t.match(out, /NotRegistered: math\.add\\nsecond line/, "a newline in a reason stays on one line");
  t.notMatch(out, /ok-1/);
});

t.test("renderInspection: empty state, durations, control characters", async (t) => {
  const empty = renderInspection({ at: 0, queues: [], workers: [], withinMs: 60_000, failures: [], deadLetters: [] });
  t.match(empty, /no queue has held a message/);
  t.match(empty, /Workers \(heard from within 60 s\)\n {2}\(none\)/);
  t.match(empty, /Recent failures \(0\)\n {2}\(none\)/);
  const hostile = renderInspection({
    at: 10_000_000,
    queues: [{ queue: "q\u001b[31m", ready: 1, delayed: 0, leased: 0, dead: 0 }],
    workers: [{ id: "w", pid: 1, hostname: "h", queues: ["q"], concurrency: 1, startedAt: 10_000_000 - 7_200_000, seenAt: 10_000_000 - 120_000, processed: 0, running: [] }],
    withinMs: 300_000,
    failures: [{ taskId: "x", state: "FAILURE" }],
    deadLetters: [],
  });
  t.notMatch(hostile, /\u001b/, "no raw escape sequence reaches the terminal");
  t.match(hostile, /q\\x1b\[31m/);
  t.match(hostile, /up 2\.0 h {2}seen 2 min ago/);
  t.match(hostile, /idle/);
  t.match(hostile, /\?\[x\] {2}\(no error recorded\)/);
});

t.test("usage and load errors", async (t) => {
  t.equal(parseTasksArgs([]), "help");
  t.equal(parseTasksArgs(["inspect", "--help"]), "help");
  t.same(parseTasksArgs(["inspect", "a.js", "--limit=3", "--within", "5", "--json"]), { target: "a.js", json: true, limit: 3, withinMs: 5000 });
  const bad: Array<[string[], RegExp]> = [
    [["purge", "a.js"], /unknown subcommand "purge"/],
    [["inspect"], /missing <module>/],
    [["inspect", "a.js", "b.js"], /unexpected argument/],
    [["inspect", "a.js", "--limit", "0"], /--limit: "0" is not a positive integer/],
    [["inspect", "a.js", "--within", "-1"], /is not a positive integer/],
    [["inspect", "a.js", "--limit"], /needs a value/],
    [["inspect", "a.js", "--verbose"], /unknown option --verbose/],
  ];
  for (const [argv, message] of bad) t.throws(() => parseTasksArgs(argv), { constructor: UsageError, message }, argv.join(" "));
  const d = deps();
  t.equal(await runTasksCommand(["inspect", "a.js", "--limit", "x"], d), 2);
  t.match(d.stderr.at(-1), /laminar tasks: --limit: "x" is not a positive integer\nUsage: laminar tasks inspect/);
  t.equal(await runTasksCommand(["--help"], d), 0);
  t.match(d.stdout.at(-1), /Usage: laminar tasks inspect/);
  const load = deps();
  t.equal(await runTasksCommand(["inspect", `${FIXTURE}:notTasks`], load), EXIT_APP_LOAD_ERROR);
  t.match(load.stderr.join("\n"), /cannot load the task registry .*is not a task registry/);
  const broken = deps();
  broken.loadRegistry = async () => {
    const queue = (await loadRegistry(`${FIXTURE}:createTasks`)) as TaskQueue;
    queue.broker.stats = async () => {
      throw new Error("database disk image is malformed");
    };
    return queue;
  };
  t.equal(await runTasksCommand(["inspect", FIXTURE], broken), 1);
  t.match(broken.stderr.join("\n"), /cannot read the broker or the result backend: database disk image is malformed/);
});
