/**
 * Test helper: validates an OpenAPI document with @seriousme/openapi-schema-validator (the
 * official OpenAPI JSON Schemas for 3.0 and 3.1) and resolves every `$ref` in it, so a dangling
 * reference fails too. Returns the dereferenced document.
 */
import { Validator } from "@seriousme/openapi-schema-validator";

export async function validateDocument(document: unknown, options: { resolve?: boolean } = {}): Promise<{ valid: boolean; errors: unknown; resolved: Record<string, unknown> | undefined }> {
  const validator = new Validator();
  // The validator takes an object or a path; a deep copy, so its in-place work cannot touch the app's cached document.
  const result = await validator.validate(structuredClone(document) as never);
  if (!result.valid) return { valid: false, errors: result.errors, resolved: undefined };
  if (options.resolve === false) return { valid: true, errors: undefined, resolved: undefined };
  try {
    return { valid: true, errors: undefined, resolved: validator.resolveRefs() as Record<string, unknown> };
  } catch (error) {
    return { valid: false, errors: (error as Error).message, resolved: undefined };
  }
}

/**
 * What the schema validator does not check: every `{name}` of a path template is a path parameter
 * of each of its operations (required), and no path parameter is outside the template. Returns the
 * problems found.
 */
export function pathParameterProblems(document: { paths: Record<string, Record<string, { parameters?: Array<{ name: string; in: string; required: boolean }> }>> }): string[] {
  const problems: string[] = [];
  for (const [path, item] of Object.entries(document.paths)) {
    const names = [...path.matchAll(/\{([^}]+)\}/g)].map((match) => match[1]!).sort();
    for (const [method, operation] of Object.entries(item)) {
      const declared = (operation.parameters ?? []).filter((p) => p.in === "path");
      const got = declared.map((p) => p.name).sort();
      if (JSON.stringify(got) !== JSON.stringify(names)) problems.push(`${method} ${path}: path parameters ${got.join(",")} vs template ${names.join(",")}`);
      for (const p of declared) if (p.required !== true) problems.push(`${method} ${path}: path parameter ${p.name} not required`);
    }
  }
  return problems;
}
