/**
 * Compiling a dependency map into a plan: a flat, topologically ordered list of nodes, each writing
 * one slot of a per-request array. This is the startup half of the resolver; it knows nothing about
 * the service container (class tokens are leaves here: their constructor graph is the container's).
 *
 * @module
 */
import { DependencyCycleError, InvalidDependencyError } from "../../lib/errors.js";
import {
  isFunctionDependency,
  type Constructor,
  type DependencyContext,
  type DependencyExit,
  type DependencyMap,
  type FactoryResult,
  type FunctionDependency,
  type InputSchemas,
} from "./dependency.js";
import { describeToken, isClassToken, isValueReplacement, type OverrideTable } from "./override-table.js";

/** A node that holds a fixed value (an override `{ useValue }`). */
export interface ValueNode {
  readonly kind: "value";
  readonly value: unknown;
}

/** A node resolved by the service container. */
export interface ClassNode {
  readonly kind: "class";
  readonly token: Constructor<unknown>;
}

/** A node that calls a function dependency's factory. */
export interface FunctionNode {
  readonly kind: "function";
  readonly name: string;
  readonly exit: DependencyExit;
  readonly factory: (ctx: DependencyContext) => FactoryResult<unknown>;
  /** The factory's own names for its sub-dependencies… */
  readonly depNames: readonly string[];
  /** …and the slots holding their values, index for index. */
  readonly depSlots: readonly number[];
}

/** One step of a plan; node `i` writes slot `i`. */
export type PlanNode = ValueNode | ClassNode | FunctionNode;

/** A compiled dependency map. */
export interface DependencyPlan {
  /** Topologically ordered: every node comes after the nodes whose slots it reads. */
  readonly nodes: readonly PlanNode[];
  /** The route's names and the slots holding their values. */
  readonly rootNames: readonly string[];
  readonly rootSlots: readonly number[];
  /** The input schemas of every function dependency in the graph, each once, in resolution order. */
  readonly inputs: InputSchemas[];
}

/** Checks a class token at compile time (the container decides what is acceptable). */
export type ClassCheck = (token: Constructor<unknown>, declaredAs: string) => void;

function hasInputs(inputs: InputSchemas): boolean {
  return (
    inputs.params !== undefined || inputs.query !== undefined || inputs.headers !== undefined || inputs.cookies !== undefined
  );
}

/**
 * Walks `deps` once (depth first, post-order, which is a topological order) and returns the plan.
 *
 * - A `cache: true` function dependency gets one node, shared by every declarer (FastAPI's
 *   `use_cache`); a `cache: false` one gets a node per declaration, so each use calls its factory.
 * - A class token gets a node per declaration: the container's lifetime decides sharing
 *   (a transient is fresh at each use, a request-scoped class is one per request anyway), and it
 *   stays correct when a class is registered after the route was compiled.
 * - Overrides replace a token where it is declared, one level deep.
 * - A dependency met again while its own sub-dependencies are being walked is a cycle:
 *   `DependencyCycleError` with the path, e.g. `a -> b -> a`.
 *
 * Cost is linear in the graph when everything is cached; uncached dependencies are re-walked per
 * declaration (they are re-run per declaration at request time anyway).
 */
export function planDependencies(deps: DependencyMap, overrides: OverrideTable, checkClass: ClassCheck): DependencyPlan {
  if (typeof deps !== "object" || deps === null) {
    throw new InvalidDependencyError(describeToken(deps), "a dependency map must be an object of named dependencies");
  }
  const nodes: PlanNode[] = [];
  const inputs: InputSchemas[] = [];
  const inputsSeen = new Set<FunctionDependency<unknown>>();
  const cachedSlots = new Map<FunctionDependency<unknown>, number>();
  // The dependencies whose sub-dependencies are being walked, outermost first: the cycle path.
  const walking: Array<FunctionDependency<unknown>> = [];
  const checkOverrides = overrides.size > 0;

  const visit = (declared: unknown, declaredAs: string): number => {
    const replacement = checkOverrides ? overrides.get(declared) : undefined;
    const token = replacement ?? declared;

    if (isFunctionDependency(token)) {
      const cached = token.cache ? cachedSlots.get(token) : undefined;
      if (cached !== undefined) return cached;
      const at = walking.indexOf(token);
      if (at !== -1) {
        const path = [...walking.slice(at), token].map((d) => d.name).join(" -> ");
        throw new DependencyCycleError(path);
      }
      if (typeof token.factory !== "function" || typeof token.deps !== "object" || token.deps === null) {
        throw new InvalidDependencyError(token.name, "malformed function dependency: define it with dependency()");
      }
      walking.push(token);
      const depNames = Object.keys(token.deps);
      const depSlots = depNames.map((name) => visit(token.deps[name], name));
      walking.pop();
      const slot = nodes.length;
      nodes.push({ kind: "function", name: token.name, exit: token.exit, factory: token.factory, depNames, depSlots });
      if (token.cache) cachedSlots.set(token, slot);
      if (!inputsSeen.has(token)) {
        inputsSeen.add(token);
        if (hasInputs(token.inputs)) inputs.push(token.inputs);
      }
      return slot;
    }

    // `{ useValue }` only comes from an override: as a declaration it is a mistake.
    if (replacement !== undefined && isValueReplacement(token)) {
      nodes.push({ kind: "value", value: token.useValue });
      return nodes.length - 1;
    }

    if (isClassToken(token)) {
      checkClass(token as Constructor<unknown>, declaredAs);
      nodes.push({ kind: "class", token: token as Constructor<unknown> });
      return nodes.length - 1;
    }

    const where = walking.length > 0 ? `${declaredAs} (in ${walking[walking.length - 1]!.name})` : declaredAs;
    throw new InvalidDependencyError(
      where,
      `expected a function dependency (made with dependency()) or a class, got ${describeToken(token)}` +
        (typeof token === "function" ? " (a plain arrow or async function: wrap it in dependency())" : "") +
        (token === undefined ? " (a circular import can leave a token undefined at declaration time)" : "") +
        (isValueReplacement(token) ? " ({ useValue } is only valid as an override)" : ""),
    );
  };

  const rootNames = Object.keys(deps);
  const rootSlots = rootNames.map((name) => visit(deps[name], name));
  return { nodes, rootNames, rootSlots, inputs };
}
