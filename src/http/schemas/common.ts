/** Schema building blocks shared by the route families (query coercion, error bodies, route helper). */
import { createRoute, z } from "@hono/zod-openapi";

const ErrorBody = z.object({
  detail: z.union([
    z.string(),
    z.array(z.object({ type: z.string(), loc: z.array(z.union([z.string(), z.number()])), msg: z.string() })),
  ]),
}).openapi("Error");

const TRUE = new Set(["1", "true", "yes", "on", "t", "y"]);
const FALSE = new Set(["0", "false", "no", "off", "f", "n"]);

/** A boolean query parameter parsed the FastAPI way (`true/false/1/0/yes/no/on/off`). */
export const boolQuery = (fallback: boolean) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v === "") return fallback;
    const s = v.trim().toLowerCase();
    if (TRUE.has(s)) return true;
    if (FALSE.has(s)) return false;
    ctx.addIssue({ code: "custom", message: "Input should be a valid boolean" });
    return z.NEVER;
  }).openapi({ type: "boolean", default: fallback });

/** An integer query parameter within [min, max]. */
export const intQuery = (fallback: number, min: number, max: number) =>
  z.string().optional().transform((v, ctx) => {
    if (v === undefined || v === "") return fallback;
    if (!/^-?\d+$/.test(v.trim())) {
      ctx.addIssue({ code: "custom", message: "Input should be a valid integer" });
      return z.NEVER;
    }
    const n = Number(v);
    if (n < min) {
      ctx.addIssue({ code: "custom", message: `Input should be greater than or equal to ${min}` });
      return z.NEVER;
    }
    if (n > max) {
      ctx.addIssue({ code: "custom", message: `Input should be less than or equal to ${max}` });
      return z.NEVER;
    }
    return n;
  }).openapi({ type: "integer", default: fallback, minimum: min, maximum: max });

/** An open JSON object (the document says "object"; any keys). */
export const JsonObjectSchema = z.record(z.string(), z.unknown());

export const jsonContent = <T extends z.ZodType>(schema: T, description: string) => ({
  content: { "application/json": { schema } },
  description,
});

const ERROR_TEXT: Record<number, string> = {
  400: "Bad request (the detail says what is wrong)",
  401: "Missing or wrong bearer token",
  403: "Forbidden",
  404: "Not found",
  409: "Conflict",
  413: "Payload too large",
  422: "Request validation failed",
  429: "Too many requests",
  503: "Busy: retry after the Retry-After header's seconds",
  500: "Internal error",
};

export function errorResponses(...codes: number[]) {
  const out: Record<
    number,
    { content: { "application/json": { schema: typeof ErrorBody } }; description: string }
  > = {};
  for (const code of [401, 422, ...codes]) out[code] = jsonContent(ErrorBody, ERROR_TEXT[code] ?? "Error");
  return out;
}

type RouteConfig = Parameters<typeof createRoute>[0];

/** A route under `/api/gateway`: documented with the bearer-token security requirement. */
export const gatewayRoute = <R extends RouteConfig>(route: R) =>
  createRoute({ ...route, path: `/api/gateway${route.path}`, security: [{ gatewayBearerAuth: [] }] });
