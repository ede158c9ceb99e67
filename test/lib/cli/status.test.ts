/** `laminar status`: finds masters through their control sockets and prints their workers. */
import t from "tap";
import { mkdtempSync, rmSync, writeFileSync } from "node:fs";
import { tmpdir } from "node:os";
import { join } from "node:path";
import { openControlSocket, type MasterStatus } from "../../../lib/supervisor/control-socket.js";
import { formatDuration, formatStatus, runStatus } from "../../../lib/cli/status.js";
import { runCli, type CliDeps } from "../../../lib/cli/cli.js";

const dir = mkdtempSync(join(tmpdir(), "laminar-status-test-"));
t.teardown(() => rmSync(dir, { recursive: true, force: true }));

const status: MasterStatus = {
  state: "running",
  target: 2,
  restarts: 3,
  reloads: 1,
  workers: [
    { pid: 501, state: "serving", uptimeMs: 3_723_000, requests: 12_345, rss: 52_428_800, request: { method: "GET", path: "/slow", runningMs: 2_100 } },
    { pid: 502, state: "booting", uptimeMs: 400, requests: 0, rss: undefined, request: undefined },
  ],
  master: { pid: 500, uptimeMs: 90_061_000, target: "dist/app.js", server: "uws", url: "http://127.0.0.1:8000" },
};

function capture() {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, deps: { out: (line: string) => void out.push(line), err: (line: string) => void err.push(line) } };
}

t.test("formatStatus: a summary line and one row per worker", async (t) => {
  const text = formatStatus(status);
  t.match(text, /laminar master 500: running, up 1d 1h, app dist\/app\.js, server uws on http:\/\/127\.0\.0\.1:8000/);
  t.match(text, /workers 2 \(target 2\), restarts 3, reloads 1/);
  t.match(text, /501\s+serving\s+1h 2m\s+12345\s+50\.0 MiB\s+GET \/slow \(2\.1s\)/);
  t.match(text, /502\s+booting\s+0\.4s\s+0\s+-\s+-/);
  t.same([formatDuration(4_200), formatDuration(61_000), formatDuration(3_723_000)], ["4.2s", "1m 1s", "1h 2m"]);
});

t.test("finds every live default socket in the directory, skips stale ones and other files", async (t) => {
  const a = await openControlSocket(join(dir, "laminar-500.sock"), () => status);
  const b = await openControlSocket(join(dir, "laminar-600.sock"), () => ({ ...status, master: { ...status.master, pid: 600 } }));
  t.teardown(async () => {
    await a.close();
    await b.close();
  });
  writeFileSync(join(dir, "laminar-999.sock"), ""); // left by a master that was killed
  writeFileSync(join(dir, "unrelated.sock"), "");
  const c = capture();
  t.equal(await runStatus([], { ...c.deps, socketDir: dir }), 0);
  t.equal(c.out.length, 2);
  t.match(c.out.join("\n"), /master 500[\s\S]*master 600|master 600[\s\S]*master 500/);
  t.same(c.err, [], "the stale socket is not reported");

  const json = capture();
  t.equal(await runStatus(["--json", "-s", join(dir, "laminar-500.sock")], json.deps), 0);
  t.same(JSON.parse(json.out[0]!), JSON.parse(JSON.stringify(status)), "the status as sent (JSON drops undefined fields)");
});

t.test("nothing running: exit 1 with a message; a bad explicit socket names it; bad flags exit 2", async (t) => {
  const empty = mkdtempSync(join(dir, "empty-"));
  const c = capture();
  t.equal(await runStatus([], { ...c.deps, socketDir: empty }), 1);
  t.match(c.err.join("\n"), /no running laminar master found/);
  const bad = capture();
  t.equal(await runStatus(["--control-socket", join(empty, "nope.sock")], bad.deps), 1);
  t.match(bad.err.join("\n"), /nope\.sock: .*ENOENT/);
  const usage = capture();
  t.equal(await runStatus(["--pid", "3"], usage.deps), 2);
  t.equal(await runStatus(["extra"], usage.deps), 2);
  const help = capture();
  t.equal(await runStatus(["--help"], help.deps), 0);
  t.match(help.out[0], /Usage: laminar status/);
});

t.test("`laminar status` is dispatched by the CLI", async (t) => {
  const c = capture();
  const deps = { ...c.deps, socketDir: mkdtempSync(join(dir, "cli-")) } as unknown as CliDeps;
  t.equal(await runCli(["status"], deps), 1);
  t.match(c.err.join("\n"), /no running laminar master/);
});
