/**
 * The 3.1 → 3.0.3 conversion, keyword by keyword, and a document using all of them that is
 * invalid as 3.0 before conversion and valid after.
 */
import t from "tap";
import { Type } from "@sinclair/typebox";
import { convertSchema, toOpenApi30 } from "../../../lib/openapi/openapi-30.js";
import { generateOpenApi } from "../../../lib/openapi/generate-openapi.js";
import type { OpenApiDocument } from "../../../lib/openapi/openapi-types.js";
import { validateDocument } from "./validate-document.js";

t.test("schema keywords", async (t) => {
  t.same(convertSchema({ type: ["string", "null"] }), { type: "string", nullable: true });
  t.same(convertSchema({ type: ["string", "integer"] }), { anyOf: [{ type: "string" }, { type: "integer" }] });
  t.same(convertSchema({ type: "null" }), { enum: [null], nullable: true });
  t.same(convertSchema(Type.Union([Type.String(), Type.Null()])), { type: "string", nullable: true });
  t.same(convertSchema({ anyOf: [{ $ref: "#/components/schemas/A" }, { type: "null" }] }), { allOf: [{ $ref: "#/components/schemas/A" }], nullable: true });
  t.same(convertSchema({ $ref: "#/components/schemas/A", description: "x" }), { allOf: [{ $ref: "#/components/schemas/A" }], description: "x" });
  t.same(convertSchema(Type.Literal("ok")), { enum: ["ok"], type: "string" });
  t.same(convertSchema({ type: "integer", examples: [3, 4] }), { type: "integer", example: 3 });
  t.same(convertSchema({ type: "number", exclusiveMinimum: 0, exclusiveMaximum: 10 }), { type: "number", minimum: 0, exclusiveMinimum: true, maximum: 10, exclusiveMaximum: true });
  t.same(convertSchema({ type: "number", exclusiveMinimum: 0, minimum: 5 }), { type: "number", minimum: 5 }, "the stricter inclusive bound wins");
  t.same(convertSchema({ type: "string", contentMediaType: "application/octet-stream" }), { type: "string", format: "binary" });
  t.same(convertSchema({ type: "string", contentEncoding: "base64" }), { type: "string", format: "byte" });
  t.same(convertSchema({ type: "array", prefixItems: [{ type: "string" }, { type: "number" }], items: false, minItems: 2 }), {
    type: "array",
    items: { anyOf: [{ type: "string" }, { type: "number" }] },
    minItems: 2,
  });
  t.same(convertSchema(Type.Record(Type.String(), Type.Number())), { type: "object", additionalProperties: { type: "number" } });
  t.same(convertSchema({ $id: "X", $schema: "s", $comment: "c", if: {}, then: {}, unevaluatedProperties: false, "x-kept": 1, title: "T" }), { "x-kept": 1, title: "T" });
  t.same(convertSchema(true), {});
  t.same(convertSchema(false), { not: {} });
  t.same(convertSchema({ properties: { a: { const: 1 } }, additionalProperties: { type: ["integer", "null"] } }), {
    properties: { a: { enum: [1] } },
    additionalProperties: { type: "integer", nullable: true },
  });
});

t.test("a document that needs every conversion", async (t) => {
  const Item = Type.Object(
    {
      id: Type.Integer({ exclusiveMinimum: 0, examples: [1] }),
      name: Type.Union([Type.String(), Type.Null()]),
      kind: Type.Literal("item"),
      pair: Type.Tuple([Type.String(), Type.Number()]),
      counts: Type.Record(Type.String(), Type.Integer()),
    },
    { $id: "Item" },
  );
  const routes = [
    { methods: ["GET"], path: "/items/{id}", handler: () => ({}), options: { params: Type.Object({ id: Type.Integer({ exclusiveMinimum: 0 }) }), response: { 200: Type.Union([Item, Type.Null()]) } } },
  ];
  const v31 = generateOpenApi(routes as never, { title: "t" });
  t.ok((await validateDocument(v31)).valid, "valid as 3.1");
  const mislabelled = { ...structuredClone(v31), openapi: "3.0.3" };
  t.notOk((await validateDocument(mislabelled)).valid, "the 3.1 schemas are not valid 3.0 as they are");
  const v30 = toOpenApi30({ ...v31, info: { ...v31.info, summary: "3.1 only", license: { name: "MIT", identifier: "MIT" } }, webhooks: {} } as OpenApiDocument);
  const { valid, errors } = await validateDocument(v30);
  t.ok(valid, "valid as 3.0.3 after conversion", { errors });
  t.notOk("webhooks" in v30);
  t.same(v30.info, { title: "t", version: "0.1.0", license: { name: "MIT" } });
  t.match(v30.components!.schemas!.Item, { properties: { id: { minimum: 0, exclusiveMinimum: true, example: 1 }, name: { type: "string", nullable: true }, kind: { enum: ["item"] } } });
  t.same(v30.paths["/items/{id}"]!.get!.responses["200"]!.content!["application/json"]!.schema, { allOf: [{ $ref: "#/components/schemas/Item" }], nullable: true });
  t.equal(v31.openapi, "3.1.0", "the input is not modified");
  t.match(v31.components!.schemas!.Item, { properties: { name: { anyOf: [{ type: "string" }, { type: "null" }] } } });
});
