/**
 * The bundle host: an in-memory registry of the `.flow` bundles of the flows dir plus the
 * persisted dynamic flows, with install/remove on disk. Reloads rebuild a fresh registry and swap
 * it in place, so lookups (`getWorkflow` is a map lookup) never see a half-built state.
 */
import { join, resolve } from "node:path";
import { logger } from "../util/log.ts";
import { copyFileAtomic, writeFileAtomic } from "../util/atomic.ts";
import { openDeprecations } from "./deprecations.ts";
import { DYNAMIC_FLOWS_DIR, loadDynamicFlows, readDynamicFlowSync, writeDynamicFlow } from "./dynamic.ts";
import { readBundleManifestFrom, readFlowBundleFrom, type ReadOptions } from "./reader.ts";
import { bytesSource, withFileSource, type ZipSource } from "./zip_stream.ts";
import { listFlowFiles, loadFlowFiles } from "./scan.ts";
import {
  BundleError,
  type BundleHost,
  type BundleLoadError,
  type Deprecations,
  type LoadedBundle,
  type VisualFlow,
} from "./types.ts";
import { compareVersions, latestVersion } from "./versions.ts";

const log = logger("bundles");

export interface BundleHostOptions {
  /** A directory of `*.flow` files, or a single `.flow` file. */
  flowsDir: string;
  dataDir: string;
  /** Largest accepted upload, in bytes. */
  maxBundleBytes: number;
  /** Zip limits for every bundle read (defaults in zip.ts). */
  readOptions?: ReadOptions;
}

/** One immutable snapshot of what is loaded. */
interface Snapshot {
  bundles: LoadedBundle[];
  byRef: Map<string, LoadedBundle>;
  byId: Map<string, LoadedBundle[]>;
  latest: Map<string, LoadedBundle>;
  workflows: Map<string, VisualFlow>;
  dynamic: Map<string, VisualFlow>;
  errors: BundleLoadError[];
}

function buildSnapshot(
  loaded: LoadedBundle[],
  dynamic: Map<string, VisualFlow>,
  errors: BundleLoadError[],
): Snapshot {
  const bundles = [...loaded].sort((a, b) =>
    a.manifest.bundle_id < b.manifest.bundle_id
      ? -1
      : a.manifest.bundle_id > b.manifest.bundle_id
      ? 1
      : compareVersions(a.manifest.bundle_version, b.manifest.bundle_version)
  );
  const byRef = new Map<string, LoadedBundle>();
  const byId = new Map<string, LoadedBundle[]>();
  const workflows = new Map<string, VisualFlow>();
  for (const b of bundles) {
    byRef.set(b.ref, b);
    const list = byId.get(b.manifest.bundle_id) ?? [];
    list.push(b);
    byId.set(b.manifest.bundle_id, list);
    for (const flow of Object.values(b.flows)) workflows.set(flow.id, flow);
  }
  const latest = new Map<string, LoadedBundle>();
  for (const [id, versions] of byId) latest.set(id, latestVersion(versions)!);
  return { bundles, byRef, byId, latest, workflows, dynamic, errors };
}

class FlowBundleHost implements BundleHost {
  #snap: Snapshot = buildSnapshot([], new Map(), []);
  #queue: Promise<unknown> = Promise.resolve();
  readonly #flowsDir: string;
  readonly #dynamicDir: string;
  readonly #maxBundleBytes: number;
  readonly #readOptions: ReadOptions;

  constructor(options: BundleHostOptions, readonly deprecations: Deprecations) {
    this.#flowsDir = resolve(options.flowsDir);
    this.#dynamicDir = join(resolve(options.dataDir), DYNAMIC_FLOWS_DIR);
    this.#maxBundleBytes = options.maxBundleBytes;
    this.#readOptions = options.readOptions ?? {};
  }

  list(): LoadedBundle[] {
    return [...this.#snap.bundles];
  }

  get(bundleId: string, version?: string): LoadedBundle | undefined {
    return version === undefined
      ? this.#snap.latest.get(bundleId)
      : this.#snap.byRef.get(`${bundleId}@${version}`);
  }

  versions(bundleId: string): LoadedBundle[] {
    return [...(this.#snap.byId.get(bundleId) ?? [])];
  }

  getWorkflow(workflowId: string): VisualFlow | undefined {
    const snap = this.#snap;
    const known = snap.workflows.get(workflowId) ?? snap.dynamic.get(workflowId);
    if (known) return known;
    // Another process (e.g. `serve` creating a schedule) may have written it since the last load.
    const fresh = readDynamicFlowSync(this.#dynamicDir, workflowId);
    if (fresh) snap.dynamic.set(workflowId, fresh);
    return fresh;
  }

  defaultBundleId(): string | null {
    const ids = [...this.#snap.byId.keys()];
    return ids.length === 1 ? ids[0] : null;
  }

  errors(): BundleLoadError[] {
    return [...this.#snap.errors];
  }

  reload(): Promise<void> {
    return this.#exclusive(() => this.#load());
  }

  async install(
    bundle: Uint8Array | { path: string },
    options: { overwrite: boolean },
  ): Promise<LoadedBundle> {
    try {
      if (bundle instanceof Uint8Array) {
        return await this.#install(bytesSource(bundle), (target) => writeFileAtomic(target, bundle), options);
      }
      return await withFileSource(
        bundle.path,
        (src) => this.#install(src, (target) => copyFileAtomic(bundle.path, target), options),
      );
    } catch (err) {
      throw this.#explainDenied(err);
    }
  }

  async #install(
    src: ZipSource,
    place: (target: string) => Promise<void>,
    options: { overwrite: boolean },
  ): Promise<LoadedBundle> {
    if (src.size > this.#maxBundleBytes) {
      throw new BundleError(`Bundle too large (${src.size} bytes > ${this.#maxBundleBytes} bytes)`, 413);
    }
    if (src.size === 0) throw new BundleError("Bundle content is empty");
    const bundle = await readFlowBundleFrom(src, this.#readOptions);
    return await this.#exclusive(async () => {
      const dir = await this.#writableDir();
      const name = `${bundle.ref}.flow`;
      const target = join(dir, name);
      const holders = (await this.#filesMatching(bundle.manifest.bundle_id, bundle.manifest.bundle_version))
        .filter((path) => path !== target);
      if (!options.overwrite && (holders.length > 0 || await exists(target))) {
        throw new BundleError(`Bundle already installed: ${name}`);
      }
      await place(target);
      // Overwriting replaces the version wherever it was installed (e.g. as `demo.flow`).
      for (const path of holders) await Deno.remove(path);
      await this.#load();
      log.info("bundle installed", { bundle_ref: bundle.ref, file: target, overwrite: options.overwrite });
      return this.#snap.byRef.get(bundle.ref) ?? { ...bundle, file: target };
    });
  }

  remove(bundleId: string, version?: string): Promise<number> {
    return this.#removeFiles(bundleId, version).catch((err) => Promise.reject(this.#explainDenied(err)));
  }

  #removeFiles(bundleId: string, version?: string): Promise<number> {
    return this.#exclusive(async () => {
      await this.#writableDir();
      const paths = await this.#filesMatching(bundleId, version);
      for (const path of paths) await Deno.remove(path);
      if (paths.length > 0) {
        await this.#load();
        log.info("bundle removed", {
          bundle_id: bundleId,
          bundle_version: version ?? null,
          files: paths.length,
        });
      }
      return paths.length;
    });
  }

  async saveDynamicFlow(flow: VisualFlow): Promise<void> {
    await writeDynamicFlow(this.#dynamicDir, flow);
    this.#snap.dynamic.set(flow.id, structuredClone(flow));
  }

  /** A permission failure on the flows dir becomes a BundleError that says how to fix it. */
  #explainDenied(err: unknown): unknown {
    if (!(err instanceof Deno.errors.NotCapable || err instanceof Deno.errors.PermissionDenied)) return err;
    return new BundleError(
      `Cannot modify the flows dir ${this.#flowsDir}: ${err.message}. Uploads and removals need a writable ` +
        `flows dir (point ABSTRACTGATEWAY_FLOWS_DIR to a directory the gateway may write, e.g. under its data dir)`,
      500,
    );
  }

  /** Files of the flows dir whose manifest names `bundleId` (and `version` when given). */
  async #filesMatching(bundleId: string, version?: string): Promise<string[]> {
    const { files } = await listFlowFiles(this.#flowsDir);
    const out: string[] = [];
    for (const f of files) {
      try {
        const m = await withFileSource(f.realPath, (src) => readBundleManifestFrom(src, this.#readOptions));
        if (m.bundle_id === bundleId && (version === undefined || m.bundle_version === version)) {
          out.push(f.path);
        }
      } catch {
        // unreadable bundles match nothing; they are reported by the load itself
      }
    }
    return out;
  }

  async #writableDir(): Promise<string> {
    const info = await Deno.stat(this.#flowsDir).catch(() => null);
    if (info?.isFile) {
      throw new BundleError(
        `The flows dir is a single .flow file (${this.#flowsDir}); install/remove need a directory`,
      );
    }
    await Deno.mkdir(this.#flowsDir, { recursive: true });
    return this.#flowsDir;
  }

  async #load(): Promise<void> {
    const errors: BundleLoadError[] = [];
    await ensureFlowsDir(this.#flowsDir).catch((err) => {
      errors.push({ file: this.#flowsDir, error: `Cannot create the flows dir: ${(err as Error).message}` });
    });
    const listed = await listFlowFiles(this.#flowsDir);
    const loaded = await loadFlowFiles(listed.files, this.#readOptions);
    const dynamic = await loadDynamicFlows(this.#dynamicDir);
    await this.deprecations.reload();
    errors.push(...listed.errors, ...loaded.errors, ...dynamic.errors);
    for (const e of errors) log.warn("bundle skipped", { ...e });
    this.#snap = buildSnapshot(loaded.bundles, dynamic.flows, errors);
  }

  /** Runs reloads and disk changes one at a time. */
  #exclusive<T>(task: () => Promise<T>): Promise<T> {
    const run = this.#queue.then(task);
    this.#queue = run.catch(() => {});
    return run;
  }
}

async function exists(path: string): Promise<boolean> {
  try {
    await Deno.lstat(path);
    return true;
  } catch (err) {
    if (err instanceof Deno.errors.NotFound) return false;
    throw err;
  }
}

async function ensureFlowsDir(flowsDir: string): Promise<void> {
  if (await exists(flowsDir)) return;
  await Deno.mkdir(flowsDir, { recursive: true });
}

/** Opens the host and loads every bundle; bad bundles are reported in `errors()`, never fatal. */
export async function openBundleHost(options: BundleHostOptions): Promise<BundleHost> {
  const host = new FlowBundleHost(options, await openDeprecations(resolve(options.dataDir)));
  await host.reload();
  return host;
}
