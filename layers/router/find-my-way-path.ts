/**
 * Translation between laminar's route-path syntax and find-my-way's, in both directions a request
 * needs: route paths at registration, decoded request paths at lookup.
 *
 * Route paths: FastAPI's `{name}` becomes `:name`, `{name:path}` becomes find-my-way's trailing
 * `*` (whose value the router returns under `name`), native `:name` (at the start of a segment)
 * and a trailing `*` pass through. A `:` anywhere else is a literal colon (`/items:batch`, the
 * Google API style, stays static), written `::` for find-my-way.
 *
 * @module
 */
import { RouteDefinitionError } from "../../lib/errors.js";

/** A route path translated for find-my-way. */
export interface FindMyWayPattern {
  /** The path in find-my-way's syntax, e.g. `/users/:id/files/*`. */
  readonly pattern: string;
  /** Names of the one-segment parameters, in order (their values must be non-empty at lookup). */
  readonly paramNames: readonly string[];
  /**
   * The name the wildcard's value is returned under: `name` for `{name:path}`, `"*"` for a native
   * trailing `*`, null when the path has no wildcard.
   */
  readonly wildcardName: string | null;
}

/** Parameter names are identifiers, as in FastAPI (they become handler argument/schema keys). */
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const NAME_CHAR = /[A-Za-z0-9_]/;

/**
 * Translates a route path to find-my-way syntax.
 *
 * Rejected (RouteDefinitionError), so that a typo fails at startup rather than never matching:
 * a path not starting with `/`; unbalanced braces; a parameter name that is not an identifier or is
 * used twice; converters other than `str` and `path` (`{id:int}`: types are the validator's job,
 * through the parameter's schema); a wildcard that is not the end of the path; a parameter directly
 * followed by anything but `/`, `-`, `.` or the end (find-my-way ends a name there, `{a}{b}` would
 * silently become one parameter); `(` after a parameter (find-my-way regex parameters are outside
 * the contract); `?` and `#` (they never reach a path: the server splits them off the target).
 *
 * @example
 * toFindMyWayPattern("/files/{rest:path}"); // { pattern: "/files/*", paramNames: [], wildcardName: "rest" }
 */
export function toFindMyWayPattern(path: string): FindMyWayPattern {
  const fail = (reason: string): never => {
    throw new RouteDefinitionError(JSON.stringify(path), reason);
  };
  if (typeof path !== "string" || path.charCodeAt(0) !== 47 /* / */) {
    fail("a route path must start with '/'");
  }

  let pattern = "";
  const paramNames: string[] = [];
  let wildcardName: string | null = null;
  const seen = new Set<string>();
  const declare = (name: string): void => {
    if (!NAME.test(name)) fail(`parameter name '${name}' is not an identifier`);
    if (seen.has(name)) fail(`parameter '${name}' appears twice`);
    seen.add(name);
  };
  // After a one-segment parameter find-my-way ends the name at '/', '-', '.', '(' or the end;
  // allowing only the first three (and the end) keeps our reading and its reading the same.
  const checkAfterParam = (name: string, next: string | undefined): void => {
    if (next !== undefined && next !== "/" && next !== "-" && next !== ".") {
      fail(`parameter '${name}' must be followed by '/', '-', '.' or the end of the path, not '${next}'`);
    }
  };

  let i = 0;
  while (i < path.length) {
    const c = path[i]!;
    if (c === "{") {
      const close = path.indexOf("}", i + 1);
      if (close === -1) fail("unclosed '{'");
      const inner = path.slice(i + 1, close);
      if (inner.includes("{")) fail("unclosed '{'");
      const colon = inner.indexOf(":");
      const name = colon === -1 ? inner : inner.slice(0, colon);
      const converter = colon === -1 ? "str" : inner.slice(colon + 1);
      declare(name);
      i = close + 1;
      if (converter === "path") {
        // Starlette's `{name:path}` is `.*`: the rest of the path, slashes included, possibly empty.
        if (i !== path.length) fail(`'{${inner}}' must be the last part of the path`);
        pattern += "*";
        wildcardName = name;
      } else if (converter === "str") {
        checkAfterParam(name, path[i]);
        pattern += ":" + name;
        paramNames.push(name);
      } else {
        fail(`unsupported converter '${converter}' (only 'str' and 'path'; declare the type in the parameter's schema)`);
      }
    } else if (c === "}") {
      fail("unmatched '}'");
    } else if (c === ":") {
      if (path[i + 1] === ":") {
        pattern += "::"; // find-my-way's escape for a literal colon, kept as is
        i += 2;
      } else if (path[i - 1] === "/") {
        let end = i + 1;
        while (end < path.length && NAME_CHAR.test(path[end]!)) end++;
        const name = path.slice(i + 1, end);
        if (name === "") fail("':' at the start of a segment must be followed by a parameter name (write '::' for a literal colon)");
        declare(name);
        if (path[end] === "(") fail(`regular-expression parameters (':${name}(...)') are not supported`);
        checkAfterParam(name, path[end]);
        pattern += ":" + name;
        paramNames.push(name);
        i = end;
      } else {
        pattern += "::";
        i++;
      }
    } else if (c === "*") {
      if (i !== path.length - 1) fail("'*' is only allowed as the last character of the path");
      pattern += "*";
      wildcardName = "*";
      i++;
    } else if (c === "?" || c === "#") {
      fail(`'${c}' cannot appear in a route path (the query string and fragment are not part of the path)`);
    } else {
      pattern += c;
      i++;
    }
  }
  return { pattern, paramNames, wildcardName };
}

const LOOKUP_ESCAPES = /[%?#]/g;
const NEEDS_LOOKUP_ESCAPE = /[%?#]/;

function escapeChar(c: string): string {
  return c === "%" ? "%25" : c === "?" ? "%3F" : "%23";
}

/**
 * Prepares an already percent-decoded request path for find-my-way, whose `find()` expects a raw
 * request target: it would cut the path at `?` or `#` and decode `%xx` a second time (a decoded
 * `%` followed by non-hex even makes it give up on the URL). Re-encoding exactly those three
 * characters makes its decoding an identity: find-my-way keeps `%25`, `%3F` and `%23` encoded
 * while matching static parts (it stores `%` in static route segments as `%25` itself) and
 * decodes them back in parameter values.
 *
 * The common path, with none of the three, is returned as is after one regex test (no allocation).
 */
export function escapeLookupPath(path: string): string {
  return NEEDS_LOOKUP_ESCAPE.test(path) ? path.replace(LOOKUP_ESCAPES, escapeChar) : path;
}
