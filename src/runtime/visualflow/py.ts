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
  if (Array.isArray(a) && Array.isArray(b)) { // lexicographic, as Python lists
    for (let k = 0; k < Math.min(a.length, b.length); k++) {
      if (pyEquals(a[k], b[k])) continue;
      return pyOrder(a[k], b[k]);
    }
    return a.length - b.length;
  }
  return null;
}

/** Python `float()` text syntax (surrounding whitespace and digit underscores allowed). */
const PY_FLOAT = /^[+-]?((\d(_?\d)*)?\.?\d(_?\d)*([eE][+-]?\d(_?\d)*)?|(\d(_?\d)*)\.|inf(inity)?|nan)$/i;

/** `float(x)`: numbers, booleans and numeric text; anything else (null, lists, prose) is an error. */
export function toNumber(v: Json | undefined, pin: string): number {
  if (typeof v === "number") return v;
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && PY_FLOAT.test(v.trim())) {
    const t = v.trim().replace(/_/g, "").toLowerCase().replace(/^([+-]?)inf(inity)?$/, "$1Infinity");
    return Number(t);
  }
  throw new Error(`pin '${pin}' is not a number: ${JSON.stringify(v ?? null)}`);
}

/** `int(x)` for count-like pins: floats truncate, integer text only. */
export function toInt(v: Json | undefined, pin: string): number {
  if (typeof v === "number" && Number.isFinite(v)) return Math.trunc(v);
  if (typeof v === "boolean") return v ? 1 : 0;
  if (typeof v === "string" && /^[+-]?\d(_?\d)*$/.test(v.trim())) return Number(v.trim().replace(/_/g, ""));
  throw new Error(`pin '${pin}' is not an integer: ${JSON.stringify(v ?? null)}`);
}

/** Exact `m * 2^e` decomposition of a finite double. */
function binaryParts(x: number): { m: bigint; e: number } {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const bits = view.getBigUint64(0);
  const exp = Number((bits >> 52n) & 0x7ffn);
  const frac = bits & 0xfffffffffffffn;
  return exp === 0 ? { m: frac, e: -1074 } : { m: frac | (1n << 52n), e: exp - 1075 };
}

/** Python's `round(x, ndigits)`: half to even on the exact binary value (round(2.5) == 2, round(2.675, 2) == 2.67). */
export function pyRound(x: number, ndigits: number): number {
  if (!Number.isFinite(x) || x === 0) return x;
  const { m, e } = binaryParts(x);
  const num = m * 10n ** BigInt(Math.max(ndigits, 0)) * 2n ** BigInt(Math.max(e, 0));
  const den = 10n ** BigInt(Math.max(-ndigits, 0)) * 2n ** BigInt(Math.max(-e, 0));
  let q = num / den;
  const twice = (num % den) * 2n;
  if (twice > den || (twice === den && q % 2n === 1n)) q += 1n;
  const out = Number(`${q}e${-ndigits}`);
  return x < 0 ? -out : out;
}

/** Decodes `\n`, `\t`, `\r` escapes typed into separator/delimiter configs. */
export const decodeEscapes = (s: string): string =>
  s.replace(/\\n/g, "\n").replace(/\\t/g, "\t").replace(/\\r/g, "\r");
