/**
 * SqliteBroker and SqliteResultBackend: the broker and result backend conformance suites, each case
 * on a fresh file; once more with the broker and the backend sharing one connection.
 */
import { mkdtempSync, rmSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import Database from "better-sqlite3";
import t from "tap";
import { SqliteResultBackend } from "../../../lib/tasks/sqlite/sqlite-backend.js";
import { SqliteBroker } from "../../../lib/tasks/sqlite/sqlite-broker.js";
import { brokerConformance } from "./broker-cases.js";
import { resultBackendConformance } from "./result-backend-cases.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-sqlite-conformance-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));
let n = 0;
const file = (): string => join(dir, `case-${++n}.db`);

brokerConformance(t, "SqliteBroker", (clock) => new SqliteBroker({ path: file(), now: clock.now, maxRevocations: clock.maxRevocations }));
resultBackendConformance(t, "SqliteResultBackend", (clock) => new SqliteResultBackend({ path: file(), now: clock.now }));

// A connection opened by the caller: the broker and the backend share it and leave it open.
resultBackendConformance(t, "SqliteResultBackend (shared connection)", (clock) => {
  const database = new Database(file());
  t.teardown(() => database.close());
  new SqliteBroker({ database, now: clock.now });
  return new SqliteResultBackend({ database, now: clock.now });
});
