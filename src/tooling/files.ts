/**
 * Workspace file helpers for operator tooling: list, read and write under the configured workspace
 * roots (ABSTRACTGATEWAY_WORKSPACE_DIR and ABSTRACTGATEWAY_WORKSPACE_MOUNTS). Every path is resolved
 * with `Deno.realPath` and must stay inside a root: Deno's permission checks follow symlinks, so a
 * symlink planted in a root that points outside would otherwise leak files.
 */
import { join } from "node:path";
import { writeFileAtomic } from "../util/atomic.ts";
import { ToolingError } from "./errors.ts";
import {
  isIgnored,
  type ParsedPath,
  parseVirtualPath,
  segmentsUnder,
  virtualPath,
  WORKSPACE_ROOT,
  type WorkspaceRoot,
} from "./workspace_paths.ts";

export interface WorkspaceFilesOptions {
  workspaceDir?: string;
  mounts?: Record<string, string>;
  /** Largest file read or written (bytes). */
  maxFileBytes: number;
  /** Most entries returned by one listing (default 1000). */
  maxListEntries?: number;
}

export interface FileEntry {
  name: string;
  /** Virtual path usable in further calls. */
  path: string;
  type: "file" | "dir" | "symlink" | "other";
  size: number;
  modified: string | null;
}

export interface ListResult {
  path: string;
  entries: FileEntry[];
  truncated: boolean;
}

export interface ReadResult {
  path: string;
  size: number;
  /** `utf-8` for valid UTF-8 text, otherwise `base64`. */
  encoding: "utf-8" | "base64";
  content: string;
}

export interface WriteOptions {
  overwrite?: boolean;
  /** Create missing parent directories (inside the root). */
  mkdirs?: boolean;
}

export interface WriteResult {
  path: string;
  size: number;
  created: boolean;
}

interface Resolved {
  parsed: ParsedPath;
  /** Real path of the target. */
  real: string;
}

export class WorkspaceFiles {
  readonly roots: WorkspaceRoot[];
  readonly maxFileBytes: number;
  readonly #maxListEntries: number;

  constructor(options: WorkspaceFilesOptions) {
    this.roots = [
      ...(options.workspaceDir ? [{ name: WORKSPACE_ROOT, path: options.workspaceDir }] : []),
      ...Object.entries(options.mounts ?? {}).map(([name, path]) => ({ name, path })),
    ];
    this.maxFileBytes = options.maxFileBytes;
    this.#maxListEntries = options.maxListEntries ?? 1000;
  }

  /** True when at least one root is configured. */
  get available(): boolean {
    return this.roots.length > 0;
  }

  async list(path = ""): Promise<ListResult> {
    const { parsed, real } = await this.#resolveExisting(path);
    const info = await fsCall(() => Deno.stat(real), path);
    if (!info.isDirectory) throw new ToolingError(400, `'${path}' is not a directory`);
    const entries: FileEntry[] = [];
    let truncated = false;
    for await (const entry of Deno.readDir(real)) {
      if (isIgnored([entry.name])) continue;
      if (entries.length >= this.#maxListEntries) {
        truncated = true;
        break;
      }
      const stat = await Deno.lstat(join(real, entry.name)).catch(() => null);
      entries.push({
        name: entry.name,
        path: virtualPath(parsed.root, [...parsed.segments, entry.name]),
        type: entry.isSymlink ? "symlink" : entry.isDirectory ? "dir" : entry.isFile ? "file" : "other",
        size: stat?.size ?? 0,
        modified: stat?.mtime?.toISOString() ?? null,
      });
    }
    entries.sort((a, b) =>
      Number(b.type === "dir") - Number(a.type === "dir") || a.name.localeCompare(b.name)
    );
    return { path: virtualPath(parsed.root, parsed.segments), entries, truncated };
  }

  async read(path: string, maxBytes = this.maxFileBytes): Promise<ReadResult> {
    const { parsed, real } = await this.#resolveExisting(path);
    const limit = Math.min(maxBytes, this.maxFileBytes);
    // Checked before opening: opening a FIFO or device could block or never end.
    const info = await fsCall(() => Deno.stat(real), path);
    if (!info.isFile) throw new ToolingError(400, `'${path}' is not a regular file`);
    if (info.size > limit) throw tooLarge(path, info.size, limit);
    const file = await fsCall(() => Deno.open(real, { read: true }), path);
    let bytes: Uint8Array;
    try {
      bytes = await readAtMost(file, limit + 1);
    } finally {
      file.close();
    }
    if (bytes.length > limit) throw tooLarge(path, bytes.length, limit);
    const text = decodeUtf8(bytes);
    return {
      path: virtualPath(parsed.root, parsed.segments),
      size: bytes.length,
      encoding: text === null ? "base64" : "utf-8",
      content: text ?? encodeBase64(bytes),
    };
  }

  /** Atomic write (see atomic.ts); the parent directory is resolved to a real path inside a root first. */
  async write(path: string, content: Uint8Array | string, options: WriteOptions = {}): Promise<WriteResult> {
    const parsed = parseVirtualPath(path, this.roots);
    if (parsed.segments.length === 0) {
      throw new ToolingError(400, `'${path}' names a workspace root, not a file`);
    }
    this.#refuseIgnored(parsed.segments, path);
    const bytes = typeof content === "string" ? new TextEncoder().encode(content) : content;
    if (bytes.length > this.maxFileBytes) throw tooLarge(path, bytes.length, this.maxFileBytes);
    const name = parsed.segments.at(-1)!;
    const parentReal = await this.#parentDir(parsed, path, options.mkdirs === true);
    const target = join(parentReal, name);
    const existing = await Deno.lstat(target).catch((err) => {
      if (err instanceof Deno.errors.NotFound) return null;
      throw permissionOr(err, path);
    });
    if (existing?.isDirectory) throw new ToolingError(409, `'${path}' is a directory`);
    if (existing && !options.overwrite) {
      throw new ToolingError(409, `'${path}' already exists (set overwrite to replace it)`);
    }
    await writeFileAtomic(target, bytes, { overwrite: options.overwrite === true }).catch((err) => {
      if (err instanceof Deno.errors.AlreadyExists) {
        throw new ToolingError(409, `'${path}' already exists (set overwrite to replace it)`);
      }
      throw permissionOr(err, path);
    });
    return {
      path: virtualPath(parsed.root, parsed.segments),
      size: bytes.length,
      created: existing === null,
    };
  }

  async #resolveExisting(path: string): Promise<Resolved> {
    const parsed = parseVirtualPath(path, this.roots);
    this.#refuseIgnored(parsed.segments, path);
    const rootReal = await this.#rootReal(parsed.root);
    const real = await fsCall(() => Deno.realPath(join(rootReal, ...parsed.segments)), path);
    await this.#checkInside(real, path);
    return { parsed, real };
  }

  /** Real path of the target's parent directory, created (one checked level at a time) when asked. */
  async #parentDir(parsed: ParsedPath, path: string, mkdirs: boolean): Promise<string> {
    const rootReal = await this.#rootReal(parsed.root);
    const parents = parsed.segments.slice(0, -1);
    let depth = parents.length;
    let real: string | null = null;
    while (real === null) {
      try {
        real = await Deno.realPath(join(rootReal, ...parents.slice(0, depth)));
      } catch (err) {
        if (!(err instanceof Deno.errors.NotFound) || depth === 0) throw permissionOr(err, path);
        if (!mkdirs) throw new ToolingError(404, `Parent directory of '${path}' does not exist`);
        depth -= 1;
      }
    }
    await this.#checkInside(real, path);
    for (const segment of parents.slice(depth)) {
      const next: string = join(real, segment);
      await Deno.mkdir(next).catch((err) => {
        if (!(err instanceof Deno.errors.AlreadyExists)) throw permissionOr(err, path);
      });
      real = await fsCall(() => Deno.realPath(next), path);
      await this.#checkInside(real, path);
    }
    const info = await fsCall(() => Deno.stat(real), path);
    if (!info.isDirectory) throw new ToolingError(409, `Parent of '${path}' is not a directory`);
    return real;
  }

  async #rootReal(root: WorkspaceRoot): Promise<string> {
    try {
      return await Deno.realPath(root.path);
    } catch (err) {
      const label = root.name === WORKSPACE_ROOT ? "Workspace root" : `Workspace mount '${root.name}'`;
      if (err instanceof Deno.errors.NotFound) throw new ToolingError(404, `${label} does not exist`);
      throw permissionOr(err, label);
    }
  }

  /** Refuses a real path outside every root (a symlink escape) or inside an ignored directory. */
  async #checkInside(real: string, path: string): Promise<void> {
    for (const root of this.roots) {
      const rootReal = await Deno.realPath(root.path).catch(() => null);
      const segments = rootReal === null ? null : segmentsUnder(real, rootReal);
      if (segments) return this.#refuseIgnored(segments, path);
    }
    throw new ToolingError(403, `'${path}' resolves outside the workspace roots`);
  }

  #refuseIgnored(segments: string[], path: string): void {
    if (isIgnored(segments)) {
      throw new ToolingError(403, `'${path}' is inside an ignored directory (.git, node_modules, .venv)`);
    }
  }
}

function tooLarge(path: string, size: number, limit: number): ToolingError {
  return new ToolingError(413, `'${path}' is too large (${size} bytes > ${limit} bytes)`);
}

/** Runs a file-system call, turning NotFound into 404 and permission refusals into 403. */
async function fsCall<T>(fn: () => Promise<T>, path: string): Promise<T> {
  try {
    return await fn();
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) throw new ToolingError(404, `'${path}' not found`);
    throw permissionOr(err, path);
  }
}

function permissionOr(err: unknown, path: string): unknown {
  if (err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied) {
    return new ToolingError(
      403,
      `'${path}' is not accessible to the gateway process (check the serve:tooling permission set)`,
    );
  }
  return err;
}

async function readAtMost(file: Deno.FsFile, max: number): Promise<Uint8Array> {
  const buf = new Uint8Array(max);
  let total = 0;
  while (total < max) {
    const n = await file.read(buf.subarray(total));
    if (n === null) break;
    total += n;
  }
  return buf.subarray(0, total);
}

function decodeUtf8(bytes: Uint8Array): string | null {
  try {
    return new TextDecoder("utf-8", { fatal: true }).decode(bytes);
  } catch {
    return null;
  }
}

function encodeBase64(bytes: Uint8Array): string {
  let binary = "";
  for (let i = 0; i < bytes.length; i += 0x8000) {
    binary += String.fromCharCode(...bytes.subarray(i, i + 0x8000));
  }
  return btoa(binary);
}
