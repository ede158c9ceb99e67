/**
 * {@link TaskQueue}: where an application defines its tasks and publishes them (Celery's `Celery`
 * app object). It is also the {@link TaskRegistry} a worker runs tasks from, so the module that
 * defines the tasks is the one `laminar worker` loads.
 *
 * @module
 */
import { AjvValidator } from "../../layers/validator/ajv-validator.js";
import type { JsonSchema, Validator } from "../../layers/validator/validator.js";
import { TaskArgumentsError, type ValidationIssue } from "../errors.js";
import { AsyncResult } from "./async-result.js";
import type { Broker } from "./broker.js";
import { GroupResult, type AsyncResults } from "./group-result.js";
import { DEFAULT_PRIORITY, DEFAULT_QUEUE, newTaskId } from "./message.js";
import { checkPriority, checkTaskId, toSignatureOptions, type ApplyOptions, type PublishContext } from "./publish.js";
import type { RegisteredTask, TaskRegistry } from "./registry.js";
import type { ResultBackend } from "./result-backend.js";
import { TaskSignature } from "./signature.js";
import { Task, type ArgsCheck } from "./task.js";
import type { TaskOptions } from "./task-options.js";

/** Options of {@link TaskQueue}. */
export interface TaskQueueOptions {
  /** Where published tasks wait (memory, sqlite, …). */
  broker: Broker;
  /** Where task states and results are kept. */
  backend: ResultBackend;
  /** Queue of tasks that name none (default `celery`, Celery's, so Python workers meet laminar ones there). */
  defaultQueue?: string;
  /** Compiles `argsSchema`s (default: a new AjvValidator; pass the app's to share `$id` schemas). */
  validator?: Validator;
  /** Epoch ms; injected by tests to check `countdown` and relative `expires` without waiting. */
  now?: () => number;
}

/** Options of {@link TaskQueue.sendTask} and {@link TaskQueue.signature}. */
export interface SendTaskOptions extends ApplyOptions {
  /** Positional arguments. */
  args?: unknown[];
  /** Keyword arguments: the function receives them as one extra last argument when non-empty. */
  kwargs?: Record<string, unknown>;
}

/**
 * Defines tasks and publishes them.
 *
 * @example
 * const queue = new TaskQueue({ broker: new MemoryBroker(), backend: new MemoryResultBackend() });
 * export const add = queue.task("math.add", async (x: number, y: number) => x + y);
 * const result = await add.delay(2, 3);
 * await result.get({ timeout: 10 }); // 5 (once a worker runs: `new Worker(queue, { queues: ["celery"] })`)
 */
export class TaskQueue implements TaskRegistry {
  /** Where tasks are published (and where workers built on this queue consume). */
  readonly broker: Broker;
  /** Where states and results are read (and stored by workers). */
  readonly backend: ResultBackend;
  /** The queue of tasks that name none. */
  readonly defaultQueue: string;
  private validator: Validator | undefined;
  private readonly tasks = new Map<string, { task: Task<never, unknown>; registered: RegisteredTask }>();
  private readonly context: PublishContext;

  /** A queue over `options.broker` and `options.backend`; it owns them: {@link TaskQueue.close} closes both. */
  constructor(options: TaskQueueOptions) {
    if (options.broker === undefined || options.backend === undefined) throw new TypeError("TaskQueue needs a broker and a result backend");
    this.broker = options.broker;
    this.backend = options.backend;
    this.defaultQueue = options.defaultQueue ?? DEFAULT_QUEUE;
    if (typeof this.defaultQueue !== "string" || this.defaultQueue === "") throw new TypeError("defaultQueue must be a non-empty string");
    this.validator = options.validator;
    const now = options.now ?? Date.now;
    this.context = {
      broker: this.broker,
      backend: this.backend,
      now: () => now(),
      defaultsFor: (name) => {
        const taskOptions = this.tasks.get(name)?.task.options;
        return { queue: taskOptions?.queue ?? this.defaultQueue, priority: taskOptions?.priority ?? DEFAULT_PRIORITY };
      },
      checkArgs: (name, args) => this.tasks.get(name)?.task.checkArgs(args),
      asyncResult: (id) => this.asyncResult(id),
    };
  }

  /**
   * Registers `fn` as task `name` (Celery's `@app.task(name=...)`). Argument and result types flow
   * from `fn` to `delay()` and `get()`. Throws when the name is taken, or when an option is invalid
   * (a priority outside 0..9, an `argsSchema` ajv refuses): a bad definition fails at startup.
   */
  task<A extends unknown[], R>(name: string, fn: (...args: A) => R | Promise<R>, options: TaskOptions = {}): Task<A, Awaited<R>> {
    if (typeof name !== "string" || name === "") throw new TypeError("A task name must be a non-empty string");
    if (typeof fn !== "function") throw new TypeError(`Task ${name}: expected a function, got ${typeof fn}`);
    if (this.tasks.has(name)) throw new Error(`Task ${name} is already registered`);
    if (options.priority !== undefined) checkPriority(options.priority);
    if (options.queue !== undefined && (typeof options.queue !== "string" || options.queue === "")) {
      throw new TypeError(`Task ${name}: queue must be a non-empty string`);
    }
    const check = options.argsSchema !== undefined ? this.compileArgsCheck(name, options.argsSchema as JsonSchema) : undefined;
    const task = new Task<A, Awaited<R>>(this.context, name, fn, { ...options }, check);
    const registered: RegisteredTask = {
      name,
      options: task.options,
      run: (args, kwargs, context) => task.execute(args, kwargs, context),
    };
    this.tasks.set(name, { task: task as unknown as Task<never, unknown>, registered });
    return task;
  }

  /** The task registered as `name`, as a worker runs it; undefined when there is none. */
  lookup(name: string): RegisteredTask | undefined {
    return this.tasks.get(name)?.registered;
  }

  /** The registered names, in registration order. */
  names(): string[] {
    return [...this.tasks.keys()];
  }

  /** A handle on the result of task `id` (an id kept in a database, a URL). */
  asyncResult<R = unknown>(id: string): AsyncResult<R> {
    return new AsyncResult<R>(checkTaskId(id), this);
  }

  /**
   * A group's results by group id (Celery's `GroupResult.restore`): undefined when the backend has
   * no such group.
   */
  async groupResult(id: string): Promise<GroupResult | undefined> {
    const members = await this.backend.getGroup(id);
    if (members === undefined) return undefined;
    return new GroupResult(id, members.map((member) => this.asyncResult(member)) as AsyncResults<unknown[]>, this);
  }

  /**
   * Publishes a task by name (Celery's `send_task`): it need not be registered here (a worker
   * elsewhere may have it). When it is, its options are the defaults and its `argsSchema` is checked.
   */
  async sendTask(name: string, options: SendTaskOptions = {}): Promise<AsyncResult<unknown>> {
    const signature = this.signature(name, options);
    return signature.applyAsync();
  }

  /**
   * A signature by name, for workflows over tasks this process does not define. Its types are open:
   * it can stand first in a chain or be a link (`TaskSignature<[] | [unknown], unknown>`).
   */
  signature(name: string, options: SendTaskOptions = {}): TaskSignature<[] | [unknown], unknown> {
    if (typeof name !== "string" || name === "") throw new TypeError("A task name must be a non-empty string");
    const id = options.taskId !== undefined ? checkTaskId(options.taskId) : newTaskId();
    if (options.args !== undefined && !Array.isArray(options.args)) throw new TypeError(`Task ${name}: args must be an array`);
    return new TaskSignature(this.context, name, id, [...(options.args ?? [])], { ...(options.kwargs ?? {}) }, toSignatureOptions(options, this.context.now()));
  }

  /** Closes the broker and the result backend. */
  async close(): Promise<void> {
    const outcomes = await Promise.allSettled([this.broker.close(), this.backend.close()]);
    const failed = outcomes.find((outcome): outcome is PromiseRejectedResult => outcome.status === "rejected");
    if (failed !== undefined) throw failed.reason;
  }

  private compileArgsCheck(name: string, schema: JsonSchema): ArgsCheck {
    // One validator per queue, created on first need: a queue without schemas never builds ajv.
    this.validator ??= new AjvValidator();
    const validator = this.validator;
    // "body": strict JSON types, no coercion: arguments travel as JSON, "5" is not a number.
    const check = validator.compile(schema, { location: "body", coerce: false });
    return (args) => {
      const outcome = check(args);
      if (!outcome.ok) throw new TaskArgumentsError(name, describeIssues(outcome.issues));
    };
  }
}

/** `args[0]: Input should be a valid number; args[1]: Field required`. */
function describeIssues(issues: readonly ValidationIssue[]): string {
  return issues
    .map((issue) => {
      const path = issue.loc.slice(1).map((part) => (typeof part === "number" ? `[${part}]` : `.${part}`));
      return `args${path.join("")}: ${issue.msg}`;
    })
    .join("; ");
}
