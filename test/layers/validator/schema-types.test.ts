/**
 * Type-level tests for `StaticOf`: `npm test` runs `tsc --noEmit` over test/ before tap, so each
 * `@ts-expect-error` below fails the build if the inference it guards is lost (an unused
 * expect-error is itself an error).
 */
import t from "tap";
import { Type } from "@sinclair/typebox";
import type { JsonSchema } from "../../../layers/validator/validator.js";
import type { SchemaLike, StaticOf } from "../../../layers/validator/schema-types.js";

const Book = Type.Object({
  id: Type.Integer({ minimum: 1 }),
  title: Type.String(),
  tags: Type.Optional(Type.Array(Type.String())),
  kind: Type.Union([Type.Literal("paper"), Type.Literal("ebook")]),
  author: Type.Object({ email: Type.String({ format: "email" }) }),
});
type Book = StaticOf<typeof Book>;

const book: Book = { id: 1, title: "Dune", kind: "paper", author: { email: "f@h.io" } };
const id: number = book.id;
const tags: string[] | undefined = book.tags;

// @ts-expect-error id is a number, not a string
const wrongId: Book = { ...book, id: "1" };
// @ts-expect-error kind is "paper" | "ebook"
const wrongKind: Book = { ...book, kind: "vinyl" };
// @ts-expect-error title is required
const missingTitle: Book = { id: 1, kind: "paper", author: { email: "x" } };
// @ts-expect-error tags may be undefined
const mustCheck: string[] = book.tags;

// No schema: the fallback. Plain JSON Schema: unknown (it carries no static type).
const none: StaticOf<undefined, { empty: true }> = { empty: true };
const plain: StaticOf<JsonSchema> = 5 as unknown;
// @ts-expect-error an unknown cannot be used as a number without a check
const plainNumber: number = plain;
// @ts-expect-error the fallback is the type used when no schema is declared
const wrongFallback: StaticOf<undefined, { empty: true }> = { empty: false };

// Both kinds of schema are SchemaLike.
const schemas: SchemaLike[] = [Book, { type: "object" }];

void [id, tags, wrongId, wrongKind, missingTitle, mustCheck, none, plainNumber, wrongFallback];

t.equal(schemas.length, 2, "type assertions above are checked by tsc; this keeps tap counting the file");
