/**
 * How the worker settles a delivery once its outcome is known: what is stored (Celery's states),
 * what follows is published (completion.ts), and what the broker is told (ack, release with the
 * retry's replacement, dead letter). Every broker and backend call here is caught and logged: a
 * backend that is briefly unavailable must not crash the worker or leave a delivery unsettled.
 *
 * @module
 */
import type { Logger } from "../../logger.js";
import type { Broker } from "../broker.js";
import type { TaskMessage } from "../message.js";
import type { RegisteredTask } from "../registry.js";
import type { ResultBackend, TaskMeta } from "../result-backend.js";
import { serializeError, type SerializedError } from "../task-error.js";
import type { Completion } from "./completion.js";
import type { HeldDelivery } from "./held-delivery.js";

/** Settles deliveries for one worker. */
export class Outcomes {
  constructor(
    private readonly broker: Broker,
    private readonly backend: ResultBackend,
    private readonly completion: Completion,
    private readonly logger: Logger,
    private readonly now: () => number,
    private readonly workerId: string,
  ) {}

  /**
   * SUCCESS (unless `ignoreResult`), naming the chain's next link in `children`; then what follows
   * is published; then, with `acksLate`, the ack (so a crash before it re-runs the task rather than
   * losing the rest of the workflow).
   */
  async succeeded(held: HeldDelivery, task: RegisteredTask, value: unknown): Promise<void> {
    const message = held.delivery.message;
    const next = this.completion.nextLink(message, value);
    if (!(task.options.ignoreResult ?? false)) {
      const meta: TaskMeta = {
        taskId: message.id,
        state: "SUCCESS",
        name: message.task,
        result: value === undefined ? null : value,
        retries: message.retries,
        worker: this.workerId,
        dateDone: new Date(this.now()).toISOString(),
        updatedAt: this.now(),
      };
      if (next !== undefined) meta.children = [next.id];
      if (!(await this.store(meta)) && !encodable(value)) {
        // A result no backend can keep (a BigInt, a cycle): the task fails, as Celery's EncodeError,
        // rather than staying STARTED forever. A backend that is down is only logged (above).
        const error = new TypeError(`The result of task ${message.task} is not JSON-serializable`);
        return await this.failed(held, error);
      }
    }
    if (next !== undefined || (message.group !== undefined && message.chord !== undefined)) {
      try {
        // A member with ignoreResult counts with a null result, as its stored meta says nothing.
        await this.completion.succeeded(message, next, (task.options.ignoreResult ?? false) || value === undefined ? null : value);
      } catch (error) {
        this.logger.error({ err: error, taskId: message.id, task: message.task }, "could not publish what follows the task");
      }
    }
    if (held.leased) await this.ack(held);
  }

  /**
   * RETRY with `error` (`retries` is the number of the retry scheduled), then the message again with
   * `retries + 1`, due in `delayMs` (held by the broker): with the lease still held, in one step that
   * replaces the old message (never acked before the new one exists); after an early ack, as a new
   * message, as Celery publishes one.
   */
  async retry(held: HeldDelivery, delayMs: number, error: unknown): Promise<void> {
    const message = held.delivery.message;
    const now = this.now();
    const { eta: _eta, ...rest } = message;
    const next: TaskMessage = delayMs > 0 ? { ...rest, retries: message.retries + 1, eta: now + delayMs } : { ...rest, retries: message.retries + 1 };
    await this.store({
      taskId: message.id,
      state: "RETRY",
      name: message.task,
      error: serializeError(error),
      retries: next.retries,
      worker: this.workerId,
      updatedAt: now,
    });
    try {
      if (held.leased) {
        held.leased = false;
        if (!(await this.broker.release(held.delivery, { message: next, delayMs }))) {
          this.logger.warn({ taskId: message.id, task: message.task }, "lease lost before the retry was scheduled; the message will be delivered again as it was");
        }
      } else {
        await this.broker.publish(next);
      }
    } catch (publishError) {
      this.logger.error({ err: publishError, taskId: message.id, task: message.task }, "could not schedule the retry");
    }
    this.logger.info({ taskId: message.id, task: message.task, retries: next.retries, delayMs }, "task retry scheduled");
  }

  /** FAILURE with `error`, what waited for the task failed too, and the message dead-lettered when still held. */
  async failed(held: HeldDelivery, error: unknown): Promise<void> {
    const message = held.delivery.message;
    const serialized = serializeError(error);
    this.logger.warn({ taskId: message.id, task: message.task, error: serialized.type, msg: serialized.message }, "task failed");
    await this.store(this.readyMeta(message, "FAILURE", serialized));
    await this.propagate(message, serialized, "FAILURE");
    if (held.leased) {
      held.leased = false;
      try {
        await this.broker.deadLetter(held.delivery, `${serialized.type}: ${serialized.message}`);
      } catch (deadLetterError) {
        this.logger.error({ err: deadLetterError, taskId: message.id }, "could not dead-letter the message");
      }
    }
  }

  /** REVOKED with `error` (expired, revoked, terminated, shut down), what waited for it failed, and the message acked. */
  async revoked(held: HeldDelivery, error: Error): Promise<void> {
    const message = held.delivery.message;
    const serialized = serializeError(error);
    await this.store(this.readyMeta(message, "REVOKED", serialized));
    await this.propagate(message, serialized, "REVOKED");
    if (held.leased) await this.ack(held);
  }

  /** Stores `meta`: false when the backend failed (logged, not thrown). */
  async store(meta: TaskMeta): Promise<boolean> {
    try {
      await this.backend.store(meta);
      return true;
    } catch (error) {
      this.logger.error({ err: error, taskId: meta.taskId, state: meta.state }, "could not store the task state");
      return false;
    }
  }

  /** Acks a held lease (once); false when it was not held any more or the broker failed. */
  async ack(held: HeldDelivery): Promise<boolean> {
    if (!held.leased) return false;
    // Cleared first, so the renewal loop stops extending a lease being acked.
    held.leased = false;
    try {
      return await this.broker.ack(held.delivery);
    } catch (error) {
      this.logger.error({ err: error, taskId: held.delivery.message.id }, "could not ack the message");
      return false;
    }
  }

  /** Puts an unstarted (or, at shutdown, an abandoned acksLate) delivery back, due at once. */
  async giveBack(held: HeldDelivery): Promise<void> {
    if (!held.leased) return;
    held.leased = false;
    try {
      await this.broker.release(held.delivery, { delayMs: 0 });
    } catch (error) {
      this.logger.error({ err: error, taskId: held.delivery.message.id }, "could not release the message");
    }
  }

  private readyMeta(message: TaskMessage, state: "FAILURE" | "REVOKED", error: SerializedError): TaskMeta {
    return {
      taskId: message.id,
      state,
      name: message.task,
      error,
      retries: message.retries,
      worker: this.workerId,
      dateDone: new Date(this.now()).toISOString(),
      updatedAt: this.now(),
    };
  }

  private async propagate(message: TaskMessage, error: SerializedError, state: "FAILURE" | "REVOKED"): Promise<void> {
    if (message.chain === undefined && message.chord === undefined) return;
    try {
      await this.completion.failed(message, error, state);
    } catch (failure) {
      this.logger.error({ err: failure, taskId: message.id }, "could not fail the tasks waiting for this one");
    }
  }
}

/** True when `value` survives JSON (what every backend stores). Only called after a store failed. */
function encodable(value: unknown): boolean {
  try {
    JSON.stringify(value);
    return true;
  } catch {
    return false;
  }
}
