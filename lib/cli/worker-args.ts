/**
 * `laminar worker` arguments: parsing into a {@link TaskWorkerConfig}, and the command's help.
 * Flag names are Celery's where it has one (`--concurrency/-c`, `--queues/-Q`, `--pool/-P`,
 * `--max-tasks-per-child`, `--max-memory-per-child`, `--beat/-B`, `--loglevel/-l`).
 *
 * @module
 */
import { DEFAULT_ASYNC_CONCURRENCY, DEFAULT_TASK_WORKER_CONFIG, type TaskWorkerConfig } from "../tasks/worker-process/task-worker-config.js";
import { UsageError } from "./usage-error.js";

/** The usage line, as the help and the README show it. */
export const WORKER_USAGE = "laminar worker <module>[:export] [--concurrency N] [--queues a,b] [--pool async|process] [--processes N] [options]";

const LOG_LEVELS = ["fatal", "error", "warn", "info", "debug", "trace", "silent"] as const;

/** `laminar worker --help`. */
export function workerHelp(cpus: number): string {
  const d = DEFAULT_TASK_WORKER_CONFIG;
  return [
    `Usage: ${WORKER_USAGE}`,
    "",
    "Consumes tasks and runs them (Celery's worker). <module> is a JavaScript file relative to the working",
    'directory; :export names the task registry it exports (a TaskQueue; default "tasks", else the default',
    "export). A function export is called and must return one.",
    "",
    "  -c, --concurrency N          tasks running at once per worker process. Default: the number of cores",
    `                               (${cpus}) with --pool process, ${DEFAULT_ASYNC_CONCURRENCY} with --pool async.`,
    `  -Q, --queues a,b             queues to consume. Default: ${d.queues.join(",")}.`,
    `  -P, --pool async|process     async: tasks share the worker's event loop (I/O-bound work). process:`,
    "                               each runs in a child process, so CPU-bound work does not block the",
    "                               worker and a hard time limit kills it. Default: async.",
    `  --processes N                worker processes, under the supervisor (restarted when they die,`,
    `                               stopped gracefully together). Default: ${d.processes}.`,
    `  --graceful-timeout S         on SIGTERM/SIGINT: stop taking tasks, give running ones S seconds, then`,
    `                               abort them; leases of tasks not started are released. Default: ${d.gracefulTimeout}.`,
    `  --timeout S                  supervised workers: one whose event loop is blocked S seconds is killed`,
    `                               and replaced (0 disables). Default: ${d.timeout}.`,
    "  --max-tasks-per-child N      replace a worker process after N tasks (--pool process: a pool child).",
    "  --max-memory-per-child MB    replace it once its resident memory is above MB (checked between tasks).",
    "                               With --pool async either runs the worker under the supervisor.",
    "  --visibility-timeout S       the lease of a reserved task, renewed while it runs; a worker that dies",
    "                               leaves its tasks to others after S seconds. Default: the worker's.",
    `  -l, --log-level LEVEL        ${LOG_LEVELS.join(", ")}. Default: ${d.logLevel}.`,
    "  -B, --beat                   also run the periodic task scheduler in each worker process (the broker's",
    '                               lock makes one lead); its entries are the module\'s "schedule" export.',
    "  -h, --help                   print this help.",
    "",
    "Signals: SIGTERM, SIGINT   graceful stop (see --graceful-timeout), close the registry, exit 0;",
    "         a second one      exit at once (128 + the signal's number). With --processes, signal the master.",
    "",
    "Exit codes: 0 clean shutdown  2 usage error  3 the worker could not start  4 the registry could not be loaded",
    "",
  ].join("\n");
}

function integer(flag: string, value: string, min: number): number {
  if (!/^\d+$/.test(value)) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not an integer`);
  const n = Number(value);
  if (n < min || !Number.isSafeInteger(n)) throw new UsageError(`${flag}: must be at least ${min}, got ${value}`);
  return n;
}

function seconds(flag: string, value: string, positive: boolean): number {
  const n = /^\d+(\.\d+)?$/.test(value) ? Number(value) : Number.NaN;
  if (!Number.isFinite(n)) throw new UsageError(`${flag}: ${JSON.stringify(value)} is not a number of seconds`);
  if (positive && n <= 0) throw new UsageError(`${flag}: must be above 0, got ${value}`);
  return n;
}

function queueList(value: string): string[] {
  const queues = value.split(",").map((queue) => queue.trim());
  if (queues.some((queue) => queue === "")) throw new UsageError(`--queues: ${JSON.stringify(value)} has an empty queue name`);
  return [...new Set(queues)];
}

/** Flags that take a value, by every spelling, to their canonical name. */
const VALUE_FLAGS: Readonly<Record<string, string>> = {
  "--concurrency": "--concurrency",
  "-c": "--concurrency",
  "--queues": "--queues",
  "-Q": "--queues",
  "--pool": "--pool",
  "-P": "--pool",
  "--processes": "--processes",
  "--graceful-timeout": "--graceful-timeout",
  "--timeout": "--timeout",
  "--max-tasks-per-child": "--max-tasks-per-child",
  "--max-memory-per-child": "--max-memory-per-child",
  "--visibility-timeout": "--visibility-timeout",
  "--log-level": "--log-level",
  "--loglevel": "--log-level",
  "-l": "--log-level",
};

/**
 * Parses the arguments after `worker`; `"help"` for `--help`. `cpus` is the default concurrency of
 * the process pool. Throws UsageError naming the flag.
 *
 * @example
 * parseWorkerArgs(["dist/tasks.js", "-c", "8", "-Q", "mail,reports"], 2);
 */
export function parseWorkerArgs(argv: readonly string[], cpus: number): TaskWorkerConfig | "help" {
  let target: string | undefined;
  let concurrency: number | undefined;
  const config: Omit<TaskWorkerConfig, "target" | "concurrency"> = { ...DEFAULT_TASK_WORKER_CONFIG, queues: [...DEFAULT_TASK_WORKER_CONFIG.queues] };
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === "-h" || arg === "--help") return "help";
    if (arg === "-B" || arg === "--beat") {
      config.beat = true;
      continue;
    }
    const eq = arg.startsWith("--") ? arg.indexOf("=") : -1;
    const [given, inline] = eq > 0 ? [arg.slice(0, eq), arg.slice(eq + 1)] : [arg, undefined];
    const flag = VALUE_FLAGS[given];
    if (flag === undefined) {
      if (arg.startsWith("-")) throw new UsageError(`unknown option ${arg}`);
      if (target !== undefined) throw new UsageError(`unexpected argument ${arg}`);
      target = arg;
      continue;
    }
    const value = inline ?? argv[++i];
    if (value === undefined || value === "") throw new UsageError(`${given} needs a value`);
    switch (flag) {
      case "--concurrency":
        concurrency = integer(flag, value, 1);
        break;
      case "--queues":
        config.queues = queueList(value);
        break;
      case "--pool":
        if (value !== "async" && value !== "process") throw new UsageError(`--pool: ${JSON.stringify(value)} is not one of async, process`);
        config.pool = value;
        break;
      case "--processes":
        config.processes = integer(flag, value, 1);
        break;
      case "--graceful-timeout":
        config.gracefulTimeout = seconds(flag, value, false);
        break;
      case "--timeout":
        config.timeout = seconds(flag, value, false);
        break;
      case "--max-tasks-per-child":
        config.maxTasksPerChild = integer(flag, value, 0);
        break;
      case "--max-memory-per-child":
        config.maxMemoryPerChild = integer(flag, value, 0);
        break;
      case "--visibility-timeout":
        config.visibilityTimeout = seconds(flag, value, true);
        break;
      case "--log-level":
        if (!(LOG_LEVELS as readonly string[]).includes(value)) throw new UsageError(`--log-level: ${JSON.stringify(value)} is not one of ${LOG_LEVELS.join(", ")}`);
        config.logLevel = value;
        break;
    }
  }
  if (target === undefined) throw new UsageError("missing <module>[:export]");
  return { target, ...config, concurrency: concurrency ?? (config.pool === "process" ? Math.max(1, cpus) : DEFAULT_ASYNC_CONCURRENCY) };
}
