/** The default logger's destination: stdout unless LOG_DESTINATION (or a CLI command) says stderr. */
import t from "tap";
import { spawnSync } from "node:child_process";

function run(env: Record<string, string>): { stdout: string; stderr: string } {
  const result = spawnSync(process.execPath, [...process.execArgv, "test/fixtures/logger/log-once.ts"], {
    env: { ...process.env, LOG_LEVEL: "info", ...env },
    encoding: "utf8",
    timeout: 30_000,
  });
  t.equal(result.status, 0, result.stderr);
  return { stdout: result.stdout, stderr: result.stderr };
}

t.test("JSON lines on stdout by default", async (t) => {
  const { stdout } = run({ LOG_DESTINATION: "" });
  t.match(JSON.parse(stdout.trim()), { marker: "log-once", msg: "a line from the default logger", level: 40 });
});

t.test("LOG_DESTINATION=stderr keeps stdout clean for a command's own output", async (t) => {
  const { stdout, stderr } = run({ LOG_DESTINATION: "stderr" });
  t.equal(stdout, "");
  t.match(stderr, /"marker":"log-once"/);
});
