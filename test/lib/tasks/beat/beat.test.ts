import t from "tap";
import { Beat, BEAT_LOCK, type BeatOptions } from "../../../../lib/tasks/beat/beat.js";
import type { TaskMessage } from "../../../../lib/tasks/message.js";
import { MemoryResultBackend } from "../../../../lib/tasks/memory/memory-backend.js";
import { MemoryBroker } from "../../../../lib/tasks/memory/memory-broker.js";
import { TaskQueue } from "../../../../lib/tasks/task-queue.js";

const MINUTE = 60_000;
/** 2030-01-01 12:03:00 UTC: between two five-minute ticks. */
const START = Date.UTC(2030, 0, 1, 12, 3, 0);

/** A fake clock and timer queue shared by every scheduler of a test. */
class FakeTime {
  now = START;
  private timers: { at: number; fn: () => void; owner: string; cancelled: boolean }[] = [];
  /** Owners whose timers no longer fire (a crashed process). */
  readonly dead = new Set<string>();

  timerFor(owner: string): NonNullable<BeatOptions["setTimer"]> {
    return (fn, delayMs) => {
      const timer = { at: this.now + delayMs, fn, owner, cancelled: false };
      this.timers.push(timer);
      return () => {
        timer.cancelled = true;
      };
    };
  }

  pending(owner: string): number {
    return this.timers.filter((timer) => timer.owner === owner && !timer.cancelled).length;
  }

  /** Fires every timer due up to `target`, in time order, letting each cycle finish before the next. */
  async advanceTo(target: number, beats: Beat[]): Promise<void> {
    for (let guard = 0; guard < 100_000; guard++) {
      this.timers = this.timers.filter((timer) => !timer.cancelled && !this.dead.has(timer.owner));
      this.timers.sort((a, b) => a.at - b.at);
      const next = this.timers[0];
      if (next === undefined || next.at > target) break;
      this.timers.shift();
      this.now = Math.max(this.now, next.at);
      next.fn();
      await Promise.all(beats.map((beat) => beat.idle()));
    }
    this.now = Math.max(this.now, target);
  }
}

function setup() {
  const time = new FakeTime();
  const broker = new MemoryBroker({ now: () => time.now });
  const backend = new MemoryResultBackend({ now: () => time.now });
  const queue = new TaskQueue({ broker, backend, now: () => time.now });
  const published: { entry: string; tick: number; at: number; by: string }[] = [];
  const errors: { error: unknown; entry?: string }[] = [];
  const beat = (owner: string, options: Partial<BeatOptions> & Pick<BeatOptions, "schedule">) =>
    new Beat(queue, {
      ownerId: owner,
      now: () => time.now,
      setTimer: time.timerFor(owner),
      catchUpMs: 0,
      onPublish: (entry, tick) => published.push({ entry, tick, at: time.now, by: owner }),
      onError: (error, entry) => errors.push({ error, entry }),
      ...options,
    });
  /** Everything published to `queues`, due or not. */
  const messages = async (queues = ["celery"]): Promise<TaskMessage[]> => {
    const saved = time.now;
    time.now += 10 * 365 * 86_400_000;
    try {
      return (await broker.reserve({ queues, max: 10_000, visibilityTimeoutMs: 1, consumer: "test" })).map((d) => d.message);
    } finally {
      time.now = saved;
    }
  };
  return { time, broker, queue, published, errors, beat, messages };
}

t.test("cron: each tick published once, at its time; nothing before start", async (t) => {
  const { time, beat, published, messages, errors } = setup();
  const scheduler = beat("a", { schedule: [{ name: "five", task: "jobs.five", args: [1], kwargs: { k: "v" }, cron: "*/5 * * * *" }] });
  await scheduler.start();
  t.equal(scheduler.isLeader, true);
  t.same(scheduler.nextDue(), [{ name: "five", schedule: 'cron "*/5 * * * *" (UTC)', next: START + 2 * MINUTE }]);
  await time.advanceTo(START + 28 * MINUTE, [scheduler]);
  const expected = [5, 10, 15, 20, 25, 30].map((m) => Date.UTC(2030, 0, 1, 12, m));
  t.same(published.map((p) => p.tick), expected);
  t.same(published.map((p) => p.at), expected, "published when due, not before");
  const sent = await messages();
  t.equal(sent.length, 6);
  t.ok(sent.every((m) => m.task === "jobs.five" && m.args[0] === 1 && m.kwargs.k === "v"));
  t.equal(new Set(sent.map((m) => m.id)).size, 6, "a new task id per tick");
  t.same(errors, []);
  await scheduler.stop();
  t.equal(time.pending("a"), 0, "no timer left armed after stop");
});

t.test("cron with seconds and a timezone", async (t) => {
  const { time, beat, published } = setup();
  const scheduler = beat("a", {
    schedule: [
      { name: "tens", task: "t", cron: "*/20 * * * * *" },
      { name: "nine-ny", task: "t", cron: "0 9 * * *", timezone: "America/New_York" },
    ],
  });
  await scheduler.start();
  await time.advanceTo(START + MINUTE, [scheduler]);
  t.same(published.filter((p) => p.entry === "tens").map((p) => (p.tick - START) / 1000), [20, 40, 60]);
  await time.advanceTo(Date.UTC(2030, 0, 1, 14, 30), [scheduler]);
  t.same(published.filter((p) => p.entry === "nine-ny").map((p) => new Date(p.tick).toISOString()), ["2030-01-01T14:00:00.000Z"], "09:00 in New York");
  await scheduler.stop();
});

t.test("interval entries tick on an epoch-anchored grid; a Task object is published through its own options", async (t) => {
  const { time, beat, published, queue, messages } = setup();
  const ping = queue.task("ops.ping", (host: string) => host, { queue: "ops", priority: 4 });
  const scheduler = beat("a", { schedule: [{ name: "ping", task: ping, args: ["db"], every: 45, options: { expires: 30 } }] });
  await scheduler.start();
  await time.advanceTo(START + 3 * MINUTE, [scheduler]);
  t.ok(published.length === 4);
  t.ok(published.every((p) => p.tick % 45_000 === 0 && p.at === p.tick));
  t.ok(published.every((p, i) => i === 0 || p.tick - published[i - 1]!.tick === 45_000));
  const sent = await messages(["ops"]);
  t.equal(sent.length, 4);
  t.match(sent[0], { task: "ops.ping", args: ["db"], priority: 4, queue: "ops" });
  t.ok(sent.every((m, i) => m.expires === published[i]!.tick + 30_000), "expires counts from each publish");
  await scheduler.stop();
});

t.test("two schedulers on one broker: one leads, every tick is published exactly once", async (t) => {
  const { time, beat, published, messages } = setup();
  const schedule = [
    { name: "minute", task: "m", cron: "* * * * *" },
    { name: "every-7s", task: "s", every: 7 },
  ];
  const a = beat("a", { schedule });
  const b = beat("b", { schedule });
  await Promise.all([a.start(), b.start()]);
  t.equal(Number(a.isLeader) + Number(b.isLeader), 1, "exactly one leader");
  await time.advanceTo(START + 20 * MINUTE, [a, b]);
  const minute = published.filter((p) => p.entry === "minute").map((p) => p.tick);
  t.equal(minute.length, 20);
  t.equal(new Set(minute).size, 20);
  const seven = published.filter((p) => p.entry === "every-7s").map((p) => p.tick);
  t.equal(new Set(seven).size, seven.length);
  t.equal(seven.length, Math.floor((START + 20 * MINUTE) / 7000) - Math.floor(START / 7000));
  t.equal((await messages()).length, published.length);
  await Promise.all([a.stop(), b.stop()]);
});

t.test("even two schedulers that both believe they lead publish each tick once (claimOnce)", async (t) => {
  const { time, beat, published, broker } = setup();
  broker.acquireLock = async () => true; // a lock that lies: both lead
  const schedule = [{ name: "minute", task: "m", cron: "* * * * *" }];
  const a = beat("a", { schedule });
  const b = beat("b", { schedule });
  await Promise.all([a.start(), b.start()]);
  t.ok(a.isLeader && b.isLeader);
  await time.advanceTo(START + 10 * MINUTE, [a, b]);
  const ticks = published.map((p) => p.tick);
  t.equal(ticks.length, 10);
  t.equal(new Set(ticks).size, 10);
  t.ok(new Set(published.map((p) => p.by)).size >= 1);
  await Promise.all([a.stop(), b.stop()]);
});

t.test("leader handover: a stopping leader releases the lock, the follower takes over without a lost tick", async (t) => {
  const { time, beat, published, broker } = setup();
  const schedule = [{ name: "minute", task: "m", cron: "* * * * *" }];
  const a = beat("a", { schedule });
  await a.start();
  const b = beat("b", { schedule });
  await b.start();
  t.equal(a.isLeader, true);
  t.equal(b.isLeader, false, "the lock is held");
  await time.advanceTo(START + 5 * MINUTE + 30_000, [a, b]);
  t.equal(await broker.acquireLock(BEAT_LOCK, "someone-else", 1), false, "the leader holds the lock…");
  await a.stop();
  t.equal(await broker.acquireLock(BEAT_LOCK, "someone-else", 1), true, "…until stop releases it (taken here for 1 ms only)");
  await time.advanceTo(START + 10 * MINUTE, [a, b]);
  t.equal(b.isLeader, true);
  t.same(published.map((p) => [p.by, (p.tick - Date.UTC(2030, 0, 1, 12, 0)) / MINUTE]), [
    ["a", 4], ["a", 5], ["a", 6], ["a", 7], ["a", 8],
    ["b", 9], ["b", 10], ["b", 11], ["b", 12], ["b", 13],
  ]);
  t.ok(published.every((p) => p.at === p.tick), "the follower was ready at the next tick");
  await b.stop();
});

t.test("a crashed leader: once its lock lapses the follower leads, publishing one catch-up tick, not a burst", async (t) => {
  const { time, beat, published } = setup();
  const schedule = [{ name: "every-5s", task: "s", every: 5 }];
  const a = beat("a", { schedule, lockTtlMs: 30_000 });
  const b = beat("b", { schedule, lockTtlMs: 30_000 });
  await a.start();
  await b.start();
  await time.advanceTo(START + 20_000, [a, b]);
  time.dead.add("a"); // killed: its timers never fire again, its lock is not released
  const crashAt = time.now;
  await time.advanceTo(START + 120_000, [a, b]);
  const byA = published.filter((p) => p.by === "a").map((p) => p.tick);
  const byB = published.filter((p) => p.by === "b");
  t.same(byA, [5, 10, 15, 20].map((s) => START + s * 1000));
  const first = byB[0]!;
  t.ok(first.at > crashAt + 5000, "the follower waited for the lock to lapse");
  t.equal(first.tick, Math.floor(first.at / 5000) * 5000, "the catch-up is the latest missed tick…");
  t.ok(first.tick > START + 25_000, "…and the older missed ones are skipped");
  t.ok(byB.slice(1).every((p, i) => p.tick - byB[i]!.tick === 5000 && p.at === p.tick), "then regular ticks");
  t.equal(byB[byB.length - 1]!.tick, START + 120_000);
  await b.stop();
});

t.test("a paused scheduler catches up once, then runs on schedule", async (t) => {
  const { time, beat, published } = setup();
  const scheduler = beat("a", { schedule: [{ name: "minute", task: "m", cron: "* * * * *" }] });
  await scheduler.start();
  await time.advanceTo(START + 2 * MINUTE, [scheduler]);
  t.equal(published.length, 2);
  time.now += 60 * MINUTE; // the process slept an hour: its timer fires late
  await time.advanceTo(time.now + 2 * MINUTE, [scheduler]);
  const minutes = published.map((p) => (p.tick - START) / MINUTE);
  t.same(minutes, [1, 2, 62, 63, 64], "the hour of missed ticks became one catch-up (minute 62)");
  await scheduler.stop();
});

t.test("a restart across a tick catches it up within catchUpMs; an older tick is not replayed", async (t) => {
  const { time, beat, published } = setup();
  time.now = Date.UTC(2030, 0, 1, 12, 5, 10); // 10 s after the 12:05 tick nobody published
  const late = beat("a", { schedule: [{ name: "five", task: "t", cron: "*/5 * * * *" }], catchUpMs: 30_000 });
  await late.start();
  t.same(published.map((p) => p.tick), [Date.UTC(2030, 0, 1, 12, 5)]);
  await late.stop();
  // Started again a minute later: 12:05 is already claimed, and out of the window anyway.
  time.now += MINUTE;
  const again = beat("a", { schedule: [{ name: "five", task: "t", cron: "*/5 * * * *" }], catchUpMs: 5 * MINUTE });
  await again.start();
  t.equal(published.length, 1, "the claimed tick is not published twice");
  await again.stop();
  time.now = Date.UTC(2030, 0, 1, 12, 14);
  const fresh = beat("a", { schedule: [{ name: "five", task: "t", cron: "*/5 * * * *" }], catchUpMs: 30_000 });
  await fresh.start();
  t.equal(published.length, 1, "12:10 is older than catchUpMs: not replayed");
  await fresh.stop();
});

t.test("bad schedules throw at construction, naming the entry", async (t) => {
  const { beat } = setup();
  const bad = (entry: Record<string, unknown>) => () => beat("a", { schedule: [{ name: "bad-one", task: "t", ...entry } as never] });
  t.throws(bad({ cron: "61 * * * *" }), /bad-one.*61/);
  t.throws(bad({ cron: "banana" }), /bad-one/);
  t.throws(bad({ cron: "* * * *" }), /bad-one.*5 fields/);
  t.throws(bad({ cron: "" }), /bad-one/);
  t.throws(bad({ cron: "* * * * * * *" }), /bad-one/);
  t.throws(bad({ cron: "0 0 31 2 *" }), /bad-one/, "a day that never comes");
  t.throws(bad({ cron: "0 9 * * *", timezone: "Mars/Olympus" }), /bad-one.*Mars/);
  t.throws(bad({ cron: 5 }), /bad-one/);
  t.throws(bad({}), /bad-one.*exactly one of cron and every/);
  t.throws(bad({ cron: "* * * * *", every: 5 }), /exactly one/);
  t.throws(bad({ every: 0 }), RangeError);
  t.throws(bad({ every: -5 }), /bad-one/);
  t.throws(bad({ every: Number.NaN }), /bad-one/);
  t.throws(bad({ every: 5, args: "x" }), /args/);
  t.throws(bad({ every: 5, task: "" }), /task/);
  t.throws(() => beat("a", { schedule: [{ name: "", task: "t", every: 1 }] }), /name/);
  t.throws(() => beat("a", { schedule: [{ name: "x", task: "t", every: 1 }, { name: "x", task: "u", every: 2 }] }), /"x" appears twice/);
  t.throws(() => beat("a", { schedule: "nope" as never }), TypeError);
  t.throws(() => beat("a", { schedule: [], lockTtlMs: 0 }), RangeError);
  t.throws(() => beat("a", { schedule: [], catchUpMs: -1 }), RangeError);
  t.ok(beat("a", { schedule: [{ name: "alias", task: "t", cron: "@hourly" }] }), "aliases are accepted");
});

t.test("errors are reported and the scheduler keeps going", async (t) => {
  const { time, beat, published, errors, broker, queue } = setup();
  queue.task("strict", (n: number) => n, { argsSchema: { type: "array", items: [{ type: "integer" }], minItems: 1 } as never });
  const scheduler = beat("a", {
    schedule: [
      { name: "refused", task: "strict", args: ["not a number"], cron: "* * * * *" },
      { name: "fine", task: "t", cron: "* * * * *" },
    ],
  });
  const acquire = broker.acquireLock.bind(broker);
  let down = true;
  broker.acquireLock = async (...args) => {
    if (down) throw new Error("broker down");
    return acquire(...args);
  };
  await scheduler.start();
  t.equal(scheduler.isLeader, false);
  t.match(errors[0], { error: { message: "broker down" } });
  down = false;
  await time.advanceTo(START + 3 * MINUTE, [scheduler]);
  t.equal(scheduler.isLeader, true);
  t.same(published.map((p) => p.entry), ["fine", "fine", "fine"]);
  t.equal(errors.filter((e) => e.entry === "refused").length, 3, "each refused tick is reported with its entry");
  await scheduler.stop();
  await scheduler.stop();
  await scheduler.start();
  await scheduler.start();
  t.equal(time.pending("a"), 1, "start twice arms one timer");
  await scheduler.stop();
});

t.test("with the real clock and timers (bounded wait, no timing assertion)", async (t) => {
  const broker = new MemoryBroker();
  const queue = new TaskQueue({ broker, backend: new MemoryResultBackend() });
  const ticks: number[] = [];
  const scheduler = new Beat(queue, { schedule: [{ name: "fast", task: "t", every: 0.02 }], onPublish: (_entry, tick) => ticks.push(tick) });
  await scheduler.start();
  const deadline = Date.now() + 5000;
  while (ticks.length < 3 && Date.now() < deadline) await new Promise((resolve) => setTimeout(resolve, 5));
  await scheduler.stop();
  t.ok(ticks.length >= 3, `published ${ticks.length} ticks`);
  t.equal(new Set(ticks).size, ticks.length, "no tick twice");
  t.ok(ticks.every((tick) => tick % 20 === 0));
  t.equal(await broker.acquireLock(BEAT_LOCK, "next", 1000), true, "stop released the lock");
  await queue.close();
});

t.test("callbacks that throw do not stop the schedule", async (t) => {
  const { time, broker } = setup();
  const queue = new TaskQueue({ broker, backend: new MemoryResultBackend(), now: () => time.now });
  let publishes = 0;
  let failures = 0;
  const acquire = broker.acquireLock.bind(broker);
  let flaky = true;
  broker.acquireLock = async (...args) => {
    if (flaky) {
      flaky = false;
      throw new Error("once");
    }
    return acquire(...args);
  };
  const scheduler = new Beat(queue, {
    schedule: [{ name: "minute", task: "m", cron: "* * * * *" }],
    now: () => time.now,
    setTimer: time.timerFor("a"),
    catchUpMs: 0,
    onPublish: () => {
      publishes++;
      throw new Error("onPublish broke");
    },
    onError: () => {
      failures++;
      throw new Error("onError broke too");
    },
  });
  await scheduler.start();
  await time.advanceTo(START + 3 * MINUTE, [scheduler]);
  t.equal(publishes, 3, "every tick still published");
  t.equal(failures, 4, "the lock failure and each throwing onPublish were reported");
  t.equal(time.pending("a"), 1, "still armed");
  await scheduler.stop();
});
