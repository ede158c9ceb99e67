/**
 * What a route's dependency tree contributes to its operation: the request inputs its function
 * dependencies declare (at any depth) and the security schemes they enforce.
 *
 * The tree is walked as declared, not as overridden: the document describes the API, and an
 * override is a test's or a deployment's business (FastAPI's document ignores
 * `dependency_overrides` the same way). Class tokens have no inputs and no scheme. A cycle is
 * the route compiler's error to report; the walk just does not loop.
 *
 * @module
 */
import type { DependencyMap, FunctionDependency, InputSchemas, SecurityRequirement } from "../../layers/di/dependency.js";
import { isFunctionDependency } from "../../layers/di/dependency.js";
import type { RouteOptions } from "../../layers/handler/route-definition.js";

/** The inputs and security schemes found in a route's dependency tree. */
export interface DependencyContributions {
  /** Input schemas, in the order the route compiler merges them (sub-dependencies first). */
  readonly inputs: InputSchemas[];
  /** Security requirements, in the same order; the same scheme may appear more than once. */
  readonly security: SecurityRequirement[];
}

function hasInputs(inputs: InputSchemas): boolean {
  return inputs.params !== undefined || inputs.query !== undefined || inputs.headers !== undefined || inputs.cookies !== undefined;
}

/**
 * Walks `deps` and the effect-only `dependencies` of a route (router-level ones are already in
 * them), depth first, post-order, each function dependency once.
 */
export function dependencyContributions(options: Pick<RouteOptions, "deps" | "dependencies">): DependencyContributions {
  const inputs: InputSchemas[] = [];
  const security: SecurityRequirement[] = [];
  const seen = new Set<FunctionDependency<unknown>>();

  const visit = (token: unknown): void => {
    if (!isFunctionDependency(token) || seen.has(token)) return;
    seen.add(token);
    for (const sub of Object.values(token.deps ?? {})) visit(sub);
    if (token.inputs !== undefined && hasInputs(token.inputs)) inputs.push(token.inputs);
    if (token.security !== undefined) security.push(token.security);
  };

  const roots: DependencyMap = options.deps ?? {};
  for (const token of Object.values(roots)) visit(token);
  for (const token of options.dependencies ?? []) visit(token);
  return { inputs, security };
}
