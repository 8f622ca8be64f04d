/** Math nodes (floats; division by zero is a data error). */
import type { JsonObject } from "../types.ts";
import type { PureFn } from "./pins.ts";
import { toNumber } from "./py.ts";

const binary = (op: (a: number, b: number) => number): PureFn => (i: JsonObject) => ({
  result: op(toNumber(i.a, "a"), toNumber(i.b, "b")),
});

function divide(a: number, b: number): number {
  if (b === 0) throw new Error("division by zero");
  return a / b;
}

function modulo(a: number, b: number): number {
  if (b === 0) throw new Error("modulo by zero");
  return ((a % b) + b) % b; // Python sign convention
}

export const MATH_NODES: Record<string, PureFn> = {
  add: binary((a, b) => a + b),
  subtract: binary((a, b) => a - b),
  multiply: binary((a, b) => a * b),
  divide: binary(divide),
  modulo: binary(modulo),
  power: (i) => ({ result: toNumber(i.base, "base") ** toNumber(i.exp, "exp") }),
  abs: (i) => ({ result: Math.abs(toNumber(i.value, "value")) }),
  round: (i) => {
    const d = i.decimals === undefined || i.decimals === null ? 0 : toNumber(i.decimals, "decimals");
    const f = 10 ** d;
    return { result: Math.round(toNumber(i.value, "value") * f) / f };
  },
  random_int: (i) => {
    const lo = Math.ceil(toNumber(i.min ?? 0, "min")), hi = Math.floor(toNumber(i.max ?? 100, "max"));
    return { result: lo + Math.floor(Math.random() * (hi - lo + 1)) };
  },
  random_float: (i) => {
    const lo = toNumber(i.min ?? 0, "min"), hi = toNumber(i.max ?? 1, "max");
    return { result: lo + Math.random() * (hi - lo) };
  },
};
