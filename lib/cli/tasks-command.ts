/**
 * `laminar tasks inspect <module>[:export]`: what the task queue looks like now (Celery's
 * `celery inspect` and Flower's front page in one screen): the depth of each queue, the workers
 * heard from recently and what they are running, the latest failures and the dead letters. `--json`
 * prints the same as one JSON document, for scripts and monitoring.
 *
 * @module
 */
import type { DeadLetter, QueueStats, WorkerInfo } from "../tasks/broker.js";
import type { TaskMeta } from "../tasks/result-backend.js";
import type { TaskRegistry } from "../tasks/registry.js";
import { EXIT_APP_LOAD_ERROR } from "../supervisor/serve-config.js";
import { logToStderrByDefault } from "../logger.js";
import { closeRegistry } from "./load-registry.js";
import { describeLoadError } from "./load-app.js";
import { EXIT_USAGE, UsageError } from "./usage-error.js";

/** Exit code when the broker or the backend cannot be read. */
export const EXIT_INSPECT_ERROR = 1;

/** The usage line. */
export const TASKS_USAGE = "laminar tasks inspect <module>[:export] [--json] [--limit N] [--within S]";

/** What `laminar tasks` uses from its surroundings. */
export interface TasksCommandDeps {
  cwd: string;
  out(line: string): void;
  err(line: string): void;
  loadRegistry(target: string, cwd: string): Promise<TaskRegistry>;
  /** Epoch ms; injectable so the rendering is tested without a clock. */
  now?(): number;
}

/** Everything `inspect` shows. */
export interface Inspection {
  /** Epoch ms when it was read. */
  at: number;
  queues: QueueStats[];
  /** Workers heard from within `withinMs`. */
  workers: WorkerInfo[];
  withinMs: number;
  failures: TaskMeta[];
  deadLetters: DeadLetter[];
}

/** `laminar tasks --help`. */
export function tasksHelp(): string {
  return [
    `Usage: ${TASKS_USAGE}`,
    "",
    "Reads the broker and the result backend of the task registry <module> exports (as laminar worker",
    "loads it) and prints the depth of each queue, the live workers and the tasks they are running, the",
    "latest failures and the dead letters. Nothing is consumed or changed.",
    "",
    "  --json        print one JSON document instead of the tables.",
    "  --limit N     failures and dead letters shown (default 10).",
    "  --within S    workers heard from within S seconds count as live (default 60).",
    "  -h, --help    print this help.",
    "",
    "Exit codes: 0 printed  1 the broker or backend cannot be read  2 usage error  4 the registry could not be loaded",
    "",
  ].join("\n");
}

interface InspectArgs {
  target: string;
  json: boolean;
  limit: number;
  withinMs: number;
}

/** Parses the arguments after `tasks`; `"help"` for `--help`. Throws UsageError. */
export function parseTasksArgs(argv: readonly string[]): InspectArgs | "help" {
  const [sub, ...rest] = argv;
  if (sub === undefined || sub === "-h" || sub === "--help" || sub === "help") return "help";
  if (sub !== "inspect") throw new UsageError(`unknown subcommand "${sub}" (known: inspect)`);
  const args: Partial<InspectArgs> & { json: boolean; limit: number; withinMs: number } = { json: false, limit: 10, withinMs: 60_000 };
  for (let i = 0; i < rest.length; i++) {
    const arg = rest[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "--json") {
      args.json = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const [flag, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    if (flag === "--limit" || flag === "--within") {
      const value = inline ?? rest[++i];
      if (value === undefined || value === "") throw new UsageError(`${flag} needs a value`);
      if (!/^\d+$/.test(value) || Number(value) < 1) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a positive integer`);
      if (flag === "--limit") args.limit = Number(value);
      else args.withinMs = Number(value) * 1000;
      continue;
    }
    if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
    if (args.target !== undefined) throw new UsageError(`unexpected argument ${arg}`);
    args.target = arg;
  }
  if (args.target === undefined) throw new UsageError("missing <module>[:export]");
  return args as InspectArgs;
}

/** Reads what {@link renderInspection} shows from a registry's broker and backend. */
export async function collectInspection(registry: TaskRegistry, options: { limit: number; withinMs: number; now: number }): Promise<Inspection> {
  const [queues, workers, failures, deadLetters] = await Promise.all([
    registry.broker.stats(),
    registry.broker.workers(options.withinMs),
    registry.backend.recent({ state: "FAILURE", limit: options.limit }),
    registry.broker.deadLetters(options.limit),
  ]);
  return { at: options.now, queues, workers, withinMs: options.withinMs, failures, deadLetters };
}

/** "1.2 s", "3 min", "2 h": a duration for a person. */
function ago(ms: number): string {
  const s = Math.max(0, ms) / 1000;
  if (s < 60) return `${s.toFixed(1)} s`;
  if (s < 3600) return `${Math.floor(s / 60)} min`;
  return `${(s / 3600).toFixed(1)} h`;
}

/** Left-aligned first column, right-aligned numbers. */
function table(header: string[], rows: string[][]): string[] {
  const widths = header.map((title, i) => Math.max(title.length, ...rows.map((row) => row[i]!.length)));
  const line = (cells: string[]): string => "  " + cells.map((cell, i) => (i === 0 ? cell.padEnd(widths[i]!) : cell.padStart(widths[i]!))).join("  ");
  return [line(header), ...rows.map(line)];
}

/** Control characters (a newline in an error message, an escape sequence) shown escaped, so one entry stays one line. */
function oneLine(text: string): string {
  return text.replace(/[\u0000-\u001f\u007f]/g, (c) => (c === "\n" ? "\\n" : `\\x${c.charCodeAt(0).toString(16).padStart(2, "0")}`));
}

/** The tables `laminar tasks inspect` prints. */
export function renderInspection(inspection: Inspection): string {
  const now = inspection.at;
  const lines: string[] = ["Queues"];
  if (inspection.queues.length === 0) lines.push("  (no queue has held a message)");
  else {
    const sorted = [...inspection.queues].sort((a, b) => a.queue.localeCompare(b.queue));
    lines.push(...table(["queue", "ready", "delayed", "leased", "dead"], sorted.map((q) => [oneLine(q.queue), String(q.ready), String(q.delayed), String(q.leased), String(q.dead)])));
  }
  lines.push("", `Workers (heard from within ${inspection.withinMs / 1000} s)`);
  if (inspection.workers.length === 0) lines.push("  (none)");
  for (const w of [...inspection.workers].sort((a, b) => a.id.localeCompare(b.id))) {
    lines.push(
      `  ${oneLine(w.id)}  pid ${w.pid} on ${oneLine(w.hostname)}  queues ${oneLine(w.queues.join(","))}  concurrency ${w.concurrency}  ` +
        `processed ${w.processed}  up ${ago(now - w.startedAt)}  seen ${ago(now - w.seenAt)} ago`,
    );
    if (w.running.length === 0) lines.push("    idle");
    for (const task of w.running) lines.push(`    running ${oneLine(task.task)}[${oneLine(task.id)}] for ${ago(now - task.startedAt)}`);
  }
  lines.push("", `Recent failures (${inspection.failures.length})`);
  if (inspection.failures.length === 0) lines.push("  (none)");
  for (const meta of inspection.failures) {
    const when = meta.dateDone ?? (meta.updatedAt !== undefined ? new Date(meta.updatedAt).toISOString() : "");
    const error = meta.error !== undefined ? `${meta.error.type}: ${meta.error.message}` : "(no error recorded)";
    lines.push(`  ${when}  ${oneLine(meta.name ?? "?")}[${oneLine(meta.taskId)}]  ${oneLine(error)}${meta.retries ? `  (after ${meta.retries} retries)` : ""}`);
  }
  lines.push("", `Dead letters (${inspection.deadLetters.length})`);
  if (inspection.deadLetters.length === 0) lines.push("  (none)");
  for (const dead of inspection.deadLetters) {
    lines.push(`  ${new Date(dead.at).toISOString()}  ${oneLine(dead.message.task)}[${oneLine(dead.message.id)}] from ${oneLine(dead.message.queue)}  ${oneLine(dead.reason)}`);
  }
  return lines.join("\n");
}

/**
 * Runs `laminar tasks <subcommand>` and resolves with the exit code.
 *
 * @example
 * await runTasksCommand(["inspect", "dist/tasks.js", "--json"], deps);
 */
export async function runTasksCommand(argv: readonly string[], deps: TasksCommandDeps): Promise<number> {
  let args: InspectArgs;
  try {
    const parsed = parseTasksArgs(argv);
    if (parsed === "help") {
      deps.out(tasksHelp());
      return 0;
    }
    args = parsed;
  } catch (error) {
    if (!(error instanceof UsageError)) throw error;
    deps.err(`laminar tasks: ${error.message}\nUsage: ${TASKS_USAGE}`);
    return EXIT_USAGE;
  }
  // The registry's own log lines must not mix with what this command prints.
  logToStderrByDefault();
  let registry: TaskRegistry;
  try {
    registry = await deps.loadRegistry(args.target, deps.cwd);
  } catch (error) {
    deps.err(`laminar tasks: cannot load the task registry ${args.target}: ${describeLoadError(error)}`);
    return EXIT_APP_LOAD_ERROR;
  }
  try {
    const inspection = await collectInspection(registry, { limit: args.limit, withinMs: args.withinMs, now: (deps.now ?? Date.now)() });
    deps.out(args.json ? JSON.stringify(inspection, null, 2) : renderInspection(inspection));
    return 0;
  } catch (error) {
    deps.err(`laminar tasks: cannot read the broker or the result backend: ${describeLoadError(error)}`);
    return EXIT_INSPECT_ERROR;
  } finally {
    await closeRegistry(registry).catch(() => {});
  }
}
