/**
 * Loads the app a `module[:export]` target names, as uvicorn's `module:attribute`.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import { App } from "../app.js";

/** The target could not be loaded or does not name an App. */
export class AppLoadError extends Error {
  override get name(): string {
    return "AppLoadError";
  }
}

/**
 * Imports `target` (`dist/app.js`, `dist/app.js:api`; relative to `cwd`) and returns the App it
 * exports: the named export, else the `app` export, else the default export. A function export is
 * called (a factory: `createApp`) and must return an App.
 *
 * @throws AppLoadError when the module cannot be imported or exports no App
 */
export async function loadApp(target: string, cwd = process.cwd()): Promise<App> {
  const colon = target.lastIndexOf(":");
  // A Windows drive letter ("C:\\x.js") is not an export separator.
  const hasExport = colon > 1;
  const file = hasExport ? target.slice(0, colon) : target;
  const name = hasExport ? target.slice(colon + 1) : undefined;
  let module: Record<string, unknown>;
  try {
    module = (await import(pathToFileURL(resolve(cwd, file)).href)) as Record<string, unknown>;
  } catch (error) {
    throw new AppLoadError(`Could not import ${file}: ${(error as Error).message}`, { cause: error });
  }
  const candidates = name !== undefined ? [name] : ["app", "default"];
  for (const key of candidates) {
    let value = module[key];
    if (typeof value === "function" && !(value instanceof App) && !(value.prototype instanceof App)) {
      value = await (value as () => unknown)();
    }
    if (value instanceof App) return value;
    if (value !== undefined) throw new AppLoadError(`${file}: export "${key}" is not a laminar App`);
  }
  throw new AppLoadError(`${file} exports no App ${name !== undefined ? `named "${name}"` : '(looked for "app" and the default export)'}`);
}

// Kept in its own module so entries that never load an App (the task worker) need not import one.
export { describeLoadError } from "./describe-error.js";
