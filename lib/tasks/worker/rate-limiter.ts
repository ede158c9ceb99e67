/**
 * Rate limits per task name, per worker (Celery's `rate_limit`): a token bucket for each limited
 * task name. A task over its limit waits in the worker (its lease kept alive by the worker's renewal
 * loop) while other task names run on: one bucket never holds back another.
 *
 * @module
 */

/**
 * Parses a rate into tokens per millisecond: `"10/s"`, `"100/m"`, `"1000/h"`, `"5"` or a number
 * (per second). 0 means no limit (Celery's `rate("0")`), returned as undefined.
 *
 * @throws TypeError for anything else (a negative number, `"10/d"`, `"fast"`).
 */
export function parseRate(rate: string | number): number | undefined {
  let count: number;
  let perMs = 1000;
  if (typeof rate === "number") {
    count = rate;
  } else {
    const match = /^\s*(\d+(?:\.\d+)?)\s*(?:\/\s*([smh]))?\s*$/.exec(rate);
    if (match === null) throw new TypeError(`Invalid rate limit ${JSON.stringify(rate)}: expected "N/s", "N/m", "N/h" or a number`);
    count = Number(match[1]);
    perMs = match[2] === "m" ? 60_000 : match[2] === "h" ? 3_600_000 : 1000;
  }
  if (!Number.isFinite(count) || count < 0) throw new TypeError(`Invalid rate limit ${String(rate)}: expected a number ≥ 0`);
  return count === 0 ? undefined : count / perMs;
}

/**
 * A token bucket (kombu's `TokenBucket`): `fillRate` tokens per ms, at most `capacity` kept. Celery's
 * worker uses a capacity of 1, so a limit of 10/s means one task every 100 ms, not bursts of ten.
 */
export class TokenBucket {
  private tokens: number;
  private last: number;

  constructor(
    readonly fillRate: number,
    readonly capacity: number,
    private readonly now: () => number,
  ) {
    this.tokens = capacity;
    this.last = now();
  }

  /** Takes a token if one is there. */
  tryTake(): boolean {
    this.refill();
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return true;
    }
    return false;
  }

  /** Ms until a token is there (0 when one is). */
  msUntilToken(): number {
    this.refill();
    return this.tokens >= 1 ? 0 : Math.ceil((1 - this.tokens) / this.fillRate);
  }

  private refill(): void {
    const now = this.now();
    // A clock that went backwards adds nothing rather than removing tokens.
    if (now > this.last) this.tokens = Math.min(this.capacity, this.tokens + (now - this.last) * this.fillRate);
    this.last = now;
  }
}

interface Waiter {
  resolve(): void;
  reject(reason: unknown): void;
  signal?: AbortSignal;
  onAbort?: () => void;
}

interface Limited {
  bucket: TokenBucket;
  waiters: Waiter[];
  timer?: NodeJS.Timeout;
}

/**
 * The worker's rate limits: one bucket per task name, created on first use. Waiters of one name are
 * served in order by one timer per name (not one per waiting task).
 */
export class RateLimiter {
  private readonly limits = new Map<string, Limited | null>();

  constructor(private readonly now: () => number = Date.now) {}

  /**
   * Takes a token for `name` limited to `rate`. Returns undefined when the task may run now (no
   * promise, so an unlimited or idle task pays nothing), else a promise that resolves when it may, or
   * rejects with `signal.reason` when `signal` aborts first (the worker stopping).
   *
   * @throws TypeError when `rate` does not parse (see {@link parseRate}).
   */
  acquire(name: string, rate: string | number, signal?: AbortSignal): Promise<void> | undefined {
    let limited = this.limits.get(name);
    if (limited === undefined) {
      const fillRate = parseRate(rate);
      limited = fillRate === undefined ? null : { bucket: new TokenBucket(fillRate, 1, this.now), waiters: [] };
      this.limits.set(name, limited);
    }
    if (limited === null) return undefined;
    if (limited.waiters.length === 0 && limited.bucket.tryTake()) return undefined;
    if (signal?.aborted) return Promise.reject(signal.reason);
    const entry = limited;
    return new Promise<void>((resolve, reject) => {
      const waiter: Waiter = { resolve, reject, signal };
      if (signal !== undefined) {
        waiter.onAbort = () => {
          const index = entry.waiters.indexOf(waiter);
          if (index >= 0) entry.waiters.splice(index, 1);
          if (entry.waiters.length === 0 && entry.timer !== undefined) {
            clearTimeout(entry.timer);
            entry.timer = undefined;
          }
          reject(signal.reason);
        };
        signal.addEventListener("abort", waiter.onAbort, { once: true });
      }
      entry.waiters.push(waiter);
      this.schedule(entry);
    });
  }

  /** How many tasks wait for a token, all names together. */
  waiting(): number {
    let count = 0;
    for (const limited of this.limits.values()) count += limited?.waiters.length ?? 0;
    return count;
  }

  /** Rejects every waiter with `reason` and clears the timers. */
  clear(reason: unknown): void {
    for (const limited of this.limits.values()) {
      if (limited === null) continue;
      if (limited.timer !== undefined) clearTimeout(limited.timer);
      limited.timer = undefined;
      for (const waiter of limited.waiters.splice(0)) {
        if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener("abort", waiter.onAbort);
        waiter.reject(reason);
      }
    }
  }

  private schedule(limited: Limited): void {
    if (limited.timer !== undefined || limited.waiters.length === 0) return;
    // At least 1 ms: a token that is "almost there" after rounding must not spin the loop.
    limited.timer = setTimeout(() => {
      limited.timer = undefined;
      while (limited.waiters.length > 0 && limited.bucket.tryTake()) {
        const waiter = limited.waiters.shift() as Waiter;
        if (waiter.onAbort !== undefined) waiter.signal?.removeEventListener("abort", waiter.onAbort);
        waiter.resolve();
      }
      this.schedule(limited);
    }, Math.max(1, limited.bucket.msUntilToken()));
  }
}
