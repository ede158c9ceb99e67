/**
 * The schemas both benchmark servers use for `POST /items`, so that each does the same work.
 *
 * @module
 */
import { Type } from "@sinclair/typebox";

export const ItemCreate = Type.Object({
  name: Type.String({ minLength: 1, maxLength: 100 }),
  price: Type.Number({ minimum: 0 }),
  tags: Type.Array(Type.String(), { maxItems: 10 }),
});

export const Item = Type.Object({
  id: Type.Integer(),
  name: Type.String(),
  price: Type.Number(),
  tags: Type.Array(Type.String()),
});
