/**
 * The run console in a real browser: headless Chromium (Debian's `chromium` package, driven by
 * puppeteer-core) against `gateway serve` as a subprocess, with the fake LLM for the assistant bundle.
 * One browser and one server for every scenario. Screenshots of each page at 390 px and 1280 px
 * (light, plus dark for the run page) go to GATEWAY_SCREENSHOT_DIR (default: a fresh temp dir, printed).
 * Skipped, with the reason in the test name, when /usr/bin/chromium (or GATEWAY_CHROMIUM) is absent.
 */
import assert from "node:assert/strict";
import { join } from "node:path";
import axe from "axe-core";
import puppeteer, { type Browser, type Page } from "puppeteer-core";
import { apiJson, eventually, type Json, waitRunStatus } from "../helpers/gateway_api.ts";
import { makeBundle, startEndFlow } from "../helpers/bundles.ts";
import { startFakeLlm } from "../helpers/fake_llm.ts";
import { startServe } from "../helpers/gateway_process.ts";
import { REPO_ROOT, sandboxTempDir } from "../helpers/paths.ts";
import { startTcpProxy } from "../helpers/tcp_proxy.ts";
import { openStores } from "../../src/store/open.ts";
import { makeRecord, makeRun } from "../store/fixtures.ts";

// Callbacks passed to page.evaluate/$eval run in the browser; these are the DOM names they use.
declare const document: {
  querySelector(s: string): { textContent: string | null } | null;
  documentElement: { scrollWidth: number };
};
declare const innerWidth: number;
type HTMLElement = { dataset: Record<string, string | undefined> };
type HTMLInputElement = { value: string };

const CHROMIUM = Deno.env.get("GATEWAY_CHROMIUM") ?? "/usr/bin/chromium";
const TOKEN = "console-e2e-token-4fJ9qWm2Lx8Rt";
const WIDTHS = [390, 1280];

function chromiumMissing(): string | null {
  try {
    return Deno.statSync(CHROMIUM).isFile ? null : `${CHROMIUM} is not a file`;
  } catch {
    return `${CHROMIUM} not installed (apt-get install chromium)`;
  }
}
const missing = chromiumMissing();

/** Console errors and failed requests of a page, except those a scenario expects. */
function watchErrors(page: Page): string[] {
  const errors: string[] = [];
  page.on("console", (m) => {
    if (m.type() === "error") errors.push(`console: ${m.text()}`);
  });
  page.on("response", (r) => {
    if (r.status() >= 400) errors.push(`response: ${r.status()} ${new URL(r.url()).pathname}`);
  });
  page.on("pageerror", (e) => errors.push(`pageerror: ${e instanceof Error ? e.message : String(e)}`));
  return errors;
}

/** axe on the page as it is; `rules` limits the run to those rules (all rules by default). */
async function axeCheck(page: Page, name: string, rules?: string[]): Promise<void> {
  // Evaluated over the DevTools protocol, so the page's CSP (script-src 'self') does not apply.
  if (!(await page.evaluate(() => "axe" in globalThis))) await page.evaluate(axe.source);
  const result: Json = await page.evaluate(
    // deno-lint-ignore no-explicit-any
    (values) => (globalThis as any).axe.run(document, values ? { runOnly: { type: "rule", values } } : {}),
    rules ?? null,
  );
  const bad = result.violations.filter((v: Json) => v.impact === "serious" || v.impact === "critical");
  assert.deepEqual(
    bad.map((v: Json) => `${v.id}: ${v.help} (${v.nodes.map((n: Json) => n.target.join(" ")).join(", ")})`),
    [],
    `axe on ${name}`,
  );
}

Deno.test({
  name: missing ? `console in a real browser (skipped: ${missing})` : "console in a real browser",
  ignore: missing !== null,
  // puppeteer keeps its own pipes and timers between steps; every resource is closed in `finally`.
  sanitizeOps: false,
  sanitizeResources: false,
  async fn(t) {
    const shots = Deno.env.get("GATEWAY_SCREENSHOT_DIR") ??
      await Deno.makeTempDir({ prefix: "console-shots-" });
    await Deno.mkdir(shots, { recursive: true });
    console.log(`console screenshots: ${shots}`);
    const root = await sandboxTempDir("console-e2e-");
    const flows = join(root, "flows");
    await Deno.mkdir(flows);
    for (const name of ["hello", "approval", "assistant"]) {
      await Deno.copyFile(
        join(REPO_ROOT, "bundles", `${name}@1.0.0.flow`),
        join(flows, `${name}@1.0.0.flow`),
      );
    }
    // A completed run of 10,000 ledger records, written through the store before serve opens the data dir.
    const BIG = 10_000;
    const bigRun = crypto.randomUUID();
    const stores = await openStores({ backend: "file", dataDir: join(root, "data") });
    try {
      await stores.runs.save(makeRun(bigRun, { workflow_id: "hello@1.0.0:hello", status: "completed" }));
      await stores.ledger.append(bigRun, Array.from({ length: BIG }, (_, i) => makeRecord(bigRun, i)));
    } finally {
      await stores.close();
    }
    const llm = await startFakeLlm({
      replies: [
        { toolCalls: [{ name: "list_files", arguments: { directory_path: "." } }] },
        { content: "There are no files." },
      ],
    });
    const gw = await startServe({
      ABSTRACTGATEWAY_DATA_DIR: join(root, "data"),
      ABSTRACTGATEWAY_FLOWS_DIR: flows,
      ABSTRACTGATEWAY_AUTH_TOKEN: TOKEN,
      ABSTRACTGATEWAY_POLL_S: "0.05",
      ABSTRACTGATEWAY_LLM_BASE_URL: llm.baseUrl,
      ABSTRACTGATEWAY_LLM_MODEL: "fake-model",
      ABSTRACTGATEWAY_TOOL_MODE: "passthrough",
    });
    // The browser reaches the gateway through a proxy that can cut its connections.
    const proxy = startTcpProxy(Number(new URL(gw.url).port));
    const base = proxy.url;
    const profile = await Deno.makeTempDir({ prefix: "chromium-profile-" });
    let browser: Browser | undefined;
    try {
      await eventually(
        "serve prints the console URL",
        () => Promise.resolve(gw.stdout()),
        (out) => /console: http:\/\/127\.0\.0\.1:\d+\/console /.test(out),
      );
      browser = await puppeteer.launch({
        executablePath: CHROMIUM,
        headless: true,
        args: [
          "--headless",
          "--no-sandbox",
          "--disable-gpu",
          "--disable-quic",
          "--no-first-run",
          "--disable-background-networking",
          "--disable-component-update",
          "--disable-sync",
          `--user-data-dir=${profile}`,
        ],
      });
      const page = await browser.newPage();
      await page.setViewport({ width: 1280, height: 900 });
      page.setDefaultTimeout(15_000);
      const errors = watchErrors(page);
      const api = (path: string, body?: unknown) => apiJson(gw.url, TOKEN, path, body);
      const start = async (bundle_id: string, flow_id: string, input_data: Json) =>
        (await api("/runs/start", { bundle_id, flow_id, input_data })).run_id as string;
      const runStatus = (status: string) =>
        page.waitForFunction(
          (s) => document.querySelector("#run-summary .status")?.textContent === s,
          {},
          status,
        );
      const noErrors = (what: string) =>
        assert.deepEqual(errors.splice(0), [], `browser errors during ${what}`);
      /**
       * Clears the errors a deliberately refused request causes. The browser reports them as events that
       * may arrive after the request's promise settles, so wait for the expected one, then until no more
       * arrive, before clearing: a late one must not be counted against the next step.
       */
      const clearExpectedErrors = async (expected: RegExp) => {
        const seen = () => Promise.resolve([...errors]);
        await eventually(
          `a browser error matching ${expected}`,
          seen,
          (e) => e.some((x) => expected.test(x)),
        );
        for (let count = -1; count !== errors.length;) {
          count = errors.length;
          await new Promise((r) => setTimeout(r, 200));
        }
        errors.splice(0);
      };

      await t.step("sign in with the gateway token", async () => {
        await page.goto(`${base}/console/runs`);
        assert.match(page.url(), /\/console\/login\?next=%2Fconsole%2Fruns$/);
        await axeCheck(page, "login");
        for (const width of WIDTHS) {
          await page.setViewport({ width, height: 700 });
          await page.screenshot({ path: join(shots, `login-${width}.png`) });
        }
        await page.setViewport({ width: 1280, height: 900 });
        await page.type("#token", TOKEN);
        await Promise.all([page.waitForNavigation(), page.keyboard.press("Enter")]);
        assert.equal(new URL(page.url()).pathname, "/console/runs");
        const cookies = await browser!.cookies();
        const session = cookies.find((c) => c.name === "gateway_session");
        assert.ok(session?.httpOnly && session.sameSite === "Strict", JSON.stringify(cookies));
        noErrors("sign-in");
      });

      await t.step("the runs list updates live: a new run appears, then its status changes", async () => {
        await page.goto(`${base}/console/runs`);
        await page.waitForSelector("body[data-ready]");
        const runId = await start("approval", "approve", { request: "a live list" });
        const cell = `tr[data-run="${runId}"] .status`;
        const shows = (status: string) =>
          page.waitForFunction(
            (sel, s) => document.querySelector(sel)?.textContent === s,
            {},
            cell,
            status,
          );
        await shows("waiting");
        const wait = (await api(`/runs/${runId}`)).waiting;
        await api("/commands", {
          command_id: crypto.randomUUID(),
          run_id: runId,
          type: "resume",
          payload: { wait_key: wait.wait_key, payload: { response: "approve" } },
        });
        await shows("completed");
        noErrors("live runs list");
      });

      let helloRun = "";
      await t.step("start hello from the form and watch it complete live", async () => {
        await page.goto(`${base}/console/start?bundle=hello&flow=hello`);
        await page.waitForSelector("#in-name");
        await page.$eval("#in-name", (e) => ((e as HTMLInputElement).value = ""));
        await page.type("#in-name", "console");
        await Promise.all([page.waitForNavigation(), page.click("#start-form button[type=submit]")]);
        helloRun = new URL(page.url()).pathname.split("/").at(-1)!;
        await runStatus("completed");
        await page.waitForFunction(() => document.querySelector("#stream-state")?.textContent === "complete");
        const ledger = await api(`/runs/${helloRun}/ledger?after=0`);
        const count = await page.$eval("#timeline", (e) => Number((e as HTMLElement).dataset.count));
        assert.equal(count, ledger.items.length);
        await page.waitForSelector("#artifacts button");
        await page.click("#artifacts button");
        await page.waitForFunction(() =>
          (document.querySelector("#artifact-preview pre")?.textContent ?? "").includes('"nodes"')
        );
        const run = await api(`/runs/${helloRun}`);
        assert.equal(run.status, "completed");
        assert.equal((await api(`/runs/${helloRun}/input_data`)).input_data?.name ?? "console", "console");
        noErrors("start hello");
      });

      await t.step("answer the approval bundle's question", async () => {
        const runId = await start("approval", "approve", { request: "a day off" });
        await page.goto(`${base}/console/runs/${runId}`);
        await page.waitForSelector("[data-choice=approve]");
        assert.match(await page.$eval("#wait-prompt", (e) => e.textContent ?? ""), /Approve a day off\?/);
        await page.click("[data-choice=approve]");
        await runStatus("completed");
        const ledger = await api(`/runs/${runId}/ledger?after=0&limit=500`);
        const last = ledger.items.at(-1);
        assert.equal(last.status, "completed");
        assert.match(JSON.stringify(ledger.items), /"decision":"approved"/);
        noErrors("approval");
      });

      await t.step("approve a tool call of the assistant against the fake LLM", async () => {
        const input = { prompt: "What files are there?", provider: "lmstudio", model: "fake-model" };
        const parent = await start("assistant", "assistant", input);
        await page.goto(`${base}/console/runs/${parent}`);
        // The agent runs as a child run; the parent's page links to it and shows it in the tree.
        await page.waitForSelector("#child-run");
        await page.waitForSelector("#run-tree li li");
        await Promise.all([page.waitForNavigation(), page.click("#child-run")]);
        await page.waitForSelector("#approve-calls");
        assert.match(await page.$eval("#wait .calls", (e) => e.textContent ?? ""), /list_files/);
        await page.click("#approve-calls");
        await runStatus("completed");
        await waitRunStatus(gw.url, TOKEN, parent, "completed");
        assert.equal(llm.requests.length, 3, "the tool result went back to the LLM, then the finalize pass");
        noErrors("tool approval");
      });

      await t.step("upload a bundle; a bad file shows the server's error", async () => {
        const good = join(root, "uploaded@2.0.0.flow");
        await Deno.writeFile(
          good,
          makeBundle({ bundleId: "uploaded", version: "2.0.0", flows: { main: startEndFlow("main") } }),
        );
        const bad = join(root, "broken.flow");
        await Deno.writeTextFile(bad, "this is not a zip");
        await page.goto(`${base}/console/bundles`);
        await page.waitForSelector("#bundles-body tr");
        const input = await page.$("#upload-file");
        await input!.uploadFile(bad);
        await page.click("#upload-form button[type=submit]");
        await page.waitForFunction(() => (document.querySelector("#upload-error")?.textContent ?? "") !== "");
        assert.match(
          await page.$eval("#upload-error", (e) => e.textContent ?? ""),
          /Cannot install broken\.flow: .+/,
        );
        // the refused upload is logged by the browser as a failed resource
        await clearExpectedErrors(/^response: 4\d\d \/api\/gateway\/bundles\/upload$/);
        await input!.uploadFile(good);
        await page.click("#upload-form button[type=submit]");
        await page.waitForSelector("tr[data-bundle=uploaded][data-flow=main]");
        // Drag and drop: a real DataTransfer with a .flow file dropped on the zone.
        const dropped = makeBundle({
          bundleId: "dropped",
          version: "1.0.0",
          flows: { main: startEndFlow("main") },
        });
        await page.evaluate((bytes) => {
          // deno-lint-ignore no-explicit-any
          const g = globalThis as any;
          const transfer = new g.DataTransfer();
          transfer.items.add(new g.File([new Uint8Array(bytes)], "dropped@1.0.0.flow"));
          g.document.querySelector("#drop-zone").dispatchEvent(
            new g.DragEvent("drop", { dataTransfer: transfer, bubbles: true, cancelable: true }),
          );
        }, Array.from(dropped));
        await page.click("#upload-form button[type=submit]");
        await page.waitForSelector("tr[data-bundle=dropped][data-flow=main]");
        await page.click("tr[data-bundle=uploaded] [data-action=deprecate]");
        await page.waitForSelector("tr[data-bundle=uploaded] [data-action=undeprecate]");
        await page.click("tr[data-bundle=uploaded] [data-action=undeprecate]");
        await page.waitForSelector("tr[data-bundle=uploaded] [data-action=deprecate]");
        await page.click("tr[data-bundle=hello] button.secondary");
        await page.waitForSelector("#flow-graph svg g.node");
        noErrors("upload");
      });

      await t.step(
        "pause, resume and cancel waiting runs; outcomes come from GET /commands/{id}",
        async () => {
          const outcome = (text: string) =>
            page.waitForFunction(
              (t) => document.querySelector("#command-outcomes li:first-child")?.textContent === t,
              {},
              text,
            );
          const paused = async (runId: string) => (await api(`/runs/${runId}`)).paused;
          // A run waiting for an event: pause holds it, resume lets it wait again, cancel ends it.
          const listening = await start("approval", "wait-decision", { event_key: "console.pause" });
          await waitRunStatus(gw.url, TOKEN, listening, "waiting");
          await page.goto(`${base}/console/runs/${listening}`);
          await page.waitForSelector("#emit-event");
          await page.click("[data-command=pause]");
          await outcome("pause: applied");
          await runStatus("paused");
          assert.equal(await paused(listening), true);
          await page.click("[data-command=resume]");
          await outcome("resume: applied");
          await runStatus("waiting");
          assert.equal(await paused(listening), false);
          await page.click("[data-command=cancel]");
          await outcome("cancel: applied");
          await runStatus("cancelled");
          // A run waiting for an answer: as upstream, pause leaves it as it is, and the page says so.
          const asking = await start("approval", "approve", { request: "nothing" });
          await page.goto(`${base}/console/runs/${asking}`);
          await page.waitForSelector("[data-choice=approve]");
          await page.click("[data-command=pause]");
          await outcome(
            "pause: applied — this run waits for an answer, which pause leaves as it is (answer or cancel it)",
          );
          assert.equal(await paused(asking), false);
          await page.click("[data-command=cancel]");
          await outcome("cancel: applied");
          await runStatus("cancelled");
          noErrors("pause, resume, cancel");
        },
      );

      await t.step("a dropped SSE connection resumes from its cursor: no step missing or twice", async () => {
        const runId = await start("approval", "wait-decision", { event_key: "console.go" });
        await waitRunStatus(gw.url, TOKEN, runId, "waiting");
        await page.goto(`${base}/console/runs/${runId}`);
        await page.waitForSelector("#emit-event");
        await page.waitForFunction(() => document.querySelector("#stream-state")?.textContent === "live");
        proxy.dropAll();
        await page.waitForFunction(() => document.querySelector("#stream-state")?.textContent !== "live");
        // Answer the event wait from the page (its POST goes out on a new connection).
        await page.$eval("#event-payload", (e) => ((e as HTMLInputElement).value = '{"ok": true}'));
        await page.click("#emit-event");
        await runStatus("completed");
        await page.waitForFunction(() => document.querySelector("#stream-state")?.textContent === "complete");
        const ledger = await api(`/runs/${runId}/ledger?after=0&limit=500`);
        const cursors = await page.$$eval(
          "#timeline .row",
          (rows) => rows.map((r) => (r as HTMLElement).dataset.cursor),
        );
        assert.deepEqual(cursors, ledger.items.map((_: Json, i: number) => String(i + 1)));
        const steps = await page.$$eval(
          "#timeline .row",
          (rows) => rows.map((r) => (r as HTMLElement).dataset.step),
        );
        assert.deepEqual(steps, ledger.items.map((r: Json) => r.step_id));
        // The cut connection is reported by the browser; nothing else may be.
        assert.deepEqual(errors.splice(0).filter((e) => !/ERR_|net::|EventSource/.test(e)), []);
      });

      await t.step("a run of 10,000 records: only the rows in view are in the page", async () => {
        const started = performance.now();
        await page.goto(`${base}/console/runs/${bigRun}`);
        await page.waitForFunction(
          (n) => document.querySelector("#ledger-count")?.textContent === `(${n} records)`,
          {},
          BIG,
        );
        console.log(`10,000-record run page ready in ${Math.round(performance.now() - started)} ms`);
        const rendered = () =>
          page.$$eval("#timeline .row", (rows) => rows.map((r) => Number((r as HTMLElement).dataset.cursor)));
        const atEnd = await rendered();
        assert.ok(atEnd.length < 60, `${atEnd.length} rows rendered`);
        assert.equal(Math.max(...atEnd), BIG, "the view follows the end of the ledger");
        // Keyboard: Home jumps to the first record and shows its JSON.
        await page.focus("#timeline");
        await page.keyboard.press("Home");
        await page.waitForFunction(() =>
          (document.querySelector("#record-json")?.textContent ?? "").includes('"step-0"')
        );
        // Rows are drawn on the next animation frame, after the record's JSON is shown.
        await page.waitForFunction(() => document.querySelector('#timeline .row[data-cursor="1"]') !== null);
        const top = await rendered();
        assert.ok(top.length < 60, JSON.stringify(top));
        noErrors("10,000 records");
      });

      await t.step("schedules: next fire time, update the interval, cancel", async () => {
        const scheduled = (await api("/runs/schedule", {
          bundle_id: "hello",
          flow_id: "hello",
          interval: "1h",
          input_data: {},
        })).run_id as string;
        // First it waits for its first child run, then for the timer of the next one.
        await eventually(
          "the schedule waits for its next fire time",
          () => api(`/runs/${scheduled}`),
          (run) => run.waiting?.reason === "until",
        );
        await page.goto(`${base}/console/schedules`);
        const row = `tr[data-run="${scheduled}"]`;
        await page.waitForSelector(row);
        const cells = await page.$$eval(`${row} td`, (tds) => tds.map((td) => td.textContent ?? ""));
        assert.equal(cells[2], "1h");
        assert.notEqual(cells[3], "—", "the next fire time is shown");
        await page.$eval(`${row} input`, (e) => ((e as HTMLInputElement).value = ""));
        await page.type(`${row} input`, "2h");
        await page.click(`${row} button:not(.danger)`);
        await page.waitForFunction(
          (sel) => document.querySelector(`${sel} td:nth-child(3)`)?.textContent === "2h",
          {},
          row,
        );
        await page.click(`${row} button.danger`);
        await waitRunStatus(gw.url, TOKEN, scheduled, "cancelled");
        noErrors("schedules");
      });

      await t.step("forged CSRF, a missing session and a cross-site request are refused", async () => {
        const before = (await api("/runs?limit=500")).items.length;
        const forged = await page.evaluate(async () => {
          const res = await fetch("/api/gateway/runs/start", {
            method: "POST",
            headers: { "content-type": "application/json", "x-csrf-token": "forged" },
            body: JSON.stringify({ bundle_id: "hello", flow_id: "hello", input_data: {} }),
          });
          return res.status;
        });
        assert.equal(forged, 403);
        await clearExpectedErrors(/^response: 403 \/api\/gateway\/runs\/start$/); // a failed resource

        const stranger = await browser!.createBrowserContext();
        try {
          const other = await stranger.newPage();
          await other.goto(`${base}/console/runs/${helloRun}`);
          assert.match(other.url(), /\/console\/login\?next=/);
          const status = await other.evaluate(async () => (await fetch("/api/gateway/runs")).status);
          assert.equal(status, 401);
          // Another site (localhost is not the same site as 127.0.0.1): the Strict cookie stays home.
          const evil = Deno.serve(
            { hostname: "127.0.0.1", port: 0, onListen() {} },
            () =>
              new Response("<!doctype html><title>elsewhere</title>", {
                headers: { "content-type": "text/html" },
              }),
          );
          try {
            await other.goto(`http://localhost:${evil.addr.port}/`);
            await other.evaluate(async (target) => {
              await fetch(`${target}/api/gateway/runs/start`, {
                method: "POST",
                mode: "no-cors",
                credentials: "include",
                headers: { "content-type": "text/plain" },
                body: JSON.stringify({ bundle_id: "hello", flow_id: "hello", input_data: {} }),
              }).catch(() => null);
            }, base);
          } finally {
            await evil.shutdown();
          }
        } finally {
          await stranger.close();
        }
        assert.equal((await api("/runs?limit=500")).items.length, before, "no run was started");
      });

      await t.step(
        "every page: axe finds nothing serious (light and dark), fits 390 px, screenshots at 390 and 1280 px",
        async () => {
          const pages: [string, string][] = [
            ["runs", "/console/runs"],
            ["run", `/console/runs/${helloRun}`],
            [
              "run-waiting",
              `/console/runs/${await start("approval", "approve", { request: "a screenshot" })}`,
            ],
            ["start", "/console/start?bundle=approval&flow=approve"],
            ["bundles", "/console/bundles"],
            ["schedules", "/console/schedules"],
            ["health", "/console/health"],
          ];
          // The dark scheme only redefines the colour variables (style.ts), so in dark only the colour
          // rules can give other results: they run on the same visit, with no second page load.
          const dark = (on: boolean) =>
            page.emulateMediaFeatures([{ name: "prefers-color-scheme", value: on ? "dark" : "light" }]);
          for (const width of WIDTHS) {
            await page.setViewport({ width, height: 900 });
            for (const [i, [name, path]] of pages.entries()) {
              await page.goto(`${base}${path}`);
              await page.waitForSelector("body[data-ready]");
              const overflow = await page.evaluate(() => document.documentElement.scrollWidth - innerWidth);
              assert.ok(overflow <= 0, `${name} at ${width}px is ${overflow}px wider than the window`);
              await page.screenshot({ path: join(shots, `${name}-${width}.png`), fullPage: true });
              // axe once per page and scheme (its rules hardly depend on the width; ~1 s a run).
              if (width !== 1280) continue;
              await axeCheck(page, `${name} at ${width}px`);
              await dark(true);
              await axeCheck(page, `${name} dark`, ["color-contrast", "link-in-text-block"]);
              if (i < 3) {
                await page.screenshot({ path: join(shots, `${name}-1280-dark.png`), fullPage: true });
              }
              await dark(false);
            }
          }
          noErrors("page tour");
        },
      );

      await t.step("sign out ends the session", async () => {
        await page.goto(`${base}/console/runs`);
        await Promise.all([page.waitForNavigation(), page.click(".signout button")]);
        assert.match(page.url(), /\/console\/login$/);
        const status = await page.evaluate(async () => (await fetch("/api/gateway/runs")).status);
        assert.equal(status, 401);
      });
    } finally {
      await browser?.close();
      await proxy.close();
      await gw.stop();
      await llm.close();
      await Deno.remove(profile, { recursive: true }).catch(() => {});
      await Deno.remove(root, { recursive: true });
    }
  },
});
