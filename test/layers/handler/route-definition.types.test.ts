// Type-level tests: `npm test` runs `tsc --noEmit` over test/ first, so each `@ts-expect-error`
// below must be an error, and each plain line must type-check. The runtime assertion only makes
// tap count the file.
import t from "tap";
import { App, Type, dependency, silentLogger, JSONResponse } from "../../../lib/index.js";

const app = new App({ logger: silentLogger });
const Book = Type.Object({ id: Type.Integer(), title: Type.String(), tags: Type.Optional(Type.Array(Type.String())) });
const user = dependency({}, () => ({ name: "ann", admin: true }));

app.post(
  "/books/{shelf}",
  {
    params: Type.Object({ shelf: Type.Integer() }),
    query: Type.Object({ dryRun: Type.Optional(Type.Boolean()) }),
    headers: Type.Object({ "x-request-id": Type.String() }),
    body: Book,
    response: { 201: Book },
    deps: { user },
  },
  ({ params, query, headers, body, deps }) => {
    const shelf: number = params.shelf;
    const dryRun: boolean | undefined = query.dryRun;
    const requestId: string = headers["x-request-id"];
    const title: string = body.title;
    const tags: string[] | undefined = body.tags;
    const admin: boolean = deps.user.admin;
    // @ts-expect-error the body has no such field
    void body.price;
    // @ts-expect-error a path parameter declared as integer is not a string
    const wrong: string = params.shelf;
    // @ts-expect-error undeclared dependency
    void deps.database;
    void [shelf, dryRun, requestId, title, tags, admin, wrong];
    return { id: 1, title };
  },
);

// The return value must match the response schema, or be a Response.
app.get("/book", { response: Book }, () => ({ id: 1, title: "Dune" }));
app.get("/book-response", { response: Book }, () => new JSONResponse({ anything: true }));
// @ts-expect-error `title` must be a string
app.get("/bad", { response: Book }, () => ({ id: 1, title: 42 }));

// Without schemas, inputs are the raw strings.
app.get("/raw/{id}", ({ params, query, body }) => {
  const id: string = params.id!;
  const q: string | string[] | undefined = query.q;
  const nothing: undefined = body;
  return { id, q, nothing };
});

t.pass("type-level assertions are checked by tsc");
