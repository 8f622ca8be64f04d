import assert from "node:assert/strict";
import { adminResourceClass, isStreamPath, uploadKind } from "../../src/security/routes.ts";
import { bodyLimitFor } from "../../src/security/body_limit.ts";
import { loadConfig } from "../../src/config/config.ts";

Deno.test("admin route table", () => {
  const cases: [string, boolean, string | null][] = [
    ["/api/gateway/admin", false, "admin"],
    ["/api/gateway/admin/users", false, "admin"],
    ["/api/gateway/administrator", false, null],
    ["/api/gateway/audit/tail", false, "audit"],
    ["/api/gateway/audit/tail/", false, "audit"],
    ["/api/gateway//AUDIT/tail", false, "audit"],
    ["/api/gateway/processes/x", true, "processes"],
    ["/api/gateway/backlog", false, "backlog"],
    ["/api/gateway/triage/a", false, "triage"],
    ["/api/gateway/reports", false, "reports"],
    ["/api/gateway/email/inbox", false, "email"],
    ["/api/gateway/host/gpu", false, "host"],
    ["/api/gateway/files/read", false, "workspace"],
    ["/api/gateway/models/loaded", false, "models"],
    ["/api/gateway/models/load", true, "models"],
    ["/api/gateway/models", false, null],
    ["/api/gateway/artifacts/import", true, "workspace"],
    ["/api/gateway/attachments/ingest", true, "workspace"],
    ["/api/gateway/runs/r1/artifacts/a1/export", false, "workspace"],
    ["/api/gateway/runs/r1/artifacts/a1", false, null],
    ["/api/gateway/blocs/x", false, null],
    ["/api/gateway/blocs/x", true, "blocs"],
    ["/api/gateway/prompt_cache", true, "prompt_cache"],
    ["/api/gateway/prompt_cache/stats", false, null],
    ["/api/gateway/runs", true, null],
    ["/api/other/admin", false, null],
  ];
  for (const [path, write, expected] of cases) assert.equal(adminResourceClass(path, write), expected, path);
});

Deno.test("upload and stream paths", () => {
  assert.equal(uploadKind("/api/gateway/bundles/upload"), "bundle");
  assert.equal(uploadKind("/api/gateway/attachments/upload/"), "attachment");
  assert.equal(uploadKind("/api/gateway/commands"), null);
  assert.ok(isStreamPath("/api/gateway/runs/x/ledger/stream"));
  assert.ok(isStreamPath("/api/gateway/runs/changes/stream"));
  assert.equal(isStreamPath("/api/gateway/runs/x/ledger"), false);
});

Deno.test("body caps: endpoint cap + 2 MiB for uploads, bounded by MAX_UPLOAD_BODY_BYTES", () => {
  const base = loadConfig({});
  assert.equal(bodyLimitFor(base, "/api/gateway/commands"), 256_000);
  assert.equal(bodyLimitFor(base, "/api/gateway/bundles/upload"), 78_643_200 + 2 * 1024 * 1024);
  assert.equal(bodyLimitFor(base, "/api/gateway/attachments/upload"), 26_214_400 + 2 * 1024 * 1024);
  const capped = loadConfig({ ABSTRACTGATEWAY_MAX_UPLOAD_BODY_BYTES: "1000000" });
  assert.equal(bodyLimitFor(capped, "/api/gateway/bundles/upload"), 1_000_000);
  const unlimited = loadConfig({ ABSTRACTGATEWAY_MAX_BODY_BYTES: "0" });
  assert.equal(bodyLimitFor(unlimited, "/api/gateway/commands"), 0);
});
