/**
 * Publish options and how a message is built from them: the one place where `countdown`, `eta`,
 * `expires` and `priority` are checked and turned into a {@link TaskMessage}'s fields, shared by
 * `Task.applyAsync`, `TaskQueue.sendTask` and the canvas (which publishes frozen signatures).
 *
 * @module
 */
import { hostname } from "node:os";
import type { AsyncResult } from "./async-result.js";
import type { Broker } from "./broker.js";
import { MAX_PRIORITY, MIN_PRIORITY, type GroupMembership, type Signature, type SignatureOptions, type TaskMessage } from "./message.js";
import type { ResultBackend } from "./result-backend.js";

/**
 * What tasks, signatures and the canvas need from the `TaskQueue` that defined them. Internal: an
 * application uses `TaskQueue`, which builds one of these for its tasks.
 */
export interface PublishContext {
  readonly broker: Broker;
  readonly backend: ResultBackend;
  /** Epoch ms (injected in tests). */
  now(): number;
  /** The queue and priority a task is published with when the call names none: its options, else the queue's defaults. */
  defaultsFor(task: string): { queue: string; priority: number };
  /** Throws TaskArgumentsError when `task` is registered here with an `argsSchema` that refuses `args`. */
  checkArgs(task: string, args: unknown[]): void;
  /** A handle on a task's result. */
  asyncResult<R>(id: string): AsyncResult<R>;
}

/**
 * Options of one publication (Celery's `apply_async` keywords). Absent ones come from the task's
 * options, then from the queue's defaults.
 */
export interface ApplyOptions {
  /** Seconds from now before which the task must not run (`eta = now + countdown · 1000`). */
  countdown?: number;
  /** When the task may run at the earliest: a Date or epoch milliseconds. Exclusive with `countdown`. */
  eta?: Date | number;
  /**
   * After when the task must not run (a worker that reserves it later stores REVOKED): a Date, epoch
   * milliseconds, or, as Celery's `expires=60`, seconds from now when the number is below 1e9 (no
   * epoch-ms value that small is a date anyone means: it is 1970-01-12). A time already past is
   * allowed at publish; the worker marks the task REVOKED.
   */
  expires?: Date | number;
  /** 0..9, 9 highest (an integer; anything else throws a RangeError). */
  priority?: number;
  /** The queue to publish to. */
  queue?: string;
  /** The task id to use instead of a new UUID (idempotent publishers pick their own). */
  taskId?: string;
}

/** Epoch-ms values below this are read as "seconds from now" by {@link ApplyOptions.expires}. */
export const RELATIVE_EXPIRES_LIMIT = 1e9;

/** The publisher's name carried in `TaskMessage.origin` (`host:pid`, as Celery's). */
export const ORIGIN = `${hostname()}:${process.pid}`;

/** Checks a priority: an integer in 0..9. Returns it; throws a RangeError otherwise (never clamps silently). */
export function checkPriority(priority: number): number {
  if (!Number.isInteger(priority) || priority < MIN_PRIORITY || priority > MAX_PRIORITY) {
    throw new RangeError(`Task priority must be an integer from ${MIN_PRIORITY} to ${MAX_PRIORITY}, got ${String(priority)}`);
  }
  return priority;
}

/**
 * Turns user-facing {@link ApplyOptions} into a signature's stored options: `eta` and `expires` become
 * epoch ms (a relative `expires` counts from `now`), `countdown` stays in seconds (it counts from the
 * moment the message is finally published, which for a chain link is when the previous one succeeds).
 * Every value is checked here, so a bad option throws before anything is stored.
 */
export function toSignatureOptions(options: ApplyOptions, now: number): SignatureOptions {
  const out: SignatureOptions = {};
  if (options.queue !== undefined) {
    if (typeof options.queue !== "string" || options.queue === "") throw new TypeError("Task queue must be a non-empty string");
    out.queue = options.queue;
  }
  if (options.priority !== undefined) out.priority = checkPriority(options.priority);
  if (options.countdown !== undefined && options.eta !== undefined) {
    throw new TypeError("Give a task either countdown or eta, not both");
  }
  if (options.countdown !== undefined) {
    if (typeof options.countdown !== "number" || !Number.isFinite(options.countdown)) {
      throw new RangeError(`Task countdown must be a finite number of seconds, got ${String(options.countdown)}`);
    }
    out.countdown = options.countdown;
  }
  if (options.eta !== undefined) out.eta = toEpochMs(options.eta, "eta");
  if (options.expires !== undefined) {
    const expires = options.expires;
    out.expires =
      typeof expires === "number" && Number.isFinite(expires) && expires < RELATIVE_EXPIRES_LIMIT
        ? now + expires * 1000
        : toEpochMs(expires, "expires");
  }
  return out;
}

function toEpochMs(value: Date | number, what: string): number {
  const ms = value instanceof Date ? value.getTime() : value;
  if (typeof ms !== "number" || !Number.isFinite(ms)) throw new RangeError(`Task ${what} must be a valid Date or epoch milliseconds, got ${String(value)}`);
  return ms;
}

/** A task id given by a caller: a non-empty string. */
export function checkTaskId(id: unknown): string {
  if (typeof id !== "string" || id === "") throw new TypeError(`A task id must be a non-empty string, got ${String(id)}`);
  return id;
}

/** Where a message sits in a workflow, besides its own signature. */
export interface MessagePlacement {
  /** The workflow's first task (default: the message's own id). */
  rootId?: string;
  /** The task whose success publishes this one. */
  parentId?: string;
  group?: GroupMembership;
  chain?: Signature[];
  chord?: Signature;
}

/**
 * Builds the message that publishes `signature` now: `countdown` becomes `eta = now + countdown · 1000`,
 * a queue or priority the signature lacks comes from `defaults`. The worker publishing a chain's next
 * link or a chord's callback can use it too (with the result prepended to `signature.args` first).
 */
export function messageFromSignature(
  signature: Signature,
  defaults: { queue: string; priority: number },
  now: number,
  placement: MessagePlacement = {},
): TaskMessage {
  const options = signature.options;
  const eta = options.countdown !== undefined ? now + options.countdown * 1000 : options.eta;
  const message: TaskMessage = {
    id: signature.id,
    task: signature.task,
    args: signature.args,
    kwargs: signature.kwargs,
    queue: options.queue ?? defaults.queue,
    priority: options.priority ?? defaults.priority,
    retries: 0,
    rootId: placement.rootId ?? signature.id,
    publishedAt: now,
    origin: ORIGIN,
  };
  // Optional fields are left out rather than set to undefined: brokers store the message as JSON and
  // tests compare it whole.
  if (eta !== undefined) message.eta = eta;
  if (options.expires !== undefined) message.expires = options.expires;
  if (placement.parentId !== undefined) message.parentId = placement.parentId;
  if (placement.group !== undefined) message.group = placement.group;
  if (placement.chain !== undefined && placement.chain.length > 0) message.chain = placement.chain;
  if (placement.chord !== undefined) message.chord = placement.chord;
  return message;
}
