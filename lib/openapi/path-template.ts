/**
 * Route paths as OpenAPI path templates: `{id}` stays, `{rest:path}` and `{id:str}` lose their
 * converter (`{rest}`: OpenAPI has no multi-segment parameter, so a client generator must not
 * escape the `/` in its value), and find-my-way's native `:name` becomes `{name}`. `::` (an escaped
 * literal colon) becomes `:`.
 *
 * @module
 */
import { toFindMyWayPattern } from "../../layers/router/find-my-way-path.js";

/** A route path as OpenAPI writes it, and the names of its path parameters in order. */
export interface PathTemplate {
  readonly path: string;
  readonly paramNames: readonly string[];
}

/**
 * Converts a route path. Validates it with the router's own translation first, so a path the
 * router rejects fails here with the same error.
 *
 * A native trailing `*` has no name (its value is `params["*"]`); it is written as `{wildcard}`.
 *
 * @example
 * openApiPath("/files/{rest:path}"); // { path: "/files/{rest}", paramNames: ["rest"] }
 */
export function openApiPath(path: string): PathTemplate {
  toFindMyWayPattern(path);
  const names: string[] = [];
  let out = "";
  for (let i = 0; i < path.length; i++) {
    const char = path[i]!;
    if (char === "{") {
      const end = path.indexOf("}", i);
      const name = path.slice(i + 1, end).split(":")[0]!;
      names.push(name);
      out += `{${name}}`;
      i = end;
    } else if (char === ":" && path[i + 1] === ":") {
      out += ":";
      i++;
    } else if (char === ":" && path[i - 1] === "/") {
      const match = /^[A-Za-z_][A-Za-z0-9_]*/.exec(path.slice(i + 1));
      const name = match?.[0] ?? "";
      names.push(name);
      out += `{${name}}`;
      i += name.length;
    } else if (char === "*" && i === path.length - 1) {
      names.push("wildcard");
      out += "{wildcard}";
    } else {
      out += char;
    }
  }
  return { path: out, paramNames: names };
}
