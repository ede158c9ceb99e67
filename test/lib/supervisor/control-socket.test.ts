/** The master's control socket: answers with the status, is private, refuses a live twin, replaces a stale file. */
import t from "tap";
import { mkdtempSync, rmSync, statSync, existsSync, writeFileSync } from "node:fs";
import { createServer } from "node:net";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { defaultControlSocket, openControlSocket, type MasterStatus } from "../../../lib/supervisor/control-socket.js";
import { queryStatus } from "../../../lib/cli/status.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-control-test-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const sample = (requests: number): MasterStatus => ({
  state: "running",
  target: 1,
  restarts: 0,
  reloads: 0,
  workers: [{ pid: 7, state: "serving", uptimeMs: 10, requests, rss: 1, request: undefined }],
  master: { pid: 6, uptimeMs: 20, target: "app.js", server: "node", url: "http://127.0.0.1:1" },
});

t.test("answers each connection with the current status, mode 0600, file removed on close", async (t) => {
  const path = join(dir, "a.sock");
  let requests = 0;
  const control = await openControlSocket(path, () => sample(++requests));
  t.equal(statSync(path).mode & 0o777, 0o600);
  t.equal((await queryStatus(path)).workers[0]?.requests, 1);
  t.equal((await queryStatus(path)).workers[0]?.requests, 2, "computed per connection, not once");
  await control.close();
  t.notOk(existsSync(path));
  await t.rejects(queryStatus(path), "nothing answers after close");
});

t.test("a stale socket file is replaced; a live one is refused", async (t) => {
  const stale = join(dir, "stale.sock");
  writeFileSync(stale, "");
  const control = await openControlSocket(stale, () => sample(0));
  t.equal((await queryStatus(stale)).master.pid, 6);
  await t.rejects(openControlSocket(stale, () => sample(0)), /in use by another laminar master/);
  t.equal((await queryStatus(stale)).master.pid, 6, "the first master still answers");
  await control.close();
});

t.test("queryStatus rejects what is not a laminar master", async (t) => {
  const path = join(dir, "other.sock");
  const server = createServer((socket) => socket.end("HTTP/1.1 400 Bad Request\r\n\r\n"));
  await new Promise<void>((done) => server.listen(path, done));
  t.teardown(() => void server.close());
  await t.rejects(queryStatus(path), /not a laminar control socket/);
  const silent = join(dir, "silent.sock");
  const mute = createServer(() => {});
  await new Promise<void>((done) => mute.listen(silent, done));
  t.teardown(() => void mute.close());
  await t.rejects(queryStatus(silent, 100), /no answer within 100 ms/);
});

t.test("the default socket path names the master's pid", async (t) => {
  t.equal(defaultControlSocket(1234), join(tmpdir(), "laminar-1234.sock"));
});
