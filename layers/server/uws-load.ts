/**
 * Loads uWebSockets.js on demand. It is an optional dependency (a native addon with prebuilt
 * binaries for some platforms and Node ABIs only), so nothing imports it statically: an app that
 * never asks for `server: "uws"` works where the binary does not.
 *
 * @module
 */
import { createRequire } from "node:module";
import type * as Uws from "uWebSockets.js";
import { UwsUnavailableError } from "../../lib/errors.js";

/** The uWebSockets.js module's exports. */
export type UwsModule = typeof Uws;

let cached: UwsModule | undefined;

/**
 * Returns the uWebSockets.js module, loading it the first time.
 *
 * @param specifier what to `require` (tests pass a missing name to see the failure)
 * @throws UwsUnavailableError with the loader's reason when the package or its binary is missing
 */
export function loadUws(specifier = "uWebSockets.js"): UwsModule {
  if (specifier === "uWebSockets.js" && cached !== undefined) return cached;
  let mod: UwsModule;
  try {
    // The package is CommonJS (its entry `require`s a per-platform .node file).
    mod = createRequire(import.meta.url)(specifier) as UwsModule;
  } catch (err) {
    const reason = (err as Error).message.split("\n").find((line) => line.trim() !== "") ?? String(err);
    throw new UwsUnavailableError(reason, err as Error);
  }
  if (specifier === "uWebSockets.js") cached = mod;
  return mod;
}
