/**
 * Security schemes from dependencies (`dependency({ security: { name, scheme, scopes } })`): each
 * operation lists the schemes its dependency tree enforces, and the document's
 * `components.securitySchemes` defines each scheme once.
 *
 * Every security dependency of a route runs and must pass, so they are written as ONE requirement
 * object (OpenAPI's AND) rather than one per scheme (OR, which is what FastAPI writes). A scheme
 * required by several dependencies with different scopes requires the union of their scopes.
 *
 * @module
 */
import type { SecurityRequirement } from "../../layers/di/dependency.js";
import type { OpenApiSecurityRequirement } from "./openapi-types.js";
import { OpenApiError } from "./openapi-error.js";


/** Collects the security schemes of one document. */
export class SecuritySchemes {
  private readonly schemes = new Map<string, { json: string; scheme: Readonly<Record<string, unknown>> }>();

  /**
   * The `security` of an operation whose tree declared `requirements`, registering each scheme;
   * undefined when there are none (the operation then has no `security` field).
   *
   * @throws OpenApiError when a name is already defined as a different scheme
   */
  requirementsOf(requirements: readonly SecurityRequirement[], where: string): OpenApiSecurityRequirement[] | undefined {
    if (requirements.length === 0) return undefined;
    const scopes = new Map<string, Set<string>>();
    for (const requirement of requirements) {
      this.register(requirement, where);
      const set = scopes.get(requirement.name) ?? new Set<string>();
      for (const scope of requirement.scopes) set.add(scope);
      scopes.set(requirement.name, set);
    }
    return [Object.fromEntries([...scopes].map(([name, set]) => [name, [...set]]))];
  }

  /** The `components.securitySchemes` object, sorted by name; undefined when empty. */
  toObject(): Record<string, Readonly<Record<string, unknown>>> | undefined {
    if (this.schemes.size === 0) return undefined;
    const names = [...this.schemes.keys()].sort();
    return Object.fromEntries(names.map((name) => [name, this.schemes.get(name)!.scheme]));
  }

  private register(requirement: SecurityRequirement, where: string): void {
    const json = JSON.stringify(requirement.scheme);
    const existing = this.schemes.get(requirement.name);
    if (existing === undefined) this.schemes.set(requirement.name, { json, scheme: requirement.scheme });
    else if (existing.json !== json) {
      throw new OpenApiError(`security scheme "${requirement.name}" is defined twice with different settings (the second time in ${where})`);
    }
  }
}
