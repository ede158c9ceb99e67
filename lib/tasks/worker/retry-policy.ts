/**
 * When a failed execution is retried, and after how long: the worker's retry decision as pure
 * functions (no broker, no clock of their own), so the arithmetic is unit-tested with an injected
 * random source.
 *
 * @module
 */
import { MaxRetriesExceededError, TaskArgumentsError } from "../../errors.js";
import { Retry } from "../registry.js";
import { DEFAULT_TASK_OPTIONS, type RetryOn, type TaskOptions } from "../task-options.js";

/**
 * Celery's `get_exponential_backoff_interval`: `factor × 2^retries` seconds, capped by `maximum`,
 * then, with full jitter, a random whole number of seconds between 0 and that (inclusive, as
 * Python's `randrange(countdown + 1)`). Full jitter spreads a burst of failures (a dependency that
 * was down) so the retries do not all land at once (AWS's "Exponential Backoff And Jitter").
 *
 * @param random - returns [0, 1); injected by tests.
 * @returns the delay in seconds.
 * @example
 * exponentialBackoffSeconds(1, 3, 600, false); // 8
 */
export function exponentialBackoffSeconds(
  factor: number,
  retries: number,
  maximum: number,
  fullJitter: boolean,
  random: () => number = Math.random,
): number {
  // 2 ** retries overflows to Infinity for huge retry counts; min() then caps it.
  let countdown = Math.min(maximum, factor * 2 ** retries);
  if (!Number.isFinite(countdown)) countdown = 0;
  if (fullJitter) countdown = Math.floor(random() * (Math.floor(countdown) + 1));
  return Math.max(0, countdown);
}

/** What the worker does with an execution's error. */
export type RetryDecision =
  /** Publish the task again (`retries + 1`) after `delayMs`, storing RETRY with `error`. */
  | { kind: "retry"; delayMs: number; error: unknown }
  /** Give up: store FAILURE with `error` and dead-letter the message. */
  | { kind: "fail"; error: unknown };

/** What {@link decideRetry} needs to know about the failed execution. */
export interface RetryInput {
  /** What the execution rejected with. */
  error: unknown;
  /** The task's name and id (for MaxRetriesExceededError's message). */
  taskName: string;
  taskId: string;
  /** Retries before this attempt (`message.retries`). */
  retries: number;
  /** The task's options (defaults not applied). */
  options: TaskOptions;
  /** Clock, epoch ms: turns a Retry's `eta` into a delay. */
  now: number;
  /** [0, 1) source for the jitter. */
  random?: () => number;
}

/**
 * Decides between a retry and a final failure:
 * - a {@link Retry} (thrown via `ctx.retry()`) retries, with its own `countdown`/`eta`, else the
 *   backoff when `retryBackoff` is set, else `defaultRetryDelay`; its `maxRetries` overrides the task's;
 * - an error matching `autoretryFor` (a class, or a name anywhere on its prototype chain, so an error
 *   rebuilt after crossing a process boundary still matches) retries the same way without a countdown;
 * - a TaskArgumentsError never retries (the same arguments would fail again);
 * - past `maxRetries` (null: never) the task fails with the Retry's `exc`, or MaxRetriesExceededError
 *   when it gave none, or the auto-retried error itself (Celery raises the original exception).
 */
export function decideRetry(input: RetryInput): RetryDecision {
  const { error, options } = input;
  const explicit = isRetry(error);
  if (!explicit && (isTaskArgumentsError(error) || !matchesRetryOn(error, options.autoretryFor))) {
    return { kind: "fail", error };
  }
  const retry = explicit ? (error as Retry) : undefined;
  const maxRetries = retry?.maxRetries !== undefined ? retry.maxRetries : options.maxRetries !== undefined ? options.maxRetries : DEFAULT_TASK_OPTIONS.maxRetries;
  const cause: unknown = retry !== undefined ? retry.exc : error;
  if (maxRetries !== null && input.retries >= maxRetries) {
    return { kind: "fail", error: cause ?? new MaxRetriesExceededError(input.taskName, input.taskId, maxRetries) };
  }
  return { kind: "retry", delayMs: retryDelayMs(retry, input), error: cause ?? error };
}

/** The delay before the next attempt, ms. */
function retryDelayMs(retry: Retry | undefined, input: RetryInput): number {
  if (retry?.eta !== undefined && Number.isFinite(retry.eta)) return Math.max(0, retry.eta - input.now);
  if (retry?.countdown !== undefined && Number.isFinite(retry.countdown)) return Math.max(0, retry.countdown * 1000);
  const { options } = input;
  const backoff = options.retryBackoff ?? DEFAULT_TASK_OPTIONS.retryBackoff;
  if (backoff !== false && backoff !== 0) {
    const factor = backoff === true ? 1 : backoff;
    const maximum = options.retryBackoffMax ?? DEFAULT_TASK_OPTIONS.retryBackoffMax;
    const jitter = options.retryJitter ?? DEFAULT_TASK_OPTIONS.retryJitter;
    return exponentialBackoffSeconds(factor, input.retries, maximum, jitter, input.random) * 1000;
  }
  return Math.max(0, (options.defaultRetryDelay ?? DEFAULT_TASK_OPTIONS.defaultRetryDelay) * 1000);
}

/** True for a Retry, also one rebuilt by a process pool that only kept its name. */
export function isRetry(error: unknown): boolean {
  return error instanceof Retry || (error instanceof Error && error.name === "Retry");
}

function isTaskArgumentsError(error: unknown): boolean {
  return error instanceof TaskArgumentsError || (error instanceof Error && error.name === "TaskArgumentsError");
}

/** True when `error` is one of `retryOn`: an instance of a listed class, or a listed name on its chain. */
export function matchesRetryOn(error: unknown, retryOn: RetryOn | undefined): boolean {
  if (retryOn === undefined || retryOn.length === 0 || !(error instanceof Error)) return false;
  for (const entry of retryOn) {
    if (typeof entry === "string") {
      if (hasName(error, entry)) return true;
    } else if (typeof entry === "function" && error instanceof entry) {
      return true;
    }
  }
  return false;
}

function hasName(error: Error, name: string): boolean {
  if (error.name === name) return true;
  for (let proto = Object.getPrototypeOf(error); proto !== null && proto !== Object.prototype; proto = Object.getPrototypeOf(proto)) {
    if ((proto.constructor as { name?: string } | undefined)?.name === name) return true;
  }
  return false;
}
