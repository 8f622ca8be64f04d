/** Math nodes with upstream's Python semantics: floats, missing pins read 0 (1 for divisor, modulus, exponent). */
import type { JsonObject } from "../types.ts";
import type { PureFn } from "./pins.ts";
import { pyRound, toInt, toNumber } from "./py.ts";

/** `float(inputs.get(pin, fallback))`: an unset pin takes the fallback; a present null is still an error. */
const num = (i: JsonObject, pin: string, fallback: number): number =>
  i[pin] === undefined ? fallback : toNumber(i[pin], pin);

const binary = (op: (a: number, b: number) => number, bFallback = 0): PureFn => (i: JsonObject) => ({
  result: op(num(i, "a", 0), num(i, "b", bFallback)),
});

function divide(a: number, b: number): number {
  if (b === 0) throw new Error("Division by zero");
  return a / b;
}

function modulo(a: number, b: number): number {
  if (b === 0) throw new Error("Modulo by zero");
  const r = a % b; // Python: the remainder takes the divisor's sign
  return r !== 0 && (r < 0) !== (b < 0) ? r + b : r;
}

function power(base: number, exp: number): number {
  if (base === 0 && exp < 0) throw new Error("0.0 cannot be raised to a negative power");
  const out = base ** exp;
  if (Number.isNaN(out) && !Number.isNaN(base) && !Number.isNaN(exp)) {
    throw new Error("power: a negative base with a fractional exponent has no real result");
  }
  return out;
}

/** Upstream swaps reversed bounds and reads unreadable bounds as the defaults. */
function bounds(i: JsonObject, lo: number, hi: number, int: boolean): [number, number] {
  const read = (pin: string, d: number) => {
    try {
      const n = num(i, pin, d);
      return int ? Math.trunc(n) : n;
    } catch {
      return d;
    }
  };
  const a = read("min", lo), b = read("max", hi);
  return a <= b ? [a, b] : [b, a];
}

export const MATH_NODES: Record<string, PureFn> = {
  add: binary((a, b) => a + b),
  subtract: binary((a, b) => a - b),
  multiply: binary((a, b) => a * b),
  divide: binary(divide, 1),
  modulo: binary(modulo, 1),
  power: (i) => ({ result: power(num(i, "base", 0), num(i, "exp", 1)) }),
  abs: (i) => ({ result: Math.abs(num(i, "value", 0)) }),
  round: (i) => ({
    result: pyRound(num(i, "value", 0), i.decimals === undefined ? 0 : toInt(i.decimals, "decimals")),
  }),
  random_int: (i) => {
    const [lo, hi] = bounds(i, 0, 100, true);
    return { result: lo + Math.floor(Math.random() * (hi - lo + 1)) };
  },
  random_float: (i) => {
    const [lo, hi] = bounds(i, 0, 1, false);
    return { result: lo + Math.random() * (hi - lo) };
  },
};
