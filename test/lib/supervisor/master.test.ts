/**
 * The supervisor with real processes: a master (its own node process, so signals go to it and not
 * to tap) forking two workers that serve a fixture app on 127.0.0.1. The compile step and the
 * process handling are in master-harness.ts; scenarios under load are in the other files here.
 */
import t from "tap";
import { request } from "undici";
import { EXIT_APP_LOAD_ERROR } from "../../../lib/supervisor/serve-config.js";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const THROWING_APP = "test/fixtures/supervisor/throwing-app.ts";
const build = compileForMaster(t, [PID_APP, THROWING_APP]);

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
