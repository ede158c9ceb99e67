/**
 * Collapses ajv's union errors (`anyOf`/`oneOf`) into issues a person can act on.
 *
 * With `allErrors`, ajv reports every failing branch and then a summary ("must match a schema in
 * anyOf"): for `Type.Union([Type.Literal("a"), Type.Literal("b")])` that is three errors saying
 * one thing. pydantic reports one error per branch too, each tagged with the branch; we do better:
 *
 * 1. every branch is a literal (`const`/`enum`): one `literal_error`, "Input should be 'a' or 'b'";
 * 2. exactly one branch fits the input's JSON type (and, for objects, its `const` properties — a
 *    discriminated union's tag): that branch's own issues, as if it were the only schema;
 * 3. an object whose branches share a `const` tag property matched none: pydantic's
 *    `union_tag_invalid` / `union_tag_not_found`;
 * 4. otherwise one `union_type` issue naming the alternatives ("Input should be a valid string
 *    or null") when they can be named, or "Input does not match any of the allowed schemas".
 *
 * Only failing checks get here, so re-checking one branch costs nothing on the success path.
 *
 * @module
 */
import type { ErrorObject, ValidateFunction } from "ajv";
import type { ValidationIssue } from "../../lib/errors.js";
import { describeType, joinAlternatives, repr } from "./issue-text.js";
import type { IssueContext } from "./issues.js";

type Loc = Array<string | number>;
type SchemaObject = Record<string, unknown>;
/** Maps a branch's own errors (the caller's mapper, passed in to avoid an import cycle). */
type MapErrors = (errors: readonly ErrorObject[] | null | undefined, root: unknown, context: IssueContext, base: Loc) => ValidationIssue[];

/**
 * Indices of errors that belong to a failing union's branches, which its summary replaces.
 *
 * ajv emits a union's branch errors immediately before its summary error, all at or below the
 * union's instance path. Walking back from each summary, we take errors in that subtree until we
 * meet one from a sibling keyword of the schema that holds the union (same schema path prefix,
 * not inside the union), which was evaluated before it.
 */
export function unionBranchErrors(errors: readonly ErrorObject[]): Set<number> {
  const skipped = new Set<number>();
  for (let i = 0; i < errors.length; i++) {
    const summary = errors[i]!;
    if (summary.keyword !== "anyOf" && summary.keyword !== "oneOf") continue;
    const own = `${summary.schemaPath}/`;
    const parent = summary.schemaPath.slice(0, summary.schemaPath.lastIndexOf("/") + 1);
    for (let j = i - 1; j >= 0; j--) {
      const error = errors[j]!;
      const inSubtree = error.instancePath === summary.instancePath || error.instancePath.startsWith(`${summary.instancePath}/`);
      const sibling = error.schemaPath.startsWith(parent) && !error.schemaPath.startsWith(own);
      if (!inSubtree || sibling || skipped.has(j)) break;
      skipped.add(j);
    }
  }
  return skipped;
}

/** The issues that replace one failing union. */
export function unionIssues(error: ErrorObject, loc: Loc, context: IssueContext, mapErrors: MapErrors): ValidationIssue[] {
  const input: unknown = error.data;
  const params = error.params as { passingSchemas?: number[] | null };
  if (error.keyword === "oneOf" && Array.isArray(params.passingSchemas)) {
    return [{ loc, msg: "Input matches more than one of the allowed schemas", type: "union_ambiguous", input, ctx: { branches: params.passingSchemas } }];
  }
  const raw = Array.isArray(error.schema) ? (error.schema as unknown[]) : [];
  const branches = raw.map((branch) => resolve(branch, context));

  const literals = branches.every((b) => b !== undefined && ("const" in b || Array.isArray(b.enum)));
  if (literals && branches.length > 0) {
    const values = branches.flatMap((b) => ("const" in b! ? [b!.const] : (b!.enum as unknown[])));
    const expected = joinAlternatives(values.map(repr));
    return [{ loc, msg: `Input should be ${expected}`, type: "literal_error", input, ctx: { expected } }];
  }

  let candidates = branches.filter((b) => b === undefined || typeFits(b, input, context.coerce));
  if (candidates.length > 1) {
    const tagged = candidates.filter((b) => b !== undefined && tagsMatch(b, input));
    if (tagged.length === 1) candidates = tagged;
  }
  if (candidates.length === 1 && candidates[0] !== undefined) {
    const validate = branchValidator(raw[branches.indexOf(candidates[0])], context);
    if (validate !== undefined && !validate(input)) return mapErrors(validate.errors, input, { ...context, skip: 0 }, loc);
  }

  const tag = commonTag(branches);
  if (tag !== undefined && typeof input === "object" && input !== null && !Array.isArray(input)) {
    return [tagIssue(tag, input as Record<string, unknown>, loc)];
  }
  const names = branches.map(describeBranch);
  if (names.every((n): n is string => n !== undefined) && new Set(names).size === names.length) {
    const expected = joinAlternatives(names);
    return [{ loc, msg: `Input should be ${expected}`, type: "union_type", input, ctx: { expected } }];
  }
  return [{ loc, msg: "Input does not match any of the allowed schemas", type: "union_type", input }];
}

/** A branch schema, with a `$ref` to an added schema followed; undefined when it cannot be. */
function resolve(branch: unknown, context: IssueContext): SchemaObject | undefined {
  if (typeof branch !== "object" || branch === null) return undefined;
  const schema = branch as SchemaObject;
  if (typeof schema.$ref !== "string") return schema;
  const target = context.ajv.getSchema(schema.$ref)?.schema;
  return typeof target === "object" && target !== null ? (target as SchemaObject) : undefined;
}

/** The JSON types a branch declares (explicitly, or implied by its keywords); empty = any. */
function declaredTypes(branch: SchemaObject): string[] {
  if (typeof branch.type === "string") return [branch.type];
  if (Array.isArray(branch.type)) return branch.type as string[];
  if ("const" in branch) return [jsonType(branch.const)];
  if (branch.properties !== undefined || branch.required !== undefined) return ["object"];
  if (branch.items !== undefined || branch.prefixItems !== undefined) return ["array"];
  return [];
}

function typeFits(branch: SchemaObject, input: unknown, coerce: boolean): boolean {
  const types = declaredTypes(branch);
  if (types.length === 0) return true;
  const actual = jsonType(input);
  return types.some(
    (t) => t === actual || (t === "number" && actual === "integer") || (coerce && actual === "string" && t !== "object" && t !== "array"),
  );
}

/** For an object input: every `const` property of the branch (a union's tag) has its value. */
function tagsMatch(branch: SchemaObject, input: unknown): boolean {
  if (typeof input !== "object" || input === null || typeof branch.properties !== "object" || branch.properties === null) return false;
  let tags = 0;
  for (const [key, property] of Object.entries(branch.properties as Record<string, unknown>)) {
    if (typeof property !== "object" || property === null || !("const" in property)) continue;
    tags++;
    if ((input as Record<string, unknown>)[key] !== (property as { const: unknown }).const) return false;
  }
  return tags > 0;
}

/** A discriminated union's tag: a property every branch declares with a `const`. */
interface Tag {
  key: string;
  values: unknown[];
}

function commonTag(branches: Array<SchemaObject | undefined>): Tag | undefined {
  const first = branches[0]?.properties;
  if (branches.length < 2 || typeof first !== "object" || first === null) return undefined;
  for (const key of Object.keys(first)) {
    const values: unknown[] = [];
    for (const branch of branches) {
      const property = (branch?.properties as Record<string, unknown> | undefined)?.[key];
      if (typeof property !== "object" || property === null || !("const" in property)) break;
      values.push((property as { const: unknown }).const);
    }
    if (values.length === branches.length) return { key, values };
  }
  return undefined;
}

/** pydantic's wording for a discriminated union whose tag is missing or unknown. */
function tagIssue(tag: Tag, input: Record<string, unknown>, loc: Loc): ValidationIssue {
  const expected = tag.values.map(repr).join(", ");
  if (!Object.prototype.hasOwnProperty.call(input, tag.key)) {
    return {
      loc,
      msg: `Unable to extract tag using discriminator '${tag.key}'`,
      type: "union_tag_not_found",
      input,
      ctx: { discriminator: `'${tag.key}'` },
    };
  }
  return {
    loc,
    msg: `Input tag ${repr(input[tag.key])} found using '${tag.key}' does not match any of the expected tags: ${expected}`,
    type: "union_tag_invalid",
    input,
    ctx: { discriminator: `'${tag.key}'`, tag: input[tag.key], expected_tags: expected },
  };
}

function jsonType(value: unknown): string {
  if (value === null) return "null";
  if (Array.isArray(value)) return "array";
  if (typeof value === "number") return Number.isInteger(value) ? "integer" : "number";
  return typeof value;
}

function describeBranch(branch: unknown): string | undefined {
  if (typeof branch !== "object" || branch === null) return undefined;
  const schema = branch as SchemaObject;
  if ("const" in schema) return repr(schema.const);
  if (typeof schema.type === "string") return describeType(schema.type);
  if (typeof schema.$ref === "string") return `a valid ${schema.$ref}`;
  return undefined;
}

/** Branch validators compiled on first need, per instance (branch objects are unique per schema). */
const branchValidators = new WeakMap<object, ValidateFunction | null>();

function branchValidator(branch: unknown, context: IssueContext): ValidateFunction | undefined {
  if (typeof branch !== "object" || branch === null) return undefined;
  const schema = branch as SchemaObject;
  if (typeof schema.$ref === "string") return context.ajv.getSchema(schema.$ref);
  let validate = branchValidators.get(schema);
  if (validate === undefined) {
    try {
      validate = context.ajv.compile(schema);
    } catch {
      // A branch with a relative `$ref` ("#/definitions/x") or a nested `$id` cannot be compiled
      // on its own; the union then gets the summary issue.
      validate = null;
    }
    branchValidators.set(schema, validate);
  }
  return validate ?? undefined;
}
