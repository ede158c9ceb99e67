/**
 * The task queue's SQLite schema (broker and result backend in one file). Bump
 * {@link SCHEMA_VERSION} and add a migration step in `open-database.ts` when it changes.
 *
 * @module
 */

/** `PRAGMA user_version` of a file holding this schema. */
export const SCHEMA_VERSION = 1;

/**
 * The tables. `messages.available_at` is a message's due time while it waits and its lease's end
 * while leased, so one comparison (`available_at <= now`) finds both new and lapsed messages, and
 * `messages_due` hands them out in delivery order (priority, due time, publish order) without a sort.
 */
export const SCHEMA = `
CREATE TABLE IF NOT EXISTS messages (
  seq          INTEGER PRIMARY KEY AUTOINCREMENT,
  id           TEXT    NOT NULL,
  queue        TEXT    NOT NULL,
  priority     INTEGER NOT NULL,
  available_at INTEGER NOT NULL,
  lease_id     TEXT,
  consumer     TEXT,
  deliveries   INTEGER NOT NULL DEFAULT 0,
  body         TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS messages_due ON messages (queue, priority DESC, available_at, seq);
CREATE INDEX IF NOT EXISTS messages_id ON messages (id);

CREATE TABLE IF NOT EXISTS queues (name TEXT PRIMARY KEY) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS dead_letters (
  seq    INTEGER PRIMARY KEY AUTOINCREMENT,
  queue  TEXT    NOT NULL,
  id     TEXT    NOT NULL,
  reason TEXT    NOT NULL,
  at     INTEGER NOT NULL,
  body   TEXT    NOT NULL
);

CREATE TABLE IF NOT EXISTS revocations (
  seq       INTEGER PRIMARY KEY AUTOINCREMENT,
  task_id   TEXT    NOT NULL,
  terminate INTEGER NOT NULL
);
CREATE INDEX IF NOT EXISTS revocations_task ON revocations (task_id);

CREATE TABLE IF NOT EXISTS workers (
  id      TEXT PRIMARY KEY,
  seen_at INTEGER NOT NULL,
  body    TEXT    NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS locks (
  name       TEXT PRIMARY KEY,
  owner      TEXT    NOT NULL,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS claims (
  key        TEXT PRIMARY KEY,
  expires_at INTEGER NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS results (
  task_id    TEXT PRIMARY KEY,
  state      TEXT    NOT NULL,
  ready      INTEGER NOT NULL,
  updated_at INTEGER NOT NULL,
  body       TEXT    NOT NULL
);
CREATE INDEX IF NOT EXISTS results_recent ON results (updated_at);

CREATE TABLE IF NOT EXISTS task_groups (
  group_id TEXT PRIMARY KEY,
  members  TEXT NOT NULL
) WITHOUT ROWID;

CREATE TABLE IF NOT EXISTS group_done (
  group_id  TEXT NOT NULL,
  member_id TEXT NOT NULL,
  PRIMARY KEY (group_id, member_id)
) WITHOUT ROWID;
`;
