/**
 * Prototype-poisoning guard for parsed JSON, after fastify's `secure-json-parse`.
 *
 * `JSON.parse('{"__proto__": {"isAdmin": true}}')` creates an own property named `__proto__`,
 * harmless by itself; the harm comes later, when code merges the object into another
 * (`Object.assign`, a naive deep merge) and the key becomes a prototype assignment. Like
 * secure-json-parse's default (`protoAction: "error"`, `constructorAction: "error"`), such bodies
 * are refused outright: `__proto__` anywhere, and `constructor` whose value has a `prototype`.
 *
 * @module
 */

/**
 * Whether `text` may contain a forbidden key. Cheap substring checks keep the common path free
 * of a walk; any `\u` escape also triggers one, since `"\u005f_proto__"` parses to `__proto__`.
 */
export function mayHaveForbiddenKeys(text: string): boolean {
  return text.includes("__proto__") || text.includes("constructor") || text.includes("\\u");
}

/** The path to the first forbidden key in a parsed JSON value, or undefined when there is none. */
export function findForbiddenKey(root: unknown): Array<string | number> | undefined {
  const pending: Array<{ node: unknown; path: Array<string | number> }> = [{ node: root, path: [] }];
  const hasOwn = Object.prototype.hasOwnProperty;
  while (pending.length > 0) {
    const { node, path } = pending.pop()!;
    if (Array.isArray(node)) {
      for (let i = 0; i < node.length; i++) {
        const child: unknown = node[i];
        if (typeof child === "object" && child !== null) pending.push({ node: child, path: [...path, i] });
      }
      continue;
    }
    const object = node as Record<string, unknown>;
    if (hasOwn.call(object, "__proto__")) return [...path, "__proto__"];
    if (hasOwn.call(object, "constructor")) {
      const ctor = object.constructor;
      if (typeof ctor === "object" && ctor !== null && hasOwn.call(ctor, "prototype")) return [...path, "constructor", "prototype"];
    }
    for (const key of Object.keys(object)) {
      const child = object[key];
      if (typeof child === "object" && child !== null) pending.push({ node: child, path: [...path, key] });
    }
  }
  return undefined;
}
