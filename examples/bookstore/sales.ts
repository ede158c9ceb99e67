/**
 * Sales: `POST /books/{id}/sales` records one, and the sales report (built by a task, see
 * `tasks.ts`) sums them up. The report is the kind of work that does not belong in a request: it
 * reads every sale, and on a real store it would take seconds. The schemas are here; the queries
 * are the stores' (`store/*-repositories.ts`, `store/sales-report.ts`).
 *
 * @module
 */
import { Type, type Static } from "@sinclair/typebox";

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
