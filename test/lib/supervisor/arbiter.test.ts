/**
 * The arbiter's decisions, with fake spawn, kill and clock: no processes, no sleeps. Time moves
 * only when a test calls `clock.advance()`.
 */
import t from "tap";
import { Arbiter, type ArbiterDeps, type ArbiterOptions, type Clock, type Timer, type WorkerHandle } from "../../../lib/supervisor/arbiter.js";
import type { MasterMessage } from "../../../lib/supervisor/protocol.js";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "../../../lib/supervisor/serve-config.js";
import { capturingLogger } from "../../conformance/server/test-apps.js";

/** A clock whose time moves only through advance(), running due timers in order. */
class FakeClock implements Clock {
  time = 0;
  private timers: Array<{ at: number; callback: () => void; cancelled: boolean }> = [];
  now(): number {
    return this.time;
  }
  setTimer(ms: number, callback: () => void): Timer {
    const timer = { at: this.time + ms, callback, cancelled: false };
    this.timers.push(timer);
    return { cancel: () => void (timer.cancelled = true) };
  }
  advance(ms: number): void {
    const end = this.time + ms;
    for (;;) {
      const due = this.timers.filter((x) => !x.cancelled && x.at <= end).sort((a, b) => a.at - b.at)[0];
      if (due === undefined) break;
      this.timers.splice(this.timers.indexOf(due), 1);
      this.time = due.at;
      due.callback();
    }
    this.time = end;
  }
}

interface FakeWorker extends WorkerHandle {
  sent: MasterMessage[];
}

function setup(options: Partial<ArbiterOptions> = {}) {
  const clock = new FakeClock();
  const logger = capturingLogger();
  const spawned: FakeWorker[] = [];
  const kills: Array<{ pid: number; signal: string }> = [];
  let nextPid = 100;
  const deps: ArbiterDeps = {
    spawn() {
      const worker: FakeWorker = { pid: nextPid++, sent: [], send: (m) => void worker.sent.push(m) };
      spawned.push(worker);
      return worker;
    },
    kill: (pid, signal) => void kills.push({ pid, signal }),
    clock,
    logger,
  };
  const arbiter = new Arbiter({ workers: 2, timeout: 10_000, gracefulTimeout: 5_000, ...options }, deps);
  let exitCode: number | undefined;
  void arbiter.run().then((code) => (exitCode = code));
  const exit = (pid: number, code: number | null = 0, signal: NodeJS.Signals | null = null) =>
    arbiter.enqueue({ type: "exit", pid, code, signal });
  const beat = (pid: number, request?: { method: string; path: string; runningMs: number }) =>
    arbiter.enqueue({ type: "message", pid, message: { laminar: "heartbeat", request } });
  const signal = (name: NodeJS.Signals) => arbiter.enqueue({ type: "signal", signal: name });
  /** The exit code once run() resolved (a microtask after the last exit). */
  const settled = async () => {
    await Promise.resolve();
    await Promise.resolve();
    return exitCode;
  };
  return { arbiter, clock, logger, spawned, kills, exit, beat, signal, settled };
}

t.test("starts N workers and replaces one that dies", async (t) => {
  const { arbiter, clock, spawned, exit } = setup({ workers: 3 });
  t.same(arbiter.pids, [100, 101, 102]);
  clock.advance(5_000);
  exit(101, 1);
  t.equal(spawned.length, 4, "a replacement is spawned at once after a worker that lived long");
  t.same(arbiter.pids.sort(), [100, 102, 103]);
  t.equal(arbiter.currentBackoff, 0);
});

t.test("workers dying at boot are replaced with an exponential, capped backoff", async (t) => {
  const { arbiter, clock, spawned, exit } = setup({ workers: 1, backoffInitial: 100, backoffMax: 400 });
  const delays: number[] = [];
  for (let round = 0; round < 5; round++) {
    const pid = spawned[spawned.length - 1]!.pid;
    clock.advance(10);
    exit(pid, 1);
    delays.push(arbiter.currentBackoff);
    const before = spawned.length;
    clock.advance(arbiter.currentBackoff - 1);
    t.equal(spawned.length, before, `round ${round}: nothing spawned before the backoff ran out`);
    clock.advance(1);
    t.equal(spawned.length, before + 1, `round ${round}: spawned when it ran out`);
  }
  t.same(delays, [100, 200, 400, 400, 400]);
  // A worker that lives past the quick-death window resets the backoff.
  clock.advance(2_000);
  exit(spawned[spawned.length - 1]!.pid, 1);
  t.equal(arbiter.currentBackoff, 0);
  t.equal(arbiter.pids.length, 1, "replaced at once");
});

for (const code of [EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR]) {
  t.test(`a worker exiting with ${code} halts the master with its error text instead of restarting`, async (t) => {
    const { arbiter, clock, spawned, kills, exit, logger, settled } = setup({ workers: 2 });
    arbiter.enqueue({ type: "message", pid: 100, message: { laminar: "boot-error", message: "Could not import app.js: boom" } });
    exit(100, code);
    t.equal(spawned.length, 2, "no replacement");
    t.same(spawned[1]!.sent, [{ laminar: "stop", timeout: 5_000 }], "the other worker is asked to stop");
    const halt = logger.entries.find((e) => e.level === "error");
    t.match(halt?.msg, /halting: Could not import app\.js: boom/);
    clock.advance(5_000);
    t.same(kills, [{ pid: 101, signal: "SIGKILL" }], "killed when the graceful timeout ran out");
    exit(101, null, "SIGKILL");
    t.equal(await settled(), code, "the master exits with the worker's code");
  });
}

t.test("a worker silent longer than the timeout is killed, logged with pid, duration and request, and replaced", async (t) => {
  const { arbiter, clock, kills, exit, beat, logger, spawned } = setup({ workers: 2, timeout: 4_000 });
  for (let i = 0; i < 4; i++) {
    clock.advance(1_000);
    beat(100);
    beat(101, i === 3 ? { method: "GET", path: "/slow", runningMs: 20 } : undefined);
  }
  t.same(kills, [], "both beating: nobody killed");
  for (let i = 0; i < 5; i++) {
    clock.advance(1_000);
    beat(100);
  }
  t.same(kills, [{ pid: 101, signal: "SIGKILL" }]);
  const entry = logger.entries.find((e) => e.level === "error");
  t.match(entry?.obj, { worker: 101, request: { method: "GET", path: "/slow" } });
  t.ok((entry?.obj.silentMs as number) > 4_000, "says how long it was silent");
  t.match(entry?.msg, /worker 101 .*GET \/slow/);
  clock.advance(3_000);
  t.equal(kills.length, 1, "not killed twice while the kill lands");
  exit(101, null, "SIGKILL");
  t.equal(spawned.length, 3, "replaced");
  t.ok(arbiter.pids.includes(102));
});

t.test("timeout 0 disables the heartbeat check", async (t) => {
  const { clock, kills } = setup({ timeout: 0 });
  clock.advance(600_000);
  t.same(kills, []);
});

t.test("SIGTERM: workers are told to stop; the master exits 0 once they are gone, without replacing them", async (t) => {
  const { clock, spawned, kills, exit, signal, settled } = setup({ workers: 2 });
  signal("SIGTERM");
  t.same(
    spawned.map((w) => w.sent),
    [[{ laminar: "stop", timeout: 5_000 }], [{ laminar: "stop", timeout: 5_000 }]],
  );
  exit(100, 0);
  t.equal(spawned.length, 2, "not replaced");
  t.equal(await settled(), undefined, "still waiting for the other");
  clock.advance(1_000);
  exit(101, 0);
  t.equal(await settled(), 0);
  clock.advance(10_000);
  t.same(kills, [], "the graceful timer was cancelled");
});

t.test("graceful shutdown is bounded: what is left after gracefulTimeout is killed, then exit 0", async (t) => {
  const { clock, kills, exit, signal, settled } = setup({ workers: 2, gracefulTimeout: 3_000 });
  signal("SIGINT");
  exit(100, 0);
  clock.advance(2_999);
  t.same(kills, []);
  clock.advance(1);
  t.same(kills, [{ pid: 101, signal: "SIGKILL" }]);
  exit(101, null, "SIGKILL");
  t.equal(await settled(), 0);
});

t.test("a second SIGINT kills at once; a second SIGTERM does not", async (t) => {
  const { kills, exit, signal, settled } = setup({ workers: 2 });
  signal("SIGINT");
  signal("SIGTERM");
  t.same(kills, []);
  signal("SIGINT");
  t.same(kills, [
    { pid: 100, signal: "SIGKILL" },
    { pid: 101, signal: "SIGKILL" },
  ]);
  exit(100, null, "SIGKILL");
  exit(101, null, "SIGKILL");
  t.equal(await settled(), 130, "the shutdown was cut short");
});

t.test("SIGTTIN adds a worker; SIGTTOU retires the oldest, killing it if it overstays", async (t) => {
  const { arbiter, clock, spawned, kills, exit, signal } = setup({ workers: 2, gracefulTimeout: 2_000 });
  clock.advance(10);
  signal("SIGTTIN");
  t.equal(arbiter.workerCount, 3);
  t.same(arbiter.pids, [100, 101, 102]);
  signal("SIGTTOU");
  t.equal(arbiter.workerCount, 2);
  t.same(spawned[0]!.sent, [{ laminar: "stop", timeout: 2_000 }], "the oldest is asked to stop");
  t.same(spawned[2]!.sent, []);
  clock.advance(2_000);
  t.same(kills, [{ pid: 100, signal: "SIGKILL" }]);
  exit(100, null, "SIGKILL");
  t.equal(spawned.length, 3, "a retired worker is not replaced");
  signal("SIGTTOU");
  signal("SIGTTOU");
  t.equal(arbiter.workerCount, 1, "never below one");
});

t.test("events from unknown pids and events after the end are ignored", async (t) => {
  const { arbiter, exit, signal, settled, spawned } = setup({ workers: 1 });
  exit(999, 1);
  t.equal(spawned.length, 1);
  signal("SIGTERM");
  exit(100, 0);
  t.equal(await settled(), 0);
  signal("SIGTTIN");
  exit(100, 1);
  t.equal(spawned.length, 1);
  t.same(arbiter.pids, []);
});
