/**
 * The bookstore: a small CRUD API that exercises every layer.
 *
 * The middleware, outermost first: request ID (an ID before anything logs), access log (one line
 * per request, with that ID), CORS (browser front ends on the origins allowed), compression (large
 * JSON lists). The database opens in the lifespan startup and closes in its shutdown.
 *
 * The rows live in SQLite by default, or in PostgreSQL when `DATABASE_URL` is `postgres://…` (see
 * `store/store-location.ts`); the routes declare the repository contracts (`store/contracts.ts`)
 * and never know which store answers.
 *
 * Users log in at `POST /token` (OAuth2 password flow); writes need a bearer token with the
 * `books:write` scope, reads stay open (see `auth.ts`).
 *
 * Sales are recorded with `POST /books/{id}/sales`; `POST /reports/sales` hands the sales report to
 * the task queue and answers 202 with a status URL, `GET /reports/{id}` shows its state and result
 * (see `tasks.ts`). By default a small worker runs inside this process, so `npm start` needs nothing else.
 *
 * Books have cover images: `PUT /books/{id}/cover` (a multipart upload), `GET /books/{id}/cover`
 * (a file response, with ETag, 304 and ranges), `DELETE /books/{id}/cover` (see `covers.ts`).
 *
 * @module
 */
import { fileURLToPath } from "node:url";
import { Type } from "@sinclair/typebox";
import { dirname, join } from "node:path";
import { App, type AppOptions } from "../../lib/app.js";
import { HttpException, RequestValidationError } from "../../lib/errors.js";
import { EmptyResponse } from "../../layers/handler/responses.js";
import { FileResponse } from "../../layers/handler/file-response.js";
import { UploadFileSchema } from "../../layers/handler/upload-file.js";
import { requestId } from "../../layers/middleware/request-id.js";
import { accessLog } from "../../layers/middleware/access-log.js";
import { cors } from "../../layers/middleware/cors.js";
import { compression } from "../../layers/middleware/compression.js";
import { AuthorRepository, BookRepository, CoverRepository, SaleRepository } from "./store/contracts.js";
import { createStore, resolveStoreLocation } from "./store/store-location.js";
import { provideStore, transaction } from "./dependencies.js";
import { bookstoreAuth } from "./auth.js";
import { demoUserFrom, seedUsers, type UserSeed } from "./users.js";
import { Cover, CoverFiles, describeCover, MAX_COVER_SIZE } from "./covers.js";
import { SaleCreate, Sale, SalesReport } from "./sales.js";
import { createBookstoreTasks, REPORTS_QUEUE, tasksUrlFrom, type BookstoreTasks } from "./tasks.js";
import { Worker } from "../../lib/tasks/worker/worker.js";
import { Author, AuthorCreate, Book, BookCreate, BookId, BookList, BookQuery, Detail, Health } from "./schemas.js";

/** The default database file: `examples/bookstore/bookstore.db` (git-ignored), also when run from `dist/`. */
export function defaultDatabaseFile(): string {
  const here = fileURLToPath(new URL(".", import.meta.url)).replace(/[\\/]dist([\\/]examples[\\/]bookstore[\\/])$/, "$1");
  return join(here, "bookstore.db");
}

/** Options for {@link createBookstore}. */
export interface BookstoreOptions extends Pick<AppOptions, "logger" | "debug" | "server"> {
  /**
   * The store: `postgres://…` / `postgresql://…` (PostgreSQL) or `sqlite://…` (SQLite). Default:
   * SQLite in `databaseFile` when that option is given, else `DATABASE_URL`, else SQLite in
   * `BOOKSTORE_DB` or {@link defaultDatabaseFile}.
   */
  databaseUrl?: string;
  /**
   * SQLite file; default `BOOKSTORE_DB` or {@link defaultDatabaseFile}. With PostgreSQL it still
   * says where the local files go: `covers/` and `tasks.db` beside it.
   */
  databaseFile?: string;
  /** PostgreSQL pool size per process; default `DATABASE_POOL_SIZE`, else 10. */
  poolSize?: number;
  /** How long a request waits for a pooled PostgreSQL connection before answering 503, in ms; default `DATABASE_POOL_TIMEOUT_MS`, else 5000. */
  poolTimeoutMs?: number;
  /** Directory of cover images; default `BOOKSTORE_COVERS`, else `covers/` beside the database file. */
  coversDirectory?: string;
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
  /** Broker and result backend of the task queue; default `BOOKSTORE_TASKS_URL`, else `tasks.db` beside the database. */
  tasksUrl?: string;
  /**
   * Run a worker for the report queue inside this process (default true, `BOOKSTORE_EMBEDDED_WORKER=0`
   * turns it off when separate `laminar worker` processes run the tasks).
   */
  embeddedWorker?: boolean;
}

/** A report's state, as `GET /reports/{id}` shows it (Celery's state names). */
const ReportStatus = Type.Object({
  id: Type.String({ format: "uuid" }),
  state: Type.Union(["PENDING", "RECEIVED", "STARTED", "RETRY", "SUCCESS", "FAILURE", "REVOKED"].map((state) => Type.Literal(state))),
  statusUrl: Type.String(),
  result: Type.Optional(SalesReport),
  error: Type.Optional(Type.Object({ type: Type.String(), message: Type.String() })),
});
const ReportId = Type.Object({ id: Type.String({ format: "uuid" }) });
const ReportQuery = Type.Object({ top: Type.Integer({ minimum: 1, maximum: 100, default: 10 }) });

function corsOriginsFrom(env: string | undefined): string[] {
  const list = (env ?? "http://localhost:3000,http://127.0.0.1:3000").split(",").map((origin) => origin.trim());
  return list.filter((origin) => origin !== "");
}

/** Builds the bookstore app. The database opens at startup and closes at shutdown (lifespan). */
export function createBookstore(options: BookstoreOptions = {}): App {
  // The SQLite file, or with PostgreSQL the place the local files (covers, tasks.db) go beside.
  const file = options.databaseFile ?? process.env.BOOKSTORE_DB ?? defaultDatabaseFile();
  const location = resolveStoreLocation({ ...options, defaultFile: defaultDatabaseFile() });
  const coverFiles = new CoverFiles(options.coversDirectory ?? process.env.BOOKSTORE_COVERS ?? join(dirname(file), "covers"));
  const demoUser = demoUserFrom(process.env.BOOKSTORE_DEMO_USER);
  const users = options.users ?? (demoUser === undefined ? [] : [demoUser]);
  // The task queue's file opens in the lifespan startup, like the database: a broker that cannot be
  // opened stops the server before it accepts anything, and constructing the app opens nothing.
  let openTasks: BookstoreTasks | undefined;
  const tasks = (): BookstoreTasks => {
    if (openTasks === undefined) throw new Error("the bookstore's task queue is not open (the lifespan startup opens it)");
    return openTasks;
  };
  const embeddedWorker = options.embeddedWorker ?? process.env.BOOKSTORE_EMBEDDED_WORKER !== "0";
  const app = new App({
    logger: options.logger,
    debug: options.debug,
    server: options.server,
    async *lifespan() {
      // A database that cannot be opened or reached fails the startup: the server never starts accepting.
      await store.open();
      try {
        app.logger.info({ store: store.kind, database: store.location }, `bookstore data in ${store.kind === "sqlite" ? "SQLite" : "PostgreSQL"}: ${store.location}`);
        coverFiles.open();
        await seedUsers(store, users);
        openTasks = createBookstoreTasks({ database: location, url: tasksUrlFrom(options.tasksUrl, file) });
        // Two reports at a time at most: they read the whole sales table.
        const worker = embeddedWorker ? new Worker(tasks().queue, { queues: [REPORTS_QUEUE], concurrency: 2, logger: app.logger }) : undefined;
        worker?.start();
        try {
          yield { database: store.location };
        } finally {
          // A report still running after 10 s is released to run again in another worker (acksLate).
          await worker?.stop({ gracefulTimeoutMs: 10_000 });
        }
      } finally {
        await openTasks?.queue.close();
        openTasks = undefined;
        await store.close();
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
  // Created after the app, for its logger; the lifespan above only runs once listening starts.
  const store = createStore(location, app.logger);
  provideStore(app, store);
  app.provideValue(CoverFiles, coverFiles);
  const auth = bookstoreAuth({ tokenKey: options.tokenKey, tokenTtl: options.tokenTtl, now: options.now, logger: app.logger });
  auth.addTokenRoute(app);
  // Writes list `writer` first: dependencies resolve in declaration order, so the token is checked
  // before the transaction takes the write lock (or a pooled connection).

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
    async ({ body, deps }) => {
      if (!(await deps.authors.exists(deps.tx, body.authorId))) {
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
    async ({ params, deps }) => {
      const book = await deps.books.get(params.id);
      if (book === undefined) throw new HttpException(404, "Book not found");
      return book;
    },
  );

  app.delete(
    "/books/{id}",
    {
      params: BookId,
      status: 204,
      deps: { writer: auth.writer, books: BookRepository, covers: CoverRepository, files: CoverFiles, tx: transaction },
      tags: ["books"],
    },
    async ({ params, deps, background }) => {
      const cover = await deps.covers.find(deps.tx, params.id);
      // The cover row goes with the book (ON DELETE CASCADE); its file once the deletion is committed.
      if (!(await deps.books.delete(deps.tx, params.id))) throw new HttpException(404, "Book not found");
      if (cover !== undefined) background.add((name) => deps.files.remove(name), cover.file);
      return new EmptyResponse();
    },
  );

  app.post(
    "/books/{id}/sales",
    {
      params: BookId,
      body: SaleCreate,
      status: 201,
      response: { 201: Sale, 404: Detail },
      deps: { writer: auth.writer, sales: SaleRepository, tx: transaction },
      tags: ["sales"],
      summary: "Record a sale of a book, at its current price",
    },
    async ({ params, body, deps }) => {
      const sale = await deps.sales.record(deps.tx, params.id, body.quantity);
      if (sale === undefined) throw new HttpException(404, "Book not found");
      return sale;
    },
  );

  app.post(
    "/reports/sales",
    { query: ReportQuery, status: 202, response: { 202: ReportStatus }, deps: { writer: auth.writer }, tags: ["reports"], summary: "Build the sales report in the task queue" },
    async ({ query, response }) => {
      const result = await tasks().salesReport.delay(query.top);
      const statusUrl = `/reports/${result.id}`;
      response.setHeader("location", statusUrl);
      return { id: result.id, state: "PENDING" as const, statusUrl };
    },
  );

  app.get(
    "/reports/{id}",
    { params: ReportId, response: { 200: ReportStatus }, tags: ["reports"], summary: "A report's state, and the report once it is built" },
    async ({ params }) => {
      // Celery's semantics: an id the backend does not know is PENDING (published, or never was).
      const meta = await tasks().queue.backend.get(params.id);
      const statusUrl = `/reports/${params.id}`;
      if (meta === undefined) return { id: params.id, state: "PENDING" as const, statusUrl };
      return {
        id: params.id,
        state: meta.state,
        statusUrl,
        ...(meta.state === "SUCCESS" ? { result: meta.result as SalesReport } : {}),
        ...(meta.error !== undefined ? { error: { type: meta.error.type, message: meta.error.message } } : {}),
      };
    },
  );

  app.put(
    "/books/{id}/cover",
    {
      params: BookId,
      form: Type.Object({ cover: UploadFileSchema({ description: "A PNG, JPEG, GIF or WebP image" }) }),
      // One file of at most MAX_COVER_SIZE; the body limit leaves room for the multipart framing.
      formLimits: { maxFileSize: MAX_COVER_SIZE, maxFiles: 1, maxFields: 4 },
      bodyLimit: MAX_COVER_SIZE + 64 * 1024,
      response: { 200: Cover, 404: Detail, 415: Detail },
      deps: { writer: auth.writer, books: BookRepository, covers: CoverRepository, files: CoverFiles, tx: transaction },
      tags: ["covers"],
      summary: "Upload a book's cover image",
    },
    async ({ params, form, deps, background }) => {
      if (!(await deps.books.exists(deps.tx, params.id))) throw new HttpException(404, "Book not found");
      const previous = await deps.covers.find(deps.tx, params.id);
      const { file, mediaType } = await deps.files.store(params.id, form.cover);
      const cover = { bookId: params.id, file, mediaType, size: form.cover.size };
      try {
        await deps.covers.put(deps.tx, cover);
      } catch (error) {
        await deps.files.remove(file);
        throw error;
      }
      // Background tasks run only after a successful response, i.e. after the commit: the old file
      // is never removed while the committed row still points at it.
      if (previous !== undefined) background.add((name) => deps.files.remove(name), previous.file);
      return describeCover(cover);
    },
  );

  app.get(
    "/books/{id}/cover",
    {
      params: BookId,
      response: { 404: Detail },
      deps: { covers: CoverRepository, files: CoverFiles },
      tags: ["covers"],
      summary: "Download a book's cover image",
    },
    async ({ params, deps }) => {
      const cover = await deps.covers.get(params.id);
      if (cover === undefined) throw new HttpException(404, "Cover not found");
      // no-cache: clients keep the image but revalidate it (ETag -> 304), so a new cover shows at once.
      return new FileResponse(deps.files.pathOf(cover.file), { mediaType: cover.mediaType, headers: { "cache-control": "no-cache" } });
    },
  );

  app.delete(
    "/books/{id}/cover",
    { params: BookId, status: 204, deps: { writer: auth.writer, covers: CoverRepository, files: CoverFiles, tx: transaction }, tags: ["covers"] },
    async ({ params, deps, background }) => {
      const cover = await deps.covers.find(deps.tx, params.id);
      if (cover === undefined || !(await deps.covers.delete(deps.tx, params.id))) throw new HttpException(404, "Cover not found");
      background.add((name) => deps.files.remove(name), cover.file);
      return new EmptyResponse();
    },
  );

  return app;
}
