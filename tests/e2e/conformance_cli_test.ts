/**
 * Contract §11 scenarios over the real binary entry: 8 (startup refusal with a weak token on a public
 * bind), 9 (the SQLite path invariant) and 40 (file store → `migrate` → the same API answers on SQLite).
 */
import assert from "node:assert/strict";
import { join, relative } from "node:path";
import { type GatewayProcess, runGateway, startServe } from "../helpers/gateway_process.ts";
import { apiJson, eventually, type Json, waitRunStatus } from "../helpers/gateway_api.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";

const TOKEN = "conformance-e2e-token-0123456789abcdef";
const BUNDLES = join(REPO_ROOT, "bundles");

async function withDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await sandboxTempDir("conformance-");
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

Deno.test("§11.8: serve on 0.0.0.0 with a weak token refuses to start", async () => {
  await withDir(async (dir) => {
    const out = await runGateway(["serve", "--host", "0.0.0.0", "--port", "0"], {
      ABSTRACTGATEWAY_DATA_DIR: dir,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
      ABSTRACTGATEWAY_AUTH_TOKEN: "t",
    });
    assert.notEqual(out.code, 0);
    assert.match(out.stderr, /Refusing to start/);
    assert.doesNotMatch(out.stdout, /listening on/);
  });
});

Deno.test("§11.9: the sqlite backend with DB_PATH outside the data dir exits 2", async () => {
  await withDir(async (dir) => {
    const data = join(dir, "data");
    await Deno.mkdir(data);
    const db = join(dir, "elsewhere.sqlite3");
    const out = await runGateway(["serve", "--host", "127.0.0.1", "--port", "0"], {
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_STORE_BACKEND: "sqlite",
      ABSTRACTGATEWAY_DB_PATH: db,
    });
    assert.equal(out.code, 2, out.stderr);
    assert.match(out.stderr, /ABSTRACTGATEWAY_DB_PATH must point to a file under ABSTRACTGATEWAY_DATA_DIR/);
    assert.doesNotMatch(out.stdout, /listening on/);
    await assert.rejects(Deno.lstat(db), Deno.errors.NotFound, "no DB was created");
  });
});

const call = (gw: GatewayProcess, path: string, body?: unknown): Promise<Json> =>
  apiJson(gw.url, TOKEN, path, body);
const runStatus = (gw: GatewayProcess, id: string, status: string) =>
  waitRunStatus(gw.url, TOKEN, id, status);

/** What a client can observe of the data dir: runs, each run, each ledger, each command. */
async function snapshot(gw: GatewayProcess, commandIds: string[]) {
  const list = await call(gw, "/runs?limit=100");
  const ids: string[] = list.items.map((r: Json) => r.run_id);
  const runs: Record<string, Json> = {};
  const ledgers: Record<string, Json[]> = {};
  for (const id of ids) {
    runs[id] = await call(gw, `/runs/${id}`);
    ledgers[id] = (await call(gw, `/runs/${id}/ledger?after=0&limit=1000`)).items;
  }
  const commands: Record<string, Json> = {};
  for (const id of commandIds) commands[id] = await call(gw, `/commands/${id}`);
  return { list: list.items, runs, ledgers, commands };
}

/** sha-256 of every file under `dir`, by relative path. */
async function hashTree(dir: string, root = dir, out: Record<string, string> = {}) {
  for await (const entry of Deno.readDir(dir)) {
    const path = join(dir, entry.name);
    if (entry.isDirectory) await hashTree(path, root, out);
    else if (entry.isFile) {
      const digest = await crypto.subtle.digest("SHA-256", await Deno.readFile(path));
      out[relative(root, path)] = Array.from(new Uint8Array(digest), (b) => b.toString(16).padStart(2, "0"))
        .join("");
    }
  }
  return out;
}

Deno.test("§11.40: file store → migrate → a sqlite gateway answers with the same runs, ledgers and commands", async () => {
  await withDir(async (data) => {
    const env = {
      ABSTRACTGATEWAY_DATA_DIR: data,
      ABSTRACTGATEWAY_FLOWS_DIR: BUNDLES,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_POLL_S: "0.05",
    };
    const commandIds: string[] = [];
    const sent: Json[] = [];
    const command = async (gw: GatewayProcess, run_id: string, type: string, payload: Json = {}) => {
      const command_id = crypto.randomUUID();
      sent.push({ command_id, run_id, type, payload });
      const ack = await call(gw, "/commands", sent.at(-1));
      assert.equal(ack.accepted, true);
      commandIds.push(command_id);
      return command_id;
    };

    // 1. A file-store gateway does some work.
    const fileGw = await startServe(env);
    let before: Awaited<ReturnType<typeof snapshot>>;
    try {
      const hellos: string[] = [];
      for (const name of ["Ada", "Bo", "Cy"]) {
        const { run_id } = await call(fileGw, "/runs/start", {
          bundle_id: "hello",
          flow_id: "hello",
          input_data: { name },
        });
        hellos.push(run_id);
      }
      for (const id of hellos) await runStatus(fileGw, id, "completed");
      const { run_id: approval } = await call(fileGw, "/runs/start", {
        bundle_id: "approval",
        flow_id: "approve",
        input_data: { request: "migrate" },
      });
      const waiting = await runStatus(fileGw, approval, "waiting");
      await command(fileGw, approval, "resume", {
        wait_key: waiting.waiting.wait_key,
        payload: { response: "approve" },
      });
      await runStatus(fileGw, approval, "completed");
      await command(fileGw, hellos[0], "pause");
      await command(fileGw, hellos[1], "cancel");
      for (const id of commandIds) {
        await eventually(
          `command ${id} never applied`,
          () => call(fileGw, `/commands/${id}`),
          (c) => c.status !== "pending",
        );
      }
      before = await snapshot(fileGw, commandIds);
      assert.equal(before.list.length, 4);
      assert.match(JSON.stringify(before.ledgers[approval]), /"decision":"approved"/);
    } finally {
      assert.equal(await fileGw.stop(), 0);
    }
    const sourceHashes = await hashTree(data);
    assert.ok(Object.keys(sourceHashes).some((f) => f.endsWith(".jsonl")), "the file store wrote ledgers");

    // 2. migrate: copies into DATA_DIR/gateway.sqlite3 and only reads the source.
    const migrated = await runGateway(["migrate", "--data-dir", data]);
    assert.equal(migrated.code, 0, migrated.stderr);
    assert.match(migrated.stdout, /^Migrated file stores from /m);
    assert.match(migrated.stdout, /totals: 4 runs, /);
    const afterHashes = await hashTree(data);
    for (const [file, hash] of Object.entries(sourceHashes)) {
      assert.equal(afterHashes[file], hash, `${file} is unchanged by migrate`);
    }
    const added = Object.keys(afterHashes).filter((f) => !(f in sourceHashes));
    assert.ok(added.includes("gateway.sqlite3"), `added: ${added}`);
    assert.ok(added.every((f) => f.startsWith("gateway.sqlite3")), `only the DB was added: ${added}`);

    // 3. Again without --force: migrate.ts documents it as idempotent (an up-to-date target is left untouched).
    const dbHash = afterHashes["gateway.sqlite3"];
    const again = await runGateway(["migrate", "--data-dir", data]);
    assert.equal(again.code, 0, again.stderr);
    assert.match(again.stdout, /^Nothing to do: /);
    assert.equal((await hashTree(data))["gateway.sqlite3"], dbHash, "the DB is untouched");

    // 4. A sqlite gateway on the same dir answers the same.
    const sqliteGw = await startServe({ ...env, ABSTRACTGATEWAY_STORE_BACKEND: "sqlite" });
    try {
      const after = await snapshot(sqliteGw, commandIds);
      assert.deepEqual(after.list, before.list);
      assert.deepEqual(after.runs, before.runs);
      for (const [id, ledger] of Object.entries(before.ledgers)) {
        assert.equal(after.ledgers[id].length, ledger.length, `ledger ${id} length`);
        assert.equal(
          JSON.stringify(after.ledgers[id]),
          JSON.stringify(ledger),
          `ledger ${id} order and content`,
        );
      }
      for (const id of commandIds) assert.equal(after.commands[id].seq, before.commands[id].seq);
      assert.deepEqual(after.commands, before.commands);

      // The migrated inbox keeps counting: a new command gets the next seq, and none is re-applied.
      const maxSeq = Math.max(...commandIds.map((id) => before.commands[id].seq));
      const next = await call(sqliteGw, "/commands", {
        command_id: crypto.randomUUID(),
        run_id: Object.keys(before.runs)[0],
        type: "pause",
        payload: {},
      });
      assert.equal(next.seq, maxSeq + 1);
      const retried = await call(sqliteGw, "/commands", sent[0]);
      assert.deepEqual(retried, {
        accepted: false,
        duplicate: true,
        seq: before.commands[commandIds[0]].seq,
      });
    } finally {
      assert.equal(await sqliteGw.stop(), 0);
    }
  });
});
