/**
 * The bookstore: a small CRUD API that exercises every layer.
 *
 * The middleware, outermost first: request ID (an ID before anything logs), access log (one line
 * per request, with that ID), CORS (browser front ends on the origins allowed), compression (large
 * JSON lists). The database opens in the lifespan startup and closes in its shutdown.
 *
 * Users log in at `POST /token` (OAuth2 password flow); writes need a bearer token with the
 * `books:write` scope, reads stay open (see `auth.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { App, type AppOptions } from "../../lib/app.js";
import { HttpException, RequestValidationError } from "../../lib/errors.js";
import { EmptyResponse } from "../../layers/handler/responses.js";
import { requestId } from "../../layers/middleware/request-id.js";
import { accessLog } from "../../layers/middleware/access-log.js";
import { cors } from "../../layers/middleware/cors.js";
import { compression } from "../../layers/middleware/compression.js";
import { BookstoreDatabase } from "./database.js";
import { AuthorRepository, BookRepository } from "./repositories.js";
import { transaction } from "./dependencies.js";
import { bookstoreAuth } from "./auth.js";
import { demoUserFrom, seedUsers, UserRepository, type UserSeed } from "./users.js";
import { Author, AuthorCreate, Book, BookCreate, BookId, BookList, BookQuery, Detail, Health } from "./schemas.js";

/** The default database file: `examples/bookstore/bookstore.db` (git-ignored), also when run from `dist/`. */
export function defaultDatabaseFile(): string {
  const here = fileURLToPath(new URL(".", import.meta.url)).replace(/[\\/]dist([\\/]examples[\\/]bookstore[\\/])$/, "$1");
  return join(here, "bookstore.db");
}

/** Options for {@link createBookstore}. */
export interface BookstoreOptions extends Pick<AppOptions, "logger" | "debug" | "server"> {
  /** SQLite file; default `BOOKSTORE_DB` or {@link defaultDatabaseFile}. */
  databaseFile?: string;
  /**
   * Origins a browser front end may call the API from (CORS); default `BOOKSTORE_CORS_ORIGINS`
   * (comma-separated) or `http://localhost:3000,http://127.0.0.1:3000` (a dev server's).
   */
  corsOrigins?: readonly string[];
  /** Key signing access tokens (≥ 32 bytes); default `BOOKSTORE_TOKEN_KEY`, else random per process (with a warning). */
  tokenKey?: string | Uint8Array;
  /** Access token lifetime in seconds; default 1800. */
  tokenTtl?: number;
  /** Users created at startup; default the one in `BOOKSTORE_DEMO_USER=name:password`, if set. */
  users?: readonly UserSeed[];
  /** The clock tokens are issued and checked with, ms since the epoch (tests expire tokens with it). */
  now?: () => number;
}

function corsOriginsFrom(env: string | undefined): string[] {
  const list = (env ?? "http://localhost:3000,http://127.0.0.1:3000").split(",").map((origin) => origin.trim());
  return list.filter((origin) => origin !== "");
}

/** Builds the bookstore app. The database opens at startup and closes at shutdown (lifespan). */
export function createBookstore(options: BookstoreOptions = {}): App {
  const file = options.databaseFile ?? process.env.BOOKSTORE_DB ?? defaultDatabaseFile();
  const db = new BookstoreDatabase(file);
  const demoUser = demoUserFrom(process.env.BOOKSTORE_DEMO_USER);
  const users = options.users ?? (demoUser === undefined ? [] : [demoUser]);
  const app = new App({
    logger: options.logger,
    debug: options.debug,
    server: options.server,
    async *lifespan() {
      // A file that cannot be opened fails the startup: the server never starts accepting.
      db.open();
      try {
        await seedUsers(db, users);
        yield { databaseFile: file };
      } finally {
        db.close();
      }
    },
  });
  app.use(requestId());
  app.use(accessLog({ logger: app.logger }));
  app.use(
    cors({
      allowOrigins: options.corsOrigins ?? corsOriginsFrom(process.env.BOOKSTORE_CORS_ORIGINS),
      allowMethods: ["GET", "POST", "PUT", "DELETE"],
      allowHeaders: ["authorization", "x-request-id"],
      exposeHeaders: ["x-request-id"],
      maxAge: 600,
    }),
  );
  app.use(compression({ minimumSize: 1024 }));
  app.provideValue(BookstoreDatabase, db);
  app.provide(BookRepository, "singleton");
  app.provide(AuthorRepository, "singleton");
  app.provide(UserRepository, "singleton");
  const auth = bookstoreAuth({ tokenKey: options.tokenKey, tokenTtl: options.tokenTtl, now: options.now, logger: app.logger });
  auth.addTokenRoute(app);
  // Writes list `writer` first: dependencies resolve in declaration order, so the token is checked
  // before the transaction takes the write lock.

  app.get("/health", { response: Health, tags: ["meta"] }, () => ({ status: "ok" as const }));

  app.post(
    "/authors",
    { body: AuthorCreate, response: { 201: Author }, status: 201, deps: { writer: auth.writer, authors: AuthorRepository, tx: transaction }, tags: ["authors"] },
    ({ body, deps }) => deps.authors.create(deps.tx, body.name),
  );

  app.get("/books", { query: BookQuery, response: BookList, deps: { books: BookRepository }, tags: ["books"] }, ({ query, deps }) =>
    deps.books.list(query),
  );

  app.post(
    "/books",
    {
      body: BookCreate,
      response: { 201: Book },
      status: 201,
      deps: { writer: auth.writer, books: BookRepository, authors: AuthorRepository, tx: transaction },
      tags: ["books"],
    },
    ({ body, deps }) => {
      if (!deps.authors.exists(deps.tx, body.authorId)) {
        throw new RequestValidationError([
          { loc: ["body", "authorId"], msg: `Author ${body.authorId} does not exist`, type: "foreign_key_violation", input: body.authorId },
        ]);
      }
      return deps.books.create(deps.tx, body);
    },
  );

  app.get(
    "/books/{id}",
    { params: BookId, response: { 200: Book, 404: Detail }, deps: { books: BookRepository }, tags: ["books"] },
    ({ params, deps }) => {
      const book = deps.books.get(params.id);
      if (book === undefined) throw new HttpException(404, "Book not found");
      return book;
    },
  );

  app.delete(
    "/books/{id}",
    { params: BookId, status: 204, deps: { writer: auth.writer, books: BookRepository, tx: transaction }, tags: ["books"] },
    ({ params, deps }) => {
      if (!deps.books.delete(deps.tx, params.id)) throw new HttpException(404, "Book not found");
      return new EmptyResponse();
    },
  );

  return app;
}
