/**
 * The sales report's queries, on either store. The report task opens its own connection (it may
 * run in another process than the web app, `laminar worker`), reads, and closes it.
 *
 * @module
 */
import BetterSqlite3 from "better-sqlite3";
import type { SalesReport } from "../sales.js";
import { DatabaseUnavailable, isUnavailable } from "./database-unavailable.js";
import { APPLICATION_NAME } from "./postgres-store.js";
import type { StoreLocation } from "./store-location.js";

interface Totals {
  sales: number;
  units: number;
  revenue: number;
}

// Money in cents, rounded once at the end, so the report's sums do not show float noise.
const round = (value: number): number => Math.round(value * 100) / 100;

function report(totals: Totals, books: SalesReport["books"]): SalesReport {
  return {
    generatedAt: new Date().toISOString(),
    sales: totals.sales,
    units: totals.units,
    revenue: round(totals.revenue),
    books: books.map((line) => ({ ...line, revenue: round(line.revenue) })),
  };
}

/** The report from a SQLite connection. */
export function sqliteSalesReport(connection: BetterSqlite3.Database, top: number): SalesReport {
  const totals = connection
    .prepare("SELECT COUNT(*) AS sales, COALESCE(SUM(quantity), 0) AS units, COALESCE(SUM(quantity * unit_price), 0) AS revenue FROM sales")
    .get() as Totals;
  const books = connection
    .prepare(
      `SELECT s.book_id AS bookId, b.title AS title, SUM(s.quantity) AS units, SUM(s.quantity * s.unit_price) AS revenue
       FROM sales s JOIN books b ON b.id = s.book_id
       GROUP BY s.book_id ORDER BY revenue DESC, s.book_id LIMIT ?`,
    )
    .all(top) as SalesReport["books"];
  return report(totals, books);
}

/** The report from a PostgreSQL connection URL: both queries in one read-only snapshot. */
async function postgresSalesReport(url: string, connectionTimeoutMillis: number, top: number): Promise<SalesReport> {
  const { default: pg } = await import("pg");
  const client = new pg.Client({ connectionString: url, connectionTimeoutMillis, application_name: `${APPLICATION_NAME}-report` });
  // A session ended by the server between two queries is an 'error' event, fatal unheard; the next query fails with it.
  client.on("error", () => undefined);
  try {
    await client.connect();
  } catch (error) {
    // No connection now (the server at max_connections, restarting, down): the task retries it.
    await client.end().catch(() => undefined);
    throw isUnavailable(error) ? new DatabaseUnavailable(error) : error;
  }
  try {
    // REPEATABLE READ: the totals and the lines come from the same moment, even while sales are recorded.
    await client.query("BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY");
    // COUNT and SUM of integers are bigint, which node-postgres returns as strings: cast, then Number.
    const totals = await client.query<{ sales: string; units: string; revenue: number }>(
      "SELECT COUNT(*) AS sales, COALESCE(SUM(quantity), 0) AS units, COALESCE(SUM(quantity * unit_price), 0)::float8 AS revenue FROM sales",
    );
    const lines = await client.query<{ bookId: number; title: string; units: string; revenue: number }>(
      `SELECT s.book_id AS "bookId", b.title AS title, SUM(s.quantity) AS units, SUM(s.quantity * s.unit_price) AS revenue
       FROM sales s JOIN books b ON b.id = s.book_id
       GROUP BY s.book_id, b.title ORDER BY revenue DESC, s.book_id LIMIT $1`,
      [top],
    );
    await client.query("COMMIT");
    const row = totals.rows[0]!;
    return report(
      { sales: Number(row.sales), units: Number(row.units), revenue: row.revenue },
      lines.rows.map((line) => ({ bookId: line.bookId, title: line.title, units: Number(line.units), revenue: line.revenue })),
    );
  } finally {
    await client.end();
  }
}

/** Builds the report from the store at `location`, on a connection of its own. */
export async function buildSalesReport(location: StoreLocation, top: number): Promise<SalesReport> {
  if (location.kind === "postgres") return postgresSalesReport(location.url, location.poolTimeoutMs, top);
  const connection = new BetterSqlite3(location.file, { readonly: true, fileMustExist: true });
  try {
    connection.pragma("busy_timeout = 5000");
    return sqliteSalesReport(connection, top);
  } finally {
    connection.close();
  }
}
