/**
 * Sales: `POST /books/{id}/sales` records one, and the sales report (built by a task, see
 * `tasks.ts`) sums them up. The report is the kind of work that does not belong in a request: it
 * reads every sale, and on a real store it would take seconds.
 *
 * @module
 */
import type BetterSqlite3 from "better-sqlite3";
import { Type, type Static } from "@sinclair/typebox";
import { inject, injectable } from "../../layers/di/decorators.js";
import { BookstoreDatabase, Transaction } from "./database.js";

export const SaleCreate = Type.Object({ quantity: Type.Integer({ minimum: 1, maximum: 10_000 }) });
export type SaleCreate = Static<typeof SaleCreate>;

export const Sale = Type.Object({
  id: Type.Integer(),
  bookId: Type.Integer(),
  quantity: Type.Integer(),
  unitPrice: Type.Number(),
  soldAt: Type.String({ format: "date-time" }),
});
export type Sale = Static<typeof Sale>;

/** One book's line in the report. */
export const SalesReportLine = Type.Object({ bookId: Type.Integer(), title: Type.String(), units: Type.Integer(), revenue: Type.Number() });

/** What the sales report task returns (and `GET /reports/{id}` shows once it succeeded). */
export const SalesReport = Type.Object({
  generatedAt: Type.String({ format: "date-time" }),
  sales: Type.Integer(),
  units: Type.Integer(),
  revenue: Type.Number(),
  /** Best sellers by revenue, at most `top`. */
  books: Type.Array(SalesReportLine),
});
export type SalesReport = Static<typeof SalesReport>;

/** Sales: recorded inside a request's transaction, at the book's price of the moment. */
@injectable()
export class SaleRepository {
  private readonly insert: BetterSqlite3.Statement<[number, number, number, string]>;
  private readonly priceOf: BetterSqlite3.Statement<[number], { price: number }>;

  constructor(@inject(BookstoreDatabase) db: BookstoreDatabase) {
    this.insert = db.writer.prepare("INSERT INTO sales (book_id, quantity, unit_price, sold_at) VALUES (?, ?, ?, ?)");
    this.priceOf = db.writer.prepare("SELECT price FROM books WHERE id = ?");
  }

  /** Records a sale of `bookId`, or returns undefined when there is no such book. */
  record(_tx: Transaction, bookId: number, input: SaleCreate): Sale | undefined {
    const book = this.priceOf.get(bookId);
    if (book === undefined) return undefined;
    const soldAt = new Date().toISOString();
    const result = this.insert.run(bookId, input.quantity, book.price, soldAt);
    return { id: Number(result.lastInsertRowid), bookId, quantity: input.quantity, unitPrice: book.price, soldAt };
  }
}

/**
 * Builds the report from a connection (the task opens its own, read-only: it runs in a worker,
 * possibly another process, not in the request that asked for it).
 */
export function buildSalesReport(connection: BetterSqlite3.Database, top: number): SalesReport {
  const totals = connection.prepare("SELECT COUNT(*) AS sales, COALESCE(SUM(quantity), 0) AS units, COALESCE(SUM(quantity * unit_price), 0) AS revenue FROM sales").get() as {
    sales: number;
    units: number;
    revenue: number;
  };
  const books = connection
    .prepare(
      `SELECT s.book_id AS bookId, b.title AS title, SUM(s.quantity) AS units, SUM(s.quantity * s.unit_price) AS revenue
       FROM sales s JOIN books b ON b.id = s.book_id
       GROUP BY s.book_id ORDER BY revenue DESC, s.book_id LIMIT ?`,
    )
    .all(top) as SalesReport["books"];
  // Money in cents, rounded once at the end, so the report's sums do not show float noise.
  const round = (value: number): number => Math.round(value * 100) / 100;
  return {
    generatedAt: new Date().toISOString(),
    sales: totals.sales,
    units: totals.units,
    revenue: round(totals.revenue),
    books: books.map((line) => ({ ...line, revenue: round(line.revenue) })),
  };
}
