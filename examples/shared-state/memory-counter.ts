/**
 * The count in a variable of the worker process. Right with one worker; wrong with several:
 * `laminar serve --workers N` forks N processes, each with its own memory, so each counts only the
 * visits the kernel (or the master) handed to it, and a client sees whichever worker answered.
 *
 * @module
 */
import type { VisitCounter } from "./counter.js";

/** The per-process counter (what `let visits = 0` at module level does in a real app). */
export class MemoryCounter implements VisitCounter {
  readonly name = "memory" as const;
  private visits = 0;

  async open(): Promise<void> {}

  async increment(): Promise<number> {
    return ++this.visits;
  }

  async read(): Promise<number> {
    return this.visits;
  }

  async close(): Promise<void> {}
}
