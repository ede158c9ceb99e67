/**
 * Work still running after its response was sent (background tasks, dependency cleanups), counted
 * so a graceful close can wait for it: the server's close only waits for connections, and a
 * connection is done once its response is, while the work after it may still be running.
 *
 * @module
 */

/** A set of running promises; one per app. */
export class PendingWork {
  readonly #running = new Set<Promise<unknown>>();

  /** Counts `work` until it settles; returns it. */
  track<T>(work: Promise<T>): Promise<T> {
    this.#running.add(work);
    const forget = (): void => void this.#running.delete(work);
    work.then(forget, forget);
    return work;
  }

  /** How many are running. */
  get size(): number {
    return this.#running.size;
  }

  /**
   * Resolves true once everything running now (and anything started meanwhile) has settled, or
   * false after `timeoutMs` with work still running. Never rejects.
   */
  async settled(timeoutMs: number): Promise<boolean> {
    if (this.#running.size === 0) return true;
    let timer: NodeJS.Timeout | undefined;
    const expired = new Promise<false>((resolve) => (timer = setTimeout(resolve, timeoutMs, false)));
    try {
      while (this.#running.size > 0) {
        const next = Promise.allSettled([...this.#running]).then(() => true as const);
        if (!(await Promise.race([next, expired]))) return false;
      }
      return true;
    } finally {
      clearTimeout(timer);
    }
  }
}
