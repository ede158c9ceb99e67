/**
 * What a finished task sets in motion (Celery's `on_success` links and `on_chord_part_return`):
 * the next link of a chain, a chord's callback once every member of its header is done, and, on a
 * final failure, the failure of everything that waited for this task.
 *
 * The worker calls these after the task's own outcome is stored and before it acks (with
 * `acksLate`), so a worker dying in between re-runs the task and publishes again rather than
 * losing the rest of the workflow; the ids of the next tasks are fixed in the signatures, so a
 * re-published link is the same task (and the chord's "publish once" is guarded by
 * `markGroupMember`, which counts each member once however often it is delivered).
 *
 * @module
 */
import { ChordError } from "../../errors.js";
import type { Logger } from "../../logger.js";
import { DEFAULT_PRIORITY, DEFAULT_QUEUE, type Signature, type TaskMessage } from "../message.js";
import { messageFromSignature } from "../publish.js";
import type { TaskRegistry } from "../registry.js";
import type { TaskMeta } from "../result-backend.js";
import type { TaskState } from "../states.js";
import { serializeError, type SerializedError } from "../task-error.js";

/** Publishes what follows a finished task. One per worker. */
export class Completion {
  constructor(
    private readonly registry: TaskRegistry,
    private readonly logger: Logger,
    private readonly now: () => number,
  ) {}

  /**
   * The message of a chain's next link, with `result` prepended to its args, or undefined when
   * `message` is the last link. Built before the result is stored, so the stored meta can name it
   * in `children`.
   */
  nextLink(message: TaskMessage, result: unknown): TaskMessage | undefined {
    const chain = message.chain;
    if (chain === undefined || chain.length === 0) return undefined;
    const [link, ...rest] = chain as [Signature, ...Signature[]];
    return messageFromSignature({ ...link, args: [result, ...link.args] }, this.defaultsOf(link), this.now(), {
      rootId: message.rootId,
      parentId: message.id,
      chain: rest,
    });
  }

  /**
   * After a SUCCESS was stored: publishes the chain's next link (built by {@link nextLink}) and, for
   * the member of a chord that completes it, the chord's callback with the members' results in
   * member order. `result` (null for an ignored result) is recorded with the member's count, where a
   * backend shared with Python Celery lets a Python worker gather it. Throws when the broker or backend
   * does (the worker logs it).
   */
  async succeeded(message: TaskMessage, next: TaskMessage | undefined, result?: unknown): Promise<void> {
    if (next !== undefined) await this.registry.broker.publish(next);
    const group = message.group;
    const callback = message.chord;
    if (group === undefined || callback === undefined) return;
    const { done, first, size } = await this.registry.backend.markGroupMember(group.id, message.id, { index: group.index, state: "SUCCESS", result });
    // The backend's size wins: for a chord Python started, only Celery's `.s` key knows it.
    if (!first || done < (size ?? group.size)) return;
    await this.publishChordCallback(message, callback);
  }

  private async publishChordCallback(message: TaskMessage, callback: Signature): Promise<void> {
    const backend = this.registry.backend;
    const groupId = (message.group as NonNullable<TaskMessage["group"]>).id;
    const memberIds = await backend.getGroup(groupId);
    if (memberIds === undefined) {
      // The publisher saves the group before publishing its members; without it the results cannot
      // be gathered in order, so the callback fails rather than running with a wrong list.
      const error = new ChordError(groupId, "the group's member list was not saved");
      await backend.store(this.failedMeta(callback, serializeError(error), message.id));
      return;
    }
    const [metas, callbackMeta] = await Promise.all([backend.getMany(memberIds), backend.get(callback.id)]);
    // A member that failed already failed the callback (see failed()); it must not run after all.
    if (callbackMeta !== undefined && callbackMeta.state === "FAILURE") return;
    if (metas.some((meta) => meta !== undefined && (meta.state === "FAILURE" || meta.state === "REVOKED"))) return;
    // A member with ignoreResult stored no SUCCESS but was counted: its result is null.
    const results = metas.map((meta) => (meta?.state === "SUCCESS" ? meta.result ?? null : null));
    const callbackMessage = messageFromSignature({ ...callback, args: [results, ...callback.args] }, this.defaultsOf(callback), this.now(), {
      rootId: message.rootId,
      parentId: message.id,
    });
    await this.registry.broker.publish(callbackMessage);
  }

  /**
   * After a final failure (FAILURE, or REVOKED: expired, revoked, terminated) was stored: every link
   * still to run in the chain is stored with the same state and error (Celery 5 marks the rest of a
   * failed chain failed, so waiting on the chain's last result raises instead of hanging), and the
   * chord callback this member belonged to is stored as FAILURE with the member's own error (its
   * type, message and stack; `data.dependency` names the member), once.
   */
  async failed(message: TaskMessage, error: SerializedError, state: Extract<TaskState, "FAILURE" | "REVOKED">): Promise<void> {
    const backend = this.registry.backend;
    const chain = message.chain ?? [];
    const stores: Promise<void>[] = chain.map((link) => backend.store({ ...this.failedMeta(link, error, message.id), state }));
    const group = message.group;
    const callback = message.chord;
    if (group !== undefined && callback !== undefined) {
      stores.push(
        (async () => {
          const { first } = await backend.markGroupMember(group.id, message.id, { index: group.index, state, error });
          if (!first) return;
          const existing = await backend.get(callback.id);
          // The first failing member's error is the chord's; a later one does not replace it.
          if (existing !== undefined && existing.state === "FAILURE") return;
          await backend.store(this.failedMeta(callback, error, message.id));
        })(),
      );
    }
    if (stores.length > 0) await Promise.all(stores);
  }

  private failedMeta(signature: Signature, error: SerializedError, dependency: string): TaskMeta {
    return {
      taskId: signature.id,
      state: "FAILURE",
      name: signature.task,
      error: { ...error, data: { ...error.data, dependency } },
      dateDone: new Date(this.now()).toISOString(),
      updatedAt: this.now(),
    };
  }

  private defaultsOf(signature: Signature): { queue: string; priority: number } {
    const options = this.registry.lookup(signature.task)?.options;
    if (options === undefined) {
      // Published anyway: another worker (another process, another language) may know the task.
      this.logger.debug({ task: signature.task }, "next task is not registered on this worker; published with the default queue");
    }
    return { queue: options?.queue ?? DEFAULT_QUEUE, priority: options?.priority ?? DEFAULT_PRIORITY };
  }
}
