/**
 * A SQLite file that cannot be used (locked by another process past the busy timeout, not a
 * database, damaged, from a newer laminar, in a missing directory) gives a BrokerUnavailable that
 * names the file and the cause: never a raw SQLITE_ error, never a crash.
 */
import { fork } from "node:child_process";
import { closeSync, existsSync, readFileSync, mkdtempSync, openSync, rmSync, statSync, writeFileSync, writeSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { fileURLToPath } from "node:url";
import Database from "better-sqlite3";
import t, { type Test } from "tap";
import { LaminarError } from "../../../../lib/errors.js";
import { SqliteResultBackend } from "../../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../../lib/tasks/sqlite/sqlite-broker.js";
import { SCHEMA_VERSION } from "../../../../lib/tasks/sqlite/schema.js";
import { makeMessage } from "../../../conformance/tasks/broker-cases.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-sqlite-open-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `db-${++n}.db`);

/** Asserts `error` is a BrokerUnavailable naming `path` and matching `cause`. */
function isUnavailable(t: Test, error: unknown, path: string, cause: RegExp): void {
  t.ok(error instanceof LaminarError, "a catalogued error");
  const e = error as LaminarError;
  t.equal(e.code, "LMR_ERR_BROKER_UNAVAILABLE");
  t.equal(e.name, "BrokerUnavailable");
  t.ok(e.message.includes(path), `names the file: ${e.message}`);
  t.match(e.message, cause);
}

function caught(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

t.test("a file that is not a SQLite database", async (t) => {
  const path = file();
  const garbage = "this is not a database, just some text that happens to be long enough ".repeat(100);
  writeFileSync(path, garbage);
  isUnavailable(t, caught(() => new SqliteBroker({ path })), path, /not a SQLite database/);
  isUnavailable(t, caught(() => new SqliteResultBackend({ path })), path, /not a SQLite database/);
  t.equal(readFileSync(path, "utf8"), garbage, "the file was not touched");
  t.notOk(existsSync(`${path}-wal`), "nor a WAL created beside it");
});

t.test("a damaged database", async (t) => {
  const path = file();
  const broker = new SqliteBroker({ path });
  await broker.publishMany(Array.from({ length: 2_000 }, () => makeMessage({ args: ["x".repeat(200)] })));
  await broker.close();
  t.notOk(existsSync(`${path}-wal`), "checkpointed into the main file on close");
  // Overwrite everything after the first page (the header and schema stay readable).
  const size = statSync(path).size;
  const fd = openSync(path, "r+");
  writeSync(fd, Buffer.alloc(size - 4096, 0xa5), 0, size - 4096, 4096);
  closeSync(fd);
  const error = await (async () => {
    try {
      const reopened = new SqliteBroker({ path });
      try {
        await reopened.reserve({ queues: ["celery"], max: 10, visibilityTimeoutMs: 1_000, consumer: "c" });
        await reopened.stats();
      } finally {
        await reopened.close();
      }
    } catch (error) {
      return error;
    }
    return undefined;
  })();
  isUnavailable(t, error, path, /damaged|not a SQLite database/);
});

t.test("a file locked by another process longer than the busy timeout", async (t) => {
  const path = file();
  const broker = new SqliteBroker({ path, busyTimeoutMs: 50 });
  t.teardown(() => broker.close());
  await broker.publish(makeMessage({ id: "before" }));
  const locker = fork(fileURLToPath(new URL("./fixtures/locker.ts", import.meta.url)), [path], { stdio: "inherit" });
  t.teardown(() => void (locker.exitCode === null && locker.kill()));
  await new Promise<void>((resolve, reject) => {
    locker.once("message", () => resolve());
    locker.once("exit", (code) => reject(new Error(`the locker exited with ${code}`)));
  });
  const publish = await broker.publish(makeMessage({ id: "during" })).catch((error: unknown) => error);
  isUnavailable(t, publish, path, /locked by another connection.*50 ms/);
  const reserve = await broker
    .reserve({ queues: ["celery"], max: 1, visibilityTimeoutMs: 1_000, consumer: "c" })
    .catch((error: unknown) => error);
  isUnavailable(t, reserve, path, /locked/);
  t.same(await broker.stats().then((s) => s.map((q) => q.ready)), [1], "reads still work (WAL readers are not blocked)");
  // Waiting for the lock must not freeze the process (SQLite's busy handler sleeps inside the call).
  const patient = new SqliteBroker({ path, busyTimeoutMs: 200 });
  t.teardown(() => patient.close());
  let turns = 0;
  const ticker = setInterval(() => turns++, 1);
  const waited = await patient.publish(makeMessage({ id: "patient" })).catch((error: unknown) => error);
  clearInterval(ticker);
  isUnavailable(t, waited, path, /200 ms/);
  t.ok(turns > 0, `the event loop kept turning while the write waited for the lock (${turns} turns)`);
  const exited = new Promise((resolve) => locker.once("exit", resolve));
  locker.send("release");
  await exited;
  await broker.publish(makeMessage({ id: "after" }));
  const got = await broker.reserve({ queues: ["celery"], max: 10, visibilityTimeoutMs: 1_000, consumer: "c" });
  t.same(got.map((d) => d.message.id), ["before", "after"], "usable again once the lock is gone: no restart needed");
});

t.test("a file locked while it is being opened", async (t) => {
  const path = file();
  // A rollback-journal database (a fresh file's default): an exclusive lock keeps out even readers.
  const setup = new Database(path);
  setup.exec("CREATE TABLE unrelated (x)");
  setup.close();
  const holder = new Database(path);
  t.teardown(() => holder.open && holder.close());
  holder.exec("BEGIN EXCLUSIVE; INSERT INTO unrelated VALUES (1)");
  isUnavailable(t, caught(() => new SqliteBroker({ path, busyTimeoutMs: 20 })), path, /locked.*20 ms/);
  holder.exec("COMMIT");
  holder.close();
  const broker = new SqliteBroker({ path, busyTimeoutMs: 20 });
  t.teardown(() => broker.close());
  await broker.publish(makeMessage());
  t.equal((await broker.stats())[0]?.ready, 1, "opens fine once the lock is gone; the unrelated table is left alone");
});

t.test("a file from a newer schema is refused, not misread", async (t) => {
  const path = file();
  new SqliteBroker({ path }).close();
  const db = new Database(path);
  db.pragma(`user_version = ${SCHEMA_VERSION + 1}`);
  db.close();
  isUnavailable(t, caught(() => new SqliteBroker({ path })), path, new RegExp(`schema version ${SCHEMA_VERSION + 1} is newer`));
});

t.test("a file in a directory that does not exist", async (t) => {
  const path = join(dir, "no", "such", "dir", "tasks.db");
  isUnavailable(t, caught(() => new SqliteBroker({ path })), path, /cannot be opened/);
});

t.test("the schema is created once: reopening keeps the data and the version", async (t) => {
  const path = file();
  const a = new SqliteBroker({ path });
  await a.publish(makeMessage({ id: "kept" }));
  const b = new SqliteResultBackend({ path });
  await b.store({ taskId: "kept", state: "SUCCESS", result: 1 });
  await a.close();
  await b.close();
  const db = new Database(path);
  t.equal(db.pragma("user_version", { simple: true }), SCHEMA_VERSION);
  t.equal(db.pragma("journal_mode", { simple: true }), "wal");
  t.equal(db.prepare("SELECT COUNT(*) FROM messages").pluck().get(), 1);
  db.close();
});
t.teardown(() => {
  setTimeout(() => {
    const hs = (process as unknown as { _getActiveHandles(): unknown[] })._getActiveHandles();
    console.error("DBG handles", hs.map((h) => (h as object).constructor.name + " " + ((h as { pid?: number }).pid ?? "")));
  }, 3000).unref();
});
