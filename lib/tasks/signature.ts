/**
 * {@link TaskSignature}: a task invocation still to be published (Celery's `signature`, built by
 * `task.s(...)`), typed by what it still needs and what it returns, so `chain`, `group` and `chord`
 * refuse at compile time a link whose argument does not match the previous result.
 *
 * A signature's id is chosen when it is built, so a workflow's results can be held before anything
 * runs (Celery freezes signatures the same way). Its plain JSON form is the contract's
 * {@link Signature} ({@link TaskSignature.freeze}).
 *
 * @module
 */
import type { AsyncResult } from "./async-result.js";
import type { Signature, SignatureOptions } from "./message.js";
import { checkTaskId, messageFromSignature, toSignatureOptions, type ApplyOptions, type PublishContext } from "./publish.js";

/**
 * The positional arguments of a task without its first one: what a chain link's `s()` is given,
 * the previous result being prepended at run time (Celery prepends it too).
 */
export type DropFirst<A extends unknown[]> = A extends [] ? never : A extends [unknown?, ...infer T] ? T : A;

/** The type of a task's first positional argument: what a chain link receives from the previous link. */
export type FirstArg<A extends unknown[]> = A extends [] ? never : A extends [(infer F)?, ...unknown[]] ? F : A extends (infer E)[] ? E : never;

/**
 * What a signature built from `args` still needs, for a task taking `A`: `[]` when `args` is a full
 * argument list (it can run as it is: a group member, a chain's first link), `[FirstArg<A>]` when
 * `args` lacks the first argument (a chain link, a chord callback), both when either reading is a
 * valid call (a task with optional trailing parameters: `mul(x, y = 10).s(5)` runs as `mul(5)` in a
 * group and as `mul(previous, 5)` in a chain, exactly as at run time).
 */
export type SignatureInput<A extends unknown[], P extends unknown[]> =
  | (P extends A ? [] : never)
  | (A extends [] ? never : P extends DropFirst<A> ? [FirstArg<A>] : never);

/** The result type of a signature, chain or group member. */
export type ResultOf<S> = S extends TaskSignature<never, infer R> ? R : never;

/**
 * A signature of a task returning `R` that still needs `In` prepended to its arguments: `[]` for a
 * complete one, `[X]` for one that receives a value of type `X` (a chain link gets the previous
 * link's result, a chord callback the list of the header's results).
 *
 * Build it with `task.s(...)` (typed) or `queue.signature(name, ...)` (by name, untyped). It is
 * immutable: {@link TaskSignature.set} returns a new one.
 *
 * @example
 * const add = queue.task("math.add", (x: number, y: number) => x + y);
 * add.s(2, 3);       // TaskSignature<[], number>: runs as add(2, 3)
 * add.s(10);         // TaskSignature<[number], number>: in a chain, runs as add(previous, 10)
 * add.s(2, 3).set({ countdown: 10, queue: "math" });
 */
export class TaskSignature<In extends unknown[], R> {
  /**
   * Type-level only (never set at run time): `In` sits in a parameter position so a signature that
   * needs `[number]` is not accepted where `[string]` is fed, and a complete one (`[]`) is not
   * accepted as a chain link (which would silently get an extra first argument).
   */
  declare readonly _types?: { input: (args: In) => void; result: R };

  /** The registered task name. */
  readonly task: string;
  /** The task id this signature will be published with. */
  readonly id: string;
  /** The arguments given (without what will be prepended). */
  readonly args: readonly unknown[];
  readonly kwargs: Readonly<Record<string, unknown>>;
  /** Publish options (eta and expires already in epoch ms; countdown still in seconds). */
  readonly options: Readonly<SignatureOptions>;
  /** @internal The queue that built it: defaults, checks, the broker. */
  readonly context: PublishContext;

  /** @internal Built by `task.s()` and `queue.signature()`. */
  constructor(context: PublishContext, task: string, id: string, args: readonly unknown[], kwargs: Record<string, unknown>, options: SignatureOptions) {
    this.context = context;
    this.task = task;
    this.id = id;
    this.args = args;
    this.kwargs = kwargs;
    this.options = options;
  }

  /**
   * A copy with publish options changed (Celery's `signature.set`); `taskId` gives it another id,
   * `kwargs` replaces its keyword arguments. Bad options throw here, not later at publish.
   */
  set(options: ApplyOptions & { kwargs?: Record<string, unknown> }): TaskSignature<In, R> {
    const id = options.taskId !== undefined ? checkTaskId(options.taskId) : this.id;
    const merged = { ...this.options, ...toSignatureOptions(options, this.context.now()) };
    // countdown and eta are one thing (when it may run): setting one drops the other.
    if (options.countdown !== undefined) delete merged.eta;
    if (options.eta !== undefined) delete merged.countdown;
    return new TaskSignature<In, R>(this.context, this.task, id, this.args, options.kwargs ?? { ...this.kwargs }, merged);
  }

  /**
   * The plain JSON form carried in messages (a chain's `chain`, a chord's `chord`), with the queue
   * and priority resolved now from the task's options, so whoever publishes it later (a worker that
   * may not have the task registered with the same options) sends it where this process would.
   */
  freeze(): Signature {
    const defaults = this.context.defaultsFor(this.task);
    return {
      task: this.task,
      id: this.id,
      args: [...this.args],
      kwargs: { ...this.kwargs },
      options: { ...this.options, queue: this.options.queue ?? defaults.queue, priority: this.options.priority ?? defaults.priority },
    };
  }

  /**
   * Publishes a complete signature now (Celery's `sig.apply_async()`). Only complete signatures
   * (`In` = `[]`) can: a partial one has nothing to receive its missing argument from. Publishing the
   * same signature twice publishes its one id twice (as a frozen Celery signature does).
   */
  async applyAsync(this: TaskSignature<[], R>): Promise<AsyncResult<R>> {
    const args = [...this.args];
    this.context.checkArgs(this.task, args);
    await this.context.broker.publish(messageFromSignature({ ...this.freeze(), args }, this.context.defaultsFor(this.task), this.context.now()));
    return this.context.asyncResult<R>(this.id);
  }

  /** Celery's `signature.delay()`: same as {@link TaskSignature.applyAsync}. */
  delay(this: TaskSignature<[], R>): Promise<AsyncResult<R>> {
    return this.applyAsync();
  }
}
