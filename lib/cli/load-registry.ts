/**
 * Loads the task registry a `module[:export]` target names, as {@link loadApp} loads an App: what
 * `laminar worker`, `laminar tasks inspect` and the process pool's children import.
 *
 * @module
 */
import { resolve } from "node:path";
import { pathToFileURL } from "node:url";
import type { TaskRegistry } from "../tasks/registry.js";

/** The export looked for when the target names none (a `TaskQueue` conventionally called `tasks`). */
export const DEFAULT_REGISTRY_EXPORT = "tasks";

/** The target could not be imported or does not name a task registry. */
export class RegistryLoadError extends Error {
  override get name(): string {
    return "RegistryLoadError";
  }
}

/**
 * True for a {@link TaskRegistry}: duck-typed (`lookup`, `names`, `broker`, `backend`), so a registry
 * built by another copy of laminar (a linked package, dist/ beside the sources) is accepted too.
 */
export function isTaskRegistry(value: unknown): value is TaskRegistry {
  if (typeof value !== "object" || value === null) return false;
  const candidate = value as Record<string, unknown>;
  return (
    typeof candidate.lookup === "function" &&
    typeof candidate.names === "function" &&
    typeof candidate.broker === "object" &&
    candidate.broker !== null &&
    typeof candidate.backend === "object" &&
    candidate.backend !== null
  );
}

/**
 * Splits `target` into its file and export name and imports the file (once per process: a second
 * call gets the same module, so the schedule and the registry of one file are the same objects).
 *
 * @throws RegistryLoadError when the target is malformed or the module cannot be imported
 */
export async function importTarget(target: string, cwd = process.cwd()): Promise<{ file: string; name: string | undefined; module: Record<string, unknown> }> {
  const colon = target.lastIndexOf(":");
  // A Windows drive letter ("C:\\x.js") is not an export separator.
  const hasExport = colon > 1;
  const file = hasExport ? target.slice(0, colon) : target;
  const name = hasExport ? target.slice(colon + 1) : undefined;
  if (file === "" || name === "") throw new RegistryLoadError(`${JSON.stringify(target)} is not <module>[:export]`);
  try {
    return { file, name, module: (await import(pathToFileURL(resolve(cwd, file)).href)) as Record<string, unknown> };
  } catch (error) {
    throw new RegistryLoadError(`Could not import ${file}: ${(error as Error).message}`, { cause: error });
  }
}

/**
 * Imports `target` (`dist/tasks.js`, `dist/tasks.js:queue`; relative to `cwd`) and returns the
 * registry it exports: the named export, else `tasks`, else the default export. A function export
 * is called (a factory) and must return a registry.
 *
 * @throws RegistryLoadError when the module cannot be imported or exports no registry
 */
export async function loadRegistry(target: string, cwd = process.cwd()): Promise<TaskRegistry> {
  const { file, name, module } = await importTarget(target, cwd);
  const candidates = name !== undefined ? [name] : [DEFAULT_REGISTRY_EXPORT, "default"];
  for (const key of candidates) {
    let value = module[key];
    if (typeof value === "function") {
      try {
        value = await (value as () => unknown)();
      } catch (error) {
        throw new RegistryLoadError(`${file}: calling export "${key}" failed: ${(error as Error).message}`, { cause: error });
      }
    }
    if (isTaskRegistry(value)) return value;
    if (value !== undefined) {
      throw new RegistryLoadError(`${file}: export "${key}" is not a task registry (a TaskQueue: lookup, names, broker, backend)`);
    }
  }
  throw new RegistryLoadError(
    `${file} exports no task registry ${name !== undefined ? `named "${name}"` : `(looked for "${DEFAULT_REGISTRY_EXPORT}" and the default export)`}`,
  );
}

/** Closes a registry that can be closed (a `TaskQueue` closes its broker and backend). */
export async function closeRegistry(registry: TaskRegistry): Promise<void> {
  const close = (registry as { close?: unknown }).close;
  if (typeof close === "function") await (close as () => Promise<void>).call(registry);
}
