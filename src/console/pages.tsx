/** @jsxImportSource hono/jsx */
/**
 * The console's server-rendered pages (Hono JSX): the frame (navigation, sign-out) and each page's
 * skeleton. Live data is filled in by the client script from the public API (see client.js).
 */
import type { Child } from "hono/jsx";
import { CONSOLE_BASE } from "./paths.ts";

export type PageName = "runs" | "run" | "start" | "bundles" | "schedules" | "health";

const NAV: [PageName, string, string][] = [
  ["runs", "Runs", "/runs"],
  ["start", "Start a run", "/start"],
  ["bundles", "Bundles", "/bundles"],
  ["schedules", "Schedules", "/schedules"],
  ["health", "Health", "/health"],
];

function Document(props: { title: string; children: Child }) {
  return (
    <html lang="en">
      <head>
        <meta charset="utf-8" />
        <meta name="viewport" content="width=device-width, initial-scale=1" />
        <meta name="color-scheme" content="light dark" />
        <title>{props.title} · gateway console</title>
        <link rel="stylesheet" href={`${CONSOLE_BASE}/assets/console.css`} />
        <link rel="icon" href="data:," />
      </head>
      {props.children}
    </html>
  );
}

export interface FrameProps {
  page: PageName;
  title: string;
  csrf: string;
  /** Extra data attributes for the client script (e.g. the run id). */
  data?: Record<string, string>;
  children: Child;
}

export function Frame(props: FrameProps) {
  const attrs: Record<string, string> = {};
  for (const [k, v] of Object.entries(props.data ?? {})) attrs[`data-${k}`] = v;
  const active = props.page === "run" ? "runs" : props.page;
  return (
    <Document title={props.title}>
      <body data-page={props.page} data-csrf={props.csrf} {...attrs}>
        <a class="skip" href="#main">Skip to content</a>
        <header class="top">
          <a class="brand" href={`${CONSOLE_BASE}/runs`}>gateway</a>
          <nav aria-label="Console">
            <ul>
              {NAV.map(([name, label, path]) => (
                <li key={name}>
                  <a href={`${CONSOLE_BASE}${path}`} aria-current={name === active ? "page" : undefined}>
                    {label}
                  </a>
                </li>
              ))}
            </ul>
          </nav>
          <form method="post" action={`${CONSOLE_BASE}/logout`} class="signout">
            <input type="hidden" name="csrf" value={props.csrf} />
            <button type="submit">Sign out</button>
          </form>
        </header>
        <main id="main" tabindex={-1}>
          <h1>{props.title}</h1>
          <p id="flash" role="status" aria-live="polite"></p>
          {props.children}
        </main>
        <script src={`${CONSOLE_BASE}/assets/console.js`} defer></script>
      </body>
    </Document>
  );
}

export function LoginPage(props: { error?: string; next: string }) {
  return (
    <Document title="Sign in">
      <body data-page="login">
        <main id="main" class="login">
          <h1>gateway console</h1>
          <form method="post" action={`${CONSOLE_BASE}/login`} class="card">
            <label for="token">Gateway token</label>
            <input
              id="token"
              name="token"
              type="password"
              autocomplete="current-password"
              required
              autofocus
            />
            <input type="hidden" name="next" value={props.next} />
            {props.error ? <p class="error" role="alert" id="login-error">{props.error}</p> : null}
            <button type="submit">Sign in</button>
            <p class="muted">
              The token printed by <code>gateway serve</code> or set in{" "}
              <code>ABSTRACTGATEWAY_AUTH_TOKEN</code>.
            </p>
          </form>
        </main>
      </body>
    </Document>
  );
}

/** A table the client script fills (its body has `bodyId`), scrollable sideways on narrow screens. */
function DataTable(props: { label: string; columns: string[]; bodyId: string }) {
  return (
    <div class="scroll-x" tabindex={0} role="region" aria-label={props.label}>
      <table>
        <caption class="sr-only">{props.label}</caption>
        <thead>
          <tr>
            {props.columns.map((c) => <th key={c} scope="col">{c}</th>)}
          </tr>
        </thead>
        <tbody id={props.bodyId}></tbody>
      </table>
    </div>
  );
}

const STATUSES = ["", "running", "waiting", "completed", "failed", "cancelled"];

export const RunsBody = () => (
  <>
    <form id="run-filters" class="filters" role="search">
      <label>
        Status
        <select name="status">
          {STATUSES.map((s) => <option key={s} value={s}>{s || "any"}</option>)}
        </select>
      </label>
      <label>
        Bundle{" "}
        <select name="bundle">
          <option value="">any</option>
        </select>
      </label>
      <label>
        Flow <input name="flow" placeholder="flow id" />
      </label>
      <label>
        Session <input name="session" placeholder="session id" />
      </label>
      <label>
        Run id <input name="run_id" placeholder="go to run" />
      </label>
      <button type="submit">Apply</button>
    </form>
    <DataTable
      label="Runs, newest first"
      columns={["Run", "Status", "Workflow", "Created", "Steps"]}
      bodyId="runs-body"
    />
    <nav class="pager" aria-label="Pages">
      <button type="button" id="page-first">First page</button>
      <button type="button" id="page-next">Next page</button>
    </nav>
  </>
);

export const RunBody = () => (
  <>
    <section aria-labelledby="summary-h" class="card">
      <h2 id="summary-h">Summary</h2>
      <dl id="run-summary" class="kv"></dl>
      <div class="actions" id="run-controls">
        <button type="button" data-command="pause">Pause</button>
        <button type="button" data-command="resume">Resume</button>
        <button type="button" data-command="cancel" class="danger">Cancel</button>
      </div>
      <ul id="command-outcomes" class="outcomes" aria-live="polite"></ul>
    </section>
    <section aria-labelledby="wait-h" class="card" id="wait-card" hidden>
      <h2 id="wait-h">Waiting</h2>
      <div id="wait"></div>
    </section>
    <div class="two">
      <section aria-labelledby="tree-h" class="card">
        <h2 id="tree-h">Run tree</h2>
        <div id="run-tree"></div>
      </section>
      <section aria-labelledby="graph-h" class="card">
        <h2 id="graph-h">Flow</h2>
        <div id="flow-graph" class="graph" tabindex={0} role="region" aria-label="Flow graph"></div>
      </section>
    </div>
    <section aria-labelledby="ledger-h" class="card">
      <h2 id="ledger-h">
        Ledger <span id="ledger-count" class="muted"></span> <span id="stream-state" class="badge"></span>
      </h2>
      <div class="timeline-head" aria-hidden="true">
        <span>#</span>
        <span>node</span>
        <span>effect</span>
        <span>status</span>
        <span>duration</span>
      </div>
      <div id="timeline" class="timeline" tabindex={0} role="list" aria-label="Ledger records"></div>
      <pre id="record-json" class="json" hidden tabindex={0}></pre>
    </section>
    <section aria-labelledby="artifacts-h" class="card">
      <h2 id="artifacts-h">Artifacts</h2>
      <ul id="artifacts"></ul>
      <div id="artifact-preview"></div>
    </section>
  </>
);

export const StartBody = () => (
  <form id="start-form" class="card">
    <label>
      Bundle <select name="bundle_id" id="start-bundle" required></select>
    </label>
    <label>
      Flow <select name="flow_id" id="start-flow" required></select>
    </label>
    <fieldset id="start-fields">
      <legend>Input</legend>
    </fieldset>
    <button type="submit">Start run</button>
    <p id="start-error" class="error" role="alert"></p>
  </form>
);

export const BundlesBody = () => (
  <>
    <section aria-labelledby="upload-h" class="card">
      <h2 id="upload-h">Upload a bundle</h2>
      <form id="upload-form">
        <div id="drop-zone" class="drop">
          <label for="upload-file">Drop a .flow file here or choose one</label>
          <input id="upload-file" name="file" type="file" accept=".flow,application/zip" />
        </div>
        <label class="inline">
          <input type="checkbox" name="overwrite" value="true" /> Replace an existing version
        </label>
        <button type="submit">Upload</button>
        <p id="upload-error" class="error" role="alert"></p>
      </form>
    </section>
    <section aria-labelledby="bundles-h" class="card">
      <h2 id="bundles-h">Installed</h2>
      <DataTable
        label="Installed bundles"
        columns={["Bundle", "Version", "Flow", "State", "Actions"]}
        bodyId="bundles-body"
      />
    </section>
    <section aria-labelledby="graph-h" class="card">
      <h2 id="graph-h">Flow graph</h2>
      <div id="flow-graph" class="graph" tabindex={0} role="region" aria-label="Flow graph">
        <p class="muted">Choose “Graph” on a flow.</p>
      </div>
    </section>
  </>
);

export const SchedulesBody = () => (
  <DataTable
    label="Scheduled runs"
    columns={["Schedule run", "Target", "Every", "Next fire", "Status", "Actions"]}
    bodyId="schedules-body"
  />
);

export const HealthBody = () => <dl id="health" class="kv card"></dl>;
