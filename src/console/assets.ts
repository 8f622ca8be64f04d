/**
 * The console's two assets, built into the binary: the client script (client.js, served as the
 * source of one function so it needs no bundler and no file read at run time) and the stylesheet.
 * Both are gzip-compressed once at start and served with a content hash as ETag.
 */
import { gzipSync } from "fflate";
import { consoleMain } from "./client.js";
import { CONSOLE_CSS } from "./style.ts";

interface Asset {
  type: string;
  plain: Uint8Array<ArrayBuffer>;
  gzip: Uint8Array<ArrayBuffer>;
  etag: string;
}

function asset(type: string, text: string): Asset {
  const plain = new TextEncoder().encode(text);
  let hash = 0x811c9dc5;
  for (const byte of plain) hash = Math.imul(hash ^ byte, 0x01000193) >>> 0;
  return {
    type,
    plain,
    gzip: gzipSync(plain, { level: 9, mtime: 0 }),
    etag: `"${hash.toString(16)}-${plain.length}"`,
  };
}

export const CONSOLE_ASSETS: Record<string, Asset> = {
  "console.js": asset("text/javascript; charset=utf-8", `"use strict";(${consoleMain.toString()})();\n`),
  "console.css": asset("text/css; charset=utf-8", CONSOLE_CSS),
};

export function consoleAsset(
  name: string,
  acceptEncoding: string | undefined,
  ifNoneMatch?: string,
): Response {
  const a = Object.hasOwn(CONSOLE_ASSETS, name) ? CONSOLE_ASSETS[name] : undefined;
  if (!a) return Response.json({ detail: "Not Found" }, { status: 404 });
  const headers: Record<string, string> = {
    "content-type": a.type,
    "cache-control": "no-cache",
    "etag": a.etag,
    "vary": "Accept-Encoding",
    "x-content-type-options": "nosniff",
  };
  if (ifNoneMatch === a.etag) return new Response(null, { status: 304, headers });
  const gzip = /\bgzip\b/.test(acceptEncoding ?? "");
  if (gzip) headers["content-encoding"] = "gzip";
  return new Response(gzip ? a.gzip : a.plain, { headers });
}
