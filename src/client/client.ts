/**
 * A small client for replay-first consumers of the gateway: start runs, send commands, and follow a
 * run's ledger — replay pages from a cursor, then switch to SSE, and after any disconnect resume from
 * the last cursor, so every record arrives exactly once and in order.
 */
import type { StepRecord } from "../runtime/types.ts";
import { GatewayHttpError } from "./errors.ts";
import { describeFailure } from "./failure.ts";
import { parseSse } from "./sse.ts";
import type {
  BundleRemoved,
  BundleUploaded,
  CommandAccepted,
  CommandBody,
  CommandStatus,
  JsonObject,
  RunList,
  RunListQuery,
  RunSummary,
  StartRunBody,
} from "./types.ts";

export type * from "./types.ts";

export { GatewayHttpError };

export interface ClientOptions {
  baseUrl: string;
  token?: string;
  fetch?: typeof fetch;
}

export interface CursorRecord {
  /** 1-based position of the record; pass it as `after` to resume after it. */
  cursor: number;
  record: StepRecord;
}

export interface FollowOptions {
  after?: number;
  signal?: AbortSignal;
  /** Replay page size. */
  pageSize?: number;
  /** Delay before reconnecting after a dropped stream (doubles up to 10 s). */
  reconnectDelayMs?: number;
  /** Give up after failing this long without any success (default 30 s). */
  giveUpAfterMs?: number;
  /** Called after each failed attempt that will be retried, with the reason. */
  onRetry?: (notice: RetryNotice) => void;
  /** Added to 401/403 reasons: where the user finds the right token. */
  tokenHint?: string;
}

const DEFAULT_TOKEN_HINT =
  "pass --token or set ABSTRACTGATEWAY_AUTH_TOKEN; a gateway on loopback without a " +
  "configured token keeps the one it generated in <data-dir>/auth/gateway-token";

/** The follow gave up: every attempt for `giveUpAfterMs` failed, or a failure cannot get better. */
export class FollowError extends Error {
  constructor(message: string, readonly attempts: number, cause: unknown) {
    super(message, { cause });
    this.name = "FollowError";
  }
}

export interface RetryNotice {
  attempt: number;
  reason: string;
  /** Delay before the next attempt. */
  delayMs: number;
  /** Time left before giving up. */
  remainingMs: number;
}

export class GatewayClient {
  readonly #base: string;
  readonly #token?: string;
  readonly #fetch: typeof fetch;

  constructor(options: ClientOptions) {
    this.#base = options.baseUrl.replace(/\/+$/, "");
    this.#token = options.token;
    this.#fetch = options.fetch ?? fetch;
  }

  startRun(body: StartRunBody): Promise<{ run_id: string }> {
    return this.#json("POST", "/api/gateway/runs/start", body);
  }

  /** Appends a durable command; a missing command_id gets a fresh UUID (retry with the same id to stay idempotent). */
  async command(body: CommandBody): Promise<CommandAccepted> {
    const command_id = body.command_id ?? crypto.randomUUID();
    const sent = { payload: {}, ...body, command_id };
    const answer = await this.#json<Omit<CommandAccepted, "command_id">>(
      "POST",
      "/api/gateway/commands",
      sent,
    );
    return { ...answer, command_id };
  }

  /** Answers a run's wait (e.g. an ask-user question): a `resume` command carrying the wait key. */
  answer(run: Pick<RunSummary, "run_id" | "waiting">, response: unknown): Promise<CommandAccepted> {
    if (!run.waiting) throw new Error(`Cannot answer run ${run.run_id}: it is not waiting`);
    return this.command({
      run_id: run.run_id,
      type: "resume",
      payload: { wait_key: run.waiting.wait_key, payload: { response } } as JsonObject,
    });
  }

  /** The command and its outcome (`pending`, `applied` or `failed` with the error). */
  commandStatus(commandId: string): Promise<CommandStatus> {
    return this.#json("GET", `/api/gateway/commands/${encodeURIComponent(commandId)}`);
  }

  /** Polls the command until the runner has applied it or failed it (or `timeoutMs` passes). */
  async waitCommand(commandId: string, timeoutMs = 10_000, intervalMs = 100): Promise<CommandStatus> {
    const deadline = Date.now() + timeoutMs;
    for (;;) {
      const status = await this.commandStatus(commandId);
      if (status.status !== "pending" || Date.now() >= deadline) return status;
      await sleep(intervalMs);
    }
  }

  getRun(runId: string): Promise<RunSummary> {
    return this.#json("GET", `/api/gateway/runs/${encodeURIComponent(runId)}`);
  }

  /** One page of runs, newest first; pass `next_cursor` back as `cursor` for the next page. */
  listRuns(query: RunListQuery = {}): Promise<RunList> {
    const params = new URLSearchParams();
    for (const [k, v] of Object.entries(query)) if (v !== undefined) params.set(k, String(v));
    const qs = params.size ? `?${params}` : "";
    return this.#json("GET", `/api/gateway/runs${qs}`);
  }

  /** Installs a `.flow` bundle (zip bytes). */
  uploadBundle(
    bytes: Uint8Array,
    options: { filename?: string; overwrite?: boolean } = {},
  ): Promise<BundleUploaded> {
    const form = new FormData();
    form.set("file", new Blob([bytes as BlobPart]), options.filename ?? "bundle.flow");
    form.set("overwrite", String(options.overwrite ?? false));
    return this.#json("POST", "/api/gateway/bundles/upload", form);
  }

  /** Removes one version of a bundle, or every version when `version` is omitted. */
  removeBundle(bundleId: string, version?: string): Promise<BundleRemoved> {
    const qs = version === undefined ? "" : `?bundle_version=${encodeURIComponent(version)}`;
    return this.#json("DELETE", `/api/gateway/bundles/${encodeURIComponent(bundleId)}${qs}`);
  }

  ledger(runId: string, after = 0, limit = 200): Promise<{ items: StepRecord[]; next_after: number }> {
    return this.#json(
      "GET",
      `/api/gateway/runs/${encodeURIComponent(runId)}/ledger?after=${after}&limit=${limit}`,
    );
  }

  /**
   * Yields every record after `options.after`, exactly once and in order, until the run is terminal and
   * fully replayed (or the signal aborts). Survives dropped connections by resuming from its cursor.
   */
  async *follow(runId: string, options: FollowOptions = {}): AsyncGenerator<CursorRecord> {
    let cursor = options.after ?? 0;
    const pageSize = options.pageSize ?? 500;
    const giveUpAfterMs = options.giveUpAfterMs ?? 30_000;
    let delay = options.reconnectDelayMs ?? 250;
    let failingSince: number | null = null;
    let attempts = 0;
    while (!options.signal?.aborted) {
      attempts++;
      try {
        // Replay first: the ledger is the truth, the stream only an optimisation.
        while (true) {
          const page = await this.ledger(runId, cursor, pageSize);
          failingSince = null;
          for (const record of page.items) yield { cursor: ++cursor, record };
          if (page.items.length < pageSize) break;
        }
        let terminal = false;
        for await (const frame of this.#stream(runId, cursor, options.signal)) {
          if (frame.event === "step") {
            const { cursor: n, record } = JSON.parse(frame.data) as CursorRecord;
            if (n <= cursor) continue; // already seen (overlap after a reconnect)
            if (n !== cursor + 1) break; // a gap: fall back to replay from our cursor
            cursor = n;
            yield { cursor, record };
          } else if (frame.event === "done") {
            terminal = true;
            break;
          }
        }
        if (terminal) {
          // `done` means caught up and terminal; one last replay closes any race.
          const page = await this.ledger(runId, cursor, pageSize);
          for (const record of page.items) yield { cursor: ++cursor, record };
          return;
        }
        delay = options.reconnectDelayMs ?? 250;
      } catch (err) {
        if (options.signal?.aborted) return;
        const { reason, retryable } = describeFailure(err, options.tokenHint ?? DEFAULT_TOKEN_HINT);
        const where = `run ${runId} at ${this.#base}`;
        if (!retryable) throw new FollowError(`Cannot follow ${where}: ${reason}`, attempts, err);
        failingSince ??= Date.now();
        const remainingMs = failingSince + giveUpAfterMs - Date.now();
        if (remainingMs <= 0) {
          throw new FollowError(
            `Cannot follow ${where}: ${reason}; gave up after ${attempts} attempts in ${
              giveUpAfterMs / 1000
            } s`,
            attempts,
            err,
          );
        }
        delay = Math.min(delay, remainingMs);
        options.onRetry?.({ attempt: attempts, reason, delayMs: delay, remainingMs });
      }
      await sleep(delay, options.signal);
      delay = Math.min(delay * 2, 10_000);
    }
  }

  async *#stream(runId: string, after: number, signal?: AbortSignal) {
    const res = await this.#fetch(
      `${this.#base}/api/gateway/runs/${encodeURIComponent(runId)}/ledger/stream?after=${after}`,
      { headers: this.#headers({ Accept: "text/event-stream" }), signal },
    );
    if (!res.ok || !res.body) throw new GatewayHttpError(res.status, await detailOf(res));
    yield* parseSse(res.body);
  }

  #headers(extra: Record<string, string> = {}): Record<string, string> {
    return this.#token ? { Authorization: `Bearer ${this.#token}`, ...extra } : extra;
  }

  async #json<T>(method: string, path: string, body?: unknown): Promise<T> {
    const form = body instanceof FormData;
    const res = await this.#fetch(`${this.#base}${path}`, {
      method,
      headers: this.#headers(body === undefined || form ? {} : { "Content-Type": "application/json" }),
      body: body === undefined ? undefined : form ? body : JSON.stringify(body),
    });
    if (!res.ok) throw new GatewayHttpError(res.status, await detailOf(res));
    return await res.json() as T;
  }
}

async function detailOf(res: Response): Promise<unknown> {
  const text = await res.text();
  try {
    return (JSON.parse(text) as { detail?: unknown }).detail ?? text;
  } catch {
    return text;
  }
}

function sleep(ms: number, signal?: AbortSignal): Promise<void> {
  return new Promise((resolve) => {
    const timer = setTimeout(done, ms);
    signal?.addEventListener("abort", done, { once: true });
    function done() {
      clearTimeout(timer);
      signal?.removeEventListener("abort", done);
      resolve();
    }
  });
}
