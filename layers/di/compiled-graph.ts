/**
 * Running a compiled plan for one request: the per-request half of the resolver.
 *
 * Nodes resolve one after the other, in plan order, into slots of one array. Independent
 * asynchronous dependencies are deliberately not run concurrently: sequential resolution keeps
 * cleanup order equal to creation order, makes a failure leave a well-defined set of things to
 * clean up, and costs nothing for the common synchronous case. A synchronous factory costs no
 * `await`: the loop awaits only when a factory returned a thenable or an async generator.
 *
 * @module
 */
import type { ConnectionScope } from "../adapter/events.js";
import type { Constructor, DependencyContext, DependencyExit, InputSchemas } from "./dependency.js";
import type { DependencyPlan, FunctionNode, PlanNode } from "./dependency-plan.js";
import { DependencyExitStack, EMPTY_EXIT_STACK, type Cleanup } from "./exit-stack.js";
import {
  asyncGeneratorCleanup,
  firstYield,
  firstYieldAsync,
  generatorCleanup,
  isAsyncGenerator,
  isGenerator,
  isThenable,
} from "./generator-dependency.js";
import type { CompiledDependencies, RequestInputs, Resolution } from "./resolver.js";

/** What a class resolver sees of the request being resolved. */
export interface ClassRequest {
  readonly scope: ConnectionScope;
  /** Free for the class resolver's per-request state (a child container), created lazily. */
  classScope: unknown;
  /** Registers a cleanup on the request's exit stack. */
  defer(phase: DependencyExit, cleanup: Cleanup): void;
}

/** Resolves class tokens for a request (the service container's side of the resolver). */
export interface ClassResolver {
  resolve(token: Constructor<unknown>, request: ClassRequest): unknown;
}

const NO_DEPS: Readonly<Record<string, unknown>> = Object.freeze({});

/** The state of one request's resolution. */
class RequestResolution implements ClassRequest {
  readonly slots: unknown[];
  exits: DependencyExitStack | undefined = undefined;
  classScope: unknown = undefined;

  constructor(
    readonly inputs: RequestInputs,
    size: number,
  ) {
    this.slots = new Array<unknown>(size);
  }

  get scope(): ConnectionScope {
    return this.inputs.scope;
  }

  defer(phase: DependencyExit, cleanup: Cleanup): void {
    (this.exits ??= new DependencyExitStack()).push(phase, cleanup);
  }
}

/** A route's compiled dependencies. */
export class CompiledGraph implements CompiledDependencies {
  readonly inputs: InputSchemas[];
  private readonly nodes: readonly PlanNode[];
  private readonly rootNames: readonly string[];
  private readonly rootSlots: readonly number[];

  constructor(
    plan: DependencyPlan,
    private readonly classes: ClassResolver,
  ) {
    this.inputs = plan.inputs;
    this.nodes = plan.nodes;
    this.rootNames = plan.rootNames;
    this.rootSlots = plan.rootSlots;
  }

  /** Resolves every node; on failure, runs the cleanups registered so far (both phases) and rethrows. */
  async resolve(inputs: RequestInputs): Promise<Resolution> {
    return this.resolveNow(inputs);
  }

  /**
   * {@link resolve} without a promise while every factory is synchronous (the common case): the
   * route then calls its handler in the same frame. The first asynchronous node switches to an
   * async continuation. A failure before any cleanup was registered throws synchronously; after,
   * the cleanups run first and the returned promise rejects.
   */
  resolveNow(inputs: RequestInputs): Resolution | Promise<Resolution> {
    const request = new RequestResolution(inputs, this.nodes.length);
    const nodes = this.nodes;
    for (let i = 0; i < nodes.length; i++) {
      let pending: PromiseLike<void> | undefined;
      try {
        pending = this.step(nodes[i]!, i, request);
      } catch (error) {
        if (request.exits === undefined) throw error;
        return request.exits.unwind(error).then(() => Promise.reject(error));
      }
      if (pending !== undefined) return this.continueAsync(request, i + 1, pending);
    }
    return this.result(request);
  }

  /** The rest of a resolution once node `next - 1` turned out asynchronous. */
  private async continueAsync(request: RequestResolution, next: number, pending: PromiseLike<void>): Promise<Resolution> {
    const nodes = this.nodes;
    try {
      await pending;
      for (let i = next; i < nodes.length; i++) {
        const step = this.step(nodes[i]!, i, request);
        if (step !== undefined) await step;
      }
    } catch (error) {
      if (request.exits !== undefined) await request.exits.unwind(error);
      throw error;
    }
    return this.result(request);
  }

  private result(request: RequestResolution): Resolution {
    const values: Record<string, unknown> = {};
    for (let i = 0; i < this.rootNames.length; i++) values[this.rootNames[i]!] = request.slots[this.rootSlots[i]!];
    return { values, exits: request.exits ?? EMPTY_EXIT_STACK };
  }

  /** Resolves node `i` into its slot; returns a promise only when the node is asynchronous. */
  private step(node: PlanNode, i: number, request: RequestResolution): PromiseLike<void> | undefined {
    const slots = request.slots;
    switch (node.kind) {
      case "value":
        slots[i] = node.value;
        return undefined;
      case "class":
        slots[i] = this.classes.resolve(node.token, request);
        return undefined;
      case "function":
        return callFactory(node, i, request);
    }
  }
}

/**
 * What a factory receives. The request inputs are read through getters, not copied: copying them
 * made every factory call parse the query string, build the header object and parse cookies (the
 * request context computes each on first read), for dependencies that use none of them.
 */
class FactoryContext {
  constructor(
    private readonly inputs: RequestInputs,
    readonly deps: Record<string, unknown>,
  ) {}

  get scope(): ConnectionScope {
    return this.inputs.scope;
  }
  get params(): Record<string, unknown> {
    return this.inputs.params;
  }
  get query(): Record<string, unknown> {
    return this.inputs.query;
  }
  get headers(): Record<string, unknown> {
    return this.inputs.headers;
  }
  get cookies(): Record<string, unknown> {
    return this.inputs.cookies;
  }
}

function callFactory(node: FunctionNode, i: number, request: RequestResolution): PromiseLike<void> | undefined {
  const slots = request.slots;
  let deps: Record<string, unknown> = NO_DEPS;
  if (node.depNames.length > 0) {
    deps = {};
    for (let d = 0; d < node.depNames.length; d++) deps[node.depNames[d]!] = slots[node.depSlots[d]!];
  }
  // A fresh context per call: a generator may read `ctx.deps` after its `yield`.
  const result: unknown = node.factory(new FactoryContext(request.inputs, deps) as unknown as DependencyContext);

  if (isGenerator(result)) {
    slots[i] = firstYield(result, node.name);
    request.defer(node.exit, generatorCleanup(result, node.name));
    return undefined;
  }
  if (isAsyncGenerator(result)) {
    return firstYieldAsync(result, node.name).then((value) => {
      slots[i] = value;
      request.defer(node.exit, asyncGeneratorCleanup(result, node.name));
    });
  }
  if (isThenable(result)) {
    return result.then((value) => {
      slots[i] = value;
    });
  }
  slots[i] = result;
  return undefined;
}
