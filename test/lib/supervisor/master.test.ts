/**
 * The supervisor with real processes: a master (its own node process, so signals go to it and not
 * to tap) forking two workers that serve a fixture app on 127.0.0.1. The compile step and the
 * process handling are in master-harness.ts; scenarios under load are in the other files here.
 */
import t from "tap";
import { request } from "undici";
import { join } from "node:path";
import { tmpdir } from "node:os";
import { EXIT_APP_LOAD_ERROR, EXIT_WORKER_BOOT_ERROR } from "../../../lib/supervisor/serve-config.js";
import { queryStatus } from "../../../lib/cli/status.js";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const THROWING_APP = "test/fixtures/supervisor/throwing-app.ts";
const FAILING_LIFESPAN_APP = "test/fixtures/supervisor/failing-lifespan-app.ts";
const build = compileForMaster(t, [PID_APP, THROWING_APP, FAILING_LIFESPAN_APP]);

for (const server of SERVERS) {
  const skip = server === "uws" && uwsUnavailable;

  t.test(`${server} workers: kill -9 one → a replacement serves; SIGTERM → the in-flight request completes, then exit 0`, { skip }, async (t) => {
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(PID_APP), port, server });

    const first = await pollPids(port, (seen) => seen.size >= 2);
    t.equal(first.size, 2, `both workers answer (${[...first].join(", ")})`);

    const [victim] = [...first] as [number];
    process.kill(victim, "SIGKILL");
    const after = await pollPids(port, (seen) => [...seen].some((pid) => !first.has(pid)));
    const replacement = [...after].find((pid) => !first.has(pid));
    t.ok(replacement !== undefined, `a new worker answers after ${victim} was killed`, { output: master.output() });
    t.notOk(after.has(victim), "the killed worker does not");

    // In flight: the first chunk has arrived, the rest comes 800 ms later.
    const response = await request(`http://127.0.0.1:${port}/stream?ms=800`, { reset: true });
    const chunks: string[] = [];
    const iterator = response.body[Symbol.asyncIterator]();
    const firstChunk = await iterator.next();
    chunks.push(Buffer.from(firstChunk.value as Uint8Array).toString());
    const order: string[] = [];
    const exited = master.exited(30_000).then((code) => {
      order.push("master exited");
      return code;
    });
    master.child.kill("SIGTERM");
    for (let next = await iterator.next(); next.done !== true; next = await iterator.next()) chunks.push(Buffer.from(next.value as Uint8Array).toString());
    order.push("response complete");
    t.match(chunks.join(""), /^start \d+\nend\n$/, "the request accepted before SIGTERM got its whole response");
    t.equal(await exited, 0, "the master exits 0");
    t.same(order, ["response complete", "master exited"]);
    t.match(master.output(), /graceful shutdown/);
  });

  t.test(`${server} workers: an app that throws at import halts the master with a nonzero code and the error text`, { skip }, async (t) => {
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(THROWING_APP), port, server });
    const code = await master.exited(20_000);
    t.equal(code, EXIT_APP_LOAD_ERROR);
    t.match(master.output(), /fixture: boom at import/);
    t.match(master.output(), /could not load the app; halting/);
    t.notMatch(master.output(), /worker listening/, "no worker ever served");
  });
}

t.test("a lifespan startup that fails stops the worker with the error shown, and halts the master (exit 3)", async (t) => {
  const port = await freePort();
  const master = startMaster(t, build, { target: build.js(FAILING_LIFESPAN_APP), port });
  t.equal(await master.exited(20_000), EXIT_WORKER_BOOT_ERROR);
  t.match(master.output(), /fixture: database unreachable at startup/);
  t.match(master.output(), /could not start \(lifespan startup or listen failed\); halting/);
});

t.test("laminar status: the running master answers on its control socket with its workers; SIGTTIN/SIGTTOU change their number", async (t) => {
  const port = await freePort();
  const socket = join(tmpdir(), `laminar-status-test-${process.pid}-${port}.sock`);
  const master = startMaster(t, build, { target: build.js(PID_APP), port, controlSocket: socket });
  await pollPids(port, (seen) => seen.size >= 2);
  await master.waitForLog((line) => typeof line.msg === "string" && line.msg.includes("answers on the control socket"), 10_000);
  const status = await queryStatus(socket);
  t.match(status, { state: "running", target: 2, restarts: 0, reloads: 0, master: { pid: master.child.pid, url: `http://127.0.0.1:${port}` } });
  t.equal(status.workers.length, 2);
  t.ok(status.workers.every((w) => w.state === "serving"), "both serving");

  master.child.kill("SIGTTIN");
  await master.waitForLog(() => master.logs().filter((line) => line.msg === "supervisor: worker listening").length >= 3, 15_000);
  t.equal((await queryStatus(socket)).workers.length, 3, "SIGTTIN: one more");
  master.child.kill("SIGTTOU");
  await master.waitForLog((line) => line.msg === "supervisor: retired worker exited", 15_000);
  const after = await queryStatus(socket);
  t.match(after, { target: 2 });
  t.equal(after.workers.length, 2, "SIGTTOU: one fewer");

  master.child.kill("SIGTERM");
  t.equal(await master.exited(20_000), 0);
  await t.rejects(queryStatus(socket), "the socket is gone with the master");
});
