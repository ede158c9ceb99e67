/**
 * SIGTERM to the master while clients keep sending, on both servers: every request a worker
 * accepted completes, open WebSockets are closed with 1001, then the master exits 0.
 *
 * "Accepted" is defined by the app: the fixture's `/work` appends the request's `x-load-id` to a
 * per-worker file synchronously, before it starts the response. A request in that file must have
 * completed at the client (status 200 and its whole body, whether its response started before or
 * after the SIGTERM). Any other request may fail, but only on a new connection and before a
 * response started: a connection opened after the listener closed is refused (or, queued on a
 * closing listener, reset). A request written on an open keep-alive connection must not be lost:
 * the server answers it with `connection: close` (RFC 9112 §9.6 would let it close the idle
 * connection under it and leave the retry to the client; few clients retry).
 */
import t from "tap";
import { mkdtempSync, readdirSync, readFileSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { WebSocket } from "ws";
import { compileForMaster, freePort, pollPids, SERVERS, startMaster, uwsUnavailable } from "./master-harness.js";
import { describeSummary, startLoad, succeeded, summarize, type RequestRecord } from "./load-generator.js";

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const build = compileForMaster(t, [PID_APP]);
const LOOPS_PER_GROUP = 3;

/** An open WebSocket to the fixture's `/ws`, with the pid of the worker that accepted it and its close code to come. */
interface OpenSocket {
  pid: number;
  closed: Promise<number>;
}

function openSocket(port: number): Promise<OpenSocket> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(`ws://127.0.0.1:${port}/ws`);
    const closed = new Promise<number>((done) => ws.once("close", (code) => done(code)));
    ws.once("error", reject);
    ws.once("message", (data: Buffer) => resolve({ pid: Number(data.toString()), closed }));
  });
}

/** The ids the workers recorded as accepted. */
function acceptedIds(dir: string): Set<number> {
  const ids = new Set<number>();
  for (const file of readdirSync(dir)) for (const line of readFileSync(join(dir, file), "utf8").split("\n")) if (line !== "") ids.add(Number(line));
  return ids;
}

for (const server of SERVERS) {
  t.test(`${server} workers: SIGTERM under load → accepted requests complete, WebSockets get 1001, exit 0`, { skip: server === "uws" && uwsUnavailable }, async (t) => {
    const acceptDir = mkdtempSync(join(tmpdir(), "laminar-accepted-"));
    t.teardown(() => rmSync(acceptDir, { recursive: true, force: true }));
    const port = await freePort();
    const master = startMaster(t, build, { target: build.js(PID_APP), port, server }, { env: { LAMINAR_TEST_ACCEPT_DIR: acceptDir } });
    const first = await pollPids(port, (seen) => seen.size >= 2);
    t.equal(first.size, 2, `both workers answer (${[...first].join(", ")})`);

    // WebSockets until both workers hold one (bounded: the master or the kernel picks the worker).
    const sockets: OpenSocket[] = [];
    for (let i = 0; i < 12 && new Set(sockets.map((s) => s.pid)).size < 2; i++) sockets.push(await openSocket(port));
    t.equal(new Set(sockets.map((s) => s.pid)).size, 2, `each worker holds a WebSocket (${sockets.length} opened)`);

    // Slow responses (200 ms between the first chunk and the end) are mid-body at the SIGTERM; fast
    // ones on keep-alive connections keep the connections busy, so some are between two requests
    // (idle, for the server) when it starts closing.
    const base = `http://127.0.0.1:${port}/work`;
    const groups = [
      { label: "keep-alive, 200 ms responses", load: startLoad({ url: `${base}?ms=200`, connections: LOOPS_PER_GROUP, mode: "keep-alive", maxMs: 20_000 }) },
      { label: "keep-alive, immediate responses", load: startLoad({ url: `${base}?ms=0`, connections: LOOPS_PER_GROUP, mode: "keep-alive", maxMs: 20_000 }) },
      { label: "fresh connections, 200 ms responses", load: startLoad({ url: `${base}?ms=200`, connections: LOOPS_PER_GROUP, mode: "fresh", maxMs: 20_000 }) },
    ];
    t.teardown(() => Promise.all(groups.map(({ load }) => load.stop())));
    const fresh = groups[2]!.load;
    for (const pid of first) t.ok(await fresh.waitFor((r) => succeeded(r) && r.pid === pid, 10_000), `worker ${pid} serves the load`);
    await new Promise((resolve) => setTimeout(resolve, 1_000));

    const sigtermAt = Date.now();
    master.child.kill("SIGTERM");
    const code = await master.exited(20_000);
    const exitedAt = Date.now();
    const records: RequestRecord[] = [];
    for (const { label, load } of groups) {
      const done = await load.stop();
      records.push(...done);
      t.comment(`${server} ${label}: ${describeSummary(summarize(done))}`);
    }
    t.comment(`${server}: SIGTERM → master exit ${exitedAt - sigtermAt} ms`);

    t.equal(code, 0, "the master exits 0");
    t.match(master.output(), /graceful shutdown/);
    const closeCodes = await Promise.all(sockets.map((s) => s.closed));
    t.same(closeCodes, sockets.map(() => 1001), "every WebSocket is closed with 1001 (going away)");

    const accepted = acceptedIds(acceptDir);
    const byId = new Map(records.map((r) => [r.id, r]));
    const lost = [...accepted].filter((id) => byId.get(id) === undefined || !succeeded(byId.get(id) as RequestRecord));
    t.same(lost.map((id) => byId.get(id) ?? id), [], `every accepted request completed (${accepted.size} accepted)`);
    const failures = records.filter((r) => !succeeded(r));
    t.same(failures.filter((r) => accepted.has(r.id)), [], "no failed request had been accepted");
    t.same(failures.filter((r) => r.headersAt !== undefined), [], "no response failed once started");
    t.same(failures.filter((r) => r.endedAt < sigtermAt), [], "nothing failed before the SIGTERM");
    // A request written on an open keep-alive connection is answered (with `connection: close`):
    // the servers keep idle connections through a grace period rather than closing them under it.
    t.same(failures.filter((r) => r.connection === "reused"), [], "no request on an open keep-alive connection was lost");
    const spanning = records.filter((r) => succeeded(r) && r.sentAt < sigtermAt && r.endedAt > sigtermAt);
    t.ok(spanning.length > 0, `requests in flight at the SIGTERM completed (${spanning.length})`);
    const startedAfter = records.filter((r) => succeeded(r) && (r.headersAt as number) > sigtermAt && r.sentAt > sigtermAt);
    t.comment(`${server}: ${spanning.length} requests in flight at the SIGTERM completed; ${startedAfter.length} sent after it were served; ${failures.length} failed before a response (${describeSummary(summarize(failures))})`);
  });
}
