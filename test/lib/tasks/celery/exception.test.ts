/**
 * Celery's exception dicts ⇄ laminar's SerializedError. The Python-side dicts are what Celery 5.2's
 * `prepare_exception` wrote; the laminar-side dicts were checked with `exception_to_python`
 * (ValidationError → a celery.exceptions.ValidationError, builtins.open → SecurityError).
 */
import t from "tap";
import { fromCeleryException, LAMINAR_EXC_MODULE, toCeleryException } from "../../../../lib/tasks/celery/exception.js";

t.test("Python exceptions arrive with their name, module and message", async (t) => {
  t.same(fromCeleryException({ exc_type: "ValueError", exc_message: ["bad ☃"], exc_module: "builtins" }, "Traceback (most recent call last):\n..."), {
    type: "ValueError",
    message: "bad ☃",
    module: "builtins",
    stack: "Traceback (most recent call last):\n...",
  });
  t.same(fromCeleryException({ exc_type: "KeyError", exc_message: [42], exc_module: "builtins" }), {
    type: "KeyError",
    message: "42",
    module: "builtins",
    data: { args: [42] },
  }, "a non-text argument: JSON text, args kept");
  t.same(fromCeleryException({ exc_type: "MyErr", exc_message: ["a", 2], exc_module: "__main__" }), {
    type: "MyErr",
    message: '["a",2]',
    module: "__main__",
    data: { args: ["a", 2] },
  });
  t.same(fromCeleryException({ exc_type: "E", exc_message: "old style", exc_module: null }), { type: "E", message: "old style" });
  t.same(fromCeleryException(null), { type: "Exception", message: "" }, "garbage does not throw");
});

t.test("laminar errors go to Python as classes it can rebuild", async (t) => {
  t.same(toCeleryException({ type: "TypeError", message: "x" }), { exc_type: "TypeError", exc_message: ["x"], exc_module: "builtins" }, "a Python builtin name stays builtin");
  t.same(toCeleryException({ type: "Error", message: "plain" }), { exc_type: "Exception", exc_message: ["plain"], exc_module: "builtins", laminar_type: "Error" }, "JS Error is Exception");
  t.same(toCeleryException({ type: "ValidationError", message: "bad", data: { code: 7 } }), {
    exc_type: "ValidationError",
    exc_message: ["bad"],
    exc_module: LAMINAR_EXC_MODULE,
    exc_data: { code: 7 },
  }, "unknown to Python: a module Python cannot import, so it builds an Exception subclass of that name");
  t.equal(toCeleryException({ type: "open", message: "x" }).exc_module, LAMINAR_EXC_MODULE, "never builtins.open (SecurityError in Python)");
  t.equal(toCeleryException({ type: "MyErr", message: "x", module: "app.errors" }).exc_module, "app.errors", "a Python error going back keeps its module");
});

t.test("laminar → Celery → laminar keeps name, message and data", async (t) => {
  const back = fromCeleryException(toCeleryException({ type: "ValidationError", message: "bad", data: { code: 7 } }));
  t.same(back, { type: "ValidationError", message: "bad", data: { code: 7 } });
  t.same(fromCeleryException(toCeleryException({ type: "Error", message: "plain" })), { type: "Error", message: "plain", module: "builtins" }, "JS Error comes back as Error");
});
