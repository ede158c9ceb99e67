/**
 * When a beat entry is due: a cron expression (through cron-parser 5, the maintained parser) or a
 * fixed interval. Both are pure functions of time, so every scheduler computes the same tick times,
 * which is what lets two schedulers agree on "the 12:05 tick" and publish it once
 * (`broker.claimOnce("beat:<entry>:<tick>")`).
 *
 * @module
 */
import { CronExpressionParser } from "cron-parser";

/** The tick times of one entry (epoch ms). */
export interface Schedule {
  /** The latest tick at or before `at`, or undefined when there is none. */
  previous(at: number): number | undefined;
  /** The first tick strictly after `at`, or undefined when there is none (a cron bounded in time). */
  next(at: number): number | undefined;
  /** How it was given, for logs: `cron "*\/5 * * * *" (UTC)`, `every 30s`. */
  readonly description: string;
}

/** Predefined expressions cron-parser accepts (`@daily`, …). */
const ALIAS = /^@(yearly|annually|monthly|weekly|daily|hourly|minutely|secondly|weekdays|weekends)$/;

/**
 * A cron schedule: 5 fields (minute hour day-of-month month day-of-week), or 6 with seconds first,
 * or an alias such as `@hourly`; evaluated in `timezone` (an IANA name, default UTC, as Celery's
 * default `timezone`). Throws a `TypeError` naming the problem when the expression or the timezone
 * is invalid, or when the expression never fires.
 */
export function cronSchedule(expression: string, timezone = "UTC"): Schedule {
  if (typeof expression !== "string") throw new TypeError(`cron must be a string, got ${typeof expression}`);
  const trimmed = expression.trim();
  const fields = trimmed.split(/\s+/).length;
  // cron-parser fills missing fields with "*" ("" and "* * * *" parse as every minute): a truncated
  // expression is far more likely a mistake than a wish to run every minute, so it is refused.
  if (!ALIAS.test(trimmed) && (trimmed === "" || fields < 5 || fields > 6)) {
    throw new TypeError(`cron "${expression}" must have 5 fields (minute hour day month weekday) or 6 (seconds first)`);
  }
  const parse = (at: number) => CronExpressionParser.parse(trimmed, { currentDate: new Date(at), tz: timezone });
  try {
    // Parsing alone accepts an unknown timezone and some expressions that never fire; stepping once does not.
    parse(Date.now()).next();
  } catch (error) {
    throw new TypeError(`cron "${expression}" (timezone ${timezone}) is invalid: ${error instanceof Error ? error.message : String(error)}`);
  }
  return {
    description: `cron "${trimmed}" (${timezone})`,
    previous(at) {
      // prev() is strictly before currentDate; +1 ms makes a tick exactly at `at` count.
      return step(() => parse(at + 1).prev().getTime());
    },
    next(at) {
      return step(() => parse(at).next().getTime());
    },
  };
}

function step(fn: () => number): number | undefined {
  try {
    return fn();
  } catch {
    // Out of the expression's range (no earlier or later tick): nothing is due.
    return undefined;
  }
}

/**
 * Every `seconds` seconds, on a grid anchored at the Unix epoch (`every: 60` ticks on each minute),
 * not at the scheduler's start: two schedulers (or one restarted) must name the same ticks.
 * Throws a `RangeError` unless `seconds` is a positive finite number of whole milliseconds.
 */
export function intervalSchedule(seconds: number): Schedule {
  const ms = seconds * 1000;
  if (typeof seconds !== "number" || !Number.isFinite(ms) || ms < 1 || !Number.isInteger(ms)) {
    throw new RangeError(`every must be a positive number of seconds (whole milliseconds), got ${String(seconds)}`);
  }
  return {
    description: `every ${seconds}s`,
    previous: (at) => Math.floor(at / ms) * ms,
    next: (at) => (Math.floor(at / ms) + 1) * ms,
  };
}
