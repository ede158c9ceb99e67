/**
 * Finds where a JSON text first goes wrong, for the `loc` of a `json_invalid` issue (FastAPI
 * reports `["body", <character position>]` from Python's `JSONDecodeError.pos`).
 *
 * V8's `JSON.parse` names a position for some errors ("… in JSON at position 6") but not for
 * others ("Unexpected token '}', "{"a":}" is not valid JSON"), and its wording changes between
 * Node versions, so the position comes from this small scanner instead. It runs only after
 * `JSON.parse` has failed: its speed does not matter, its iteration (no recursion) does — a body
 * of 100 000 `[` must not overflow the stack.
 *
 * @module
 */

const enum Container {
  Array,
  Object,
}

/**
 * The offset (in UTF-16 code units) of the first character that makes `text` invalid JSON
 * (RFC 8259), `text.length` when it ends too early, or -1 when it is valid.
 */
export function jsonErrorOffset(text: string): number {
  const n = text.length;
  const stack: Container[] = [];
  let i = 0;

  const skipWhitespace = (): void => {
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c !== 0x20 && c !== 0x09 && c !== 0x0a && c !== 0x0d) return;
      i++;
    }
  };
  const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
  const readString = (): boolean => {
    i++; // opening quote
    while (i < n) {
      const c = text.charCodeAt(i);
      if (c === 0x22) {
        i++;
        return true;
      }
      if (c < 0x20) return false;
      if (c === 0x5c) {
        const e = text[i + 1];
        if (e === undefined) {
          i = n;
          return false;
        }
        if (e === "u") {
          for (let k = 2; k < 6; k++) {
            if (i + k >= n) {
              i = n;
              return false;
            }
            if (!/[0-9a-fA-F]/.test(text[i + k]!)) {
              i += k;
              return false;
            }
          }
          i += 6;
          continue;
        }
        if (!'"\\/bfnrt'.includes(e)) {
          i++;
          return false;
        }
        i += 2;
        continue;
      }
      i++;
    }
    return false;
  };
  const readDigits = (): boolean => {
    if (i >= n || !isDigit(text.charCodeAt(i))) return false;
    while (i < n && isDigit(text.charCodeAt(i))) i++;
    return true;
  };
  const readNumber = (): boolean => {
    if (text[i] === "-") i++;
    if (text[i] === "0") i++;
    else if (!readDigits()) return false;
    if (text[i] === ".") {
      i++;
      if (!readDigits()) return false;
    }
    if (text[i] === "e" || text[i] === "E") {
      i++;
      if (text[i] === "+" || text[i] === "-") i++;
      if (!readDigits()) return false;
    }
    return true;
  };
  const readKey = (): boolean => {
    skipWhitespace();
    if (text[i] !== '"' || !readString()) return false;
    skipWhitespace();
    if (text[i] !== ":") return false;
    i++;
    return true;
  };

  for (;;) {
    // Expecting a value.
    skipWhitespace();
    if (i >= n) return n;
    const c = text[i]!;
    if (c === "{" || c === "[") {
      i++;
      skipWhitespace();
      if (text[i] === (c === "{" ? "}" : "]")) {
        i++;
      } else {
        stack.push(c === "{" ? Container.Object : Container.Array);
        if (c === "{" && !readKey()) return Math.min(i, n);
        continue;
      }
    } else if (c === '"') {
      if (!readString()) return Math.min(i, n);
    } else if (c === "-" || isDigit(c.charCodeAt(0))) {
      if (!readNumber()) return Math.min(i, n);
    } else if (text.startsWith("true", i) || text.startsWith("null", i)) {
      i += 4;
    } else if (text.startsWith("false", i)) {
      i += 5;
    } else {
      return i;
    }
    // After a value: commas and closing brackets.
    for (;;) {
      skipWhitespace();
      const top = stack[stack.length - 1];
      if (top === undefined) return i < n ? i : -1;
      if (i >= n) return n;
      const d = text[i];
      if (d === ",") {
        i++;
        if (top === Container.Object && !readKey()) return Math.min(i, n);
        break;
      }
      if (d !== (top === Container.Object ? "}" : "]")) return i;
      i++;
      stack.pop();
    }
  }
}
