/**
 * Rate parsing and the token bucket, on a fake clock; the limiter's waiting on real (short) timers.
 */
import t from "tap";
import { parseRate, RateLimiter, TokenBucket } from "../../../../lib/tasks/worker/rate-limiter.js";

t.test("parseRate: Celery's forms, in tokens per ms", async (t) => {
  t.equal(parseRate("10/s"), 10 / 1000);
  t.equal(parseRate("100/m"), 100 / 60_000);
  t.equal(parseRate("1000/h"), 1000 / 3_600_000);
  t.equal(parseRate("5"), 5 / 1000, "a bare number is per second");
  t.equal(parseRate(2.5), 2.5 / 1000);
  t.equal(parseRate(" 3 / m "), 3 / 60_000, "spaces are tolerated");
  t.equal(parseRate(0), undefined, "0 is no limit");
  t.equal(parseRate("0/s"), undefined);
});

t.test("parseRate: rejects what is not a rate", async (t) => {
  for (const bad of ["10/d", "fast", "", "-1/s", "1e3/s", "10/", "/s", "10/ss"]) t.throws(() => parseRate(bad), TypeError, JSON.stringify(bad));
  for (const bad of [-1, Number.NaN, Number.POSITIVE_INFINITY]) t.throws(() => parseRate(bad), TypeError, String(bad));
});

t.test("TokenBucket: capacity 1, refills at the fill rate, ignores a clock going back", async (t) => {
  let now = 1000;
  const bucket = new TokenBucket(1 / 100, 1, () => now);
  t.ok(bucket.tryTake(), "full at first");
  t.notOk(bucket.tryTake(), "no burst beyond the capacity");
  t.equal(bucket.msUntilToken(), 100);
  now += 60;
  t.equal(bucket.msUntilToken(), 40);
  t.notOk(bucket.tryTake());
  now += 40;
  t.ok(bucket.tryTake());
  now += 10_000;
  t.ok(bucket.tryTake());
  t.notOk(bucket.tryTake(), "a long idle time does not bank more than the capacity");
  now -= 5000;
  t.notOk(bucket.tryTake(), "a clock going backwards adds nothing");
});

t.test("RateLimiter: no promise for unlimited or available; waiters of one name served in order", async (t) => {
  const limiter = new RateLimiter();
  t.equal(limiter.acquire("free", 0), undefined, "unlimited");
  t.equal(limiter.acquire("free", 0), undefined);
  t.equal(limiter.acquire("a", "200/s"), undefined, "the first token is there");
  const order: number[] = [];
  const waits = [1, 2, 3].map((n) => {
    const wait = limiter.acquire("a", "200/s");
    t.ok(wait, "over the limit: a promise");
    return (wait as Promise<void>).then(() => void order.push(n));
  });
  t.equal(limiter.waiting(), 3);
  t.equal(limiter.acquire("b", "1/h"), undefined, "another name has its own bucket");
  await Promise.all(waits);
  t.same(order, [1, 2, 3]);
  t.equal(limiter.waiting(), 0);
});

t.test("RateLimiter: an abort rejects with the signal's reason and removes the waiter; clear() rejects all", async (t) => {
  const limiter = new RateLimiter();
  limiter.acquire("slow", "1/h");
  const controller = new AbortController();
  const wait = limiter.acquire("slow", "1/h", controller.signal) as Promise<void>;
  const reason = new Error("stopping");
  controller.abort(reason);
  await t.rejects(wait, reason);
  t.equal(limiter.waiting(), 0);
  await t.rejects(limiter.acquire("slow", "1/h", controller.signal) as Promise<void>, reason, "already aborted");
  const other = limiter.acquire("slow", "1/h") as Promise<void>;
  limiter.clear(new Error("gone"));
  await t.rejects(other, { message: "gone" });
});

t.test("RateLimiter: a malformed limit throws at acquire", async (t) => {
  const limiter = new RateLimiter();
  t.throws(() => limiter.acquire("x", "lots"), TypeError);
});
