/** `X-Request-Id` on every response: the caller's id when it is sane, else a fresh 32-hex id. */
import type { MiddlewareHandler } from "hono";
import type { AppEnv } from "./env.ts";

const SANE_ID = /^[A-Za-z0-9._:-]{1,128}$/;

const newRequestId = (): string => crypto.randomUUID().replaceAll("-", "");

export const requestId: MiddlewareHandler<AppEnv> = async (c, next) => {
  const incoming = c.req.header("x-request-id")?.trim() ?? "";
  const id = SANE_ID.test(incoming) ? incoming : newRequestId();
  c.set("requestId", id);
  c.header("X-Request-Id", id);
  await next();
  if (!c.res.headers.has("X-Request-Id")) {
    // Responses built outside the context (e.g. by a middleware) still carry the id.
    c.res = new Response(c.res.body, c.res);
    c.res.headers.set("X-Request-Id", id);
  }
};
