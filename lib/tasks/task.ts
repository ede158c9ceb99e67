/**
 * {@link Task}: a function registered under a name, with the ways to publish it (`delay`,
 * `applyAsync`), to describe it for a workflow (`s`) and to run it (`run` in-process, `execute` as a
 * worker does). Built by `TaskQueue.task`.
 *
 * How a task function receives its inputs: positional arguments as given to `delay(...)` (or
 * `applyAsync({ args })`); when `kwargs` is non-empty it is passed as one extra argument after them
 * (`fn(...args, kwargs)`), since JavaScript has no keyword arguments. A Python Celery client's
 * `send_task("x", args=[1], kwargs={"y": 2})` arrives as `fn(1, { y: 2 })`.
 *
 * @module
 */
import { AsyncResult } from "./async-result.js";
import { runInTaskContext } from "./current-task.js";
import { newTaskId } from "./message.js";
import { checkTaskId, messageFromSignature, toSignatureOptions, type ApplyOptions, type PublishContext } from "./publish.js";
import { Retry, type TaskContext } from "./registry.js";
import { TaskSignature, type DropFirst, type SignatureInput } from "./signature.js";
import type { TaskOptions } from "./task-options.js";

/** Options of {@link Task.applyAsync}: the arguments and Celery's `apply_async` keywords. */
export interface TaskApplyOptions<A extends unknown[]> extends ApplyOptions {
  /** Positional arguments (default: none). */
  args?: A;
  /** Keyword arguments: passed as one extra last argument when non-empty. */
  kwargs?: Record<string, unknown>;
}

/** Checks a task's positional arguments; throws TaskArgumentsError. Built from `argsSchema` by the queue. */
export type ArgsCheck = (args: unknown[]) => void;

/**
 * A registered task taking `A` and resolving to `R`.
 *
 * @example
 * const add = queue.task("math.add", async (x: number, y: number) => x + y);
 * const result = await add.delay(2, 3);      // AsyncResult<number>
 * await result.get({ timeout: 5 });          // 5
 * await add.run(2, 3);                       // 5, in this process
 */
export class Task<A extends unknown[], R> {
  /** The registered name. */
  readonly name: string;
  /** The options given at definition (defaults not applied). */
  readonly options: TaskOptions;
  private readonly fn: (...args: never[]) => unknown;
  private readonly context: PublishContext;
  private readonly check: ArgsCheck | undefined;

  /** @internal Built by `TaskQueue.task`. */
  constructor(context: PublishContext, name: string, fn: (...args: A) => unknown, options: TaskOptions, check?: ArgsCheck) {
    this.context = context;
    this.name = name;
    this.fn = fn as (...args: never[]) => unknown;
    this.options = options;
    this.check = check;
  }

  /** Publishes the task with these arguments and the task's default options (Celery's `delay`). */
  delay(...args: A): Promise<AsyncResult<R>> {
    return this.applyAsync({ args });
  }

  /**
   * Publishes the task (Celery's `apply_async`). Arguments are checked against `argsSchema` first:
   * invalid ones throw TaskArgumentsError and nothing is published. Nothing is stored in the result
   * backend: until a worker takes it the task is PENDING, i.e. unknown (as in Celery).
   */
  async applyAsync(options: TaskApplyOptions<A> = {}): Promise<AsyncResult<R>> {
    const now = this.context.now();
    const id = options.taskId !== undefined ? checkTaskId(options.taskId) : newTaskId();
    const args: unknown[] = [...(options.args ?? [])];
    this.checkArgs(args);
    const signatureOptions = toSignatureOptions(options, now);
    const message = messageFromSignature(
      { task: this.name, id, args, kwargs: { ...(options.kwargs ?? {}) }, options: signatureOptions },
      this.context.defaultsFor(this.name),
      now,
    );
    await this.context.broker.publish(message);
    return new AsyncResult<R>(id, this.context);
  }

  /**
   * A signature for a workflow (Celery's `task.s`). Given every argument it is complete
   * (`TaskSignature<[], R>`); given all but the first it is a chain link or chord callback
   * (`TaskSignature<[first], R>`) that receives the previous result (the list of the header's
   * results for a chord callback) as its first argument, prepended at run time as Celery does.
   *
   * @example
   * chain(add.s(2, 3), mul.s(10)); // mul(add(2, 3), 10)
   */
  s<P extends A | DropFirst<A>>(...args: P): TaskSignature<SignatureInput<A, P>, R> {
    return new TaskSignature<SignatureInput<A, P>, R>(this.context, this.name, newTaskId(), [...args], {}, {});
  }

  /**
   * Calls the function in this process, now (Celery's `task(...)`/`__call__`): nothing is published
   * or stored. The arguments are checked as a worker would, and `currentTask()` answers inside with
   * a context of its own (a fresh id, no retries, a signal that never aborts).
   */
  run(...args: A): Promise<R> {
    const id = newTaskId();
    const context: TaskContext = {
      id,
      name: this.name,
      retries: 0,
      rootId: id,
      signal: new AbortController().signal,
      retry: (options) => new Retry(options),
    };
    return this.execute(args, {}, context);
  }

  /**
   * Runs the task as a worker does (`RegisteredTask.run`): checks `args` against `argsSchema` (a
   * message forged by another publisher is refused with TaskArgumentsError, which is never retried),
   * then calls the function inside `context`, with `kwargs` as an extra last argument when non-empty.
   */
  async execute(args: unknown[], kwargs: Record<string, unknown>, context: TaskContext): Promise<R> {
    if (!Array.isArray(args)) throw new TypeError(`Task ${this.name} was given args that are not a list`);
    this.checkArgs(args);
    const callArgs = kwargs !== undefined && kwargs !== null && Object.keys(kwargs).length > 0 ? [...args, kwargs] : args;
    return (await runInTaskContext(context, () => this.fn(...(callArgs as never[])))) as R;
  }

  /** Throws TaskArgumentsError when the task has an `argsSchema` that refuses `args`. */
  checkArgs(args: unknown[]): void {
    this.check?.(args);
  }

  /** `Task(<name>)`, for logs. */
  toString(): string {
    return `Task(${this.name})`;
  }
}
