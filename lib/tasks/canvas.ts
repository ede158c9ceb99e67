/**
 * The canvas (Celery's workflows): {@link chain} runs signatures one after the other, each receiving
 * the previous result as its first argument; {@link group} runs signatures in parallel and gathers
 * their results in order; {@link chord} runs a group and then a callback with the list of results.
 *
 * The publisher only builds messages: a chain's first message carries the rest of the chain
 * (`TaskMessage.chain`), a chord's header members carry their group and the callback
 * (`TaskMessage.group`, `TaskMessage.chord`). The worker that finishes a task publishes what comes
 * next, so a workflow survives the publisher's exit. Every id is chosen when the workflow is built,
 * so its final result can be held (and stored in a database) before anything ran.
 *
 * Not supported (yet): groups or chords nested inside a chain, chains as group members, immutable
 * signatures (Celery's `si`): every link gets the previous result.
 *
 * @module
 */
import type { AsyncResult } from "./async-result.js";
import { GroupResult, type AsyncResults } from "./group-result.js";
import { newTaskId, type Signature } from "./message.js";
import { messageFromSignature, type PublishContext } from "./publish.js";
import type { ResultOf, TaskSignature } from "./signature.js";

/** Any signature (the top type of `TaskSignature<In, R>`). */
export type AnySignature = TaskSignature<never, unknown>;

/** A signature that can run as it is (needs nothing prepended). */
export type CompleteSignature<R = unknown> = TaskSignature<[], R>;

/** The results of a list of signatures, position by position. */
export type ResultsOf<S extends readonly AnySignature[]> = { -readonly [K in keyof S]: ResultOf<S[K]> };

/** Each link after the first must take the previous link's result (`TaskSignature<[Previous], _>`). */
type CheckLinks<S extends readonly unknown[], Previous> = S extends readonly [infer Head, ...infer Tail]
  ? [TaskSignature<[Previous], ResultOf<Head>>, ...CheckLinks<Tail, ResultOf<Head>>]
  : S;

/** What `chain(...)` accepts: a complete first signature, then links each fed the previous result. */
export type ValidChain<S extends readonly AnySignature[]> = S extends readonly [infer Head, ...infer Tail]
  ? [CompleteSignature<ResultOf<Head>>, ...CheckLinks<Tail, ResultOf<Head>>]
  : S;

/** The result type of a chain: its last link's. */
export type LastResult<S extends readonly AnySignature[]> = S extends readonly [...unknown[], infer Last] ? ResultOf<Last> : ResultOf<S[number]>;

/** A chain ready to publish (built by {@link chain}). */
export class Chain<R> {
  /** The links, in order. */
  readonly signatures: readonly AnySignature[];

  /** @internal Use {@link chain}. */
  constructor(signatures: readonly AnySignature[]) {
    this.signatures = signatures;
  }

  /**
   * Publishes the first link, carrying the others (`TaskMessage.chain`). Resolves with the result of
   * the last link (its id was chosen when the chain was built). A failing link stops the chain: the
   * links after it are never published and stay PENDING, as in Celery.
   */
  async applyAsync(): Promise<AsyncResult<R>> {
    const [first, ...rest] = this.signatures as readonly TaskSignature<[], unknown>[];
    const context = contextOf(this.signatures);
    const args = [...first!.args];
    context.checkArgs(first!.task, args);
    const links = rest.map((signature) => signature.freeze());
    const message = messageFromSignature({ ...first!.freeze(), args }, context.defaultsFor(first!.task), context.now(), { chain: links });
    await context.broker.publish(message);
    return context.asyncResult<R>(this.signatures[this.signatures.length - 1]!.id);
  }
}

/**
 * Runs `signatures` one after the other, each link receiving the previous result as its first
 * argument (prepended to the arguments it was given, as Celery does). The first must be complete
 * (`task.s(all args)`), the others links (`task.s(all args but the first)`); the types refuse a link
 * whose first argument does not take the previous result.
 *
 * @example
 * const result = await chain(add.s(2, 3), mul.s(10), add.s(1)).applyAsync();
 * await result.get(); // (2 + 3) * 10 + 1 = 51
 */
export function chain<const S extends readonly [AnySignature, ...AnySignature[]]>(...signatures: S & ValidChain<S>): Chain<LastResult<S>> {
  if (signatures.length === 0) throw new TypeError("chain() needs at least one signature");
  checkSignatures(signatures, "chain");
  return new Chain<LastResult<S>>([...signatures]);
}

/** A group ready to publish (built by {@link group}). `T` is the tuple of its members' results. */
export class Group<T extends unknown[]> {
  /** The group id, chosen now: the key of its results in the backend. */
  readonly id: string;
  /** The members, in order. */
  readonly signatures: readonly CompleteSignature[];

  /** @internal Use {@link group}. */
  constructor(signatures: readonly CompleteSignature[], id: string = newTaskId()) {
    this.signatures = signatures;
    this.id = id;
  }

  /**
   * Records the group's member ids in the backend, then publishes every member in one step. An
   * empty group publishes nothing and its result is ready at once (with no results).
   */
  async applyAsync(): Promise<GroupResult<T>> {
    return this.publish(undefined);
  }

  /** @internal Shared with {@link Chord}: the callback rides on every member. */
  async publish(callback: Signature | undefined): Promise<GroupResult<T>> {
    const signatures = this.signatures;
    const context = signatures.length > 0 ? contextOf(signatures) : undefined;
    const results = signatures.map((signature) => signature.context.asyncResult(signature.id)) as AsyncResults<T>;
    if (context === undefined) return new GroupResult<T>(this.id, results, emptyWhere);
    const now = context.now();
    const messages = signatures.map((signature, index) => {
      const args = [...signature.args];
      context.checkArgs(signature.task, args);
      return messageFromSignature({ ...signature.freeze(), args }, context.defaultsFor(signature.task), now, {
        group: { id: this.id, index, size: signatures.length },
        ...(callback !== undefined ? { chord: callback } : {}),
      });
    });
    // The members first, in the backend: a worker finishing a member looks the group up (to gather a
    // chord's results), possibly before publishMany even returns.
    await context.backend.saveGroup(this.id, signatures.map((signature) => signature.id));
    await context.broker.publishMany(messages);
    return new GroupResult<T>(this.id, results, context);
  }
}

/**
 * Runs `signatures` in parallel; the group's result lists their results in the order given
 * (whatever order they finish in). Takes the signatures as arguments or as one array.
 *
 * @example
 * const results = await group(numbers.map((n) => square.s(n))).applyAsync();
 * await results.get(); // squares, in order
 */
export function group<const S extends readonly CompleteSignature[]>(signatures: S): Group<ResultsOf<S>>;
export function group<const S extends readonly CompleteSignature[]>(...signatures: S): Group<ResultsOf<S>>;
export function group(...input: unknown[]): Group<unknown[]> {
  const signatures = (input.length === 1 && Array.isArray(input[0]) ? input[0] : input) as CompleteSignature[];
  checkSignatures(signatures, "group");
  return new Group<unknown[]>([...signatures]);
}

/** A chord ready to publish (built by {@link chord}). */
export class Chord<R> {
  readonly header: Group<unknown[]>;
  readonly callback: AnySignature;

  /** @internal Use {@link chord}. */
  constructor(header: Group<unknown[]>, callback: AnySignature) {
    this.header = header;
    this.callback = callback;
  }

  /**
   * Publishes the header's members, each carrying the callback. When the last member succeeds, the
   * worker publishes the callback with the list of the members' results (in header order) as its
   * first argument; when a member fails, the callback is stored as FAILURE with that member's error
   * (a ChordError naming it) and never runs. Resolves with the callback's result.
   */
  async applyAsync(): Promise<AsyncResult<R>> {
    await this.header.publish(this.callback.freeze());
    return this.callback.context.asyncResult<R>(this.callback.id);
  }
}

/**
 * Runs `header` (a group, or its signatures) and then `callback` with the list of their results as
 * its first argument (Celery's `chord(header)(callback)`). The header must not be empty.
 *
 * @example
 * const total = await chord([add.s(1, 1), add.s(2, 2)], sum.s()).applyAsync();
 * await total.get(); // 6
 */
export function chord<T extends unknown[], R>(header: Group<T>, callback: TaskSignature<[T], R>): Chord<R>;
export function chord<const S extends readonly CompleteSignature[], R>(header: S, callback: TaskSignature<[ResultsOf<S>], R>): Chord<R>;
export function chord(header: Group<unknown[]> | readonly CompleteSignature[], callback: AnySignature): Chord<unknown> {
  const members = header instanceof Group ? header : new Group<unknown[]>([...header]);
  if (!(header instanceof Group)) checkSignatures(members.signatures, "chord");
  if (members.signatures.length === 0) throw new TypeError("chord() needs at least one signature in its header");
  checkSignatures([...members.signatures, callback], "chord");
  return new Chord<unknown>(members, callback);
}

/**
 * Every element must be a signature, and no id may appear twice: the same signature object in two
 * places would publish one id twice and the results would overwrite each other.
 */
function checkSignatures(signatures: readonly unknown[], where: string): void {
  const ids = new Set<string>();
  for (const signature of signatures) {
    if (typeof signature !== "object" || signature === null || !("context" in signature) || !("id" in signature)) {
      throw new TypeError(`${where}() takes signatures (task.s(...)), got ${describe(signature)}`);
    }
    const id = (signature as AnySignature).id;
    if (ids.has(id)) throw new TypeError(`${where}(): signature ${id} appears twice; build each member with its own task.s(...)`);
    ids.add(id);
  }
}

function describe(value: unknown): string {
  if (value === null) return "null";
  if (typeof value === "function") return `a function (${value.name || "anonymous"}); call .s(...) on a task`;
  return typeof value;
}

/** The queue that built the workflow: the first signature's (every signature knows its own). */
function contextOf(signatures: readonly AnySignature[]): PublishContext {
  return signatures[0]!.context;
}

const emptyWhere = {
  get broker(): never {
    throw new Error("An empty group has no broker");
  },
  get backend(): never {
    throw new Error("An empty group has no backend");
  },
};
