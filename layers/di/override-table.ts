/**
 * Dependency overrides (FastAPI's `app.dependency_overrides`): which token stands in for which,
 * consulted when a graph is compiled.
 *
 * @module
 */
import { InvalidDependencyError } from "../../lib/errors.js";
import { isFunctionDependency, type DependencyToken } from "./dependency.js";

/** What may replace a token: another token, or a fixed value. */
export type Replacement = DependencyToken<unknown> | { readonly useValue: unknown };

/** True for a `{ useValue }` replacement. */
export function isValueReplacement(replacement: unknown): replacement is { readonly useValue: unknown } {
  return (
    typeof replacement === "object" &&
    replacement !== null &&
    !isFunctionDependency(replacement) &&
    Object.prototype.hasOwnProperty.call(replacement, "useValue")
  );
}

/** True for something that can be a class token: a function with a prototype (arrow and async functions have none). */
export function isClassToken(token: unknown): token is abstract new (...args: never[]) => unknown {
  return typeof token === "function" && token.prototype !== undefined;
}

/** A readable name for a token, for error messages. */
export function describeToken(token: unknown): string {
  if (isFunctionDependency(token)) return token.name;
  if (typeof token === "function") return token.name || "anonymous class";
  if (isValueReplacement(token)) return "value";
  return token === null ? "null" : typeof token;
}

/**
 * Override stacks, one per token: the newest override wins, and each undo removes exactly its own
 * entry, so undoing out of order (two test fixtures overriding the same token) never removes a
 * later override. Lookup is one level deep, as in FastAPI (`dependency_overrides.get(call, call)`):
 * the replacement itself is not looked up again, so `a → b, b → a` swaps instead of looping.
 */
export class OverrideTable {
  private readonly stacks = new Map<unknown, Array<{ replacement: Replacement }>>();

  /** True when no override is active: compile skips lookups. */
  get size(): number {
    return this.stacks.size;
  }

  /** Adds an override; returns its (idempotent) undo. Throws InvalidDependencyError on a bad token or replacement. */
  add(token: unknown, replacement: unknown): () => void {
    if (!isFunctionDependency(token) && !isClassToken(token)) {
      throw new InvalidDependencyError(describeToken(token), "only a function dependency or a class can be overridden");
    }
    if (!isFunctionDependency(replacement) && !isClassToken(replacement) && !isValueReplacement(replacement)) {
      throw new InvalidDependencyError(
        describeToken(token),
        "an override must be a function dependency, a class, or { useValue }",
      );
    }
    const entry = { replacement };
    let stack = this.stacks.get(token);
    if (stack === undefined) {
      stack = [];
      this.stacks.set(token, stack);
    }
    stack.push(entry);
    return () => {
      const current = this.stacks.get(token);
      if (current === undefined) return;
      const at = current.indexOf(entry);
      if (at === -1) return;
      current.splice(at, 1);
      if (current.length === 0) this.stacks.delete(token);
    };
  }

  /** The active replacement of `token`, or undefined. */
  get(token: unknown): Replacement | undefined {
    const stack = this.stacks.get(token);
    return stack === undefined ? undefined : stack[stack.length - 1]!.replacement;
  }
}
