/**
 * Shared schemas: every (sub)schema with a `$id` (TypeBox's `Type.Object({...}, { $id: "Book" })`)
 * becomes `components.schemas.Book`, and each place it appeared becomes
 * `{ "$ref": "#/components/schemas/Book" }`; a `$ref` to a `$id` (`Type.Ref`, recursive schemas)
 * is rewritten to the component the same way.
 *
 * The component keeps no `$id`: in a 3.1 document a `$id` changes the base URI that `$ref`s inside
 * it resolve against, so `#/components/...` would point into the schema itself.
 *
 * @module
 */
import type { JsonSchema } from "../../layers/validator/validator.js";
import type { SchemaLike } from "../../layers/validator/schema-types.js";
import { OpenApiError } from "./openapi-error.js";


/** Keywords whose values are data, not schemas: copied as they are, never searched for `$id`. */
const DATA_KEYWORDS = new Set(["default", "examples", "example", "const", "enum"]);
/** Keywords whose values map names to schemas: their keys are names, never keywords. */
const SCHEMA_MAPS = new Set(["properties", "patternProperties", "$defs", "definitions", "dependentSchemas"]);

/** Component names must match `^[a-zA-Z0-9.\-_]+$` (OpenAPI 3.1 §4.8.7.1). */
export function componentName(id: string): string {
  return id.replace(/[^A-Za-z0-9._-]/g, "_");
}

/** The `$ref` to a component. */
export function componentRef(name: string): string {
  return `#/components/schemas/${name}`;
}

/** Collects the components of one document while its schemas are converted. */
export class SchemaComponents {
  private readonly schemas = new Map<string, { id: string; json: string; schema: JsonSchema }>();
  private readonly referenced = new Map<string, string>();

  /** Adds a component laminar itself defines (`HTTPValidationError`). */
  define(name: string, schema: JsonSchema): void {
    this.register(name, name, schema);
  }

  /** The document form of `schema`: a deep copy with `$id` schemas moved to components. */
  use(schema: SchemaLike): JsonSchema {
    return this.convert(schema) as JsonSchema;
  }

  /**
   * The collected components, sorted by name (a stable document for diffing).
   *
   * @throws OpenApiError when a `$ref` names a `$id` no schema declared
   */
  toObject(): Record<string, JsonSchema> {
    for (const [name, id] of this.referenced) {
      if (!this.schemas.has(name)) throw new OpenApiError(`$ref "${id}" names no schema with that $id`);
    }
    const names = [...this.schemas.keys()].sort();
    return Object.fromEntries(names.map((name) => [name, this.schemas.get(name)!.schema]));
  }

  private register(name: string, id: string, schema: JsonSchema): void {
    const json = JSON.stringify(schema);
    const existing = this.schemas.get(name);
    if (existing === undefined) {
      this.schemas.set(name, { id, json, schema });
    } else if (existing.json !== json) {
      const which = existing.id === id ? `$id "${id}"` : `$id "${existing.id}" and "${id}" (both component "${name}")`;
      throw new OpenApiError(`two different schemas share ${which}`);
    }
  }

  private convert(value: unknown): unknown {
    if (Array.isArray(value)) return value.map((item) => this.convert(item));
    if (typeof value !== "object" || value === null) return value;
    const source = value as Record<string, unknown>;
    const copy: Record<string, unknown> = {};
    for (const [key, item] of Object.entries(source)) {
      if (key === "$id" && typeof item === "string") continue;
      if (key === "$ref" && typeof item === "string" && !item.startsWith("#")) {
        const name = componentName(item);
        this.referenced.set(name, item);
        copy[key] = componentRef(name);
        continue;
      }
      if (SCHEMA_MAPS.has(key) && typeof item === "object" && item !== null && !Array.isArray(item)) {
        copy[key] = Object.fromEntries(Object.entries(item).map(([name, schema]) => [name, this.convert(schema)]));
      } else {
        copy[key] = DATA_KEYWORDS.has(key) ? item : this.convert(item);
      }
    }
    // TypeBox writes tuples draft-07 style (`items: [...]`, `additionalItems`); 2020-12 says `prefixItems`.
    if (Array.isArray(copy.items)) {
      copy.prefixItems = copy.items;
      delete copy.items;
      if ("additionalItems" in copy) {
        copy.items = copy.additionalItems;
        delete copy.additionalItems;
      }
    }
    const id = source.$id;
    if (typeof id !== "string") return copy;
    const name = componentName(id);
    this.register(name, id, copy);
    return { $ref: componentRef(name) };
  }
}
