/**
 * `laminar --help` and `laminar serve --help`, generated from the settings table and laid out as
 * Gunicorn's settings page: each setting with its flag, environment variable, config key,
 * default and meaning.
 *
 * @module
 */
import { DEFAULT_SERVE_CONFIG } from "../supervisor/serve-config.js";
import { APP_ENV, CONFIG_ENV, SERVE_SETTINGS, type SettingSpec } from "./serve-settings.js";

function flagLine(spec: SettingSpec): string {
  const value = spec.valueName !== undefined ? ` ${spec.valueName}` : "";
  const short = spec.short !== undefined ? `, -${spec.short}${value}` : "";
  return `--${spec.flag}${value}${short}`;
}

function defaultText(spec: SettingSpec): string {
  const value = (DEFAULT_SERVE_CONFIG as Record<string, unknown>)[spec.key];
  return value === undefined ? "none" : String(value);
}

function settingBlock(spec: SettingSpec): string[] {
  const choices = spec.choices !== undefined ? `   Values: ${spec.choices.join(", ")}` : "";
  return [
    `  ${flagLine(spec)}`,
    `      Env: ${spec.env}   Config: "${spec.key}"   Default: ${defaultText(spec)}${choices}`,
    ...spec.help.map((line) => `      ${line}`),
    "",
  ];
}

/** The help of `laminar serve`: usage, precedence, every setting, and the signals. */
export function serveHelp(): string {
  return [
    "Usage: laminar serve <module>[:export] [options]",
    "",
    "Runs a laminar App. <module> is a JavaScript file relative to the working directory; :export names",
    'the export (default: "app", else the default export). A function export is called and must return an App.',
    "",
    "Every setting can be given as a flag, an environment variable or a key of the JSON config file.",
    "Precedence: flag > environment variable > config file > default.",
    "",
    "Settings",
    "",
    "  <module>[:export]",
    `      Env: ${APP_ENV}   Config: "target"   Default: none (required)`,
    "      The app to serve, e.g. dist/app.js or dist/app.js:api.",
    "",
    "  --config FILE, -c FILE",
    `      Env: ${CONFIG_ENV}   Default: none`,
    '      JSON file of settings keyed as in "Config" above, e.g. {"workers": 4, "port": 8080}.',
    "",
    ...SERVE_SETTINGS.flatMap(settingBlock),
    "  --help, -h",
    "      Print this help.",
    "",
    "Signals (one worker, no master)",
    "  SIGTERM, SIGINT   graceful shutdown: stop accepting, let in-flight requests finish within",
    "                    --graceful-timeout, run the lifespan shutdown, exit 0.",
    "  a second signal   exit at once (130 after SIGINT, 143 after SIGTERM).",
    "",
    "Signals (to the master, with --workers > 1, --max-requests or --reload)",
    "  SIGTERM, SIGINT   graceful shutdown of every worker (in-flight requests finish, WebSockets get",
    "                    1001, bounded by --graceful-timeout), then exit 0. A second SIGINT kills them now (130).",
    "  SIGQUIT           kill the workers at once.",
    "  SIGHUP            rolling reload: fresh workers load the app again and listen before the old ones",
    "                    stop; if a fresh one cannot boot, the old ones are kept.",
    "  SIGTTIN, SIGTTOU  one worker more / one fewer (the oldest retires).",
    "  laminar status    each worker's pid, state, uptime, requests, memory and current request.",
    "",
    "Exit codes",
    "  0 clean shutdown   2 usage error   3 the app could not start (bind, lifespan, TLS files)",
    "  4 the app could not be loaded (import error, no App exported)",
    "",
  ].join("\n");
}

/** The help of `laminar` itself: the commands, then the settings of `serve`. */
export function mainHelp(): string {
  return [
    "Usage: laminar <command> [options]",
    "",
    "Commands",
    "  serve <module>[:export]   run an app (see below)",
    "  worker <module>[:export]  consume and run tasks of a task registry (laminar worker --help)",
    "  tasks inspect <module>[:export]   queue depths, live workers and what they run, recent",
    "                            failures and dead letters (laminar tasks --help)",
    "  status                    show the running masters' workers (laminar status --help)",
    "  trace <module>[:export] [METHOD] <path>   run one request in-process and print its walk through",
    "                            the layers, with µs for each (laminar trace --help)",
    "  openapi <module>[:export] print the app's OpenAPI document (laminar openapi --help)",
    "  help                      print this help",
    "",
    serveHelp(),
  ].join("\n");
}
