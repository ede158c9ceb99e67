/**
 * Turns `laminar serve`'s arguments, the environment and the config file into one
 * {@link ServeConfig}. Precedence per setting: flag > environment variable > config file > default.
 * Pure apart from the injected file reader, so every rule is tested without processes.
 *
 * @module
 */
import { parseArgs, type ParseArgsConfig } from "node:util";
import { DEFAULT_SERVE_CONFIG, type ServeConfig } from "../supervisor/serve-config.js";
import { APP_ENV, CONFIG_ENV, SERVE_SETTINGS, type SettingSpec } from "./serve-settings.js";
import { UsageError } from "./usage-error.js";
import { parseTrustedProxies } from "../../layers/middleware/proxy-headers.js";

/** What `laminar serve` was asked to do. */
export type ServeCommand = { kind: "help" } | { kind: "serve"; config: ServeConfig };

/** Where the settings come from besides the arguments. */
export interface ResolveSources {
  /** The environment; `process.env` in the CLI. Empty values count as unset. */
  env: Readonly<Record<string, string | undefined>>;
  /** Reads the config file (a path as given, relative to the working directory); throws if it cannot. */
  readConfigFile: (path: string) => string;
}

type Raw = string | number | boolean;

/** The parseArgs options: one per setting, plus `--config` and `--help`. */
function parseOptions(): NonNullable<ParseArgsConfig["options"]> {
  const options: NonNullable<ParseArgsConfig["options"]> = {
    help: { type: "boolean", short: "h" },
    config: { type: "string", short: "c" },
  };
  for (const spec of SERVE_SETTINGS) {
    options[spec.flag] = { type: spec.kind === "boolean" ? "boolean" : "string", ...(spec.short ? { short: spec.short } : {}) };
  }
  return options;
}

/** Checks and converts one raw value; `from` names its source for the error message. */
export function coerceSetting(spec: SettingSpec, raw: Raw, from: string): ServeConfig[keyof ServeConfig] {
  const bad = (why: string): UsageError => new UsageError(`${from}: ${JSON.stringify(raw)} ${why}`);
  switch (spec.kind) {
    case "boolean": {
      if (typeof raw === "boolean") return raw;
      const text = String(raw).trim().toLowerCase();
      if (["1", "true", "yes", "on"].includes(text)) return true;
      if (["0", "false", "no", "off"].includes(text)) return false;
      throw bad("is not a boolean (use 1/true/yes or 0/false/no)");
    }
    case "integer":
    case "number": {
      if (typeof raw === "boolean") throw bad("is not a number");
      const text = String(raw).trim();
      // Number("") is 0 and Number("0x10") is 16: accept plain decimals only.
      if (!/^-?\d+(\.\d+)?$/.test(text)) throw bad(spec.kind === "integer" ? "is not an integer" : "is not a number");
      const value = Number(text);
      if (spec.kind === "integer" && !Number.isInteger(value)) throw bad("is not an integer");
      if (spec.min !== undefined && value < spec.min) throw bad(`is below the minimum ${spec.min}`);
      if (spec.max !== undefined && value > spec.max) throw bad(`is above the maximum ${spec.max}`);
      return value;
    }
    case "choice": {
      const text = String(raw);
      if (typeof raw !== "string" || !spec.choices?.includes(text)) {
        throw bad(`is not one of ${spec.choices?.join(", ")}`);
      }
      return text;
    }
    case "string": {
      if (typeof raw !== "string" || (raw === "" && spec.allowEmpty !== true)) throw bad("is not a non-empty string");
      return raw;
    }
  }
}

/** Reads and checks the JSON config file: an object whose keys are ServeConfig keys. */
function readConfigFile(path: string, sources: ResolveSources): Record<string, Raw> {
  let text: string;
  try {
    text = sources.readConfigFile(path);
  } catch (error) {
    throw new UsageError(`config file ${path}: ${(error as Error).message}`);
  }
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (error) {
    throw new UsageError(`config file ${path}: invalid JSON: ${(error as Error).message}`);
  }
  if (typeof parsed !== "object" || parsed === null || Array.isArray(parsed)) {
    throw new UsageError(`config file ${path}: expected a JSON object of settings`);
  }
  const known = ["target", ...SERVE_SETTINGS.map((spec) => spec.key)];
  for (const [key, value] of Object.entries(parsed)) {
    if (!known.includes(key)) throw new UsageError(`config file ${path}: unknown setting "${key}" (known: ${known.join(", ")})`);
    if (!["string", "number", "boolean"].includes(typeof value)) {
      throw new UsageError(`config file ${path}: "${key}" must be a string, number or boolean`);
    }
  }
  return parsed as Record<string, Raw>;
}

/** Reads a setting from the environment, treating an empty value as unset. */
function fromEnv(env: ResolveSources["env"], name: string): string | undefined {
  const value = env[name];
  return value === undefined || value === "" ? undefined : value;
}

/**
 * Resolves the arguments after `serve` into a command.
 *
 * @throws UsageError for unknown flags, bad values, a missing app, or a key file without a certificate
 */
export function resolveServeConfig(args: readonly string[], sources: ResolveSources): ServeCommand {
  let parsed: ReturnType<typeof parseArgs>;
  try {
    parsed = parseArgs({ args: [...args], options: parseOptions(), strict: true, allowPositionals: true });
  } catch (error) {
    throw new UsageError((error as Error).message);
  }
  const flags = parsed.values as Record<string, string | boolean | undefined>;
  if (flags.help === true) return { kind: "help" };
  if (parsed.positionals.length > 1) {
    throw new UsageError(`expected one app, got ${parsed.positionals.length}: ${parsed.positionals.join(" ")}`);
  }

  const configPath = (flags.config as string | undefined) ?? fromEnv(sources.env, CONFIG_ENV);
  const file = configPath !== undefined ? readConfigFile(configPath, sources) : {};
  const fileLabel = (key: string): string => `config file ${configPath}: "${key}"`;

  const config: Record<string, unknown> = { ...DEFAULT_SERVE_CONFIG };
  for (const spec of SERVE_SETTINGS) {
    const flag = flags[spec.flag];
    const env = fromEnv(sources.env, spec.env);
    if (flag !== undefined) config[spec.key] = coerceSetting(spec, flag, `--${spec.flag}`);
    else if (env !== undefined) config[spec.key] = coerceSetting(spec, env, spec.env);
    else if (file[spec.key] !== undefined) config[spec.key] = coerceSetting(spec, file[spec.key] as Raw, fileLabel(spec.key));
  }

  const fileTarget = file.target;
  if (fileTarget !== undefined && (typeof fileTarget !== "string" || fileTarget === "")) {
    throw new UsageError(`${fileLabel("target")} must be a non-empty string`);
  }
  const target = parsed.positionals[0] ?? fromEnv(sources.env, APP_ENV) ?? fileTarget;
  if (target === undefined || target === "") {
    throw new UsageError(`no app given: laminar serve <module>[:export] (or ${APP_ENV}, or "target" in the config file)`);
  }
  config.target = target;

  if ((config.keyfile === undefined) !== (config.certfile === undefined)) {
    throw new UsageError(config.keyfile !== undefined ? "--keyfile needs --certfile" : "--certfile needs --keyfile");
  }
  try {
    parseTrustedProxies(config.forwardedAllowIps as string);
  } catch (error) {
    throw new UsageError(`--forwarded-allow-ips: ${(error as Error).message}`);
  }
  // uWS workers each bind the port with SO_REUSEPORT; on port 0 each would get a port of its own.
  if (config.server === "uws" && (config.workers as number) > 1 && config.port === 0) {
    throw new UsageError("--server uws with several workers needs a fixed --port (with port 0 each worker would bind a different port)");
  }
  return { kind: "serve", config: config as unknown as ServeConfig };
}
