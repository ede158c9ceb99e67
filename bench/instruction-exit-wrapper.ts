/**
 * Runs a contender's app under callgrind so that it can be stopped with a NORMAL exit: callgrind
 * writes its output file only when the process exits (a SIGKILL loses the count), and most apps
 * do not handle SIGINT themselves, so the default action (death by signal) would lose it too.
 *
 * Usage (what `instruction-count.ts` runs): `node --single-threaded instruction-exit-wrapper.js <app.js>`.
 *
 * @module
 */
import { pathToFileURL } from "node:url";

process.on("SIGINT", () => process.exit(0));
const app = process.argv[2];
if (app === undefined) throw new Error("usage: instruction-exit-wrapper.js <app.js>");
await import(pathToFileURL(app).href);
