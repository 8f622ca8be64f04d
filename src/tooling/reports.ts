/**
 * The report/triage inbox: bug reports and feature requests under `<dataDir>/reports/`, one
 * `<id>.json` (the record, source of truth) and one `<id>.md` (a readable rendering) per report.
 * Ids are `<kind>-<utc timestamp>-<title slug>`, made unique by hard-linking the new file into place
 * (a collision gets a numeric suffix), so two submissions never overwrite each other.
 */
import { join } from "node:path";
import { isoUtc } from "../util/time.ts";
import { writeFileAtomic } from "../util/atomic.ts";
import { ToolingError } from "./errors.ts";

export const REPORT_KINDS = ["bug", "feature"] as const;
export type ReportKind = (typeof REPORT_KINDS)[number];
export const REPORT_STATUSES = ["new", "triaged", "accepted", "rejected", "done"] as const;
export type ReportStatus = (typeof REPORT_STATUSES)[number];

export interface ReportInput {
  kind: ReportKind;
  title: string;
  body: string;
  /** Who filed it (principal user id or a client-supplied name). */
  reporter?: string | null;
  /** Free-form context: run id, client version, page, … */
  context?: Record<string, unknown>;
}

export interface ReportHistoryEntry {
  at: string;
  status: ReportStatus;
  note: string | null;
}

export interface Report {
  id: string;
  kind: ReportKind;
  title: string;
  body: string;
  status: ReportStatus;
  reporter: string | null;
  context: Record<string, unknown>;
  created_at: string;
  updated_at: string;
  history: ReportHistoryEntry[];
}

export type ReportSummary = Omit<Report, "body" | "history">;

const ID = /^[a-z0-9-]{1,160}$/;

export class ReportInbox {
  readonly dir: string;
  /** Serialises read-modify-write of status updates within this process. */
  #updates: Promise<unknown> = Promise.resolve();

  constructor(dataDir: string) {
    this.dir = join(dataDir, "reports");
  }

  async submit(input: ReportInput): Promise<Report> {
    await Deno.mkdir(this.dir, { recursive: true });
    const now = isoUtc();
    const base = `${input.kind}-${now.slice(0, 19).replace(/[-:]/g, "").replace("T", "-")}-${
      slug(input.title)
    }`;
    for (let n = 1;; n++) {
      const id = n === 1 ? base : `${base}-${n}`;
      const report: Report = {
        id,
        kind: input.kind,
        title: input.title,
        body: input.body,
        status: "new",
        reporter: input.reporter ?? null,
        context: input.context ?? {},
        created_at: now,
        updated_at: now,
        history: [{ at: now, status: "new", note: null }],
      };
      try {
        await writeFileAtomic(this.#jsonPath(id), encodeJson(report), { overwrite: false });
      } catch (err) {
        if (err instanceof Deno.errors.AlreadyExists) continue;
        throw err;
      }
      await writeFileAtomic(this.#mdPath(id), new TextEncoder().encode(renderMarkdown(report)));
      return report;
    }
  }

  async get(id: string): Promise<Report> {
    if (!ID.test(id)) throw new ToolingError(404, `Report '${id}' not found`);
    let text: string;
    try {
      text = await Deno.readTextFile(this.#jsonPath(id));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) throw new ToolingError(404, `Report '${id}' not found`);
      throw err;
    }
    try {
      return JSON.parse(text) as Report;
    } catch {
      throw new ToolingError(500, `Report file ${this.#jsonPath(id)} is corrupt`);
    }
  }

  /** Newest first; corrupt files are named in `errors` instead of failing the listing. */
  async list(filter: { kind?: ReportKind; status?: ReportStatus; limit?: number } = {}): Promise<{
    items: ReportSummary[];
    errors: { file: string; error: string }[];
  }> {
    const items: ReportSummary[] = [];
    const errors: { file: string; error: string }[] = [];
    let entries: Deno.DirEntry[];
    try {
      entries = await Array.fromAsync(Deno.readDir(this.dir));
    } catch (err) {
      if (err instanceof Deno.errors.NotFound) return { items, errors };
      throw err;
    }
    for (const entry of entries) {
      if (!entry.isFile || !entry.name.endsWith(".json") || entry.name.startsWith(".")) continue;
      try {
        const { body: _body, history: _history, ...summary } = JSON.parse(
          await Deno.readTextFile(join(this.dir, entry.name)),
        ) as Report;
        if (filter.kind && summary.kind !== filter.kind) continue;
        if (filter.status && summary.status !== filter.status) continue;
        items.push(summary);
      } catch (err) {
        errors.push({
          file: join(this.dir, entry.name),
          error: err instanceof Error ? err.message : String(err),
        });
      }
    }
    items.sort((a, b) => b.created_at.localeCompare(a.created_at) || b.id.localeCompare(a.id));
    return { items: items.slice(0, filter.limit ?? 500), errors };
  }

  updateStatus(id: string, status: ReportStatus, note: string | null = null): Promise<Report> {
    const next = this.#updates.then(async () => {
      const report = await this.get(id);
      const at = isoUtc();
      const updated: Report = {
        ...report,
        status,
        updated_at: at,
        history: [...report.history, { at, status, note }],
      };
      await writeFileAtomic(this.#jsonPath(id), encodeJson(updated));
      await writeFileAtomic(this.#mdPath(id), new TextEncoder().encode(renderMarkdown(updated)));
      return updated;
    });
    this.#updates = next.catch(() => {});
    return next;
  }

  #jsonPath(id: string): string {
    return join(this.dir, `${id}.json`);
  }

  #mdPath(id: string): string {
    return join(this.dir, `${id}.md`);
  }
}

function slug(title: string): string {
  const s = title.toLowerCase().normalize("NFKD").replace(/[^a-z0-9]+/g, "-").replace(/^-+|-+$/g, "");
  return s.slice(0, 48).replace(/-+$/, "") || "untitled";
}

function encodeJson(report: Report): Uint8Array {
  return new TextEncoder().encode(JSON.stringify(report, null, 2) + "\n");
}

function renderMarkdown(report: Report): string {
  const lines = [
    `# ${report.title}`,
    "",
    `- id: ${report.id}`,
    `- kind: ${report.kind}`,
    `- status: ${report.status}`,
    `- reporter: ${report.reporter ?? "unknown"}`,
    `- created: ${report.created_at}`,
    `- updated: ${report.updated_at}`,
  ];
  if (Object.keys(report.context).length > 0) {
    lines.push("", "## Context", "", "```json", JSON.stringify(report.context, null, 2), "```");
  }
  lines.push("", "## Description", "", report.body, "", "## History", "");
  for (const h of report.history) lines.push(`- ${h.at} ${h.status}${h.note ? `: ${h.note}` : ""}`);
  return lines.join("\n") + "\n";
}
