import assert from "node:assert/strict";
import { ConfigError, describeSettings, isUnder, loadConfig } from "../../src/config/config.ts";

Deno.test("defaults: loopback, ./data, ./bundles, file store, runner on", () => {
  const cfg = loadConfig({}, {}, "/srv/gw");
  assert.equal(cfg.host, "127.0.0.1");
  assert.equal(cfg.port, 8080);
  assert.equal(cfg.dataDir, "/srv/gw/data");
  assert.equal(cfg.flowsDir, "/srv/gw/bundles");
  assert.equal(cfg.storeBackend, "file");
  assert.equal(cfg.dbPath, "/srv/gw/data/gateway.sqlite3");
  assert.equal(cfg.runner, true);
  assert.deepEqual(cfg.authTokens, []);
  assert.deepEqual(cfg.allowedOrigins, ["http://localhost:*", "http://127.0.0.1:*"]);
});

Deno.test("flags win over env vars, env vars over defaults", () => {
  const env = { ABSTRACTGATEWAY_PORT: "9000", ABSTRACTGATEWAY_DATA_DIR: "/var/lib/gw" };
  assert.equal(loadConfig(env, {}, "/").port, 9000);
  assert.equal(loadConfig(env, { port: "9100" }, "/").port, 9100);
  assert.equal(loadConfig(env, {}, "/").dataDir, "/var/lib/gw");
});

Deno.test("whitespace-only env values count as unset", () => {
  assert.equal(loadConfig({ ABSTRACTGATEWAY_PORT: "   " }, {}, "/").port, 8080);
});

Deno.test("tokens from AUTH_TOKEN and AUTH_TOKENS are merged, de-duplicated, in order", () => {
  const cfg = loadConfig({ ABSTRACTGATEWAY_AUTH_TOKEN: "a, b", ABSTRACTGATEWAY_AUTH_TOKENS: "b,c" }, {}, "/");
  assert.deepEqual(cfg.authTokens, ["a", "b", "c"]);
});

Deno.test("a bad value is one line naming the variable and what is allowed", () => {
  assert.throws(
    () => loadConfig({ ABSTRACTGATEWAY_PORT: "eighty" }, {}, "/"),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message ===
        'ABSTRACTGATEWAY_PORT="eighty" is not valid: expected an integer 0..65535 (0 = any free port)',
  );
  assert.throws(
    () => loadConfig({}, { port: "70000" }, "/"),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith('--port="70000" is not valid'),
  );
  assert.throws(
    () => loadConfig({ ABSTRACTGATEWAY_STORE_BACKEND: "mongo" }, {}, "/"),
    (e: unknown) => e instanceof ConfigError && e.message.includes("file | sqlite"),
  );
  assert.throws(
    () => loadConfig({ ABSTRACTGATEWAY_RUNNER: "maybe" }, {}, "/"),
    (e: unknown) => e instanceof ConfigError && !e.message.includes("\n"),
  );
});

Deno.test("secrets are never echoed in errors or in the printed config", () => {
  assert.throws(
    () =>
      loadConfig(
        { ABSTRACTGATEWAY_LLM_API_KEY: " " + "x".repeat(0), ABSTRACTGATEWAY_LLM_BASE_URL: "ftp://x" },
        {},
        "/",
      ),
    (e: unknown) => e instanceof ConfigError && e.message.startsWith("ABSTRACTGATEWAY_LLM_BASE_URL"),
  );
  const env = { ABSTRACTGATEWAY_AUTH_TOKEN: "s3cret-token-value", ABSTRACTGATEWAY_LLM_API_KEY: "sk-1" };
  const views = describeSettings(loadConfig(env, {}, "/"), env);
  const shown = JSON.stringify(views);
  assert.ok(!shown.includes("s3cret-token-value"));
  assert.ok(!shown.includes("sk-1"));
  const token = views.find((v) => v.env === "ABSTRACTGATEWAY_AUTH_TOKEN");
  assert.deepEqual(token, { env: "ABSTRACTGATEWAY_AUTH_TOKEN", value: "***", source: "env" });
});

Deno.test("sqlite db path must lie under the data dir", () => {
  const env = {
    ABSTRACTGATEWAY_STORE_BACKEND: "sqlite",
    ABSTRACTGATEWAY_DATA_DIR: "/d",
    ABSTRACTGATEWAY_DB_PATH: "/elsewhere/g.sqlite3",
  };
  assert.throws(
    () => loadConfig(env, {}, "/"),
    (e: unknown) =>
      e instanceof ConfigError &&
      e.message.includes("ABSTRACTGATEWAY_DB_PATH must point to a file under ABSTRACTGATEWAY_DATA_DIR"),
  );
  assert.equal(
    loadConfig({ ...env, ABSTRACTGATEWAY_DB_PATH: "/d/x/g.sqlite3" }, {}, "/").dbPath,
    "/d/x/g.sqlite3",
  );
  // The file backend does not use the DB path, so it is not checked there.
  assert.doesNotThrow(() => loadConfig({ ...env, ABSTRACTGATEWAY_STORE_BACKEND: "file" }, {}, "/"));
});

Deno.test("isUnder is strict and not fooled by prefixes or ..", () => {
  assert.equal(isUnder("/d/a", "/d"), true);
  assert.equal(isUnder("/d", "/d"), false);
  assert.equal(isUnder("/dd/a", "/d"), false);
  assert.equal(isUnder("/d/../e", "/d"), false);
});

Deno.test("docs/configuration.md is generated from the settings table and up to date", async () => {
  const { configurationMarkdown } = await import("../../src/config/reference.ts");
  const onDisk = await Deno.readTextFile(new URL("../../docs/configuration.md", import.meta.url));
  const normalize = (s: string) => s.replace(/\s+/g, " ").replace(/ ?\| ?-+ ?/g, "|-").trim();
  assert.equal(normalize(onDisk), normalize(configurationMarkdown()), "run `deno task docs`");
});
