/**
 * The offline API viewer served at `/docs` and `/redoc`: one HTML page, no external assets. It reads
 * `/openapi.json`, shows each operation's parameters, request and response schemas, and lets a person
 * paste a token (kept in this tab's sessionStorage only) and try a call against this gateway.
 */
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
  input, textarea { width: 100%; max-width: 520px; padding: 6px; font-size: 13px; margin: 2px 0 8px; box-sizing: border-box; }
  textarea { max-width: 100%; min-height: 90px; font-family: ui-monospace, monospace; }
  label { display: block; font-size: 12px; color: #5b6670; }
  .op { background: #fff; border: 1px solid #dde1e6; border-radius: 6px; margin: 8px 0; padding: 10px 12px; }
  .op summary { cursor: pointer; }
  .m { display: inline-block; min-width: 64px; font-weight: 700; text-transform: uppercase; }
  .get { color: #0b7a3e; } .post { color: #0f5fb5; } .delete { color: #b3261e; } .put, .patch { color: #8a5a00; }
  .path { font-family: ui-monospace, monospace; }
  .auth { float: right; font-size: 12px; padding: 1px 6px; border-radius: 4px; background: #eef0f3; }
  .meta { color: #5b6670; font-size: 13px; margin-top: 4px; }
  h4 { margin: 10px 0 2px; font-size: 13px; }
  pre { white-space: pre-wrap; margin: 4px 0 0; font-size: 12px; background: #f6f7f9; padding: 6px; border-radius: 4px; }
  button { padding: 4px 12px; }
</style>
</head>
<body>
<header>
  <strong id="title">AbstractGateway</strong> <span id="version"></span>
  <div><a href="/openapi.json">openapi.json</a><a href="/api/health">/api/health</a><a href="/api/health/ready">/api/health/ready</a></div>
</header>
<main>
  <p id="description"></p>
  <label for="token">Bearer token (kept in this browser tab only)</label>
  <input id="token" type="password" autocomplete="off" placeholder="Paste the gateway token to try calls">
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
const tokenBox = document.getElementById("token");
tokenBox.value = sessionStorage.getItem("gateway-token") || "";
tokenBox.addEventListener("input", () => sessionStorage.setItem("gateway-token", tokenBox.value.trim()));

fetch("/openapi.json").then((r) => r.json()).then((doc) => {
  const schemas = (doc.components && doc.components.schemas) || {};
  const deref = (s) => s && s.$ref ? schemas[s.$ref.split("/").pop()] || {} : s || {};
  /** A compact, TypeScript-like view of a JSON Schema (refs expanded to a few levels). */
  function shape(s, depth, pad) {
    if (!s) return "any";
    const name = s.$ref ? s.$ref.split("/").pop() : "";
    if (name && depth > 2) return name;
    s = deref(s);
    const alt = s.anyOf || s.oneOf;
    if (alt) return alt.map((a) => shape(a, depth, pad)).join(" | ");
    if (s.enum) return s.enum.map((v) => JSON.stringify(v)).join(" | ");
    if (s.const !== undefined) return JSON.stringify(s.const);
    const types = [].concat(s.type || (s.properties ? "object" : "any"));
    return types.map((t) => {
      if (t === "array") return shape(s.items, depth + 1, pad) + "[]";
      if (t !== "object") return t;
      const props = Object.entries(s.properties || {});
      if (!props.length) return s.additionalProperties ? "{ [key]: " + shape(s.additionalProperties, depth + 1, pad) + " }" : "object";
      if (depth > 3) return "{…}";
      const req = new Set(s.required || []);
      const inner = pad + "  ";
      return (name ? name + " " : "") + "{\\n" + props.map(([k, v]) =>
        inner + k + (req.has(k) ? "" : "?") + ": " + shape(v, depth + 1, inner)
      ).join("\\n") + "\\n" + pad + "}";
    }).join(" | ");
  }
  /** A starting value for a request body: examples and defaults, else empty values of the right type. */
  function example(s, depth) {
    s = deref(s);
    if (s.example !== undefined) return s.example;
    if (s.default !== undefined) return s.default;
    if (s.anyOf || s.oneOf) return example((s.anyOf || s.oneOf)[0], depth);
    const t = [].concat(s.type || (s.properties ? "object" : "string")).filter((x) => x !== "null")[0];
    if (t === "object") {
      const out = {};
      const req = new Set(s.required || []);
      for (const [k, v] of Object.entries(s.properties || {})) if (req.has(k) || depth < 1) out[k] = example(v, depth + 1);
      return out;
    }
    return t === "array" ? [] : t === "integer" || t === "number" ? 0 : t === "boolean" ? false : "";
  }

  document.getElementById("title").textContent = doc.info.title;
  document.getElementById("version").textContent = "v" + doc.info.version;
  document.getElementById("description").textContent = doc.info.description || "";
  const ops = [];
  for (const [path, item] of Object.entries(doc.paths || {})) {
    for (const [method, op] of Object.entries(item)) {
      const auth = (op.security || doc.security || []).length ? "bearer token" : "open";
      const text = [method, path, op.operationId, op.summary || "", (op.tags || []).join(" ")].join(" ").toLowerCase();
      ops.push({ path, method, op, auth, text });
    }
  }

  function tryIt(o) {
    const form = el("div");
    const inputs = {};
    for (const p of o.op.parameters || []) {
      form.append(el("label", "", p.name + " (" + p.in + (p.required ? ", required" : "") + ")"));
      inputs[p.name] = form.appendChild(el("input"));
      inputs[p.name].dataset.in = p.in;
    }
    const content = (o.op.requestBody && o.op.requestBody.content) || {};
    let body = null;
    let file = null;
    if (content["application/json"]) {
      form.append(el("label", "", "JSON body"));
      body = form.appendChild(el("textarea"));
      body.value = JSON.stringify(example(content["application/json"].schema, 0), null, 2);
    } else if (content["multipart/form-data"]) {
      form.append(el("label", "", "file"));
      file = form.appendChild(el("input"));
      file.type = "file";
    }
    const send = form.appendChild(el("button", "", "Send"));
    const out = form.appendChild(el("pre", "", ""));
    send.addEventListener("click", async () => {
      let url = o.path;
      const query = new URLSearchParams();
      for (const [name, input] of Object.entries(inputs)) {
        if (input.dataset.in === "path") url = url.replace("{" + name + "}", encodeURIComponent(input.value));
        else if (input.dataset.in === "query" && input.value !== "") query.set(name, input.value);
      }
      if (query.size) url += "?" + query;
      const headers = {};
      const token = tokenBox.value.trim();
      if (token) headers["Authorization"] = "Bearer " + token;
      const init = { method: o.method.toUpperCase(), headers };
      if (body) { headers["Content-Type"] = "application/json"; init.body = body.value; }
      if (file && file.files[0]) { init.body = new FormData(); init.body.set("file", file.files[0]); }
      out.textContent = "…";
      try {
        const res = await fetch(url, init);
        const text = await res.text();
        let shown = text;
        try { shown = JSON.stringify(JSON.parse(text), null, 2); } catch { /* not JSON */ }
        out.textContent = res.status + " " + res.statusText + "\\n" + shown.slice(0, 20000);
      } catch (err) {
        out.textContent = "Request failed: " + err;
      }
    });
    return form;
  }

  function details(o) {
    const box = el("div");
    if (o.op.description) box.append(el("pre", "meta", o.op.description));
    const params = (o.op.parameters || []).map((p) => p.name + " (" + p.in + (p.required ? ", required" : "") + "): " + shape(p.schema, 0, ""));
    if (params.length) box.append(el("h4", "", "Parameters"), el("pre", "", params.join("\\n")));
    for (const [type, media] of Object.entries((o.op.requestBody && o.op.requestBody.content) || {})) {
      box.append(el("h4", "", "Request body (" + type + ")"), el("pre", "", shape(media.schema, 0, "")));
    }
    for (const [code, res] of Object.entries(o.op.responses || {})) {
      const media = Object.entries(res.content || {})[0];
      box.append(el("h4", "", "Response " + code + ": " + (res.description || "")));
      if (media) box.append(el("pre", "", media[0] + "\\n" + shape(media[1].schema, 0, "")));
    }
    box.append(el("h4", "", "Try it"), tryIt(o));
    return box;
  }

  const box = document.getElementById("ops");
  const render = () => {
    const q = document.getElementById("filter").value.trim().toLowerCase();
    box.replaceChildren();
    let n = 0;
    for (const o of ops) {
      if (q && !o.text.includes(q)) continue;
      n++;
      const op = el("details", "op");
      const head = el("summary");
      head.append(el("span", "auth", o.auth), el("span", "m " + o.method, o.method), el("span", "path", o.path));
      head.append(el("div", "", (o.op.summary || "") + (o.op.operationId ? "  ·  " + o.op.operationId : "")));
      op.append(head);
      op.addEventListener("toggle", () => { if (op.open && op.childNodes.length === 1) op.append(details(o)); });
      box.append(op);
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
