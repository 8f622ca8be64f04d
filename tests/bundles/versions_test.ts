import assert from "node:assert/strict";
import type { LoadedBundle } from "../../src/bundles/types.ts";
import {
  compareVersions,
  isDraftVersion,
  latestPublished,
  latestVersion,
  newestOf,
  versionChannel,
} from "../../src/bundles/versions.ts";

function fake(version: string, createdAt: string | null = null): LoadedBundle {
  return {
    manifest: {
      bundle_format_version: "1",
      bundle_id: "b",
      bundle_version: version,
      created_at: createdAt,
      entrypoints: [{ flow_id: "f", name: "f", description: "", interfaces: [] }],
      default_entrypoint: null,
      flows: { f: "flows/f.json" },
      assets: {},
      metadata: {},
    },
    ref: `b@${version}`,
    file: null,
    sha256: "",
    flows: {},
  };
}

const latestOf = (...bundles: LoadedBundle[]) => latestVersion(bundles)?.manifest.bundle_version;

Deno.test("versions: drafts are `draft.*`, case-insensitive", () => {
  assert.equal(isDraftVersion("draft.1234"), true);
  assert.equal(isDraftVersion("DRAFT.x"), true);
  assert.equal(isDraftVersion("drafted"), false);
  assert.equal(isDraftVersion("1.0.0"), false);
  assert.equal(versionChannel("Draft.a"), "draft");
  assert.equal(versionChannel("dev"), "published");
});

Deno.test("versions: numeric dotted versions compare as semver with missing parts = 0", () => {
  assert.equal(latestOf(fake("0.0.9"), fake("0.0.10"), fake("0.0.2")), "0.0.10");
  assert.equal(latestOf(fake("1"), fake("0.9.9")), "1");
  assert.equal(latestOf(fake("1.2"), fake("1.1.9")), "1.2");
  assert.equal(latestOf(fake("1.0.0.1"), fake("1.0.0")), "1.0.0.1");
});

Deno.test("versions: otherwise the greatest (created_at, version) wins", () => {
  assert.equal(latestOf(fake("dev", "2026-02-01T00:00:00Z"), fake("1.0.0", "2026-01-01T00:00:00Z")), "dev");
  assert.equal(latestOf(fake("dev", "2026-01-01T00:00:00Z"), fake("1.0.0", "2026-03-01T00:00:00Z")), "1.0.0");
  assert.equal(latestOf(fake("alpha", "2026-01-01"), fake("beta", "2026-01-01")), "beta");
  assert.equal(latestOf(fake("x", null), fake("a", "2026-01-01")), "a");
});

Deno.test("versions: published versions are preferred over newer drafts", () => {
  const pub = fake("0.0.1", "2026-01-01");
  const draft = fake("draft.abc", "2026-06-01");
  assert.equal(latestOf(pub, draft), "0.0.1");
  assert.equal(latestOf(draft), "draft.abc");
  assert.equal(latestPublished([draft]), undefined);
  assert.equal(newestOf([pub, draft])?.manifest.bundle_version, "draft.abc");
  assert.equal(latestVersion([]), undefined);
});

Deno.test("versions: listing order is numeric-aware", () => {
  assert.deepEqual(["0.0.10", "0.0.9", "dev", "0.1"].sort(compareVersions), [
    "0.0.9",
    "0.0.10",
    "0.1",
    "dev",
  ]);
});
