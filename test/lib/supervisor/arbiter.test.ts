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
  /** Timers neither run nor cancelled: each would keep a real master's event loop alive. */
  pending(): number {
    return this.timers.filter((x) => !x.cancelled).length;
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
  const listening = (pid: number) => arbiter.enqueue({ type: "message", pid, message: { laminar: "listening", url: "http://127.0.0.1:1" } });
  /** The exit code once run() resolved (a microtask after the last exit). */
  const settled = async () => {
    await Promise.resolve();
    await Promise.resolve();
    return exitCode;
  };
  return { arbiter, clock, logger, spawned, kills, exit, beat, signal, listening, settled };
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
  const { arbiter, clock, kills, exit, beat, logger, spawned, listening } = setup({ workers: 2, timeout: 4_000 });
  listening(100);
  listening(101);
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

t.test("a booting worker (not listening yet) may be silent up to bootTimeout, then is killed too", async (t) => {
  const { clock, kills, listening, beat, logger } = setup({ workers: 2, timeout: 1_000, bootTimeout: 10_000 });
  listening(100);
  clock.advance(9_000);
  t.same(kills.map((k) => k.pid), [100], "the listening worker silent past the timeout is killed");
  t.same(kills.filter((k) => k.pid === 101), [], "the booting one (a slow import) is not, within bootTimeout");
  clock.advance(2_000);
  t.same(kills.map((k) => k.pid), [100, 101], "past bootTimeout it is");
  t.match(logger.entries.filter((e) => e.level === "error").at(-1)?.msg, /worker 101 .*blocked while booting/);
  beat(101);
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

/** Pids of the spawned workers that were sent a stop message, in order. */
function stopped(spawned: FakeWorker[]): number[] {
  return spawned.filter((w) => w.sent.some((m) => m.laminar === "stop")).map((w) => w.pid);
}

t.test("SIGHUP: fresh workers first; each old one stops only once a fresh one listens", async (t) => {
  const { arbiter, clock, spawned, exit, signal, listening, logger } = setup({ workers: 2 });
  listening(100);
  listening(101);
  clock.advance(5_000);
  signal("SIGHUP");
  t.same(arbiter.pids, [100, 101, 102, 103], "two fresh workers spawned beside the old ones");
  t.same(stopped(spawned), [], "no old worker stops before a fresh one listens");
  t.match(arbiter.status().workers.map((w) => w.state), ["outgoing", "outgoing", "booting", "booting"]);
  listening(103);
  t.same(stopped(spawned), [100], "one fresh worker listens: the oldest old worker stops");
  exit(100, 0);
  t.equal(spawned.length, 4, "the stopped old worker is not replaced");
  listening(102);
  t.same(stopped(spawned), [100, 101]);
  t.ok(logger.entries.some((e) => /replacement complete/.test(String(e.msg))));
  exit(101, 0);
  t.same(arbiter.pids, [102, 103]);
  t.equal(arbiter.status().reloads, 1);
  t.equal(arbiter.status().restarts, 0, "replacements on purpose are not restarts");
});

t.test("a reload event (--reload) rolls the workers like SIGHUP; a second one mid-reload stops the booting ones", async (t) => {
  const { arbiter, spawned, listening, exit } = setup({ workers: 1 });
  listening(100);
  arbiter.enqueue({ type: "reload", reason: "app.js changed" });
  t.same(arbiter.pids, [100, 101]);
  arbiter.enqueue({ type: "reload", reason: "app.js changed again" });
  t.same(stopped(spawned), [101], "the still-booting worker of the first reload is stopped at once");
  t.same(arbiter.pids, [100, 101, 102], "and another fresh one spawned");
  exit(101, 0);
  listening(102);
  t.same(stopped(spawned), [100, 101], "the old worker served until the last fresh one listened");
});

t.test("a fresh worker failing to boot mid-reload abandons the reload and keeps the running workers", async (t) => {
  const { arbiter, spawned, listening, exit, logger, settled } = setup({ workers: 2 });
  listening(100);
  listening(101);
  arbiter.enqueue({ type: "signal", signal: "SIGHUP" });
  t.same(arbiter.pids, [100, 101, 102, 103]);
  arbiter.enqueue({ type: "message", pid: 102, message: { laminar: "boot-error", message: "SyntaxError: Unexpected token" } });
  exit(102, EXIT_APP_LOAD_ERROR);
  t.same(stopped(spawned), [103], "the other booting fresh worker is stopped");
  t.notOk(stopped(spawned).includes(100) || stopped(spawned).includes(101), "the old workers keep serving");
  exit(103, EXIT_APP_LOAD_ERROR);
  t.equal(spawned.length, 4, "no restart loop: nothing more is spawned");
  t.same(arbiter.pids, [100, 101]);
  t.match(arbiter.status().workers.map((w) => w.state), ["serving", "serving"]);
  t.ok(logger.entries.some((e) => e.level === "error" && /replacement abandoned.*SyntaxError/.test(String(e.msg))));
  t.equal(await settled(), undefined, "the master keeps running");
  // A later reload (the code fixed) works.
  arbiter.enqueue({ type: "signal", signal: "SIGHUP" });
  listening(104);
  listening(105);
  t.same(stopped(spawned), [100, 101, 103]);
});

t.test("without outgoing workers a boot error still halts (no reload to fall back from)", async (t) => {
  const { listening, exit, settled, clock } = setup({ workers: 2 });
  listening(100);
  exit(101, EXIT_WORKER_BOOT_ERROR);
  clock.advance(5_000);
  exit(100, 0);
  t.equal(await settled(), EXIT_WORKER_BOOT_ERROR);
});

t.test("--max-requests: a worker asking to retire serves until its replacement listens, then stops", async (t) => {
  const { arbiter, spawned, listening, exit, logger } = setup({ workers: 2 });
  listening(100);
  listening(101);
  arbiter.enqueue({ type: "message", pid: 100, message: { laminar: "retire", requests: 1000 } });
  t.same(arbiter.pids, [100, 101, 102], "its replacement is spawned");
  t.same(stopped(spawned), [], "it keeps serving meanwhile");
  arbiter.enqueue({ type: "message", pid: 100, message: { laminar: "retire", requests: 1001 } });
  t.equal(spawned.length, 3, "asking twice spawns nothing more");
  listening(102);
  t.same(stopped(spawned), [100]);
  exit(100, 0);
  t.same(arbiter.pids, [101, 102]);
  t.ok(logger.entries.some((e) => /max-requests/.test(String(e.msg))));
});

t.test("status(): state, uptime, requests and memory per worker; restarts count deaths only", async (t) => {
  const { arbiter, clock, listening, exit } = setup({ workers: 2 });
  listening(100);
  clock.advance(3_000);
  arbiter.enqueue({ type: "message", pid: 100, message: { laminar: "heartbeat", requests: 42, rss: 50_000_000 } });
  exit(101, 1);
  const status = arbiter.status();
  t.match(status, { state: "running", target: 2, restarts: 1, reloads: 0 });
  t.same(status.workers, [
    { pid: 100, state: "serving", uptimeMs: 3_000, requests: 42, rss: 50_000_000, request: undefined },
    { pid: 102, state: "booting", uptimeMs: 0, requests: 0, rss: undefined, request: undefined },
  ]);
});

t.test("SIGHUP while stopping is ignored", async (t) => {
  const { arbiter, signal, spawned } = setup({ workers: 1 });
  signal("SIGTERM");
  signal("SIGHUP");
  t.equal(spawned.length, 1);
  t.equal(arbiter.status().state, "stopping");
});

t.test("once the master is done no timer is left pending (a retired worker's kill timer included)", async (t) => {
  const { clock, signal, listening, exit, settled } = setup({ workers: 1 });
  listening(100);
  signal("SIGHUP");
  listening(101);
  exit(100, 0);
  signal("SIGTERM");
  exit(101, 0);
  t.equal(await settled(), 0);
  t.equal(clock.pending(), 0, "nothing would keep the event loop alive");
});
