/**
 * The per-request exit stack: cleanups registered while dependencies resolve, run newest first in
 * two phases (Python's `contextlib.AsyncExitStack`, which FastAPI uses for dependencies with
 * `yield`).
 *
 * @module
 */
import type { DependencyExit } from "./dependency.js";
import type { ExitStack } from "./resolver.js";

/** One cleanup: sees the request's error (or undefined); may be asynchronous. */
export type Cleanup = (error: unknown) => void | PromiseLike<void>;

interface Entry {
  readonly phase: DependencyExit;
  readonly cleanup: Cleanup;
}

/**
 * The cleanups of one request, in creation order, tagged with their phase.
 *
 * Failure policy (the contract says "rejects with the first cleanup failure"):
 * - every cleanup of the phase runs even when an earlier one failed (one failing `release()` must
 *   not leak the next connection);
 * - `run` rejects with the first failure, in run order (newest cleanup first); later failures are
 *   dropped rather than wrapped in an `AggregateError`, so that the exception layer maps the error
 *   a user threw (an `HttpException` from a commit) and not a wrapper around it;
 * - a cleanup that rethrows the very error it was given is not a failure: that is what
 *   `catch (e) { rollback(); throw e }` does, and the caller already holds that error
 *   (`contextlib`'s `__exit__` treats a re-raised exception the same way).
 */
export class DependencyExitStack implements ExitStack {
  private readonly entries: Entry[] = [];

  /** True when no cleanup is pending in any phase. */
  get empty(): boolean {
    return this.entries.length === 0;
  }

  /** Registers a cleanup for `phase`. */
  push(phase: DependencyExit, cleanup: Cleanup): void {
    this.entries.push({ phase, cleanup });
  }

  /** Runs the pending cleanups of `phase`, newest first, each once; see the class doc for failures. */
  async run(phase: DependencyExit, error: unknown): Promise<void> {
    let failed = false;
    let failure: unknown;
    // Walk from the end and splice as we go: entries pushed by other phases keep their order, and
    // running a phase twice runs nothing the second time.
    for (let i = this.entries.length - 1; i >= 0; i--) {
      const entry = this.entries[i]!;
      if (entry.phase !== phase) continue;
      this.entries.splice(i, 1);
      try {
        const pending = entry.cleanup(error);
        // Only await what is asynchronous: a sync generator's cleanup costs no microtask.
        if (pending !== undefined) await pending;
      } catch (cleanupError) {
        if (cleanupError !== error && !failed) {
          failed = true;
          failure = cleanupError;
        }
      }
    }
    if (failed) throw failure;
  }

  /**
   * Runs every pending cleanup of both phases, newest first, with `error`, ignoring their failures.
   * Used when resolution itself fails: the factory's error is the one the request must report, so
   * a cleanup failure must not replace it.
   */
  async unwind(error: unknown): Promise<void> {
    while (this.entries.length > 0) {
      const entry = this.entries.pop()!;
      try {
        const pending = entry.cleanup(error);
        if (pending !== undefined) await pending;
      } catch {
        // Deliberately dropped: see the doc comment above.
      }
    }
  }
}

/** The exit stack of a request that registered no cleanup: shared, allocation-free. */
export const EMPTY_EXIT_STACK: ExitStack = Object.freeze({
  empty: true,
  run(): Promise<void> {
    return Promise.resolve();
  },
});
