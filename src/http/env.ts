/** Hono environment shared by every route of the HTTP API. */
import type { OpenAPIHono } from "@hono/zod-openapi";

import type { Principal } from "../security/principal.ts";

/** The authenticated caller, as set by the security middleware (`c.set("principal", …)`). */
export type { Principal };

export interface AppEnv {
  Bindings: { info?: Deno.ServeHandlerInfo };
  Variables: {
    /** Echo of the request's `X-Request-Id` or a fresh 32-hex id; also sent back on every response. */
    requestId: string;
    principal?: Principal;
  };
}

export type App = OpenAPIHono<AppEnv>;
