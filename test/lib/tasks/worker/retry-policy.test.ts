/**
 * The retry decision and Celery's backoff arithmetic, with an injected random source.
 */
import t from "tap";
import { MaxRetriesExceededError, TaskArgumentsError } from "../../../../lib/errors.js";
import { Retry } from "../../../../lib/tasks/registry.js";
import { decideRetry, exponentialBackoffSeconds, matchesRetryOn, type RetryInput } from "../../../../lib/tasks/worker/retry-policy.js";

class ConnectionLost extends Error {}
class SubLost extends ConnectionLost {}

t.test("exponentialBackoffSeconds: factor × 2^retries, capped, without jitter", async (t) => {
  t.same([0, 1, 2, 3, 4].map((n) => exponentialBackoffSeconds(1, n, 600, false)), [1, 2, 4, 8, 16]);
  t.equal(exponentialBackoffSeconds(3, 2, 600, false), 12);
  t.equal(exponentialBackoffSeconds(1, 20, 600, false), 600, "capped by the maximum");
  t.equal(exponentialBackoffSeconds(1, 5000, 600, false), 600, "2^5000 overflows to Infinity and is still capped");
  t.equal(exponentialBackoffSeconds(1, 3, -5, false), 0, "a negative maximum never yields a negative delay");
});

t.test("exponentialBackoffSeconds: full jitter is randrange(countdown + 1)", async (t) => {
  t.equal(exponentialBackoffSeconds(1, 3, 600, true, () => 0), 0);
  t.equal(exponentialBackoffSeconds(1, 3, 600, true, () => 0.999999), 8, "the top of the range is the countdown itself");
  t.equal(exponentialBackoffSeconds(1, 3, 600, true, () => 0.5), 4);
  t.equal(exponentialBackoffSeconds(1, 30, 600, true, () => 0.999999), 600, "jitter applies to the capped value");
});

const base = (error: unknown, extra: Partial<RetryInput> = {}): RetryInput => ({
  error,
  taskName: "t.x",
  taskId: "id-1",
  retries: 0,
  options: {},
  now: 1_000_000,
  random: () => 0.5,
  ...extra,
});

t.test("an explicit Retry uses its countdown, else its eta, else defaultRetryDelay", async (t) => {
  t.same(decideRetry(base(new Retry({ countdown: 5 }))), { kind: "retry", delayMs: 5000, error: new Retry({ countdown: 5 }) });
  const eta = decideRetry(base(new Retry({ eta: 1_000_000 + 2500 })));
  t.equal(eta.kind === "retry" && eta.delayMs, 2500);
  const past = decideRetry(base(new Retry({ eta: 5 })));
  t.equal(past.kind === "retry" && past.delayMs, 0, "an eta in the past retries at once, not with a negative delay");
  const plain = decideRetry(base(new Retry()));
  t.equal(plain.kind === "retry" && plain.delayMs, 180_000, "Celery's default_retry_delay of 180 s");
  const custom = decideRetry(base(new Retry(), { options: { defaultRetryDelay: 7 } }));
  t.equal(custom.kind === "retry" && custom.delayMs, 7000);
});

t.test("a Retry's exc is what RETRY and the final FAILURE record", async (t) => {
  const exc = new ConnectionLost("down");
  const retry = decideRetry(base(new Retry({ exc, countdown: 1 })));
  t.equal(retry.kind, "retry");
  t.equal(retry.error, exc);
  const final = decideRetry(base(new Retry({ exc }), { retries: 3 }));
  t.same(final, { kind: "fail", error: exc });
});

t.test("past maxRetries without exc: MaxRetriesExceededError", async (t) => {
  const final = decideRetry(base(new Retry(), { retries: 3 }));
  t.equal(final.kind, "fail");
  t.ok(final.error instanceof MaxRetriesExceededError);
  t.match((final.error as Error).message, /t\.x\[id-1\].*\(3\)/);
});

t.test("maxRetries: the task's, the Retry's override, and null for forever", async (t) => {
  t.equal(decideRetry(base(new Retry(), { retries: 2 })).kind, "retry", "default 3: the third retry is allowed");
  t.equal(decideRetry(base(new Retry(), { retries: 1, options: { maxRetries: 1 } })).kind, "fail");
  t.equal(decideRetry(base(new Retry({ maxRetries: 10 }), { retries: 5, options: { maxRetries: 1 } })).kind, "retry", "the per-call override wins");
  t.equal(decideRetry(base(new Retry({ maxRetries: 0 }), { retries: 0 })).kind, "fail", "an override of 0 means no retry at all");
  t.equal(decideRetry(base(new Retry(), { retries: 1_000_000, options: { maxRetries: null } })).kind, "retry", "null retries forever");
  t.equal(decideRetry(base(new Retry({ maxRetries: null }), { retries: 99 })).kind, "retry");
});

t.test("autoretryFor: by class (subclasses included) and by name anywhere on the chain", async (t) => {
  t.ok(matchesRetryOn(new SubLost("x"), [ConnectionLost]));
  t.ok(matchesRetryOn(new SubLost("x"), ["ConnectionLost"]), "a base class's name matches");
  const rebuilt = Object.assign(new Error("x"), { name: "ConnectionLost" });
  t.ok(matchesRetryOn(rebuilt, ["ConnectionLost"]), "an error rebuilt elsewhere keeps only its name");
  t.notOk(matchesRetryOn(new TypeError("x"), [ConnectionLost, "RangeError"]));
  t.notOk(matchesRetryOn("a string", ["Error"]), "something that is not an Error never matches");
  t.notOk(matchesRetryOn(new Error("x"), undefined));
  t.notOk(matchesRetryOn(new Error("x"), []));
});

t.test("an auto-retried error: backoff when retryBackoff, else defaultRetryDelay; fails with itself at the end", async (t) => {
  const error = new ConnectionLost("down");
  const options = { autoretryFor: [ConnectionLost], retryBackoff: true, retryJitter: false };
  const third = decideRetry(base(error, { retries: 2, options }));
  t.same(third, { kind: "retry", delayMs: 4000, error });
  const factor = decideRetry(base(error, { retries: 1, options: { ...options, retryBackoff: 5, retryBackoffMax: 7 } }));
  t.equal(factor.kind === "retry" && factor.delayMs, 7000, "5 × 2 = 10 s capped at 7 s");
  const jittered = decideRetry(base(error, { retries: 2, options: { ...options, retryJitter: true }, random: () => 0.25 }));
  t.equal(jittered.kind === "retry" && jittered.delayMs, 1000, "floor(0.25 × 5) = 1 s");
  const noBackoff = decideRetry(base(error, { options: { autoretryFor: ["ConnectionLost"] } }));
  t.equal(noBackoff.kind === "retry" && noBackoff.delayMs, 180_000);
  t.same(decideRetry(base(error, { retries: 3, options })), { kind: "fail", error }, "the original error, not MaxRetriesExceeded");
});

t.test("errors that never retry", async (t) => {
  t.same(decideRetry(base(new TypeError("bug"), { options: { autoretryFor: [RangeError] } })), { kind: "fail", error: new TypeError("bug") });
  const argsError = new TaskArgumentsError("t.x", "bad");
  t.equal(decideRetry(base(argsError, { options: { autoretryFor: [Error] } })).kind, "fail", "TaskArgumentsError even when Error is listed");
  t.equal(decideRetry(base(undefined, { options: { autoretryFor: [Error] } })).kind, "fail", "throwing undefined");
  t.equal(decideRetry(base(null)).kind, "fail");
});

t.test("a rebuilt Retry (only its name survived a process boundary) is still a retry", async (t) => {
  const rebuilt = Object.assign(new Error("Retry requested"), { name: "Retry" });
  const decision = decideRetry(base(rebuilt, { options: { defaultRetryDelay: 1 } }));
  t.equal(decision.kind, "retry");
});
