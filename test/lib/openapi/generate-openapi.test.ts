/**
 * generateOpenApi / app.openapi(): the bookstore's document and edge-case apps, each validated in
 * 3.1 and 3.0.3 with @seriousme/openapi-schema-validator (refs resolved), plus what the schema
 * validator cannot see (path templates vs path parameters, the real 422 body vs its schema).
 */
import t, { type Test } from "tap";
import { Type } from "@sinclair/typebox";
import { Ajv2020 } from "ajv/dist/2020.js";
import { App } from "../../../lib/app.js";
import { APIRouter } from "../../../lib/api-router.js";
import { silentLogger } from "../../../lib/logger.js";
import { TestClient } from "../../../lib/test-client.js";
import { RouteDefinitionError } from "../../../lib/errors.js";
import { EmptyResponse } from "../../../layers/handler/responses.js";
import { UploadFileSchema } from "../../../layers/handler/upload-file.js";
import { dependency } from "../../../layers/di/dependency.js";
import { generateOpenApi, summaryFromName } from "../../../lib/openapi/generate-openapi.js";
import { OpenApiError } from "../../../lib/openapi/openapi-error.js";
import type { OpenApiDocument, OpenApiOperation } from "../../../lib/openapi/openapi-types.js";
import { createBookstore } from "../../../examples/bookstore/app.js";
import { pathParameterProblems, validateDocument } from "./validate-document.js";

async function checkValid(t: Test, app: App, what: string): Promise<OpenApiDocument> {
  for (const version of ["3.1.0", "3.0.3"] as const) {
    const document = app.openapi(version);
    t.equal(document.openapi, version, `${what}: version ${version}`);
    const { valid, errors } = await validateDocument(document);
    t.ok(valid, `${what}: the ${version} document validates`, { errors });
    t.same(pathParameterProblems(document as never), [], `${what}: ${version} path parameters match the templates`);
  }
  return app.openapi();
}

function op(document: OpenApiDocument, path: string, method: string): OpenApiOperation {
  const operation = document.paths[path]?.[method];
  if (operation === undefined) throw new Error(`no ${method} ${path} in ${Object.keys(document.paths).join(", ")}`);
  return operation;
}

function params(operation: OpenApiOperation): Record<string, { in: string; required: boolean; schema: unknown; description?: string; example?: unknown; deprecated?: boolean }> {
  return Object.fromEntries((operation.parameters ?? []).map((p) => [`${p.in}:${p.name}`, p]));
}

const newApp = (options: ConstructorParameters<typeof App>[0] = {}): App => new App({ logger: silentLogger, ...options });

t.test("the bookstore's document", async (t) => {
  const app = createBookstore({ logger: silentLogger, databaseFile: ":memory:" });
  const document = await checkValid(t, app, "bookstore");
  t.same(Object.keys(document.paths).sort(), [
    "/authors",
    "/books",
    "/books/{id}",
    "/books/{id}/cover",
    "/books/{id}/sales",
    "/health",
    "/reports/sales",
    "/reports/{id}",
    "/token",
  ]);
  t.ok(op(document, "/reports/sales", "post").responses["202"], "the report is accepted with 202, as documented");
  t.same(op(document, "/reports/sales", "post").security, [{ OAuth2PasswordBearer: ["books:write"] }], "asking for a report needs a writer");
  t.same(op(document, "/books", "post").security, [{ OAuth2PasswordBearer: ["books:write"] }], "writes need a token with books:write");
  t.notOk("security" in op(document, "/books", "get"), "reads stay open");
  t.match(document.components?.securitySchemes, { OAuth2PasswordBearer: { type: "oauth2", flows: { password: { tokenUrl: "token" } } } });
  t.same(Object.keys(document.paths["/books/{id}"]!).sort(), ["delete", "get"], "no implicit head");

  const getBook = op(document, "/books/{id}", "get");
  t.same(params(getBook)["path:id"], { name: "id", in: "path", required: true, schema: { type: "integer", minimum: 1 } });
  t.same(Object.keys(getBook.responses), ["200", "404", "422"]);
  t.match(getBook.responses["404"], { description: "Not Found", content: { "application/json": { schema: { properties: { detail: { type: "string" } } } } } });
  t.same(getBook.responses["422"]!.content, { "application/json": { schema: { $ref: "#/components/schemas/HTTPValidationError" } } });
  t.same(getBook.tags, ["books"]);

  const list = params(op(document, "/books", "get"));
  t.same(Object.keys(list), ["query:limit", "query:offset", "query:tag"]);
  t.equal(list["query:limit"]!.required, false, "a default makes a required query parameter optional");
  t.equal(list["query:tag"]!.required, false);

  const create = op(document, "/books", "post");
  t.equal(create.requestBody?.required, true);
  t.match(create.requestBody?.content["application/json"]?.schema, { type: "object", required: ["title", "authorId", "price"] });
  t.same(Object.keys(create.responses), ["201", "422"], "the declared success status, no 200");
  t.equal(create.responses["201"]!.description, "Successful Response");

  const remove = op(document, "/books/{id}", "delete");
  t.same(Object.keys(remove.responses), ["204", "422"]);
  t.notOk("content" in remove.responses["204"]!, "a 204 has no content");

  t.same(Object.keys(op(document, "/health", "get").responses), ["200"], "a route that validates nothing has no 422");
  const ids = Object.values(document.paths).flatMap((item) => Object.values(item).map((o) => o.operationId));
  t.equal(new Set(ids).size, ids.length, "operation IDs are unique");
  t.same(Object.keys(document.components?.schemas ?? {}), ["HTTPValidationError", "ValidationError"]);
  t.equal(app.openapi(), document, "generated once, then cached");
});

t.test("the documented 422 schema matches the 422 body laminar sends", async (t) => {
  const app = newApp();
  app.post(
    "/items/{id}",
    { params: Type.Object({ id: Type.Integer() }), query: Type.Object({ q: Type.String({ minLength: 2 }) }), body: Type.Object({ tags: Type.Array(Type.String(), { maxItems: 1 }) }) },
    () => ({}),
  );
  const { resolved } = await validateDocument(app.openapi());
  const schema = (resolved as never as OpenApiDocument).paths["/items/{id}"]!.post!.responses["422"]!.content!["application/json"]!.schema;
  const check = new Ajv2020({ strict: false }).compile(schema);
  const client = new TestClient(app);
  const bodies = [
    await client.post("/items/x?q=a", { json: { tags: ["a", "b"] } }),
    await client.post("/items/1?q=ab", { body: "{not json", headers: { "content-type": "application/json" } }),
    await client.post("/items/1"),
  ];
  for (const response of bodies) {
    t.equal(response.status, 422);
    const body = JSON.parse(response.text) as unknown;
    t.ok(check(body), `the body validates: ${response.text}`, { errors: check.errors });
  }
  t.notOk(check({ detail: [{ loc: "body", msg: "x", type: "y" }] }), "and the schema is not vacuous: loc must be an array");
  t.notOk(check({}), "detail is required");
});

t.test("path templates", async (t) => {
  const app = newApp();
  app.get("/files/{rest:path}", { params: Type.Object({ rest: Type.String({ description: "the file path" }) }) }, () => ({}));
  app.get("/users/:uid/posts/{post:str}", () => ({}));
  app.get("/items:batch", () => ({}));
  app.get("/a/{x}", { params: Type.Object({ x: Type.Integer(), notInPath: Type.String() }) }, () => ({}));
  const document = await checkValid(t, app, "paths");
  t.same(Object.keys(document.paths), ["/files/{rest}", "/users/{uid}/posts/{post}", "/items:batch", "/a/{x}"]);
  t.same(params(op(document, "/files/{rest}", "get"))["path:rest"], {
    name: "rest",
    in: "path",
    required: true,
    schema: { type: "string", description: "the file path" },
    description: "the file path",
  });
  t.same(params(op(document, "/users/{uid}/posts/{post}", "get"))["path:uid"]?.schema, { type: "string" }, "undeclared: a string");
  t.same(Object.keys(params(op(document, "/a/{x}", "get"))), ["path:x"], "a schema property outside the template is left out");
});

t.test("parameters from the dependency tree", async (t) => {
  class Service {}
  const session = dependency(
    { cookies: Type.Object({ session: Type.String({ examples: ["abc123"] }) }), headers: Type.Object({ "x-token": Type.String({ deprecated: true }) }) },
    () => "s",
  );
  const page = dependency(
    { deps: { session, service: Service }, query: Type.Object({ page: Type.Integer({ default: 1 }), size: Type.Optional(Type.Integer()) }) },
    () => 1,
  );
  const audit = dependency({ query: Type.Object({ reason: Type.String() }) }, () => undefined);
  const routerLevel = dependency({ headers: Type.Object({ "x-tenant": Type.String() }) }, () => undefined);
  const app = newApp();
  const router = new APIRouter({ prefix: "/r", dependencies: [routerLevel] });
  router.get("/list", { query: Type.Object({ q: Type.Optional(Type.String()) }), deps: { page }, dependencies: [audit] }, () => ({}));
  app.include(router);
  const document = await checkValid(t, app, "deps");
  const got = params(op(document, "/r/list", "get"));
  t.same(Object.keys(got).sort(), ["cookie:session", "header:x-tenant", "header:x-token", "query:page", "query:q", "query:reason", "query:size"]);
  t.equal(got["query:q"]!.required, false);
  t.equal(got["query:reason"]!.required, true, "an effect-only dependency's input");
  t.equal(got["query:page"]!.required, false, "default");
  t.equal(got["header:x-tenant"]!.required, true, "the router's dependency");
  t.equal(got["cookie:session"]!.example, "abc123", "the first example is lifted onto the parameter");
  t.equal(got["header:x-token"]!.deprecated, true);
  t.ok(op(document, "/r/list", "get").responses["422"], "inputs declared only by dependencies still mean a 422");

  const clash = newApp();
  clash.get("/c", { query: Type.Object({ page: Type.String() }), deps: { page } }, () => ({}));
  t.throws(() => clash.openapi(), RouteDefinitionError, "an input declared twice with different schemas fails as the compiler does");
});

t.test("$id schemas become components", async (t) => {
  const Author = Type.Object({ id: Type.Integer(), name: Type.String() }, { $id: "Author" });
  const Book = Type.Object({ id: Type.Integer(), author: Author, related: Type.Array(Type.Ref("Book")) }, { $id: "Book" });
  const Tree = Type.Recursive((This) => Type.Object({ children: Type.Array(This) }), { $id: "Tree" });
  const Weird = Type.Object({ $id: Type.String(), default: Type.Object({ inner: Author }) }, { $id: "urn:example:weird schema" });
  const app = newApp();
  app.get("/books", { response: Type.Array(Book) }, () => []);
  app.post("/books", { body: Book, response: { 201: Book }, status: 201 }, () => ({}) as never);
  app.get("/tree", { response: Tree }, () => ({}) as never);
  const document = await checkValid(t, app, "components");
  const schemas = document.components!.schemas!;
  t.same(Object.keys(schemas), ["Author", "Book", "HTTPValidationError", "Tree", "ValidationError"]);
  t.same(op(document, "/books", "get").responses["200"]!.content!["application/json"]!.schema, { type: "array", items: { $ref: "#/components/schemas/Book" } });
  t.same(op(document, "/books", "post").requestBody!.content["application/json"]!.schema, { $ref: "#/components/schemas/Book" });
  t.match(schemas.Book, { properties: { author: { $ref: "#/components/schemas/Author" }, related: { items: { $ref: "#/components/schemas/Book" } } } });
  t.notOk("$id" in schemas.Book!, "no $id inside a component (it would rebase its refs)");
  t.match(schemas.Tree, { properties: { children: { items: { $ref: "#/components/schemas/Tree" } } } });

  // Properties named like keywords: kept as properties, searched for $id like any schema. (Not given
  // to the validator: its ref resolver takes a property named "$id" for a base URI and fails.)
  const weird = newApp();
  weird.get("/weird", { response: Weird }, () => ({}) as never);
  const weirdDocument = weird.openapi();
  t.same(Object.keys(weirdDocument.components!.schemas!), ["Author", "urn_example_weird_schema"], "a $id that is no component name is made one");
  t.match(weirdDocument.components!.schemas!.urn_example_weird_schema, {
    properties: { $id: { type: "string" }, default: { properties: { inner: { $ref: "#/components/schemas/Author" } } } },
  });
  t.ok(Type.Object({}) && (Book as Record<string, unknown>).$id === "Book", "the route's schema is not modified");

  const conflict = newApp();
  conflict.get("/a", { response: Type.Object({ a: Type.String() }, { $id: "Same" }) }, () => ({}) as never);
  conflict.get("/b", { response: Type.Object({ b: Type.String() }, { $id: "Same" }) }, () => ({}) as never);
  t.throws(() => conflict.openapi(), { name: "OpenApiError", message: /two different schemas share \$id "Same"/ });
  const dangling = newApp();
  dangling.get("/a", { response: Type.Ref("Nowhere") }, () => ({}) as never);
  t.throws(() => dangling.openapi(), OpenApiError, "a $ref to no $id");
});

t.test("responses per status", async (t) => {
  const Detail = Type.Object({ detail: Type.String() });
  const app = newApp();
  app.get("/map", { response: { 200: Type.String(), 404: Detail, 409: Detail, 304: Type.Null() } }, () => "x");
  app.post("/created", { status: 201, response: { 201: Type.Integer() } }, () => 1);
  app.put("/no-schema", { status: 202 }, () => ({}));
  app.delete("/gone", { status: 204 }, () => undefined);
  app.get("/override-422", { query: Type.Object({ q: Type.String() }), response: { 200: Type.String(), 422: Detail } }, () => "x");
  const document = await checkValid(t, app, "statuses");
  const map = op(document, "/map", "get").responses;
  t.same(Object.keys(map), ["200", "304", "404", "409"]);
  t.notOk("content" in map["304"]!, "304 is bodyless");
  t.equal(map["409"]!.description, "Conflict");
  t.same(op(document, "/no-schema", "put").responses, { "202": { description: "Successful Response", content: { "application/json": { schema: {} } } } });
  t.same(op(document, "/gone", "delete").responses, { "204": { description: "Successful Response" } });
  t.match(op(document, "/override-422", "get").responses["422"], { description: "Unprocessable Entity", content: { "application/json": { schema: { properties: { detail: { type: "string" } } } } } }, "a declared 422 wins");
});

t.test("documentation fields, exclusion, methods and operation IDs", async (t) => {
  const app = newApp({ title: "Edge", version: "2.0.0", description: "An *edge* API", servers: [{ url: "https://api.example.com" }] });
  app.get("/books", { tags: ["books", "books", "read"], summary: "All books", description: "Lists them" }, function listBooks() {
    return [];
  });
  app.get("/named", function get_named_thing() {
    return {};
  });
  app.get("/old", { deprecated: true }, () => ({}));
  app.get("/hidden", { includeInSchema: false }, () => ({}));
  app.get("/", () => ({}));
  app.route(["GET", "POST", "PROPFIND"], "/multi", { operationId: "multi" }, () => ({}));
  app.head("/ping", () => new EmptyResponse());
  app.post("/explicit", { operationId: "makeIt" }, () => ({}));
  const document = await checkValid(t, app, "docs");
  t.same(document.info, { title: "Edge", version: "2.0.0", description: "An *edge* API" });
  t.same(document.servers, [{ url: "https://api.example.com" }]);
  const books = op(document, "/books", "get");
  t.same(books.tags, ["books", "read"], "tags deduplicated");
  t.equal(books.summary, "All books");
  t.equal(books.description, "Lists them");
  t.equal(books.operationId, "listBooks_books_get");
  t.equal(op(document, "/named", "get").summary, "Get Named Thing", "summary from the handler name");
  t.equal(op(document, "/named", "get").operationId, "get_named_thing_named_get");
  t.equal(op(document, "/old", "get").deprecated, true);
  t.notOk(document.paths["/hidden"], "includeInSchema: false is left out");
  t.equal(op(document, "/", "get").operationId, "root_get");
  t.same(Object.keys(document.paths["/multi"]!), ["get", "post"], "PROPFIND has no field in OpenAPI");
  t.equal(op(document, "/multi", "post").operationId, "multi_post");
  t.equal(op(document, "/ping", "head").operationId, "ping_head", "an explicit HEAD is documented");
  t.equal(op(document, "/explicit", "post").operationId, "makeIt");
  t.equal(summaryFromName(""), undefined);
  t.equal(summaryFromName("readItems"), "Read Items");
});

t.test("duplicate operation IDs fail, naming both routes", async (t) => {
  const app = newApp();
  app.get("/a", { operationId: "same" }, () => ({}));
  app.post("/b", { operationId: "same" }, () => ({}));
  t.throws(() => app.openapi(), { name: "OpenApiError", message: /operationId "same" of POST \/b is already the operationId of GET \/a/ });
  const generated = newApp();
  generated.get("/a-b", () => ({}));
  generated.get("/a_b", () => ({}));
  t.throws(() => generated.openapi(), { message: /"a_b_get" of GET \/a_b is already the operationId of GET \/a-b/ }, "generated IDs that collide");
  const client = new TestClient(app, { raiseServerExceptions: false });
  t.equal((await client.get("/openapi.json")).status, 500, "served: a 500, the app itself still works");
  t.equal((await client.get("/a")).status, 200);
});

t.test("security schemes from dependencies", async (t) => {
  const oauth2 = { type: "oauth2", flows: { password: { tokenUrl: "/token", scopes: { "books:write": "write books", "books:read": "read books" } } } };
  const reader = dependency({ security: { name: "OAuth2PasswordBearer", scheme: oauth2, scopes: ["books:read"] } }, () => "user");
  const writer = dependency({ deps: { reader }, security: { name: "OAuth2PasswordBearer", scheme: oauth2, scopes: ["books:write"] } }, () => "user");
  const apiKey = dependency(
    { headers: Type.Object({ "x-api-key": Type.String() }), security: { name: "APIKeyHeader", scheme: { type: "apiKey", in: "header", name: "x-api-key" }, scopes: [] } },
    () => "key",
  );
  const app = newApp();
  app.get("/open", () => ({}));
  app.get("/read", { deps: { user: reader } }, () => ({}));
  app.post("/write", { deps: { user: writer }, dependencies: [apiKey] }, () => ({}));
  const document = await checkValid(t, app, "security");
  t.notOk("security" in op(document, "/open", "get"));
  t.same(op(document, "/read", "get").security, [{ OAuth2PasswordBearer: ["books:read"] }]);
  t.same(op(document, "/write", "post").security, [{ OAuth2PasswordBearer: ["books:read", "books:write"], APIKeyHeader: [] }], "one requirement: every scheme must pass");
  t.same(document.components!.securitySchemes, { APIKeyHeader: { type: "apiKey", in: "header", name: "x-api-key" }, OAuth2PasswordBearer: oauth2 });

  const conflict = newApp();
  conflict.get("/a", { deps: { reader } }, () => ({}));
  conflict.get("/b", { dependencies: [dependency({ security: { name: "OAuth2PasswordBearer", scheme: { type: "http", scheme: "bearer" }, scopes: [] } }, () => 1)] }, () => ({}));
  t.throws(() => conflict.openapi(), { name: "OpenApiError", message: /"OAuth2PasswordBearer" is defined twice .* GET \/b/ });
});

t.test("form bodies: urlencoded without files, multipart with UploadFileSchema or binary fields, and base64 text stays text", async (t) => {
  const routes = [
    { methods: ["POST"], path: "/login", handler: () => ({}), options: { form: Type.Object({ username: Type.String(), password: Type.String() }) } },
    {
      methods: ["POST"],
      path: "/upload",
      handler: () => ({}),
      options: {
        form: Type.Object({
          title: Type.String(),
          file: UploadFileSchema({ description: "the cover" }),
          more: Type.Array(Type.String({ contentMediaType: "image/png" })),
          encoded: Type.String({ contentMediaType: "image/png", contentEncoding: "base64" }),
        }),
      },
    },
  ];
  const document = generateOpenApi(routes as never);
  t.same(Object.keys(op(document, "/login", "post").requestBody!.content), ["application/x-www-form-urlencoded"]);
  const upload = op(document, "/upload", "post").requestBody!.content;
  t.same(Object.keys(upload), ["multipart/form-data"]);
  t.match(upload["multipart/form-data"]!.schema, {
    properties: {
      file: { type: "string", contentMediaType: "application/octet-stream", description: "the cover" },
      more: { items: { type: "string", contentMediaType: "application/octet-stream" } },
      encoded: { type: "string", contentEncoding: "base64" },
    },
  });
  t.ok((await validateDocument(document)).valid, "valid 3.1");
  const v30 = generateOpenApi(routes as never, { openapiVersion: "3.0.3" });
  t.match(op(v30, "/upload", "post").requestBody!.content["multipart/form-data"]!.schema, { properties: { file: { type: "string", format: "binary" } } });
  t.ok((await validateDocument(v30)).valid, "valid 3.0.3");
});

t.test("openapiExtra is merged into the operation, deeply, without aliasing", async (t) => {
  const extra = {
    requestBody: { required: true, content: { "text/csv": { schema: { type: "string" } } } },
    responses: { 200: { description: "The rows" } },
    tags: ["export"],
    "x-internal": true,
    ["__proto__"]: { polluted: true },
  };
  const routes = [
    { methods: ["GET"], path: "/rows/{id}", handler: () => "", options: { params: Type.Object({ id: Type.Integer() }), tags: ["rows"], openapiExtra: extra } },
  ];
  const document = generateOpenApi(routes as never);
  const operation = op(document, "/rows/{id}", "get") as OpenApiOperation & Record<string, unknown>;
  t.same(operation.tags, ["export"], "an array replaces the generated one");
  t.equal(operation["x-internal"], true, "vendor extensions are added");
  t.same(Object.keys(operation.requestBody!.content), ["text/csv"]);
  t.equal(operation.responses["200"]!.description, "The rows", "a nested field replaces the generated one");
  t.ok(operation.responses["422"], "generated fields it does not name are kept");
  t.ok(operation.parameters?.some((parameter) => parameter.name === "id"), "parameters are kept");
  t.equal(({} as Record<string, unknown>).polluted, undefined, "no prototype pollution");
  t.not(operation.requestBody, extra.requestBody, "copied, not shared with the option");
  t.ok((await validateDocument(document)).valid, "valid 3.1");
});

t.test("the bookstore documents the body /token reads itself", async (t) => {
  const app = createBookstore({ logger: silentLogger, databaseFile: ":memory:" });
  const token = op(app.openapi(), "/token", "post");
  t.match(token.requestBody, {
    required: true,
    content: { "application/x-www-form-urlencoded": { schema: { required: ["username", "password"], properties: { grant_type: { const: "password" } } } } },
  });
  const v30 = op(app.openapi("3.0.3"), "/token", "post");
  t.match(v30.requestBody!.content["application/x-www-form-urlencoded"]!.schema, { properties: { grant_type: { enum: ["password"] } } });
});
