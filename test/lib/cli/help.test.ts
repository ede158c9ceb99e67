import t from "tap";
import { mainHelp, serveHelp } from "../../../lib/cli/help.js";
import { SERVE_SETTINGS } from "../../../lib/cli/serve-settings.js";
import { DEFAULT_SERVE_CONFIG } from "../../../lib/supervisor/serve-config.js";

t.test("serve --help lists every setting with its flag, env var, config key and default", async (t) => {
  const help = serveHelp();
  t.ok(SERVE_SETTINGS.length >= 10);
  for (const spec of SERVE_SETTINGS) {
    t.match(help, `--${spec.flag}`, spec.flag);
    t.match(help, spec.env, spec.env);
    t.match(help, `Config: "${spec.key}"`, spec.key);
    const value = (DEFAULT_SERVE_CONFIG as Record<string, unknown>)[spec.key];
    if (value !== undefined) t.match(help, `"${spec.key}"   Default: ${String(value)}`, `${spec.key} default`);
  }
  for (const text of ["--config", "LAMINAR_CONFIG", "LAMINAR_APP", "--help", "flag > environment variable > config file > default"]) {
    t.match(help, text);
  }
});

t.test("--timeout is described as a liveness check, not a request time limit", async (t) => {
  t.match(serveHelp(), /event-loop liveness check, NOT a per-request time limit/);
});

t.test("laminar --help lists the commands and the serve settings", async (t) => {
  const help = mainHelp();
  t.match(help, /serve <module>\[:export\]/);
  t.match(help, "--graceful-timeout");
});
