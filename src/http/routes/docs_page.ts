/** The offline API viewer served at `/docs` and `/redoc`: one HTML page, no external assets. */
export const DOCS_HTML = `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>AbstractGateway API</title>
<style>
  body { font: 14px/1.45 system-ui, sans-serif; margin: 0; color: #1d232a; background: #f6f7f9; }
  header { padding: 16px 24px; background: #1d232a; color: #fff; }
  header a { color: #9cd1ff; margin-right: 16px; }
  main { padding: 16px 24px; }
  input { width: 100%; max-width: 520px; padding: 8px; font-size: 14px; margin-bottom: 12px; }
  .op { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 8px 0; padding: 10px 12px; }
  .m { display: inline-block; min-width: 64px; font-weight: 700; text-transform: uppercase; }
  .get { color: #0b7a3e; } .post { color: #0f5fb5; } .delete { color: #b3261e; } .put, .patch { color: #8a5a00; }
  .path { font-family: ui-monospace, monospace; }
  .auth { float: right; font-size: 12px; padding: 1px 6px; border-radius: 4px; background: #eef0f3; }
  .meta { color: #5b6670; font-size: 13px; margin-top: 4px; }
  pre { white-space: pre-wrap; margin: 4px 0 0; font-size: 12px; }
</style>
</head>
<body>
<header>
  <strong id="title">AbstractGateway</strong> <span id="version"></span>
  <div><a href="/openapi.json">openapi.json</a><a href="/api/health">/api/health</a></div>
</header>
<main>
  <p id="description"></p>
  <input id="filter" placeholder="Filter by path, method, tag or summary" autofocus>
  <div id="count" class="meta"></div>
  <div id="ops"></div>
</main>
<script>
"use strict";
const el = (tag, cls, text) => {
  const e = document.createElement(tag);
  if (cls) e.className = cls;
  if (text !== undefined) e.textContent = text;
  return e;
};
fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  document.getElementById("title").textContent = doc.info.title;
  document.getElementById("version").textContent = "v" + doc.info.version;
  document.getElementById("description").textContent = doc.info.description || "";
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const params = (op.parameters || []).map((p) => p.name + " (" + p.in + (p.required ? ", required" : "") + ")");
      const auth = (op.security || doc.security || []).length ? "bearer token" : "open";
      const text = [method, path, op.summary || "", (op.tags || []).join(" ")].join(" ").toLowerCase();
      ops.push({ path, method, op, params, auth, text });
    }
  }
  const box = document.getElementById("ops");
  const render = () => {
    const q = document.getElementById("filter").value.trim().toLowerCase();
    box.replaceChildren();
    let n = 0;
    for (const o of ops) {
      if (q && !o.text.includes(q)) continue;
      n++;
      const div = el("div", "op");
      div.append(el("span", "auth", o.auth), el("span", "m " + o.method, o.method), el("span", "path", o.path));
      div.append(el("div", "", o.op.summary || ""));
      const meta = [];
      if (o.op.tags && o.op.tags.length) meta.push("Tags: " + o.op.tags.join(", "));
      if (o.params.length) meta.push("Parameters: " + o.params.join(", "));
      if (o.op.requestBody) meta.push("Request body: yes");
      if (meta.length) div.append(el("div", "meta", meta.join(" \\u00b7 ")));
      if (o.op.description) div.append(el("pre", "meta", o.op.description));
      box.append(div);
    }
    document.getElementById("count").textContent = n + " of " + ops.length + " operations";
  };
  document.getElementById("filter").addEventListener("input", render);
  render();
}).catch((err) => {
  document.getElementById("ops").textContent = "Could not load /openapi.json: " + err;
});
</script>
</body>
</html>
`;
