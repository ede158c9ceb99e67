/**
 * SqliteResultBackend beyond the conformance suite: one file shared with the broker and between
 * connections (waitFor polls what another connection stores), durability across reopening.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import t from "tap";
import { SqliteResultBackend } from "../../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../../lib/tasks/sqlite/sqlite-broker.js";
import { makeMessage } from "../../../conformance/tasks/broker-cases.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-sqlite-backend-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `backend-${++n}.db`);

t.test("waitFor sees a result stored through another connection (it polls the file)", async (t) => {
  const path = file();
  const reader = new SqliteResultBackend({ path });
  const writer = new SqliteResultBackend({ path });
  t.teardown(() => Promise.all([reader.close(), writer.close()]));
  const waiting = reader.waitFor("t1", { timeoutMs: 20_000 });
  await new Promise((resolve) => setTimeout(resolve, 30));
  await writer.store({ taskId: "t1", state: "STARTED" });
  await new Promise((resolve) => setTimeout(resolve, 30));
  await writer.store({ taskId: "t1", state: "FAILURE", error: { type: "ValueError", message: "no" } });
  const meta = await waiting;
  t.same([meta?.state, meta?.error?.type], ["FAILURE", "ValueError"]);
});

t.test("group marks from two connections count each member once", async (t) => {
  const path = file();
  const a = new SqliteResultBackend({ path });
  const b = new SqliteResultBackend({ path });
  t.teardown(() => Promise.all([a.close(), b.close()]));
  const marks = await Promise.all([
    a.markGroupMember("g", "m1"),
    b.markGroupMember("g", "m1"),
    b.markGroupMember("g", "m2"),
    a.markGroupMember("g", "m2"),
    a.markGroupMember("g", "m3"),
  ]);
  t.equal(marks.filter((m) => m.first).length, 3, "one first per member");
  t.equal(marks.filter((m) => m.first && m.done === 3).length, 1, "one call completes the group");
});

t.test("the broker and the backend share one file, and it all survives reopening", async (t) => {
  const path = file();
  const broker = new SqliteBroker({ path });
  const backend = new SqliteResultBackend({ path });
  await broker.publish(makeMessage({ id: "job" }));
  await backend.store({ taskId: "job", state: "SUCCESS", result: { rows: [1, 2] }, children: ["next"] });
  await backend.saveGroup("g", ["job", "other"]);
  await backend.markGroupMember("g", "job");
  await Promise.all([broker.close(), backend.close()]);
  const again = new SqliteResultBackend({ path });
  const brokerAgain = new SqliteBroker({ path });
  t.teardown(() => Promise.all([again.close(), brokerAgain.close()]));
  t.same((await again.get("job"))?.result, { rows: [1, 2] });
  t.same(await again.getGroup("g"), ["job", "other"]);
  t.same(await again.markGroupMember("g", "job"), { done: 1, first: false }, "the mark was kept");
  t.equal((await brokerAgain.stats())[0]?.ready, 1);
});

t.test("after close: waitFor gives up, writes fail with a clear error", async (t) => {
  const backend = new SqliteResultBackend({ path: file() });
  const waiting = backend.waitFor("never", { timeoutMs: 60_000 });
  await new Promise((resolve) => setTimeout(resolve, 10));
  await backend.close();
  t.equal(await waiting, undefined);
  await t.rejects(backend.store({ taskId: "x", state: "SUCCESS" }), { code: "LMR_ERR_BROKER_UNAVAILABLE" });
  await backend.close();
});
