/**
 * Test-only pieces for the worker tests: a tiny {@link TaskRegistry} (the real one is `TaskQueue`,
 * which these tests do not depend on), message building, bounded polling and a worker factory on
 * the memory broker and backend that stops and closes everything at teardown.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import type { Test } from "tap";
import type { Logger } from "../../../../lib/logger.js";
import type { Broker } from "../../../../lib/tasks/broker.js";
import { MemoryResultBackend } from "../../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../../lib/tasks/memory/memory-broker.js";
import { SqliteResultBackend } from "../../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../../lib/tasks/sqlite/sqlite-broker.js";
import { DEFAULT_QUEUE, newTaskId, type TaskMessage } from "../../../../lib/tasks/message.js";
import type { RegisteredTask, TaskContext, TaskRegistry } from "../../../../lib/tasks/registry.js";
import type { ResultBackend, TaskMeta } from "../../../../lib/tasks/result-backend.js";
import type { TaskOptions } from "../../../../lib/tasks/task-options.js";
import { Worker, type WorkerOptions } from "../../../../lib/tasks/worker/worker.js";

/** A task body: its context first, then the positional arguments. */
export type TaskBody = (ctx: TaskContext, ...args: never[]) => unknown;

/** A registry of hand-defined tasks. */
export class TestRegistry implements TaskRegistry {
  private readonly tasks = new Map<string, RegisteredTask>();
  /** Every context a task was run with, in call order. */
  readonly calls: { name: string; args: unknown[]; ctx: TaskContext }[] = [];

  constructor(
    readonly broker: Broker,
    readonly backend: ResultBackend,
  ) {}

  define(name: string, body: TaskBody, options: TaskOptions = {}): this {
    this.tasks.set(name, {
      name,
      options,
      run: async (args, _kwargs, ctx) => {
        this.calls.push({ name, args, ctx });
        return (body as (ctx: TaskContext, ...rest: unknown[]) => unknown)(ctx, ...args);
      },
    });
    return this;
  }

  callsOf(name: string): number {
    return this.calls.filter((call) => call.name === name).length;
  }

  lookup(name: string): RegisteredTask | undefined {
    return this.tasks.get(name);
  }

  names(): string[] {
    return [...this.tasks.keys()];
  }
}

/** A message for `task` with `args`; any field can be overridden. */
export function message(task: string, args: unknown[] = [], extra: Partial<TaskMessage> = {}): TaskMessage {
  const id = extra.id ?? newTaskId();
  return { id, task, args, kwargs: {}, queue: DEFAULT_QUEUE, priority: 0, retries: 0, rootId: id, publishedAt: Date.now(), ...extra };
}

/** Polls `condition` every few ms until it holds; fails the test (throws) after `timeoutMs`. */
export async function until(condition: () => boolean | Promise<boolean>, what: string, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  for (;;) {
    if (await condition()) return;
    if (Date.now() > deadline) throw new Error(`timed out waiting for: ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 2));
  }
}

/** Waits for a ready meta of `taskId` (bounded). */
export async function ready(backend: ResultBackend, taskId: string, timeoutMs = 5000): Promise<TaskMeta> {
  const meta = await backend.waitFor(taskId, { timeoutMs });
  if (meta === undefined) throw new Error(`task ${taskId} did not reach a ready state within ${timeoutMs} ms`);
  return meta;
}

/** A promise with its resolve, to hold a task until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => (open = resolve));
  return { promise, open };
}

/** A logger that keeps what is logged. */
export function capturingLogger(): Logger & { lines: { level: string; obj: object; msg?: string }[] } {
  const lines: { level: string; obj: object; msg?: string }[] = [];
  const at = (level: string) => (obj: object, msg?: string) => void lines.push({ level, obj, msg });
  return { lines, error: at("error"), warn: at("warn"), info: at("info"), debug: at("debug") };
}

/**
 * A broker and backend (memory, or both on one temporary SQLite file), a registry, and a worker
 * factory; everything is stopped and closed (and the file removed) at teardown.
 */
export function setup(t: Test, store: "memory" | "sqlite" = "memory", clock?: { now: () => number }) {
  let broker: Broker;
  let backend: ResultBackend;
  let removeFiles = (): void => {};
  if (store === "sqlite") {
    const dir = mkdtempSync(join(tmpdir(), "laminar-worker-"));
    const path = join(dir, "tasks.db");
    broker = new SqliteBroker({ path });
    backend = new SqliteResultBackend({ path });
    removeFiles = () => rmSync(dir, { recursive: true, force: true });
  } else {
    broker = new MemoryBroker(clock);
    backend = new MemoryResultBackend(clock);
  }
  const registry = new TestRegistry(broker, backend);
  const workers: Worker[] = [];
  const logger = capturingLogger();
  const makeWorker = (options: WorkerOptions = {}): Worker => {
    const worker = new Worker(registry, { logger, heartbeatMs: 50, revocationPollMs: 5, ...options });
    workers.push(worker);
    return worker;
  };
  t.teardown(async () => {
    await Promise.all(workers.map((worker) => worker.stop({ gracefulTimeoutMs: 0 })));
    await broker.close();
    await backend.close();
    removeFiles();
  });
  return { broker, backend, registry, logger, makeWorker };
}
