/** Version channels and the "latest version" rule for bundle ids (gateway contract §3.4). */
import type { LoadedBundle } from "./types.ts";

export type VersionChannel = "draft" | "published";

/** A draft version starts with `draft.` (case-insensitive). */
export function isDraftVersion(version: string): boolean {
  return version.toLowerCase().startsWith("draft.");
}

export function versionChannel(version: string): VersionChannel {
  return isDraftVersion(version) ? "draft" : "published";
}

const NUMERIC_DOTTED = /^\d+(\.\d+)*$/;

function numericParts(version: string): number[] {
  const parts = version.split(".").map(Number);
  while (parts.length < 3) parts.push(0);
  return parts;
}

function compareNumeric(a: string, b: string): number {
  const pa = numericParts(a);
  const pb = numericParts(b);
  for (let i = 0; i < Math.max(pa.length, pb.length); i++) {
    const d = (pa[i] ?? 0) - (pb[i] ?? 0);
    if (d !== 0) return d;
  }
  return 0;
}

const cmpStr = (a: string, b: string): number => (a < b ? -1 : a > b ? 1 : 0);

/** The newest of `candidates`: max semver when all are numeric dotted, else max (created_at, version). */
export function newestOf(candidates: readonly LoadedBundle[]): LoadedBundle | undefined {
  if (candidates.length === 0) return undefined;
  const allNumeric = candidates.every((b) => NUMERIC_DOTTED.test(b.manifest.bundle_version));
  const cmp = allNumeric
    ? (a: LoadedBundle, b: LoadedBundle) =>
      compareNumeric(a.manifest.bundle_version, b.manifest.bundle_version)
    : (a: LoadedBundle, b: LoadedBundle) =>
      cmpStr(a.manifest.created_at ?? "", b.manifest.created_at ?? "") ||
      cmpStr(a.manifest.bundle_version, b.manifest.bundle_version);
  return candidates.reduce((best, b) => (cmp(b, best) > 0 ? b : best));
}

export function latestPublished(versions: readonly LoadedBundle[]): LoadedBundle | undefined {
  return newestOf(versions.filter((b) => !isDraftVersion(b.manifest.bundle_version)));
}

/** The latest version of one bundle id: published versions win over drafts whenever any exist. */
export function latestVersion(versions: readonly LoadedBundle[]): LoadedBundle | undefined {
  return latestPublished(versions) ?? newestOf(versions);
}

/** Sort order for listings: numeric-aware version order. */
export function compareVersions(a: string, b: string): number {
  if (NUMERIC_DOTTED.test(a) && NUMERIC_DOTTED.test(b)) return compareNumeric(a, b) || cmpStr(a, b);
  return a.localeCompare(b, "en", { numeric: true });
}
