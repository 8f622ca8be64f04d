/** The console stylesheet: system fonts, light and dark by `prefers-color-scheme`, fluid from 390 px up. */
export const CONSOLE_CSS = `
:root{--bg:#f7f8fa;--fg:#16181d;--muted:#555d6b;--card:#fff;--line:#d5d9e0;--accent:#0b57d0;--accent-fg:#fff;
--ok:#146c2e;--warn:#8a5300;--bad:#b3261e;--sel:#e3ecfd;--mono:ui-monospace,SFMono-Regular,Menlo,Consolas,monospace;
font:15px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color-scheme:light dark}
@media (prefers-color-scheme:dark){:root{--bg:#111318;--fg:#e6e8ec;--muted:#a3abb9;--card:#1b1e25;--line:#353a45;
--accent:#8ab4f8;--accent-fg:#0b1020;--ok:#7dd89a;--warn:#f2c15c;--bad:#ff8a80;--sel:#26324a}}
*{box-sizing:border-box}
body{margin:0;background:var(--bg);color:var(--fg)}
a{color:var(--accent)}
:focus-visible{outline:3px solid var(--accent);outline-offset:2px}
.skip{position:absolute;left:-999px;top:0;background:var(--card);padding:.5rem}
.skip:focus{left:.5rem}
.sr-only{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
.top{display:flex;flex-wrap:wrap;align-items:center;gap:.5rem 1rem;padding:.5rem 1rem;background:var(--card);
border-bottom:1px solid var(--line)}
.brand{font-weight:700;text-decoration:none;color:var(--fg)}
.top nav ul{display:flex;flex-wrap:wrap;gap:.25rem .75rem;list-style:none;margin:0;padding:0}
.top nav a{text-decoration:none;padding:.25rem .1rem}
.top nav a[aria-current=page]{font-weight:700;border-bottom:2px solid var(--accent)}
.signout{margin-left:auto}
main{padding:1rem;max-width:1280px;margin:0 auto}
h1{font-size:1.4rem;margin:.25rem 0 .75rem}
h2{font-size:1.1rem;margin:0 0 .5rem}
.card{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:1rem;margin:0 0 1rem}
.two{display:grid;gap:1rem;grid-template-columns:1fr}
@media (min-width:900px){.two{grid-template-columns:1fr 1fr}}
.two>.card{margin:0}
.two{margin-bottom:1rem}
button,input,select,textarea{font:inherit;color:inherit}
input,select,textarea{background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.35rem .5rem;max-width:100%}
button{background:var(--accent);color:var(--accent-fg);border:0;border-radius:6px;padding:.4rem .8rem;cursor:pointer}
button.secondary{background:transparent;color:var(--accent);border:1px solid var(--accent)}
button.danger{background:var(--bad);color:var(--accent-fg)}
button:disabled{opacity:.55;cursor:default}
label{display:inline-flex;flex-direction:column;gap:.2rem;font-size:.9rem}
label.inline{flex-direction:row;align-items:center;gap:.4rem}
.filters{display:flex;flex-wrap:wrap;gap:.5rem;align-items:flex-end;margin-bottom:.75rem}
.filters input{width:10rem}
table{border-collapse:collapse;width:100%}
th,td{text-align:left;padding:.4rem .5rem;border-bottom:1px solid var(--line);vertical-align:top}
.scroll-x{overflow-x:auto}
.mono,code,pre{font-family:var(--mono);font-size:.85rem}
.muted{color:var(--muted)}
.error{color:var(--bad)}
.error:empty{display:none}
.status{display:inline-block;padding:0 .45rem;border-radius:99px;border:1px solid currentColor;font-size:.8rem}
.s-completed{color:var(--ok)}.s-failed,.s-cancelled{color:var(--bad)}.s-waiting,.s-paused{color:var(--warn)}
.s-running{color:var(--accent)}
.kv{display:grid;grid-template-columns:max-content 1fr;gap:.25rem 1rem;margin:0 0 .75rem}
.kv dt{color:var(--muted)}.kv dd{margin:0;overflow-wrap:anywhere}
.actions{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
.outcomes{margin:.25rem 0 0;padding-left:1.2rem}
.badge{font-size:.8rem;font-weight:400;color:var(--muted)}
.timeline-head,.row{display:grid;grid-template-columns:2.5rem minmax(0,1.2fr) minmax(0,1fr) 5.5rem 4.5rem;gap:.4rem;
align-items:center;padding:0 .5rem}
.timeline-head{font-size:.8rem;color:var(--muted);border-bottom:1px solid var(--line)}
.timeline{position:relative;height:22rem;overflow-y:auto;border:1px solid var(--line);border-radius:6px}
.row{position:absolute;left:0;right:0;height:32px;border-bottom:1px solid var(--line);font-size:.85rem;cursor:pointer;
white-space:nowrap}
.row span{overflow:hidden;text-overflow:ellipsis}
.row:hover,.row.sel{background:var(--sel)}
.json{max-height:24rem;overflow:auto;background:var(--bg);border:1px solid var(--line);border-radius:6px;padding:.5rem;
white-space:pre-wrap;overflow-wrap:anywhere}
.graph{overflow:auto}
.graph svg{max-width:100%;height:auto}
.graph .node rect{fill:var(--card);stroke:var(--line);stroke-width:1.5}
.graph .node.current rect{stroke:var(--accent);stroke-width:4}
.graph .node.visited rect{stroke:var(--ok)}
.graph text{fill:var(--fg);font-size:12px}
.graph path{stroke:var(--muted);fill:none;stroke-width:1.5}
.graph path.data{stroke-dasharray:4 3;opacity:.6}
.drop{border:2px dashed var(--line);border-radius:8px;padding:1rem;margin-bottom:.5rem;display:flex;flex-direction:column;gap:.5rem}
.drop.over{border-color:var(--accent);background:var(--sel)}
.tree ul{list-style:none;padding-left:1rem;margin:0}
.tree>ul{padding-left:0}
fieldset{border:1px solid var(--line);border-radius:6px;margin:.75rem 0;display:flex;flex-direction:column;gap:.5rem}
#start-form{display:flex;flex-direction:column;gap:.5rem;align-items:flex-start}
#start-form textarea{width:min(40rem,100%);min-height:4rem}
.choices{display:flex;flex-wrap:wrap;gap:.5rem;margin:.5rem 0}
.calls{margin:.5rem 0;padding-left:1.2rem}
.pager{display:flex;gap:.5rem;margin-top:.75rem}
.login{max-width:26rem;margin:10vh auto}
.login form{display:flex;flex-direction:column;gap:.6rem}
.login label{font-weight:600}
.preview img,.preview audio{max-width:100%}
`;
