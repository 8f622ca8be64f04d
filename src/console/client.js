/**
 * The console's client script. The server sends `consoleMain`'s source as /console/assets/console.js,
 * so this function must stay self-contained (no imports, nothing from module scope). It reads the
 * public API with the session cookie and sends the session's CSRF token on every write.
 */
export function consoleMain() {
  const API = "/api/gateway";
  const BASE = "/console";
  const body = document.body;
  const csrf = body.dataset.csrf || "";
  const $ = (sel) => document.querySelector(sel);
  const TERMINAL = ["completed", "failed", "cancelled"];

  /** Builds an element; attributes starting with "on" become listeners; children are text or nodes. */
  function el(tag, attrs, ...children) {
    const svg = ["svg", "g", "rect", "text", "path", "title"].includes(tag);
    const node = svg
      ? document.createElementNS("http://www.w3.org/2000/svg", tag)
      : document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k.startsWith("on")) node.addEventListener(k.slice(2), v);
      else node.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children.flat()) {
      if (c !== null && c !== undefined && c !== false) node.append(c instanceof Node ? c : String(c));
    }
    return node;
  }

  function flash(text, isError) {
    const f = $("#flash");
    if (!f) return;
    f.textContent = text;
    f.className = isError ? "error" : "muted";
  }

  let leaving = false;
  addEventListener("beforeunload", () => (leaving = true));
  // Back from the bfcache: the page is live again.
  addEventListener("pageshow", () => (leaving = false));

  async function api(path, options) {
    const opts = options || {};
    const headers = { Accept: "application/json" };
    const method = opts.method || "GET";
    let payload = opts.body;
    if (method !== "GET") headers["X-CSRF-Token"] = csrf;
    if (payload !== undefined && !(payload instanceof FormData)) {
      headers["Content-Type"] = "application/json";
      payload = JSON.stringify(payload);
    }
    const res = await fetch(path.startsWith("/api/") ? path : API + path, {
      method,
      headers,
      body: payload,
      credentials: "same-origin",
    });
    if (res.status === 401) {
      // Not while the page is leaving (e.g. signing out): a read racing it must not redirect it.
      if (!leaving) location.href = `${BASE}/login?next=${encodeURIComponent(location.pathname)}`;
      throw new Error("Signed out");
    }
    const text = await res.text();
    let data = null;
    try {
      data = text ? JSON.parse(text) : null;
    } catch {
      data = text;
    }
    if (!res.ok) {
      const err = new Error(detailText(data) || `HTTP ${res.status}`);
      err.status = res.status;
      throw err;
    }
    return data;
  }

  function detailText(data) {
    if (!data || typeof data !== "object") return typeof data === "string" ? data : "";
    const d = data.detail;
    if (Array.isArray(d)) {
      return d.map((e) => (e && e.msg ? `${(e.loc || []).join(".")}: ${e.msg}` : JSON.stringify(e))).join(
        "; ",
      );
    }
    if (d && typeof d === "object") return JSON.stringify(d);
    return d ? String(d) : "";
  }

  const qs = (params) => {
    const u = new URLSearchParams();
    for (const [k, v] of Object.entries(params)) if (v !== undefined && v !== null && v !== "") u.set(k, v);
    return u.toString();
  };
  const enc = encodeURIComponent;
  const fmtTime = (iso) => (iso ? new Date(iso).toLocaleString() : "—");
  function fmtDur(a, b) {
    if (!a || !b) return "";
    const ms = new Date(b).getTime() - new Date(a).getTime();
    if (!(ms >= 0)) return "";
    return ms < 1000
      ? `${ms} ms`
      : ms < 60000
      ? `${(ms / 1000).toFixed(1)} s`
      : `${Math.round(ms / 60000)} min`;
  }
  const statusOf = (run) => (run.paused ? "paused" : run.status);
  const runCell = (r) =>
    el("td", { class: "mono" }, el("a", { href: `${BASE}/runs/${enc(r.run_id)}` }, r.run_id.slice(0, 8)));
  const badge = (status) => el("span", { class: `status s-${status}` }, status);
  const newId = () => crypto.randomUUID();

  /**
   * Appends a command and follows its outcome from GET /commands/{id} into `list` (a <ul>); `explain`
   * may return a note to add to an outcome.
   */
  async function sendCommand(runId, type, payload, list, explain) {
    const commandId = newId();
    const item = el("li", {}, `${type}: sending…`);
    if (list) list.prepend(item);
    try {
      await api("/commands", {
        method: "POST",
        body: { command_id: commandId, run_id: runId, type, payload },
      });
    } catch (e) {
      item.textContent = `${type}: rejected — ${e.message}`;
      item.className = "error";
      return null;
    }
    item.textContent = `${type}: pending`;
    for (let i = 0; i < 120; i++) {
      const cmd = await api(`/commands/${enc(commandId)}`).catch(() => null);
      if (cmd && cmd.status !== "pending") {
        item.textContent = `${type}: ${cmd.status}${cmd.error ? ` — ${cmd.error}` : ""}`;
        const note = explain && await explain(cmd);
        if (note) item.append(el("span", { class: "note" }, ` — ${note}`));
        item.className = cmd.status === "failed" ? "error" : "";
        return cmd;
      }
      await new Promise((r) => setTimeout(r, 500));
    }
    return null;
  }

  // ---- flow graph -------------------------------------------------------------------------------
  /** Draws a VisualFlow (nodes with positions, edges) as SVG; `highlight` marks current and visited nodes. */
  function drawFlow(container, flow, highlight) {
    container.textContent = "";
    const nodes = flow.nodes || [];
    if (!nodes.length) {
      container.append(el("p", { class: "muted" }, "This flow has no nodes."));
      return;
    }
    const W = 150, H = 44;
    const xs = nodes.map((n) => (n.position && n.position.x) || 0);
    const ys = nodes.map((n) => (n.position && n.position.y) || 0);
    const minX = Math.min(...xs), minY = Math.min(...ys);
    const pos = new Map(nodes.map((n, i) => [n.id, { x: xs[i] - minX + 10, y: ys[i] - minY + 10 }]));
    const width = Math.max(...[...pos.values()].map((p) => p.x)) + W + 20;
    const height = Math.max(...[...pos.values()].map((p) => p.y)) + H + 20;
    const svg = el("svg", {
      viewBox: `0 0 ${width} ${height}`,
      width,
      height,
      role: "img",
      "aria-label": `Flow graph with ${nodes.length} nodes`,
    });
    for (const e of flow.edges || []) {
      const a = pos.get(e.source), b = pos.get(e.target);
      if (!a || !b) continue;
      const x1 = a.x + W, y1 = a.y + H / 2, x2 = b.x, y2 = b.y + H / 2, mx = (x1 + x2) / 2;
      const exec = /exec/.test(`${e.sourceHandle || ""}${e.targetHandle || ""}`);
      svg.append(
        el("path", { d: `M${x1},${y1} C${mx},${y1} ${mx},${y2} ${x2},${y2}`, class: exec ? "exec" : "data" }),
      );
    }
    for (const n of nodes) {
      const p = pos.get(n.id);
      const label = (n.data && n.data.label) || n.id;
      const classes = ["node"];
      if (highlight && highlight.current === n.id) classes.push("current");
      if (highlight && highlight.visited && highlight.visited.has(n.id)) classes.push("visited");
      svg.append(
        el(
          "g",
          { class: classes.join(" "), "data-node": n.id, transform: `translate(${p.x},${p.y})` },
          el("title", {}, `${label} (${n.type || (n.data && n.data.nodeType) || "node"})`),
          el("rect", { width: W, height: H, rx: 6 }),
          el("text", { x: 8, y: 18 }, label.length > 20 ? `${label.slice(0, 19)}…` : label),
          el("text", { x: 8, y: 34, class: "muted" }, n.type || ""),
        ),
      );
    }
    container.append(svg);
  }

  // ---- runs list --------------------------------------------------------------------------------
  async function runsPage() {
    const form = $("#run-filters");
    const params = new URLSearchParams(location.search);
    for (const name of ["status", "flow", "session"]) form.elements[name].value = params.get(name) || "";
    const bundles = await api("/bundles").catch(() => ({ items: [] }));
    for (const b of bundles.items || []) {
      form.elements.bundle.append(el("option", { value: b.bundle_id }, b.bundle_id));
    }
    form.elements.bundle.value = params.get("bundle") || "";
    const cursors = [];
    let cursor = null, nextCursor = null, lastJson = "";

    async function load() {
      const f = form.elements;
      const query = qs({
        limit: 25,
        status: f.status.value,
        bundle_id: f.bundle.value,
        flow_id: f.flow.value.trim(),
        session_id: f.session.value.trim(),
        cursor,
      });
      const page = await api(`/runs?${query}`);
      nextCursor = page.next_cursor;
      $("#page-next").disabled = !nextCursor;
      $("#page-first").disabled = cursor === null;
      const json = JSON.stringify(page.items);
      if (json === lastJson) return;
      lastJson = json;
      const rows = page.items.map((r) =>
        el(
          "tr",
          { "data-run": r.run_id },
          runCell(r),
          el("td", {}, badge(statusOf(r))),
          el("td", {}, r.workflow_id),
          el("td", {}, fmtTime(r.created_at)),
          el("td", {}, r.ledger_len ?? ""),
        )
      );
      const tbody = $("#runs-body");
      tbody.replaceChildren(...rows);
      if (!rows.length) {
        tbody.append(el("tr", {}, el("td", { colspan: 5, class: "muted" }, "No runs match.")));
      }
    }

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const runId = form.elements.run_id.value.trim();
      if (runId) {
        try {
          await api(`/runs/${enc(runId)}`);
          location.href = `${BASE}/runs/${enc(runId)}`;
        } catch (e) {
          flash(`Cannot open run ${runId}: ${e.message}`, true);
        }
        return;
      }
      const f = form.elements;
      history.replaceState(
        null,
        "",
        `?${
          qs({ status: f.status.value, bundle: f.bundle.value, flow: f.flow.value, session: f.session.value })
        }`,
      );
      cursor = null;
      cursors.length = 0;
      lastJson = "";
      await load().catch((e) => flash(e.message, true));
    });
    $("#page-next").addEventListener("click", () => {
      cursors.push(cursor);
      cursor = nextCursor;
      load().catch((e) => flash(e.message, true));
    });
    $("#page-first").addEventListener("click", () => {
      cursor = null;
      cursors.length = 0;
      load().catch((e) => flash(e.message, true));
    });
    await load();
    // Live: the run-changes stream says when to re-read the page in view (also once on each
    // (re)connect, which covers what changed meanwhile); rows change only when the data did.
    let reload = 0;
    const followChanges = () => {
      const changes = new EventSource(`${API}/runs/changes/stream`);
      changes.addEventListener("runs", () => {
        clearTimeout(reload);
        reload = setTimeout(() => load().catch(() => {}), 100);
      });
      // The browser reconnects by itself unless the stream was refused (CLOSED): then retry later.
      changes.addEventListener("error", () => {
        if (changes.readyState === EventSource.CLOSED) setTimeout(followChanges, 5000);
      });
    };
    followChanges();
  }

  // ---- one run ----------------------------------------------------------------------------------
  async function runPage() {
    const runId = body.dataset.runId;
    const records = [];
    const ROW = 32;
    const timeline = $("#timeline");
    const spacer = el("div", {});
    timeline.append(spacer);
    let selected = -1,
      follow = true,
      drawQueued = false,
      run = null,
      flow = null,
      summaryTimer = 0,
      drawnWait = "";

    function drawTimeline() {
      drawQueued = false;
      spacer.style.height = `${records.length * ROW}px`;
      const first = Math.max(0, Math.floor(timeline.scrollTop / ROW) - 10);
      const last = Math.min(
        records.length,
        Math.ceil((timeline.scrollTop + timeline.clientHeight) / ROW) + 10,
      );
      const rows = [];
      for (let i = first; i < last; i++) {
        const r = records[i];
        const effect = r.effect && r.effect.type;
        const row = el(
          "div",
          {
            class: `row${i === selected ? " sel" : ""}`,
            role: "listitem",
            "data-cursor": i + 1,
            "data-step": r.step_id,
          },
          el("span", { class: "mono" }, i + 1),
          el("span", {}, r.node_id || ""),
          el("span", {}, effect || "—"),
          el("span", {}, badge(r.status || "")),
          el("span", {}, fmtDur(r.started_at, r.ended_at)),
        );
        row.style.top = `${i * ROW}px`;
        row.addEventListener("click", () => select(i));
        rows.push(row);
      }
      timeline.replaceChildren(spacer, ...rows);
      timeline.dataset.count = String(records.length);
      $("#ledger-count").textContent = `(${records.length} records)`;
      if (follow) timeline.scrollTop = timeline.scrollHeight;
    }
    const queueDraw = () => {
      if (!drawQueued) {
        drawQueued = true;
        requestAnimationFrame(drawTimeline);
      }
    };
    function select(i) {
      selected = Math.max(0, Math.min(records.length - 1, i));
      // Set here, not only by the scroll event: a draw before that event would jump back to the end.
      follow = selected === records.length - 1;
      const pre = $("#record-json");
      pre.hidden = false;
      pre.textContent = JSON.stringify(records[selected], null, 2);
      if (selected * ROW < timeline.scrollTop) timeline.scrollTop = selected * ROW;
      if ((selected + 1) * ROW > timeline.scrollTop + timeline.clientHeight) {
        timeline.scrollTop = (selected + 1) * ROW - timeline.clientHeight;
      }
      queueDraw();
    }
    timeline.addEventListener("scroll", () => {
      follow = timeline.scrollTop + timeline.clientHeight >= timeline.scrollHeight - ROW;
      queueDraw();
    });
    timeline.addEventListener("keydown", (ev) => {
      const moves = { ArrowDown: 1, ArrowUp: -1, PageDown: 10, PageUp: -10 };
      if (ev.key in moves) {
        ev.preventDefault();
        select((selected < 0 ? records.length : selected) + moves[ev.key]);
      } else if (ev.key === "Home") select(0);
      else if (ev.key === "End") select(records.length - 1);
    });

    /** Adds a record at its 1-based cursor; duplicates are dropped, a gap is filled from the ledger. */
    async function accept(cursor, record) {
      if (cursor <= records.length) return;
      if (cursor > records.length + 1) await catchUp();
      if (cursor === records.length + 1) records.push(record);
      queueDraw();
      scheduleSummary();
    }
    async function catchUp() {
      for (;;) {
        const page = await api(`/runs/${enc(runId)}/ledger?after=${records.length}&limit=1000`);
        records.push(...page.items);
        if (!page.items.length || page.items.length < 1000) break;
      }
      queueDraw();
    }

    // Streaming: the browser's EventSource resumes by itself with Last-Event-ID (= our cursor); when it
    // gives up (CLOSED), we reopen from the cursor we hold.
    let source = null;
    const streamState = (text) => ($("#stream-state").textContent = text);
    function openStream() {
      source = new EventSource(`${API}/runs/${enc(runId)}/ledger/stream?after=${records.length}`);
      streamState("connecting…");
      source.addEventListener("open", () => streamState("live"));
      source.addEventListener("step", (ev) => {
        const data = JSON.parse(ev.data);
        accept(data.cursor, data.record);
      });
      source.addEventListener("done", () => {
        source.close();
        streamState("complete");
        loadSummary();
        loadArtifacts();
      });
      source.addEventListener("error", () => {
        streamState("reconnecting…");
        if (source.readyState === EventSource.CLOSED) setTimeout(openStream, 2000);
      });
    }

    function scheduleSummary() {
      clearTimeout(summaryTimer);
      summaryTimer = setTimeout(loadSummary, 150);
    }
    async function loadSummary() {
      run = await api(`/runs/${enc(runId)}`);
      const rows = [
        ["Status", badge(statusOf(run))],
        ["Workflow", run.workflow_id],
        ["Current node", run.current_node || "—"],
        ["Created", fmtTime(run.created_at)],
        ["Updated", fmtTime(run.updated_at)],
        ["Duration", fmtDur(run.created_at, run.updated_at) || "—"],
        ["Session", run.session_id || "—"],
      ];
      if (run.error) rows.push(["Error", el("span", { class: "error" }, run.error)]);
      $("#run-summary").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
      document.title = `Run ${runId.slice(0, 8)} · ${run.status} · gateway console`;
      const terminal = TERMINAL.includes(run.status);
      for (const b of document.querySelectorAll("#run-controls button")) {
        const type = b.dataset.command;
        b.disabled = terminal || (type === "pause" && run.paused) || (type === "resume" && !run.paused);
      }
      drawWait();
      drawGraph();
    }

    function drawWait() {
      const card = $("#wait-card");
      const w = run.status === "waiting" ? run.waiting : null;
      // Redraw only when the wait changed, so a half-typed answer survives the summary refreshes.
      const key = JSON.stringify(w);
      if (key === drawnWait) return;
      drawnWait = key;
      card.hidden = !w;
      const box = $("#wait");
      box.textContent = "";
      if (!w) return;
      const outcomes = $("#command-outcomes");
      const answer = (payload) => sendCommand(runId, "resume", { wait_key: w.wait_key, payload }, outcomes);
      const details = w.details || {};
      if (w.reason === "user" && details.mode === "approval_required") {
        const reason = el("input", { id: "deny-reason", placeholder: "reason (optional)" });
        box.append(
          el("p", {}, "The agent asks to run these tool calls:"),
          el(
            "ol",
            { class: "calls" },
            (details.tool_calls || []).map((c) =>
              el("li", {}, el("strong", {}, c.name), " ", el("code", {}, JSON.stringify(c.arguments)))
            ),
          ),
          el(
            "div",
            { class: "actions" },
            el(
              "button",
              { type: "button", id: "approve-calls", onclick: () => answer({ approved: true }) },
              "Approve",
            ),
            el("label", { class: "inline" }, "Reason", reason),
            el("button", {
              type: "button",
              class: "danger",
              id: "deny-calls",
              onclick: () => answer({ approved: false, reason: reason.value || "denied in the console" }),
            }, "Deny"),
          ),
        );
      } else if (w.reason === "user") {
        box.append(el("p", { id: "wait-prompt" }, w.prompt || "The run asks for input."));
        if (w.choices && w.choices.length) {
          box.append(
            el(
              "div",
              { class: "choices" },
              w.choices.map((choice) =>
                el("button", {
                  type: "button",
                  "data-choice": choice,
                  onclick: () => answer({ response: choice }),
                }, choice)
              ),
            ),
          );
        }
        if (w.allow_free_text || !(w.choices && w.choices.length)) {
          const input = el("input", { id: "wait-answer", "aria-label": "Answer" });
          box.append(
            el(
              "form",
              {
                class: "actions",
                onsubmit: (ev) => (ev.preventDefault(), answer({ response: input.value })),
              },
              input,
              el("button", { type: "submit" }, "Send answer"),
            ),
          );
        }
      } else if (w.reason === "subworkflow" && details.sub_run_id) {
        box.append(
          el(
            "p",
            {},
            "Waiting for child run ",
            el(
              "a",
              { href: `${BASE}/runs/${enc(details.sub_run_id)}`, id: "child-run" },
              details.sub_run_id.slice(0, 8),
            ),
            " to finish; act on it there.",
          ),
        );
      } else if (w.reason === "until") {
        const when = w.until ? new Date(w.until) : null;
        box.append(
          el(
            "p",
            {},
            "Waiting for a timer until ",
            el("time", { datetime: w.until || "" }, fmtTime(w.until)),
            when ? ` (in ${Math.max(0, Math.round((when.getTime() - Date.now()) / 1000))} s)` : "",
          ),
        );
      } else {
        const payload = el("textarea", { id: "event-payload", "aria-label": "Event payload (JSON)" }, "{}");
        box.append(
          el("p", {}, `Waiting for ${w.reason}: `, el("code", {}, w.wait_key || "")),
          el(
            "form",
            {
              class: "actions",
              onsubmit: (ev) => {
                ev.preventDefault();
                let value;
                try {
                  value = JSON.parse(payload.value || "{}");
                } catch (e) {
                  flash(`Cannot send the event: payload is not JSON (${e.message})`, true);
                  return;
                }
                answer(value);
              },
            },
            el("label", {}, "Payload (JSON)", payload),
            el("button", { type: "submit", id: "emit-event" }, "Emit event"),
          ),
        );
      }
    }

    async function drawGraph() {
      if (flow === null) {
        // Bundle workflows are `<bundle>@<version>:<flow>`; runtime-made ones (agent loops) have no graph.
        const doc = /^[^@:]+@[^:]+:.+$/.test(run.workflow_id) || run.workflow_id.startsWith("scheduled:")
          ? await api(`/workflows/${enc(run.workflow_id)}/flow`).catch(() => null)
          : null;
        flow = (doc && (doc.flow || doc)) || false;
        if (!flow) {
          $("#flow-graph").replaceChildren(el("p", { class: "muted" }, "This workflow has no flow graph."));
        }
      }
      if (!flow) return;
      drawFlow($("#flow-graph"), flow, {
        current: TERMINAL.includes(run.status) ? null : run.current_node,
        visited: new Set(records.map((r) => r.node_id)),
      });
    }

    async function loadTree() {
      const box = $("#run-tree");
      const page = await api(`/runs?${qs({ session_id: run.session_id, limit: 200 })}`).catch(() => ({
        items: [],
      }));
      const all = new Map(page.items.map((r) => [r.run_id, r]));
      all.set(run.run_id, run);
      let root = run;
      while (root.parent_run_id && all.has(root.parent_run_id)) root = all.get(root.parent_run_id);
      const children = (id) => [...all.values()].filter((r) => r.parent_run_id === id);
      const node = (r) =>
        el(
          "li",
          {},
          r.run_id === runId
            ? el("strong", { "aria-current": "page" }, r.run_id.slice(0, 8))
            : el("a", { href: `${BASE}/runs/${enc(r.run_id)}` }, r.run_id.slice(0, 8)),
          " ",
          badge(statusOf(r)),
          " ",
          el("span", { class: "muted" }, r.workflow_id),
          children(r.run_id).length ? el("ul", {}, children(r.run_id).map(node)) : null,
        );
      box.replaceChildren(el("div", { class: "tree" }, el("ul", {}, node(root))));
    }

    async function loadArtifacts() {
      const list = $("#artifacts");
      const page = await api(`/runs/${enc(runId)}/artifacts`).catch(() => ({ items: [] }));
      list.replaceChildren(
        ...page.items.map((a) => {
          const url = `${API}/runs/${enc(runId)}/artifacts/${enc(a.artifact_id)}/content`;
          return el(
            "li",
            {},
            el("span", {}, a.filename || a.artifact_id),
            ` ${a.content_type} · ${a.size_bytes} bytes `,
            el("a", { href: url, download: a.filename || a.artifact_id }, "Download"),
            " ",
            el("button", { type: "button", class: "secondary", onclick: () => preview(a, url) }, "Preview"),
          );
        }),
      );
      if (!page.items.length) list.append(el("li", { class: "muted" }, "No artifacts."));
    }
    async function preview(a, url) {
      const box = $("#artifact-preview");
      box.className = "preview";
      const type = a.content_type || "";
      if (type.startsWith("image/")) {
        box.replaceChildren(el("img", { src: url, alt: a.filename || "artifact" }));
      } else if (type.startsWith("audio/")) box.replaceChildren(el("audio", { src: url, controls: true }));
      else {
        const res = await fetch(url, { credentials: "same-origin" });
        let text = await res.text();
        if (/json/.test(type)) {
          try {
            text = JSON.stringify(JSON.parse(text), null, 2);
          } catch { /* shown as sent */ }
        }
        box.replaceChildren(el("pre", { class: "json", tabindex: 0 }, text.slice(0, 200000)));
      }
    }

    // As upstream, pause leaves a run that waits for an answer as it is (only the rest of its tree is
    // paused): say so, rather than show an "applied" pause on a run that stays unpaused.
    const explainPause = async (cmd) => {
      if (cmd.type !== "pause" || cmd.status !== "applied") return null;
      await loadSummary();
      const w = run.status === "waiting" && !run.paused ? run.waiting : null;
      return w && w.reason === "user" && (w.details || {}).kind !== "pause"
        ? "this run waits for an answer, which pause leaves as it is (answer or cancel it)"
        : null;
    };
    for (const b of document.querySelectorAll("#run-controls button")) {
      b.addEventListener("click", async () => {
        await sendCommand(runId, b.dataset.command, {}, $("#command-outcomes"), explainPause);
        loadSummary();
      });
    }

    try {
      await loadSummary();
    } catch (e) {
      flash(`Cannot show run ${runId}: ${e.message}`, true);
      return;
    }
    await catchUp();
    await loadSummary(); // the ledger may have moved on since the first summary
    openStream();
    // Status changes that write no ledger record (pause, a timer's deadline) show up within 3 s.
    const poll = setInterval(() => {
      if (run && TERMINAL.includes(run.status)) clearInterval(poll);
      else loadSummary().catch(() => {});
    }, 3000);
    loadTree();
    loadArtifacts();
  }

  // ---- start a run ------------------------------------------------------------------------------
  async function startPage() {
    const form = $("#start-form");
    const params = new URLSearchParams(location.search);
    const bundles = (await api("/bundles")).items || [];
    const bundleSel = $("#start-bundle"), flowSel = $("#start-flow"), fields = $("#start-fields");
    let schema = null;
    bundleSel.replaceChildren(
      ...bundles.map((b) => el("option", { value: b.bundle_id }, `${b.bundle_id}@${b.bundle_version}`)),
    );
    if (params.get("bundle")) bundleSel.value = params.get("bundle");

    function fillFlows() {
      const b = bundles.find((x) => x.bundle_id === bundleSel.value);
      const flows = ((b && b.entrypoints) || []).filter((e) => !e.deprecated);
      flowSel.replaceChildren(...flows.map((e) => el("option", { value: e.flow_id }, e.name || e.flow_id)));
      const wanted = params.get("flow");
      if (wanted && flows.some((e) => e.flow_id === wanted)) flowSel.value = wanted;
      else if (b && b.default_entrypoint) flowSel.value = b.default_entrypoint;
    }
    async function fillFields() {
      fields.replaceChildren(el("legend", {}, "Input"));
      if (!bundleSel.value || !flowSel.value) return;
      const doc = await api(`/bundles/${enc(bundleSel.value)}/flows/${enc(flowSel.value)}/input_schema`);
      schema = doc.input_data_schema || { properties: {} };
      const required = new Set(schema.required || []);
      for (const [name, prop] of Object.entries(schema.properties || {})) {
        const id = `in-${name}`;
        const type = prop.type;
        const label = prop.title || name;
        let input;
        if (type === "boolean") {
          input = el("input", { id, name, type: "checkbox", checked: prop.default === true });
        } else if (type === "number" || type === "integer") {
          input = el("input", {
            id,
            name,
            type: "number",
            step: type === "integer" ? 1 : "any",
            value: prop.default,
          });
        } else if (type === "string" && !prop.enum) input = el("input", { id, name, value: prop.default });
        else if (prop.enum) {
          input = el(
            "select",
            { id, name },
            prop.enum.map((v) => el("option", { value: v }, v)),
          );
        } else {
          input = el(
            "textarea",
            { id, name, "data-json": "1" },
            prop.default === undefined ? "" : JSON.stringify(prop.default, null, 2),
          );
        }
        if (required.has(name)) input.required = true;
        fields.append(
          el(
            "label",
            { for: id },
            `${label}${required.has(name) ? " (required)" : ""}${input.dataset.json ? " — JSON" : ""}`,
          ),
          input,
        );
        if (prop.description) fields.append(el("small", { class: "muted" }, prop.description));
      }
      if (!Object.keys(schema.properties || {}).length) {
        fields.append(el("p", { class: "muted" }, "This flow takes no input."));
      }
    }
    bundleSel.addEventListener("change", async () => {
      fillFlows();
      await fillFields().catch((e) => flash(e.message, true));
    });
    flowSel.addEventListener("change", () => fillFields().catch((e) => flash(e.message, true)));
    fillFlows();
    await fillFields();

    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const error = $("#start-error");
      error.textContent = "";
      const input = {};
      for (const [name, prop] of Object.entries(schema.properties || {})) {
        const field = form.elements[name];
        if (!field) continue;
        if (prop.type === "boolean") input[name] = field.checked;
        else if (field.dataset.json) {
          if (!field.value.trim()) continue;
          try {
            input[name] = JSON.parse(field.value);
          } catch (e) {
            error.textContent = `${name}: not valid JSON (${e.message})`;
            field.focus();
            return;
          }
        } else if (prop.type === "number" || prop.type === "integer") {
          if (field.value !== "") input[name] = Number(field.value);
        } else input[name] = field.value;
      }
      try {
        const res = await api("/runs/start", {
          method: "POST",
          body: { bundle_id: bundleSel.value, flow_id: flowSel.value, input_data: input },
        });
        location.href = `${BASE}/runs/${enc(res.run_id)}`;
      } catch (e) {
        error.textContent = `Cannot start the run: ${e.message}`;
      }
    });
  }

  // ---- bundles ----------------------------------------------------------------------------------
  async function bundlesPage() {
    async function load() {
      const page = await api("/bundles?all_versions=true&include_deprecated=true");
      const rows = [];
      for (const b of page.items || []) {
        for (const e of b.entrypoints || []) {
          const action = e.deprecated ? "undeprecate" : "deprecate";
          rows.push(
            el(
              "tr",
              { "data-bundle": b.bundle_id, "data-flow": e.flow_id },
              el("td", {}, b.bundle_id),
              el("td", {}, b.bundle_version),
              el("td", {}, e.flow_id, e.description ? el("div", { class: "muted" }, e.description) : null),
              el("td", {}, e.deprecated ? badge("deprecated") : badge("active")),
              el(
                "td",
                { class: "actions" },
                e.deprecated ? null : el(
                  "a",
                  { href: `${BASE}/start?${qs({ bundle: b.bundle_id, flow: e.flow_id })}` },
                  "Start",
                ),
                el("button", {
                  type: "button",
                  class: "secondary",
                  onclick: async () => {
                    const doc = await api(
                      `/bundles/${enc(b.bundle_id)}/flows/${enc(e.flow_id)}?${
                        qs({ bundle_version: b.bundle_version })
                      }`,
                    );
                    drawFlow($("#flow-graph"), doc.flow || doc, null);
                    $("#graph-h").textContent = `Flow graph: ${b.bundle_id}@${b.bundle_version} ${e.flow_id}`;
                    $("#graph-h").scrollIntoView();
                  },
                }, "Graph"),
                el("button", {
                  type: "button",
                  class: "secondary",
                  "data-action": action,
                  onclick: async () => {
                    try {
                      await api(`/bundles/${enc(b.bundle_id)}/${action}`, {
                        method: "POST",
                        body: { flow_id: e.flow_id },
                      });
                      flash(`${b.bundle_id} ${e.flow_id}: ${action}d`);
                      await load();
                    } catch (err) {
                      flash(`Cannot ${action} ${b.bundle_id}: ${err.message}`, true);
                    }
                  },
                }, e.deprecated ? "Undeprecate" : "Deprecate"),
              ),
            ),
          );
        }
      }
      $("#bundles-body").replaceChildren(...rows);
    }

    const form = $("#upload-form"), zone = $("#drop-zone"), fileInput = $("#upload-file");
    let dropped = null;
    for (const type of ["dragenter", "dragover"]) {
      zone.addEventListener(type, (ev) => (ev.preventDefault(), zone.classList.add("over")));
    }
    zone.addEventListener("dragleave", () => zone.classList.remove("over"));
    zone.addEventListener("drop", (ev) => {
      ev.preventDefault();
      zone.classList.remove("over");
      dropped = ev.dataTransfer.files[0] || null;
      if (dropped) zone.querySelector("label").textContent = `Selected: ${dropped.name}`;
    });
    fileInput.addEventListener("change", () => (dropped = null));
    form.addEventListener("submit", async (ev) => {
      ev.preventDefault();
      const error = $("#upload-error");
      error.textContent = "";
      const file = dropped || fileInput.files[0];
      if (!file) {
        error.textContent = "Choose a .flow file first.";
        return;
      }
      const data = new FormData();
      data.append("file", file, file.name);
      if (form.elements.overwrite.checked) data.append("overwrite", "true");
      try {
        const res = await api("/bundles/upload", { method: "POST", body: data });
        flash(`Installed ${res.bundle_ref || res.bundle_id || file.name}`);
        form.reset();
        dropped = null;
        await load();
      } catch (e) {
        error.textContent = `Cannot install ${file.name}: ${e.message}`;
      }
    });
    await load();
  }

  // ---- schedules --------------------------------------------------------------------------------
  async function schedulesPage() {
    async function load() {
      const page = await api("/runs?limit=200");
      const scheduled = (page.items || []).filter((r) => r.is_scheduled && !r.parent_run_id);
      const details = await Promise.all(scheduled.map((r) => api(`/runs/${enc(r.run_id)}`).catch(() => r)));
      const rows = details.map((r) => {
        const s = r.schedule || {};
        const interval = el("input", { value: s.interval || "", "aria-label": "New interval", size: 6 });
        const outcome = el("ul", { class: "outcomes" });
        const active = !TERMINAL.includes(r.status);
        return el(
          "tr",
          { "data-run": r.run_id },
          runCell(r),
          el("td", {}, s.target_workflow_id || r.workflow_id),
          el("td", {}, s.cron ? `cron ${s.cron}` : s.interval || "once"),
          el("td", {}, r.waiting && r.waiting.until ? fmtTime(r.waiting.until) : "—"),
          el("td", {}, badge(statusOf(r))),
          el(
            "td",
            {},
            active
              ? el(
                "div",
                { class: "actions" },
                interval,
                el("button", {
                  type: "button",
                  onclick: () =>
                    sendCommand(r.run_id, "update_schedule", { interval: interval.value.trim() }, outcome)
                      .then(load),
                }, "Update"),
                el("button", {
                  type: "button",
                  class: "danger",
                  onclick: () => sendCommand(r.run_id, "cancel", {}, outcome).then(load),
                }, "Cancel"),
              )
              : null,
            outcome,
          ),
        );
      });
      $("#schedules-body").replaceChildren(...rows);
      if (!rows.length) {
        $("#schedules-body").append(
          el(
            "tr",
            {},
            el(
              "td",
              { colspan: 6, class: "muted" },
              "No scheduled runs (POST /api/gateway/runs/schedule makes one).",
            ),
          ),
        );
      }
    }
    await load();
  }

  // ---- health -----------------------------------------------------------------------------------
  async function healthPage() {
    const [health, caps, me, runs] = await Promise.all([
      api("/api/health").catch((e) => ({ status: e.message })),
      api("/discovery/capabilities").catch(() => ({})),
      api("/me").catch(() => ({})),
      api("/runs?limit=500&include_ledger_len=false").catch(() => ({ items: [] })),
    ]);
    const c = caps.capabilities || {};
    const counts = {};
    for (const r of runs.items || []) counts[r.status] = (counts[r.status] || 0) + 1;
    const gw = c.abstractgateway || {};
    const rows = [
      ["Server", health.status],
      ["Version", `${gw.implementation || "gateway"} ${gw.version || ""}`],
      ["Runner (this process)", (c.server && c.server.runner) || "—"],
      ["Store", (c.server && c.server.store) || "—"],
      ["Tool mode", (c.tools && c.tools.mode) || "—"],
      ["Signed in as", me.principal ? `${me.principal.user_id} (${me.principal.source})` : "—"],
      ["Recent runs (last 500)", Object.entries(counts).map(([k, v]) => `${k}: ${v}`).join(", ") || "none"],
    ];
    $("#health").replaceChildren(...rows.flatMap(([k, v]) => [el("dt", {}, k), el("dd", {}, v)]));
  }

  const pages = {
    runs: runsPage,
    run: runPage,
    start: startPage,
    bundles: bundlesPage,
    schedules: schedulesPage,
    health: healthPage,
  };
  const run = pages[body.dataset.page];
  // data-ready tells tests (and anyone watching) that the first render is done.
  if (run) run().catch((e) => flash(e.message, true)).finally(() => (body.dataset.ready = "1"));
}
