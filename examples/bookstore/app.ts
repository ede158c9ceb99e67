/**
 * The bookstore: a small CRUD API that exercises every layer.
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { join } from "node:path";
import { App, type AppOptions } from "../../lib/app.js";
import { HttpException, RequestValidationError } from "../../lib/errors.js";
import { EmptyResponse } from "../../layers/handler/responses.js";
import { BookstoreDatabase } from "./database.js";
import { AuthorRepository, BookRepository } from "./repositories.js";
import { transaction } from "./dependencies.js";
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
}

/** Builds the bookstore app. The database opens at startup and closes at shutdown (lifespan). */
export function createBookstore(options: BookstoreOptions = {}): App {
  const file = options.databaseFile ?? process.env.BOOKSTORE_DB ?? defaultDatabaseFile();
  const db = new BookstoreDatabase(file);
  const app = new App({
    logger: options.logger,
    debug: options.debug,
    server: options.server,
    async *lifespan() {
      try {
        yield { databaseFile: file };
      } finally {
        db.close();
      }
    },
  });
  app.provideValue(BookstoreDatabase, db);
  app.provide(BookRepository, "singleton");
  app.provide(AuthorRepository, "singleton");

  app.get("/health", { response: Health, tags: ["meta"] }, () => ({ status: "ok" as const }));

  app.post(
    "/authors",
    { body: AuthorCreate, response: { 201: Author }, status: 201, deps: { authors: AuthorRepository, tx: transaction }, tags: ["authors"] },
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
      deps: { books: BookRepository, authors: AuthorRepository, tx: transaction },
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
    { params: BookId, status: 204, deps: { books: BookRepository, tx: transaction }, tags: ["books"] },
    ({ params, deps }) => {
      if (!deps.books.delete(deps.tx, params.id)) throw new HttpException(404, "Book not found");
      return new EmptyResponse();
    },
  );

  return app;
}
