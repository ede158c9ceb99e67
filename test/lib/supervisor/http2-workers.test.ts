/**
 * `laminar serve --server http2 --workers 2` as a real process: the CLI (compiled with the
 * supervisor, see master-harness.ts) starts a master whose two workers share the port through
 * node:cluster, and both answer h2c requests; with `--certfile`/`--keyfile` they answer h2 over
 * TLS and HTTP/1.1 for a client without h2. SIGTERM ends it with code 0.
 */
import t, { type Test } from "tap";
import { spawn, type ChildProcess } from "node:child_process";
import { once } from "node:events";
import { join } from "node:path";
import { Agent, request } from "undici";
import { compileForMaster, freePort } from "./master-harness.js";
import { h2connect, h2request } from "../../conformance/server/http2-client.js";
import { makeTestCertificate } from "../../fixtures/test-certificate.js";

t.setTimeout(55_000);

const PID_APP = "test/fixtures/supervisor/pid-app.ts";
const build = compileForMaster(t, ["lib/cli/bin.ts"]);

/** Starts `laminar serve <pid-app> --server http2 --workers 2 …extra` on a free port. */
async function serve(t: Test, extra: string[]): Promise<{ child: ChildProcess; port: number; stderr: () => string; exit: Promise<number | null> }> {
  const port = await freePort();
  const child = spawn(
    process.execPath,
    [build.js("lib/cli/bin.ts"), "serve", build.js(PID_APP), "--server", "http2", "--workers", "2", "--host", "127.0.0.1", "--port", String(port), "--log-level", "warn", ...extra],
    { stdio: ["ignore", "pipe", "pipe"] },
  );
  let stderr = "";
  child.stderr!.setEncoding("utf8").on("data", (chunk: string) => (stderr += chunk));
  child.stdout!.resume();
  const exit = once(child, "exit").then(([code]) => code as number | null);
  t.teardown(() => {
    if (child.exitCode === null && child.signalCode === null) child.kill("SIGKILL");
  });
  return { child, port, stderr: () => stderr, exit };
}

t.test("laminar serve --server http2 --workers 2 serves h2c from both workers", async (t) => {
  const { child, port, stderr, exit } = await serve(t, []);

  // Each new connection goes to a worker (cluster's round robin); ask until both pids were seen.
  const pids = new Set<number>();
  for (let attempt = 0; attempt < 400 && pids.size < 2 && child.exitCode === null; attempt++) {
    try {
      const session = await h2connect(`http://127.0.0.1:${port}`);
      const res = await h2request(session, { ":path": "/pid" });
      session.close();
      if (res.status === 200) {
        pids.add((JSON.parse(res.body.toString()) as { pid: number }).pid);
      }
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50)); // not listening yet
    }
  }
  t.equal(pids.size, 2, `both workers answered over h2c (${[...pids].join(", ")}) ${stderr()}`);
  t.notOk(pids.has(child.pid as number), "the master itself does not serve");
  child.kill("SIGTERM");
  t.equal(await exit, 0, stderr());
});

t.test("with --certfile/--keyfile: h2 over TLS, and HTTP/1.1 for a client without h2", async (t) => {
  const material = makeTestCertificate(t.testdir());
  if (typeof material === "string") {
    t.comment(`skipped: ${material}`);
    return;
  }
  const ca = material.cert;
  const { child, port, stderr, exit } = await serve(t, ["--certfile", material.certFile, "--keyfile", material.keyFile]);
  const url = `https://127.0.0.1:${port}`;
  let h2Status = 0;
  for (let attempt = 0; attempt < 400 && h2Status === 0 && child.exitCode === null; attempt++) {
    try {
      const session = await h2connect(url, { ca });
      h2Status = (await h2request(session, { ":path": "/pid" })).status;
      session.close();
    } catch {
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  t.equal(h2Status, 200, `h2 over TLS ${stderr()}`);
  const h1 = new Agent({ connect: { ca } });
  t.teardown(() => h1.close());
  const res = await request(`${url}/pid`, { dispatcher: h1 });
  t.equal(res.statusCode, 200, "HTTP/1.1 fallback");
  t.match(await res.body.json(), { pid: Number });
  child.kill("SIGTERM");
  t.equal(await exit, 0, stderr());
});
