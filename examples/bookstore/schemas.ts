/**
 * The bookstore's schemas, written once with TypeBox: they validate requests, filter responses,
 * and type the handlers' arguments.
 *
 * @module
 */
import { Type, type Static } from "@sinclair/typebox";

export const AuthorCreate = Type.Object({ name: Type.String({ minLength: 1, maxLength: 200 }) });
export const Author = Type.Object({ id: Type.Integer(), name: Type.String() });
export type Author = Static<typeof Author>;

export const BookCreate = Type.Object({
  title: Type.String({ minLength: 1, maxLength: 200 }),
  authorId: Type.Integer({ minimum: 1 }),
  price: Type.Number({ minimum: 0 }),
  tags: Type.Optional(Type.Array(Type.String({ minLength: 1, maxLength: 50 }), { maxItems: 10 })),
});
export type BookCreate = Static<typeof BookCreate>;

export const Book = Type.Object({
  id: Type.Integer(),
  title: Type.String(),
  authorId: Type.Integer(),
  price: Type.Number(),
  tags: Type.Array(Type.String()),
  createdAt: Type.String({ format: "date-time" }),
});
export type Book = Static<typeof Book>;

export const BookList = Type.Array(Book);

export const BookQuery = Type.Object({
  limit: Type.Integer({ minimum: 1, maximum: 100, default: 20 }),
  offset: Type.Integer({ minimum: 0, default: 0 }),
  tag: Type.Optional(Type.String({ minLength: 1 })),
});
export type BookQuery = Static<typeof BookQuery>;

export const BookId = Type.Object({ id: Type.Integer({ minimum: 1 }) });

export const Detail = Type.Object({ detail: Type.String() });
export const Health = Type.Object({ status: Type.Literal("ok") });
