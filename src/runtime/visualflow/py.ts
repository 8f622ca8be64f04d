/** Python value semantics the upstream nodes leak into outputs: truthiness, str(), ==, ordering. */
import type { Json } from "../types.ts";

export function truthy(v: Json | undefined): boolean {
  if (v === undefined || v === null || v === false || v === 0 || v === "") return false;
  if (Array.isArray(v)) return v.length > 0;
  if (typeof v === "object") return Object.keys(v).length > 0;
  return true;
}

/** Python `repr` of a value nested in a container. */
function repr(v: Json): string {
  if (typeof v === "string") return `'${v.replace(/\\/g, "\\\\").replace(/'/g, "\\'")}'`;
  return pyStr(v);
}

/** Python `str()`: None/True/False, lists and dicts as reprs. */
export function pyStr(v: Json | undefined): string {
  if (v === undefined || v === null) return "None";
  if (v === true) return "True";
  if (v === false) return "False";
  if (typeof v === "string") return v;
  if (typeof v === "number") return String(v);
  if (Array.isArray(v)) return `[${v.map(repr).join(", ")}]`;
  return `{${Object.entries(v).map(([k, x]) => `${repr(k)}: ${repr(x)}`).join(", ")}}`;
}

/** Deep structural equality; numbers compare by value (1 == 1.0), booleans equal 1/0 as in Python. */
export function pyEquals(a: Json | undefined, b: Json | undefined): boolean {
  const na = numeric(a), nb = numeric(b);
  if (na !== null && nb !== null) return na === nb;
  if (a === undefined || a === null || b === undefined || b === null) return (a ?? null) === (b ?? null);
  if (Array.isArray(a) || Array.isArray(b)) {
    return Array.isArray(a) && Array.isArray(b) && a.length === b.length &&
      a.every((x, i) => pyEquals(x, b[i]));
  }
  if (typeof a === "object" && typeof b === "object") {
    const ka = Object.keys(a), kb = Object.keys(b);
    return ka.length === kb.length && ka.every((k) => k in b && pyEquals(a[k], b[k]));
  }
  return a === b;
}

function numeric(v: Json | undefined): number | null {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  return null;
}

/** Ordering `a < b`-style: numbers with numbers, strings with strings; anything else is incomparable. */
export function pyOrder(a: Json | undefined, b: Json | undefined): number | null {
  const na = numeric(a), nb = numeric(b);
  if (na !== null && nb !== null) return na - nb;
  if (typeof a === "string" && typeof b === "string") return a < b ? -1 : a > b ? 1 : 0;
  return null;
}

/** `float(x)` for math nodes; null/undefined → 0 is NOT allowed upstream (TypeError), so it throws. */
export function toNumber(v: Json | undefined, pin: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && v.trim() !== "" && !Number.isNaN(Number(v))) return Number(v);
  throw new Error(`pin '${pin}' is not a number: ${JSON.stringify(v ?? null)}`);
}

/** Decodes `\n`, `\t`, `\r` escapes typed into separator/delimiter configs. */
export const decodeEscapes = (s: string): string =>
  s.replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\r/g, "\r");
