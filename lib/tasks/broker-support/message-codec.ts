/**
 * How brokers keep a {@link TaskMessage}: as JSON text, checked at publish. Every broker stores
 * the same text, so a message that would not survive one (a function argument, a BigInt, a missing
 * queue) is refused by all of them at publish, not discovered by a worker later.
 *
 * @module
 */
import type { TaskMessage } from "../message.js";

/** The message as stored; throws a TypeError for one that is not a publishable message. */
export function encodeMessage(message: TaskMessage): string {
  if (message === null || typeof message !== "object") throw new TypeError("A task message must be an object");
  if (typeof message.id !== "string" || message.id === "") throw new TypeError("A task message needs a non-empty string id");
  if (typeof message.queue !== "string" || message.queue === "") {
    throw new TypeError(`Task message ${message.id} needs a non-empty string queue`);
  }
  // JSON.stringify throws on BigInt and cycles; a function or symbol argument would silently vanish.
  return JSON.stringify(message);
}

/** The message back from its stored text. */
export function decodeMessage(body: string): TaskMessage {
  return JSON.parse(body) as TaskMessage;
}

/** When a message is due: its `eta` when that is a finite number, else `now`. */
export function dueAt(message: TaskMessage, now: number): number {
  return typeof message.eta === "number" && Number.isFinite(message.eta) ? message.eta : now;
}
