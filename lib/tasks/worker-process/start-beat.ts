/**
 * `laminar worker --beat`: runs the periodic scheduler inside each worker process, as Celery's
 * `worker -B`. Every process runs one and the broker's lock makes one lead (the others follow and
 * take over when it stops or dies), so `--processes N --beat` publishes each tick once.
 *
 * The schedule is the module's `schedule` export (Celery's `beat_schedule`): an array of
 * {@link BeatEntry}, next to the registry in the same file.
 *
 * @module
 */
import { Beat, type BeatEntry } from "../beat/beat.js";
import type { TaskQueue } from "../task-queue.js";
import type { TaskRegistry } from "../registry.js";
import type { Logger } from "../../logger.js";
import { importTarget, RegistryLoadError } from "../../cli/load-registry.js";

/** The export `--beat` reads the schedule from. */
export const SCHEDULE_EXPORT = "schedule";

/**
 * Builds the scheduler for `target`'s module (not started). Throws RegistryLoadError when the module
 * has no `schedule` array, when the registry cannot publish (not a TaskQueue), or when an entry is
 * invalid (a cron that does not parse: Beat says which).
 */
export async function createBeat(target: string, registry: TaskRegistry, options: { cwd: string; logger: Logger }): Promise<Beat> {
  const { file, module } = await importTarget(target, options.cwd);
  const schedule = module[SCHEDULE_EXPORT];
  if (!Array.isArray(schedule)) {
    throw new RegistryLoadError(`--beat: ${file} exports no "${SCHEDULE_EXPORT}" (an array of beat entries: { name, task, cron | every })`);
  }
  if (typeof (registry as Partial<TaskQueue>).sendTask !== "function") {
    throw new RegistryLoadError(`--beat: the registry ${target} cannot publish tasks (a TaskQueue can)`);
  }
  const logger = options.logger;
  try {
    return new Beat(registry as TaskQueue, {
      schedule: schedule as BeatEntry[],
      onError: (error, entry) => logger.error({ err: error, entry }, "beat: a cycle failed; the scheduler keeps going"),
      onPublish: (entry, tick, taskId) => logger.info({ entry, tick: new Date(tick).toISOString(), taskId }, "beat: published"),
    });
  } catch (error) {
    throw new RegistryLoadError(`--beat: ${(error as Error).message}`, { cause: error });
  }
}
