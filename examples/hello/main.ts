/**
 * The README's ten-line app. Run: `npm run build && node dist/examples/hello/main.js`.
 *
 * @module
 */
import { App, Type, HttpException } from "../../lib/index.js";

const app = new App();
const Book = Type.Object({ id: Type.Integer(), title: Type.String({ minLength: 1 }) });
const books = new Map<number, { id: number; title: string }>();

app.get("/books/{id}", { params: Type.Object({ id: Type.Integer() }), response: Book }, ({ params }) => {
  const book = books.get(params.id);
  if (book === undefined) throw new HttpException(404, "Book not found");
  return book;
});
app.post("/books", { body: Book, response: { 201: Book }, status: 201 }, ({ body }) => books.set(body.id, body).get(body.id)!);
await app.listen({ host: "127.0.0.1", port: Number(process.env.PORT ?? 8000) });
