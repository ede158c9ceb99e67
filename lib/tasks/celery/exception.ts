/**
 * Exceptions as Celery's result backends store them (`{exc_type, exc_message, exc_module}`,
 * `celery/backends/base.py: prepare_exception`) ⇄ laminar's {@link SerializedError}.
 *
 * Python rebuilds a stored exception in `exception_to_python`: it imports `exc_module`, walks
 * `exc_type` as attributes, and calls the class with `*exc_message`. A module that is not loaded
 * makes it create a subclass of `Exception` with the same name (in `celery.exceptions`); a name that
 * resolves to something that is not an exception class raises `SecurityError`. So a laminar error
 * goes to Python with:
 * - `exc_module: "builtins"` when its name is one of Python's built-in exception classes
 *   (`TypeError`, `ValueError`, `KeyError`, …): Python raises that very class;
 * - `Error` (JavaScript's base class) as `builtins.Exception`;
 * - any other name with `exc_module: "laminar"` (never an importable module): Python raises an
 *   `Exception` subclass of that name (`ValidationError('bad input')`), not a confusing
 *   `SecurityError` (which `"builtins"` + a name like `open` would give) nor a bare `RuntimeError`.
 *
 * @module
 */
import type { SerializedError } from "../task-error.js";
import type { CeleryException, CeleryJson } from "./celery-types.js";

/** The module laminar errors without a Python equivalent are attributed to (not importable in Python). */
export const LAMINAR_EXC_MODULE = "laminar";

/** Python 3's built-in exception classes (`[n for n in dir(builtins) if isinstance(getattr(builtins, n), type) and issubclass(..., BaseException)]`). */
const PYTHON_BUILTIN_EXCEPTIONS: ReadonlySet<string> = new Set([
  "ArithmeticError", "AssertionError", "AttributeError", "BaseException", "BlockingIOError", "BrokenPipeError",
  "BufferError", "ChildProcessError", "ConnectionAbortedError", "ConnectionError", "ConnectionRefusedError",
  "ConnectionResetError", "EOFError", "EnvironmentError", "Exception", "FileExistsError", "FileNotFoundError",
  "FloatingPointError", "IOError", "ImportError", "IndentationError", "IndexError", "InterruptedError",
  "IsADirectoryError", "KeyError", "LookupError", "MemoryError", "ModuleNotFoundError", "NameError",
  "NotADirectoryError", "NotImplementedError", "OSError", "OverflowError", "PermissionError", "ProcessLookupError",
  "RecursionError", "ReferenceError", "RuntimeError", "StopAsyncIteration", "StopIteration", "SyntaxError",
  "SystemError", "TabError", "TimeoutError", "TypeError", "UnboundLocalError", "UnicodeDecodeError",
  "UnicodeEncodeError", "UnicodeError", "UnicodeTranslateError", "ValueError", "ZeroDivisionError",
]);

/** A laminar error as Celery's exception dict, rebuildable by Python (see the module comment). */
export function toCeleryException(error: SerializedError): CeleryException {
  const type = typeof error.type === "string" && error.type !== "" ? error.type : "Error";
  const message = typeof error.message === "string" ? error.message : String(error.message);
  const out: CeleryException =
    type === "Error"
      ? { exc_type: "Exception", exc_message: [message], exc_module: "builtins" }
      : PYTHON_BUILTIN_EXCEPTIONS.has(type) && (error.module === undefined || error.module === "builtins")
        ? { exc_type: type, exc_message: [message], exc_module: "builtins" }
        : // A module named by the error itself (one that came from Python and goes back) is kept.
          { exc_type: type, exc_message: [message], exc_module: error.module !== undefined && error.module !== "builtins" ? error.module : LAMINAR_EXC_MODULE };
  if (error.data !== undefined) out.exc_data = error.data as { [key: string]: CeleryJson };
  if (out.exc_type !== type) out.laminar_type = type;
  return out;
}

/**
 * Celery's exception dict as a laminar error: `name` is `exc_type` (a Python `ValueError` arrives as
 * `"ValueError"`, module `"builtins"`), the message is the single string argument, or the arguments
 * as JSON text when there are several (Python's `str(exc)` would show their tuple). `traceback` is
 * the meta's `traceback` field, kept as the stack.
 */
export function fromCeleryException(exc: unknown, traceback?: string | null): SerializedError {
  const record = exc !== null && typeof exc === "object" && !Array.isArray(exc) ? (exc as Record<string, unknown>) : {};
  const type =
    typeof record.laminar_type === "string" && record.laminar_type !== ""
      ? record.laminar_type
      : typeof record.exc_type === "string" && record.exc_type !== ""
        ? record.exc_type
        : "Exception";
  const args = record.exc_message;
  let message: string;
  if (Array.isArray(args)) {
    message = args.length === 0 ? "" : args.length === 1 ? textOf(args[0]) : textOf(args);
  } else {
    message = args === undefined || args === null ? "" : textOf(args);
  }
  const error: SerializedError = { type, message };
  if (typeof record.exc_module === "string" && record.exc_module !== "") error.module = record.exc_module;
  if (typeof traceback === "string" && traceback !== "") error.stack = traceback;
  if (record.exc_data !== null && typeof record.exc_data === "object" && !Array.isArray(record.exc_data)) {
    error.data = record.exc_data as Record<string, unknown>;
  } else if (Array.isArray(args) && (args.length > 1 || (args.length === 1 && typeof args[0] !== "string"))) {
    // Several (or non-text) arguments: kept whole, so the caller can read `error.args` as Python would.
    error.data = { args };
  }
  if (error.module === LAMINAR_EXC_MODULE) delete error.module;
  return error;
}

function textOf(value: unknown): string {
  if (typeof value === "string") return value;
  try {
    return JSON.stringify(value) ?? String(value);
  } catch {
    return String(value);
  }
}
