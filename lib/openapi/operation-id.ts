/**
 * Operation IDs: what client generators name their methods after, so they must be stable (the
 * same routes give the same IDs on every run) and unique.
 *
 * The default is FastAPI's `generate_unique_id`: the handler's name, then the path, every
 * non-word character replaced by `_`, then the method: `list_books` on `GET /books/{id}` gives
 * `list_books_books__id__get`. A handler without a name (an inline arrow function) gives the
 * path-derived `books__id__get`. A route's `operationId` option wins; on a route declared for
 * several methods it gets `_<method>` appended, so each operation keeps its own.
 *
 * @module
 */
import type { RouteDeclaration } from "../../layers/handler/route-definition.js";

/** The operation ID of `method` (lower-case) on `route`, whose OpenAPI path is `path`. */
export function operationIdOf(route: RouteDeclaration, method: string, path: string): string {
  const explicit = route.options.operationId;
  if (explicit !== undefined) return route.methods.length > 1 ? `${explicit}_${method}` : explicit;
  const name = typeof route.handler.name === "string" ? route.handler.name : "";
  const pathPart = path.replace(/\W/g, "_");
  // Without a handler name the path alone starts the ID; "_books" reads worse than "books", "/" is "root".
  const base = name !== "" ? `${name}${pathPart}` : pathPart.replace(/^_+/, "") || "root";
  return `${base.replace(/\W/g, "_")}_${method}`;
}

/**
 * Remembers which route claimed each operation ID, so a duplicate is reported naming both.
 */
export class OperationIds {
  private readonly owners = new Map<string, string>();

  /**
   * Records `id` for the operation `label` (`"GET /books/{id}"`).
   *
   * @returns the label of the operation that already has `id`, or undefined
   */
  claim(id: string, label: string): string | undefined {
    const owner = this.owners.get(id);
    if (owner !== undefined) return owner;
    this.owners.set(id, label);
    return undefined;
  }
}
