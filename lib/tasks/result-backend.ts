/**
 * The result backend contract: where task states and results are kept (Celery's result backend).
 * Every backend implements it and passes `test/conformance/tasks/result-backend-cases.ts`.
 *
 * Deliberately not in the contract: result expiry policies beyond `forget`, and chord bookkeeping
 * beyond counting distinct finished members (the worker gathers the results itself).
 *
 * @module
 */
import type { TaskState } from "./states.js";
import type { SerializedError } from "./task-error.js";

/** One task's stored state (Celery's task meta). */
export interface TaskMeta {
  taskId: string;
  state: TaskState;
  /** The task's name, when known. */
  name?: string;
  /** The return value (SUCCESS), JSON. */
  result?: unknown;
  /** The error (FAILURE, and the last error on RETRY). */
  error?: SerializedError;
  retries?: number;
  /** The worker running or that ran it. */
  worker?: string;
  /** ISO date when it reached a ready state. */
  dateDone?: string;
  /** Ids of tasks this one published (a chain's next link). */
  children?: string[];
  /** Epoch ms of this update. */
  updatedAt?: number;
}

/** How a group member ended, as {@link ResultBackend.markGroupMember} records it. */
export interface GroupMemberOutcome {
  /** The member's place in its group (Celery's `group_index`): the order of the chord's results. */
  index: number;
  state: "SUCCESS" | "FAILURE" | "REVOKED";
  /** The return value, for SUCCESS. */
  result?: unknown;
  /** The error, for FAILURE and REVOKED. */
  error?: SerializedError;
}

/** What {@link ResultBackend.markGroupMember} answers. */
export interface GroupMark {
  /** Distinct finished members (with a shared count: on every side). */
  done: number;
  /** This call counted the member (false for a redelivery). */
  first: boolean;
  /** The group's size, when the backend knows it. */
  size?: number;
}

/** The result backend contract (see the module comment). All methods are safe to call concurrently. */
export interface ResultBackend {
  /**
   * Stores a task's state. A non-ready state never replaces a ready one (a late STARTED from a
   * duplicate delivery does not hide a SUCCESS); a ready state replaces anything.
   */
  store(meta: TaskMeta): Promise<void>;
  /** The stored state, or undefined (PENDING: unknown to the backend). */
  get(taskId: string): Promise<TaskMeta | undefined>;
  /** Several at once, in the order of `taskIds` (undefined for unknown ones). */
  getMany(taskIds: readonly string[]): Promise<(TaskMeta | undefined)[]>;
  /**
   * Resolves with the task's meta once it is ready, or undefined after `timeoutMs` (or when
   * `signal` aborts). Backends that cannot be notified across processes poll.
   */
  waitFor(taskId: string, options: { timeoutMs: number; signal?: AbortSignal }): Promise<TaskMeta | undefined>;
  /** Records a group's member ids, in order. */
  saveGroup(groupId: string, memberIds: readonly string[]): Promise<void>;
  /** A group's member ids, or undefined. */
  getGroup(groupId: string): Promise<string[] | undefined>;
  /**
   * Counts `memberId` as finished in `groupId`, once however often it is called (a redelivered
   * member): `done` is the number of distinct finished members, `first` true when this call counted it.
   * `outcome` is how the member ended, for a backend that shares the count with other runtimes (the
   * Redis backend records it where Python Celery counts a chord's members). `size`, when the backend
   * knows the group's size (a chord Python started says it only there), wins over the message's.
   * The chord callback is published by the call that gets `first && done === size`.
   */
  markGroupMember(groupId: string, memberId: string, outcome?: GroupMemberOutcome): Promise<GroupMark>;
  /** The most recently updated tasks, newest first, optionally of one state. */
  recent(options: { state?: TaskState; limit: number }): Promise<TaskMeta[]>;
  /** Drops a task's meta. */
  forget(taskId: string): Promise<void>;
  close(): Promise<void>;
}
