/**
 * What travels through a broker: one task invocation ({@link TaskMessage}) and the description of
 * one still to be sent ({@link Signature}, Celery's `signature`). Plain JSON, so every broker can
 * store it as text and the Celery wire format (protocol 2) can be mapped onto it field by field.
 *
 * @module
 */
import { randomUUID } from "node:crypto";

/** Celery's default queue name; a laminar app and Python Celery workers meet there by default. */
export const DEFAULT_QUEUE = "celery";

/** Priorities run 0 (lowest) to 9 (highest), as AMQP's; the default is in the middle band's bottom. */
export const MIN_PRIORITY = 0;
/** The highest priority. */
export const MAX_PRIORITY = 9;
/** The priority of a task that names none. */
export const DEFAULT_PRIORITY = 0;

/** A new task id: a UUID, as Celery's. */
export function newTaskId(): string {
  return randomUUID();
}

/**
 * A task still to be published: the next link of a chain, a chord's callback, a group member.
 * Its id is chosen when the signature is built, so the caller holds an `AsyncResult` for it before
 * it runs (Celery freezes signatures the same way).
 */
export interface Signature {
  /** The registered task name, e.g. `"math.add"`. */
  task: string;
  id: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  /** Publish options; absent ones come from the task's own options. */
  options: SignatureOptions;
}

/** The publish options a signature carries. Times in seconds (countdown) or epoch milliseconds (eta, expires). */
export interface SignatureOptions {
  queue?: string;
  priority?: number;
  countdown?: number;
  eta?: number;
  expires?: number;
}

/** The group a message is a member of. */
export interface GroupMembership {
  id: string;
  /** The member's position: results are gathered in this order. */
  index: number;
  size: number;
}

/**
 * One task invocation, as published. Brokers store it whole and hand it back unchanged; only the
 * worker and the publisher read its fields.
 */
export interface TaskMessage {
  /** The task id: the result backend key and what `AsyncResult` polls. Stable across retries. */
  id: string;
  /** The registered task name. */
  task: string;
  args: unknown[];
  kwargs: Record<string, unknown>;
  queue: string;
  /** 0..9, higher runs first among messages that are due. */
  priority: number;
  /** Epoch ms before which the message must not be delivered (countdown/eta/retry backoff). The broker holds it. */
  eta?: number;
  /** Epoch ms after which the message must not run: a worker that reserves it later stores REVOKED. */
  expires?: number;
  /** How many times the task was retried before this message (0 for the first attempt). */
  retries: number;
  /** The first task of the workflow this one belongs to (its own id when it is the first). */
  rootId: string;
  /** The task whose success published this one (a chain's previous link, a chord's last member). */
  parentId?: string;
  /** Set when this message is a member of a group (or of a chord's header). */
  group?: GroupMembership;
  /** The links still to run after this one, in order: on success the first is published with this result prepended to its args. */
  chain?: Signature[];
  /** A chord's callback: once every member of `group` is done it is published with the list of their results. */
  chord?: Signature;
  /** Seconds: [hard, soft] time limits overriding the task's own (Celery's `timelimit` header). */
  timeLimit?: [hard: number | null, soft: number | null];
  /** Epoch ms when it was published. */
  publishedAt: number;
  /** Who published it (`host:pid`), for inspection. */
  origin?: string;
}
