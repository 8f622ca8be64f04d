/** Reads a multipart/form-data request body (uploads): 400 for anything else or a malformed body. */
import type { Context } from "hono";
import { BodyReadError } from "../security/body_deadline.ts";
import { HttpError } from "./errors.ts";

/** The form of a multipart request; `expected` describes the fields for the 400 when it is not one. */
export async function readMultipart(c: Context, expected: string): Promise<FormData> {
  if (!/^multipart\/form-data/i.test(c.req.header("content-type") ?? "")) {
    throw new HttpError(400, expected);
  }
  try {
    return await c.req.raw.formData();
  } catch (err) {
    if (err instanceof BodyReadError) throw err; // too slow: 408, not the client's syntax
    throw new HttpError(400, `Invalid multipart body: ${err instanceof Error ? err.message : String(err)}`);
  }
}
