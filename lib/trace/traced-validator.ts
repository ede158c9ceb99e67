/**
 * Layer 6, traced: a {@link Validator} decorator whose compiled checks record, for a traced
 * request, which request part was checked, how long it took and whether it passed.
 *
 * @module
 */
import type { Check, CompileOptions, JsonSchema, Validator } from "../../layers/validator/validator.js";
import type { Tracer } from "./tracer.js";

/** Wraps `validator`; the checks it compiles record a `validation` span per call in a traced request. */
export function tracedValidator(tracer: Tracer, validator: Validator): Validator {
  return {
    compile<T = unknown>(schema: JsonSchema, options: CompileOptions): Check<T> {
      const check = validator.compile<T>(schema, options);
      const part = options.location;
      return (value) => {
        const record = tracer.current();
        if (record === undefined) return check(value);
        const span = tracer.open(record, "validation", part);
        try {
          const result = check(value);
          span.detail = result.ok ? "ok" : `${result.issues.length} issue${result.issues.length === 1 ? "" : "s"}: ${issueText(result.issues)}`;
          return result;
        } finally {
          span.end = tracer.clock();
        }
      };
    },
    addSchema(schema: JsonSchema): void {
      validator.addSchema(schema);
    },
  };
}

/** The first issues, `loc: msg`, kept short for one line. */
function issueText(issues: ReadonlyArray<{ loc: ReadonlyArray<string | number>; msg: string }>): string {
  const shown = issues.slice(0, 3).map((issue) => `${issue.loc.join(".")}: ${issue.msg}`);
  return shown.join("; ") + (issues.length > 3 ? "; …" : "");
}
