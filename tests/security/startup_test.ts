/** `serve` start-up guards: generated token (0600, printed once, reused) and refusals. */
import assert from "node:assert/strict";
import { join } from "node:path";
import { ConfigError, loadConfig } from "../../src/config/config.ts";
import { ensureServeAuth, isLoopbackHost, TOKEN_FILE } from "../../src/security/startup.ts";

async function withDataDir(fn: (dir: string) => Promise<void>): Promise<void> {
  const dir = await Deno.makeTempDir({ prefix: "gw-startup-" });
  try {
    await fn(dir);
  } finally {
    await Deno.remove(dir, { recursive: true });
  }
}

const configFor = (dir: string, env: Record<string, string> = {}) =>
  loadConfig({ ABSTRACTGATEWAY_DATA_DIR: dir, ...env });

Deno.test("loopback without a token off a terminal: only the file is printed, never the token", async () => {
  await withDataDir(async (dir) => {
    const printed: string[] = [];
    const auth = await ensureServeAuth(configFor(dir), { print: (l) => printed.push(l), showToken: false });
    assert.ok(printed.every((l) => !l.includes(auth.tokens[0])));
    assert.match(
      printed.join("\n"),
      /generated and stored in .*gateway-token \(not printed: the output is not a terminal/,
    );
  });
});

Deno.test("loopback without a token: generates one (0600), prints it once, reuses it", async () => {
  await withDataDir(async (dir) => {
    const printed: string[] = [];
    const first = await ensureServeAuth(configFor(dir), { print: (l) => printed.push(l) });
    const file = join(dir, TOKEN_FILE);
    assert.equal(first.generatedTokenFile, file);
    assert.equal(first.tokens.length, 1);
    const token = first.tokens[0];
    assert.match(token, /^[A-Za-z0-9_-]{43}$/);
    assert.equal((await Deno.readTextFile(file)).trim(), token);
    assert.equal((await Deno.stat(file)).mode! & 0o777, 0o600);
    assert.equal((await Deno.stat(join(dir, "auth"))).mode! & 0o077, 0);
    assert.equal(printed.filter((l) => l.includes(token)).length, 1);
    assert.ok(printed.some((l) => l.includes(file)));

    const again: string[] = [];
    const second = await ensureServeAuth(configFor(dir, { ABSTRACTGATEWAY_HOST: "localhost" }), {
      print: (l) => again.push(l),
    });
    assert.deepEqual(second.tokens, [token]);
    assert.ok(again.every((l) => !l.includes(token)), "a reused token is never printed again");
    assert.ok(again.some((l) => l.includes(file)));
    const names = [...Deno.readDirSync(join(dir, "auth"))].map((e) => e.name);
    assert.deepEqual(names, ["gateway-token"], "no temp files left behind");
  });
});

Deno.test("a token file readable by others is refused", async () => {
  await withDataDir(async (dir) => {
    await ensureServeAuth(configFor(dir), { print: () => {} });
    const file = join(dir, TOKEN_FILE);
    await Deno.chmod(file, 0o644);
    await assert.rejects(
      ensureServeAuth(configFor(dir), { print: () => {} }),
      (err: Error) =>
        err instanceof ConfigError && /mode 0644/.test(err.message) && err.message.includes(file),
    );
  });
});

Deno.test("a symlinked token file is refused", async () => {
  await withDataDir(async (dir) => {
    await Deno.mkdir(join(dir, "auth"));
    await Deno.writeTextFile(join(dir, "elsewhere"), "k3J9-xQ2p_Lm8vR4tY7wZ1aBcdefg\n", { mode: 0o600 });
    await Deno.symlink(join(dir, "elsewhere"), join(dir, TOKEN_FILE));
    await assert.rejects(ensureServeAuth(configFor(dir), { print: () => {} }), /not a regular file/);
  });
});

Deno.test("non-loopback without a token refuses to start", async () => {
  await withDataDir(async (dir) => {
    await assert.rejects(
      ensureServeAuth(configFor(dir, { ABSTRACTGATEWAY_HOST: "0.0.0.0" }), { print: () => {} }),
      (err: Error) =>
        err instanceof ConfigError &&
        err.message.startsWith("Missing gateway auth token. Set ABSTRACTGATEWAY_AUTH_TOKEN"),
    );
    await assert.rejects(Deno.stat(join(dir, TOKEN_FILE)), Deno.errors.NotFound, "nothing generated");
  });
});

Deno.test("non-loopback refuses weak tokens without printing them; loopback only warns", async () => {
  await withDataDir(async (dir) => {
    for (const weak of ["t", "changeme", "dev-token", "short-but-not-24", "passwordpasswordpassword"]) {
      const printed: string[] = [];
      await assert.rejects(
        ensureServeAuth(
          configFor(dir, { ABSTRACTGATEWAY_HOST: "0.0.0.0", ABSTRACTGATEWAY_AUTH_TOKEN: weak }),
          {
            print: (l) => printed.push(l),
          },
        ),
        (err: Error) =>
          err instanceof ConfigError && err.message.startsWith("Refusing to start: weak auth token") &&
          (weak.length < 5 || !err.message.includes(weak)),
        weak,
      );
    }
    const strong = "k3J9-xQ2p_Lm8vR4tY7wZ1aBcdefg";
    const ok = await ensureServeAuth(
      configFor(dir, { ABSTRACTGATEWAY_HOST: "0.0.0.0", ABSTRACTGATEWAY_AUTH_TOKENS: strong }),
      { print: () => {} },
    );
    assert.deepEqual(ok.tokens, [strong]);
    const mixed = configFor(dir, {
      ABSTRACTGATEWAY_HOST: "10.1.2.3",
      ABSTRACTGATEWAY_AUTH_TOKENS: `${strong},admin`,
    });
    await assert.rejects(ensureServeAuth(mixed, { print: () => {} }), /token #2/);
    const warned: string[] = [];
    const local = await ensureServeAuth(configFor(dir, { ABSTRACTGATEWAY_AUTH_TOKEN: "t" }), {
      print: (l) => warned.push(l),
    });
    assert.deepEqual(local.tokens, ["t"]);
    assert.ok(warned.some((l) => l.startsWith("[WARN] weak auth token")));
  });
});

Deno.test("public wildcard origins are warned about", async () => {
  await withDataDir(async (dir) => {
    const printed: string[] = [];
    await ensureServeAuth(
      configFor(dir, {
        ABSTRACTGATEWAY_ALLOWED_ORIGINS: "*",
        ABSTRACTGATEWAY_AUTH_TOKEN: "k3J9-xQ2p_Lm8vR4tY7wZ1aBcdefg",
      }),
      { print: (l) => printed.push(l) },
    );
    assert.ok(printed.some((l) => l.includes("public wildcard")));
  });
});

Deno.test("loopback hosts", () => {
  for (const h of ["127.0.0.1", "127.1.2.3", "localhost", "LOCALHOST", "::1", "[::1]"]) {
    assert.ok(isLoopbackHost(h), h);
  }
  for (const h of ["0.0.0.0", "::", "10.0.0.1", "example.com", "127.0.0.1.nip.io"]) {
    assert.equal(isLoopbackHost(h), false, h);
  }
});
