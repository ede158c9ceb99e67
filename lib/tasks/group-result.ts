/**
 * {@link GroupResult}: the results of a group's members, in the order the group listed them
 * (Celery's `GroupResult`).
 *
 * @module
 */
import { AsyncResult, type GetOptions } from "./async-result.js";
import type { Broker } from "./broker.js";
import { TaskTimeoutError } from "../errors.js";
import type { ResultBackend } from "./result-backend.js";
import { isReady } from "./states.js";

/** One {@link AsyncResult} per element of a results tuple. */
export type AsyncResults<T extends readonly unknown[]> = { [K in keyof T]: AsyncResult<T[K]> };

/**
 * A group's results. `T` is the tuple (or array) of the members' result types.
 *
 * @example
 * const results = await group(add.s(1, 1), add.s(2, 2)).applyAsync();
 * await results.get({ timeout: 10 }); // [2, 4]
 */
export class GroupResult<T extends unknown[] = unknown[]> {
  /** The group id (the key of `backend.getGroup`). */
  readonly id: string;
  /** The members' results, in the group's order. */
  readonly results: AsyncResults<T>;
  private readonly where: { backend: ResultBackend };

  /** `TaskQueue.groupResult(id)` rebuilds one from the backend; the canvas builds them when it publishes. */
  constructor(id: string, results: AsyncResults<T>, where: { broker: Broker; backend: ResultBackend }) {
    this.id = id;
    this.results = results;
    this.where = where;
  }

  /**
   * Waits for every member and returns their results in order. Throws the first failure in that
   * order (as Celery's `join`: a later member's failure is seen once the earlier ones are done),
   * TaskTimeoutError when `timeout` seconds pass first (one deadline for the whole group).
   */
  async get(options: GetOptions = {}): Promise<T> {
    const { timeout, signal } = options;
    const deadline = timeout === undefined ? undefined : Date.now() + timeout * 1000;
    const values: unknown[] = [];
    for (const result of this.results as readonly AsyncResult[]) {
      const remaining = deadline === undefined ? undefined : Math.max(0, (deadline - Date.now()) / 1000);
      try {
        values.push(await result.get({ timeout: remaining, signal }));
      } catch (error) {
        // The group timed out, not only this member: say so with the group's own timeout.
        if (error instanceof TaskTimeoutError && timeout !== undefined) throw new TaskTimeoutError(this.id, timeout);
        throw error;
      }
    }
    return values as T;
  }

  /** How many members succeeded (Celery's `completed_count`). */
  async completedCount(): Promise<number> {
    const metas = await this.metas();
    return metas.filter((meta) => meta?.state === "SUCCESS").length;
  }

  /** True when every member is ready (an empty group is). */
  async ready(): Promise<boolean> {
    const metas = await this.metas();
    return metas.every((meta) => meta !== undefined && isReady(meta.state));
  }

  /** True when every member succeeded. */
  async successful(): Promise<boolean> {
    const metas = await this.metas();
    return metas.every((meta) => meta?.state === "SUCCESS");
  }

  /** True when some member failed. */
  async failed(): Promise<boolean> {
    const metas = await this.metas();
    return metas.some((meta) => meta?.state === "FAILURE");
  }

  /** Revokes every member. */
  async revoke(options: { terminate?: boolean } = {}): Promise<void> {
    for (const result of this.results as readonly AsyncResult[]) await result.revoke(options);
  }

  /** Drops every member's stored result. */
  async forget(): Promise<void> {
    for (const result of this.results as readonly AsyncResult[]) await result.forget();
  }

  private async metas() {
    const ids = (this.results as readonly AsyncResult[]).map((result) => result.id);
    // An empty group has nothing to read (and was built without a backend to read from).
    if (ids.length === 0) return [];
    return this.where.backend.getMany(ids);
  }
}
