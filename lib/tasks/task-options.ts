/**
 * A task's options (Celery's task attributes), given to `queue.task(name, fn, options)`.
 *
 * @module
 */
import type { TSchema } from "@sinclair/typebox";

/** Error classes (or their names) a task retries on automatically (Celery's `autoretry_for`). */
export type RetryOn = ReadonlyArray<(abstract new (...args: never[]) => Error) | string>;

/** Options of one task; every field is optional. Times in seconds, as Celery's. */
export interface TaskOptions {
  /** Retries before FAILURE (Celery's `max_retries`, default 3). `null` retries forever. */
  maxRetries?: number | null;
  /** Errors that retry without the task calling `retry()`. */
  autoretryFor?: RetryOn;
  /**
   * Exponential backoff between automatic retries: `true` starts at 1 s, a number at that many
   * seconds; doubled each retry, capped by `retryBackoffMax`. `false` (default) retries after
   * `defaultRetryDelay`.
   */
  retryBackoff?: boolean | number;
  /** Cap of the backoff, seconds (default 600). */
  retryBackoffMax?: number;
  /** Full jitter on the backoff (default true): a random delay between 0 and the computed one. */
  retryJitter?: boolean;
  /** Delay of an explicit `retry()` without a countdown, seconds (default 180, as Celery's). */
  defaultRetryDelay?: number;
  /** Hard time limit, seconds: the task is stopped (its process killed in the process pool) and fails with TimeLimitExceeded. */
  timeLimit?: number;
  /** Soft time limit, seconds: the task's AbortSignal aborts with SoftTimeLimitExceeded; it may clean up. */
  softTimeLimit?: number;
  /** Rate limit per worker: `"10/s"`, `"100/m"`, `"1000/h"`, or a number per second. */
  rateLimit?: string | number;
  /** Queue it is published to (default `celery`). */
  queue?: string;
  /** Default priority, 0..9 (9 highest). */
  priority?: number;
  /**
   * Acknowledge after the task ran instead of before (Celery's `acks_late`, default false). With it,
   * a worker killed mid-task leaves the message to run again elsewhere: at-least-once. Without it,
   * the message is acked as the task starts: at-most-once.
   */
  acksLate?: boolean;
  /** Do not store SUCCESS results (Celery's `ignore_result`); states other than SUCCESS are still stored. */
  ignoreResult?: boolean;
  /**
   * JSON Schema (TypeBox) of the positional arguments as a tuple, checked at publish and again at
   * execution by the validator layer.
   */
  argsSchema?: TSchema;
}

/** Defaults applied where an option is absent. */
export const DEFAULT_TASK_OPTIONS = Object.freeze({
  maxRetries: 3,
  retryBackoff: false as boolean | number,
  retryBackoffMax: 600,
  retryJitter: true,
  defaultRetryDelay: 180,
  acksLate: false,
  ignoreResult: false,
});
