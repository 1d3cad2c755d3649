// GET / and GET /ui: the web page (web_ui.h). The page is kept here as one raw string; its
// script's SHA-256 is filled into the Content-Security-Policy when it is first served.
#include "serve/web_ui.h"

#include <openssl/evp.h>

#include <string_view>

#include "core/check.h"
#include "serve/handlers.h"

namespace ragft::serve {

namespace {

constexpr std::string_view kPage = R"ragft_ui(<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; script-src 'sha256-@SCRIPT_HASH@'; style-src 'unsafe-inline'; img-src data:; connect-src 'self'; frame-src 'self'; base-uri 'none'; form-action 'none'">
<meta name="referrer" content="no-referrer">
<title>ragft</title>
<style>
:root {
  --bg: #fbfbfa; --fg: #1d1f21; --muted: #5f6368; --line: #d9dadc; --panel: #ffffff;
  --accent: #1a5fb4; --accent-fg: #ffffff; --mark: #ffe066; --term: #f0a500; --error-bg: #fdecea; --error-fg: #8a1c12;
  color-scheme: light dark;
}
@media (prefers-color-scheme: dark) {
  :root { --bg: #16181b; --fg: #e6e6e3; --muted: #a3a7ad; --line: #34383d; --panel: #1e2125;
          --accent: #78aeed; --accent-fg: #0d1b2a; --mark: #6b5600; --term: #d9a400; --error-bg: #3b1714; --error-fg: #ffb4a9; }
}
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--fg); font: 15px/1.5 system-ui, -apple-system, "Segoe UI", sans-serif; }
header { display: flex; flex-wrap: wrap; gap: .75rem 1.5rem; align-items: center; padding: .75rem 1.25rem;
         border-bottom: 1px solid var(--line); background: var(--panel); }
header h1 { margin: 0; font-size: 1.2rem; letter-spacing: .02em; }
#health { color: var(--muted); font-size: .85rem; }
#key-form { margin-left: auto; display: flex; gap: .4rem; align-items: center; flex-wrap: wrap; }
#key-status { color: var(--muted); font-size: .85rem; }
label { font-weight: 600; }
input, select, button { font: inherit; color: inherit; }
input[type=text], input[type=search], input[type=password], input[type=number], select {
  padding: .35rem .5rem; border: 1px solid var(--line); border-radius: 6px; background: var(--bg); }
input[type=number] { width: 4.5rem; }
button { padding: .35rem .8rem; border: 1px solid var(--line); border-radius: 6px; background: var(--panel); cursor: pointer; }
button.primary { background: var(--accent); color: var(--accent-fg); border-color: var(--accent); }
:focus-visible { outline: 3px solid var(--accent); outline-offset: 2px; }
[role=tablist] { display: flex; gap: .25rem; padding: 0 1.25rem; border-bottom: 1px solid var(--line); background: var(--panel); }
[role=tab] { border: 0; border-bottom: 3px solid transparent; border-radius: 0; background: none; padding: .6rem .9rem; }
[role=tab][aria-selected=true] { border-bottom-color: var(--accent); font-weight: 600; }
main { display: grid; grid-template-columns: minmax(0, 1fr) minmax(0, 1fr); gap: 1.25rem; padding: 1.25rem; }
main.wide { grid-template-columns: minmax(0, 1fr); }
main.wide #doc { display: none; }
@media (max-width: 900px) { main { grid-template-columns: minmax(0, 1fr); } }
section, #doc { background: var(--panel); border: 1px solid var(--line); border-radius: 10px; padding: 1rem 1.25rem; min-width: 0; }
h2 { font-size: 1.05rem; margin: 0 0 .75rem; }
form.query { display: flex; flex-wrap: wrap; gap: .5rem; align-items: center; margin-bottom: .75rem; }
form.query .grow { flex: 1 1 16rem; }
.hint { color: var(--muted); font-size: .85rem; }
#error { margin: 1rem 1.25rem 0; padding: .6rem .9rem; border-radius: 8px; background: var(--error-bg); color: var(--error-fg); }
ol.hits, ol.sources, ul.reports { list-style: none; margin: 0; padding: 0; display: grid; gap: .5rem; }
button.item { display: block; width: 100%; text-align: left; padding: .6rem .75rem; border-radius: 8px; }
button.item:hover, button.item[aria-current=true] { border-color: var(--accent); }
.item .head { display: flex; gap: .5rem; align-items: baseline; flex-wrap: wrap; }
.item .title { font-weight: 600; }
.item .src, .item .meta { color: var(--muted); font-size: .82rem; overflow-wrap: anywhere; }
.item .body { display: block; margin-top: .25rem; overflow-wrap: anywhere; }
mark { background: var(--mark); color: inherit; border-radius: 2px; }
#doc-span { box-decoration-break: clone; -webkit-box-decoration-break: clone; padding: 1px 0; }
#doc-span:focus { outline: none; }
mark b.term, .snippet mark { background: none; text-decoration: underline 2px var(--term); font-weight: 700; }
#answer { font-size: 1.05rem; margin: .25rem 0 1rem; overflow-wrap: anywhere; }
#answer.abstained { color: var(--muted); font-style: italic; }
button.cite { padding: 0 .2rem; margin: 0 .1rem; border: 0; background: none; color: var(--accent); font-weight: 700;
              text-decoration: underline; vertical-align: baseline; }
.badge { display: inline-block; padding: 0 .45rem; border-radius: 999px; background: var(--accent); color: var(--accent-fg); font-size: .8rem; }
#doc { position: sticky; top: 1rem; align-self: start; max-height: calc(100vh - 2rem); display: flex; flex-direction: column; }
#doc-meta { color: var(--muted); font-size: .85rem; margin: 0 0 .5rem; overflow-wrap: anywhere; }
#doc-text { flex: 1; overflow: auto; white-space: pre-wrap; overflow-wrap: anywhere; margin: 0;
            font: 14px/1.6 ui-monospace, "DejaVu Sans Mono", monospace; border-top: 1px solid var(--line); padding-top: .5rem; }
#report-frame { width: 100%; height: 80vh; border: 1px solid var(--line); border-radius: 8px; background: #fff; margin-top: .75rem; }
.visually-hidden { position: absolute; width: 1px; height: 1px; overflow: hidden; clip: rect(0 0 0 0); white-space: nowrap; }
</style>
</head>
<body data-state="loading">
<header>
  <h1>ragft</h1>
  <span id="health" aria-live="polite"></span>
  <form id="key-form" autocomplete="off">
    <label for="key">API key</label>
    <input id="key" type="password" placeholder="rk_… (none needed without keys)" size="28" spellcheck="false">
    <button id="key-save" type="submit">Save</button>
    <button id="key-forget" type="button">Forget</button>
    <span id="key-status" aria-live="polite"></span>
  </form>
</header>
<div role="tablist" aria-label="Views">
  <button role="tab" id="tab-search" aria-controls="panel-search" aria-selected="true">Search</button>
  <button role="tab" id="tab-ask" aria-controls="panel-ask" aria-selected="false" tabindex="-1">Ask</button>
  <button role="tab" id="tab-reports" aria-controls="panel-reports" aria-selected="false" tabindex="-1">Reports</button>
</div>
<div id="error" role="alert" hidden></div>
<main id="main">
  <div>
    <section id="panel-search" role="tabpanel" aria-labelledby="tab-search">
      <form id="search-form" class="query" role="search">
        <label class="visually-hidden" for="search-q">Search query</label>
        <input id="search-q" class="grow" type="search" placeholder="Search the documents" required>
        <label for="search-mode">Mode</label>
        <select id="search-mode"><option>bm25</option><option>dense</option><option>hybrid</option></select>
        <label for="search-k">k</label>
        <input id="search-k" type="number" min="1" max="50" value="10">
        <button class="primary" type="submit">Search</button>
      </form>
      <p id="search-status" class="hint" aria-live="polite"></p>
      <ol id="search-results" class="hits" aria-label="Search results"></ol>
    </section>
    <section id="panel-ask" role="tabpanel" aria-labelledby="tab-ask" hidden>
      <form id="ask-form" class="query">
        <label class="visually-hidden" for="ask-q">Question</label>
        <input id="ask-q" class="grow" type="text" placeholder="Ask a question" required>
        <label for="ask-mode">Mode</label>
        <select id="ask-mode"><option>bm25</option><option>dense</option><option>hybrid</option></select>
        <label for="ask-k">k</label>
        <input id="ask-k" type="number" min="1" max="50" placeholder="auto">
        <label><input id="ask-llm" type="checkbox"> written by the model</label>
        <button class="primary" type="submit">Ask</button>
      </form>
      <p id="ask-status" class="hint" aria-live="polite"></p>
      <div id="answer" aria-live="polite"></div>
      <h3 class="visually-hidden">Sources</h3>
      <ol id="sources" class="sources" aria-label="Sources"></ol>
    </section>
    <section id="panel-reports" role="tabpanel" aria-labelledby="tab-reports" hidden>
      <p id="reports-status" class="hint" aria-live="polite"></p>
      <ul id="report-list" class="reports" aria-label="Decide reports"></ul>
      <p id="report-status" aria-live="polite"></p>
      <iframe id="report-frame" title="Decide report" sandbox="allow-same-origin" hidden></iframe>
    </section>
  </div>
  <aside id="doc" aria-labelledby="doc-title">
    <h2 id="doc-title">Document</h2>
    <p id="doc-meta">Open a search result or a citation to read its source here, the cited span highlighted.</p>
    <div id="doc-text" tabindex="0" aria-label="Document text"></div>
  </aside>
</main>
<script>
"use strict";
(() => {
  const $ = (id) => document.getElementById(id);
  // An element with text children (never HTML: every string from the API goes in as text).
  const el = (tag, attrs, ...children) => {
    const e = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === undefined || v === null || v === false) continue;
      if (k === "text") e.textContent = v;
      else if (k === "class") e.className = v;
      else e.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) if (c !== undefined && c !== null) e.append(c);
    return e;
  };

  // ---- the API key: kept in localStorage, sent as a Bearer token ----
  const KEY_ITEM = "ragft.apiKey";
  const storage = {
    get() { try { return localStorage.getItem(KEY_ITEM) || ""; } catch (e) { return ""; } },
    set(v) { try { if (v) localStorage.setItem(KEY_ITEM, v); else localStorage.removeItem(KEY_ITEM); } catch (e) { /* no storage */ } },
  };
  let apiKey = storage.get();
  function showKey() {
    $("key").value = apiKey;
    $("key-status").textContent = apiKey ? "key saved in this browser" : "no key";
  }

  class ApiError extends Error {
    constructor(message, status, code) { super(message); this.status = status; this.code = code || ""; }
  }

  // One API call; a non-2xx answer throws its OpenAI error message.
  async function api(method, path, body, as = "json") {
    const headers = {};
    if (apiKey) headers.Authorization = "Bearer " + apiKey;
    const init = { method, headers, cache: "no-store" };
    if (body !== undefined) { headers["Content-Type"] = "application/json"; init.body = JSON.stringify(body); }
    let res;
    try { res = await fetch(path, init); }
    catch (e) { throw new ApiError("the server could not be reached (" + e.message + ")", 0, "network"); }
    const text = await res.text();
    if (!res.ok) {
      let message = "HTTP " + res.status, code = "";
      try {
        const j = JSON.parse(text);
        if (j && j.error && typeof j.error.message === "string") { message = j.error.message; code = j.error.code || ""; }
      } catch (e) { /* not JSON: keep the status */ }
      throw new ApiError(message, res.status, code);
    }
    if (as === "text") return text;
    try { return JSON.parse(text); } catch (e) { throw new ApiError("the server's answer is not JSON", res.status, "bad_json"); }
  }

  function showError(e) {
    const box = $("error");
    if (!e) { box.hidden = true; box.replaceChildren(); box.removeAttribute("data-code"); return; }
    box.replaceChildren(el("strong", { text: e.status ? "Error " + e.status + ": " : "Error: " }),
                        el("span", { class: "message", text: e.message || String(e) }));
    if (e.status === 401) box.append(" Enter a valid API key above.");
    box.dataset.code = e.code || "";
    box.hidden = false;
  }

  // The last action started by a click or a form, so the boot code can wait for it.
  let pending = Promise.resolve();
  function track(promise) {
    pending = promise.then(() => showError(null), (e) => showError(e));
    return pending;
  }

  // ---- offsets: the API counts code points, JavaScript strings count UTF-16 units ----
  // The UTF-16 index of each code-point offset of `points` (any order) in `s`, as a Map;
  // offsets past the end map to s.length.
  function utf16Map(s, points) {
    const sorted = [...new Set(points)].sort((a, b) => a - b);
    const out = new Map();
    let i = 0, cp = 0;
    for (const target of sorted) {
      while (cp < target && i < s.length) {
        const c = s.charCodeAt(i);
        const pair = c >= 0xd800 && c <= 0xdbff && i + 1 < s.length && (s.charCodeAt(i + 1) & 0xfc00) === 0xdc00;
        i += pair ? 2 : 1;
        cp++;
      }
      out.set(target, i);
    }
    return out;
  }

  // ---- the document view ----
  function pageOf(doc, cp) {
    for (const p of doc.pages || []) if (cp >= p.char_start && cp < p.char_end) return p.page;
    return 0;
  }

  // Shows `doc` with the code-point span [start, end) marked (and `terms` [[s, e], ...] inside it
  // emphasised), scrolled into view.
  function renderDocument(doc, span, terms) {
    const text = typeof doc.text === "string" ? doc.text : "";
    $("doc-title").textContent = doc.title || doc.id;
    const box = $("doc-text");
    box.replaceChildren();
    const meta = [doc.id, doc.source !== doc.id ? doc.source : "", doc.format, doc.char_length + " characters"];
    if (!span) {
      $("doc-meta").textContent = meta.filter(Boolean).join(" · ");
      box.append(text);
      box.scrollTop = 0;
      return;
    }
    const len = Number(doc.char_length) || 0;
    const start = Math.max(0, Math.min(len, span[0])), end = Math.max(start, Math.min(len, span[1]));
    const inner = (terms || []).filter((t) => t[0] >= start && t[1] <= end && t[0] < t[1]).sort((a, b) => a[0] - b[0]);
    const at = utf16Map(text, [start, end, ...inner.flat()]);
    const page = pageOf(doc, start);
    meta.push("cited characters " + start + "–" + end + (page ? " (page " + page + ")" : ""));
    $("doc-meta").textContent = meta.filter(Boolean).join(" · ");
    const mark = el("mark", { id: "doc-span", tabindex: "-1", "data-char-start": start, "data-char-end": end });
    let pos = at.get(start);
    for (const [s, e] of inner) {
      const a = at.get(s), b = at.get(e);
      if (a < pos) continue;  // overlapping terms: the first one wins
      mark.append(text.slice(pos, a), el("b", { class: "term", text: text.slice(a, b) }));
      pos = b;
    }
    mark.append(text.slice(pos, at.get(end)));
    box.append(text.slice(0, at.get(start)), mark, text.slice(at.get(end)));
    mark.scrollIntoView({ block: "center" });
    mark.focus({ preventScroll: true });
  }

  async function openDocument(id, span, terms) {
    const view = $("doc");
    view.setAttribute("aria-busy", "true");
    try {
      const doc = await api("GET", "/v1/documents/" + encodeURIComponent(id));
      renderDocument(doc, span, terms);
      view.dataset.docId = id;
    } finally {
      view.removeAttribute("aria-busy");
    }
  }

  function setCurrent(list, item) {
    for (const b of list.querySelectorAll("[aria-current]")) b.removeAttribute("aria-current");
    item.setAttribute("aria-current", "true");
  }

  // ---- search ----
  // "a **match** b" -> text and <mark> nodes.
  function snippetNodes(snippet) {
    return String(snippet || "").split("**").map((part, i) => (i % 2 ? el("mark", { text: part }) : part));
  }

  async function runSearch(query, mode, k) {
    $("search-status").textContent = "Searching…";
    const list = $("search-results");
    list.replaceChildren();
    const body = { query, mode };
    if (k) body.k = k;
    const r = await api("POST", "/v1/search", body);
    for (const h of r.hits) {
      const button = el("button", { type: "button", class: "item hit", "data-doc-id": h.doc_id,
                                    "data-char-start": h.char_start, "data-char-end": h.char_end },
        el("span", { class: "head" }, el("span", { class: "badge", text: String(h.rank) }),
           el("span", { class: "title", text: h.title || h.doc_id }),
           el("span", { class: "src", text: h.doc_id + (h.page ? " · page " + h.page : "") + " · score " + Number(h.score).toFixed(3) })),
        el("span", { class: "body snippet" }, ...snippetNodes(h.snippet)));
      button.addEventListener("click", () => {
        setCurrent(list, button);
        track(openDocument(h.doc_id, [h.char_start, h.char_end], h.highlights || []));
      });
      list.append(el("li", {}, button));
    }
    $("search-status").textContent = r.hits.length + (r.hits.length === 1 ? " result" : " results") +
      " (" + r.mode + ", " + Number(r.took_ms).toFixed(1) + " ms)";
  }

  // ---- ask ----
  async function runAsk(question, mode, k, llm) {
    $("ask-status").textContent = "Answering…";
    const answer = $("answer"), sources = $("sources");
    answer.replaceChildren();
    sources.replaceChildren();
    answer.classList.remove("abstained");
    const body = { question, mode, llm };
    if (k) body.k = k;
    const r = await api("POST", "/v1/ask", body);
    const byN = new Map((r.sources || []).map((s) => [s.n, s]));
    const open = (s, trigger) => {
      setCurrent(document.getElementById("panel-ask"), trigger);
      return track(openDocument(s.doc_id, [s.char_start, s.char_end], []));
    };
    if (r.abstained) {
      answer.classList.add("abstained");
      answer.textContent = r.answer;
    } else {
      // "text [1] text [2]": each [n] of a source becomes a button that opens its span.
      const parts = String(r.answer).split(/\[(\d+)\]/);
      for (let i = 0; i < parts.length; i++) {
        if (i % 2 === 0) { answer.append(parts[i]); continue; }
        const s = byN.get(Number(parts[i]));
        if (!s) { answer.append("[" + parts[i] + "]"); continue; }
        const cite = el("button", { type: "button", class: "cite", "data-n": s.n,
                                    "aria-label": "Source " + s.n + ": " + (s.title || s.doc_id), text: "[" + s.n + "]" });
        cite.addEventListener("click", () => open(s, cite));
        answer.append(cite);
      }
    }
    for (const s of r.sources || []) {
      const button = el("button", { type: "button", class: "item source", "data-n": s.n },
        el("span", { class: "head" }, el("span", { class: "badge", text: String(s.n) }),
           el("span", { class: "title", text: s.title || s.doc_id }),
           el("span", { class: "src", text: s.doc_id + (s.page ? " · page " + s.page : "") })),
        el("span", { class: "body", text: s.quote }));
      button.addEventListener("click", () => open(s, button));
      sources.append(el("li", {}, button));
    }
    const conf = typeof r.confidence === "number" ? ", confidence " + r.confidence.toFixed(2) : "";
    $("ask-status").textContent = (r.abstained ? "Abstained" : "Answered") + " by " + r.generator + conf +
      " (" + Number(r.took_ms).toFixed(1) + " ms)";
  }

  // ---- reports ----
  async function loadReports() {
    $("reports-status").textContent = "Loading…";
    const list = $("report-list");
    list.replaceChildren();
    const r = await api("GET", "/v1/reports");
    for (const rep of r.data) {
      const when = new Date(rep.modified_unix_ms);
      const button = el("button", { type: "button", class: "item report", "data-name": rep.name },
        el("span", { class: "head" }, rep.decision ? el("span", { class: "badge", text: rep.decision }) : null,
           el("span", { class: "title", text: rep.title || rep.name }),
           el("span", { class: "meta", text: rep.name + (rep.task ? " · " + rep.task : "") + " · " + when.toLocaleString() })),
        el("span", { class: "body", text: rep.error ? "report.json: " + rep.error : (rep.headline || "") }));
      button.addEventListener("click", () => {
        setCurrent(list, button);
        track(openReport(rep.name));
      });
      list.append(el("li", {}, button));
    }
    $("reports-status").textContent = r.data.length ? r.data.length + (r.data.length === 1 ? " report" : " reports")
                                                    : "No reports under --reports yet (`ragft decide --out DIR` writes one).";
  }

  async function openReport(name) {
    const html = await api("GET", "/reports/" + encodeURIComponent(name), undefined, "text");
    const frame = $("report-frame");
    // Sandboxed without scripts; same origin only so its title can be read here.
    await new Promise((resolve) => { frame.addEventListener("load", resolve, { once: true }); frame.srcdoc = html; });
    frame.hidden = false;
    frame.title = "Decide report " + name;
    const d = frame.contentDocument;
    const heading = d && d.querySelector("h1");
    const title = (d && d.title) || (heading && heading.textContent) || name;
    const status = $("report-status");
    status.textContent = "Showing " + name + ": " + title;
    status.dataset.report = name;
  }

  // ---- tabs ----
  const tabs = ["search", "ask", "reports"];
  function selectTab(name, focus) {
    for (const t of tabs) {
      const on = t === name;
      const tab = $("tab-" + t);
      tab.setAttribute("aria-selected", on ? "true" : "false");
      tab.tabIndex = on ? 0 : -1;
      $("panel-" + t).hidden = !on;
      if (on && focus) tab.focus();
    }
    $("main").classList.toggle("wide", name === "reports");
  }
  let reportsLoaded = false;
  for (const t of tabs) {
    $("tab-" + t).addEventListener("click", () => {
      selectTab(t);
      if (t === "reports" && !reportsLoaded) { reportsLoaded = true; track(loadReports()); }
    });
    $("tab-" + t).addEventListener("keydown", (e) => {
      const i = tabs.indexOf(t);
      const next = e.key === "ArrowRight" ? tabs[(i + 1) % tabs.length] : e.key === "ArrowLeft" ? tabs[(i + tabs.length - 1) % tabs.length]
                 : e.key === "Home" ? tabs[0] : e.key === "End" ? tabs[tabs.length - 1] : null;
      if (next) { e.preventDefault(); selectTab(next, true); }
    });
  }

  // ---- forms; the fragment records the query so a view can be bookmarked ----
  function setFragment(params) {
    history.replaceState(null, "", location.pathname + location.search + "#" + new URLSearchParams(params).toString());
  }
  const kOf = (input) => { const v = parseInt(input.value, 10); return Number.isFinite(v) && v > 0 ? v : undefined; };
  $("search-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("search-q").value.trim(), mode = $("search-mode").value, k = kOf($("search-k"));
    if (!q) return;
    setFragment({ search: q, mode, ...(k ? { k } : {}) });
    track(runSearch(q, mode, k));
  });
  $("ask-form").addEventListener("submit", (e) => {
    e.preventDefault();
    const q = $("ask-q").value.trim(), mode = $("ask-mode").value, k = kOf($("ask-k")), llm = $("ask-llm").checked;
    if (!q) return;
    setFragment({ ask: q, mode, ...(k ? { k } : {}), ...(llm ? { llm: 1 } : {}) });
    track(runAsk(q, mode, k, llm));
  });
  $("key-form").addEventListener("submit", (e) => {
    e.preventDefault();
    apiKey = $("key").value.trim();
    storage.set(apiKey);
    showKey();
  });
  $("key-forget").addEventListener("click", () => { apiKey = ""; storage.set(""); showKey(); });

  // Clicks `target` as a user would (a real click event) and waits for what the click started.
  async function click(target, what) {
    if (!target) throw new Error("nothing to open: " + what);
    pending = Promise.resolve();
    target.dispatchEvent(new MouseEvent("click", { bubbles: true, cancelable: true, view: window }));
    await pending;
  }

  // ---- the state in the URL fragment ----
  //   #search=Q[&mode=M][&k=N][&open=I]     search, then open hit I (1-based)
  //   #ask=Q[&mode=M][&k=N][&llm=1][&cite=N] ask, then click the answer's first [N]
  //   #reports[&open=NAME]  or  #report=NAME the Reports tab, then open report NAME
  //   #doc=ID[&start=S&end=E]                a document, the span [S, E) marked
  //   key=K (with any of them)               saves K as the API key and drops it from the address bar
  async function applyFragment(p) {
    const mode = ["bm25", "dense", "hybrid"].includes(p.get("mode")) ? p.get("mode") : "bm25";
    const k = parseInt(p.get("k"), 10) > 0 ? parseInt(p.get("k"), 10) : undefined;
    if (p.has("search")) {
      selectTab("search");
      $("search-q").value = p.get("search");
      $("search-mode").value = mode;
      if (k) $("search-k").value = k;
      await runSearch(p.get("search"), mode, k || kOf($("search-k")));
      const n = parseInt(p.get("open"), 10);
      if (n > 0) await click($("search-results").querySelectorAll(".hit")[n - 1], "search result " + n);
    } else if (p.has("ask")) {
      selectTab("ask");
      const llm = p.get("llm") === "1" || p.get("llm") === "true";
      $("ask-q").value = p.get("ask");
      $("ask-mode").value = mode;
      if (k) $("ask-k").value = k;
      $("ask-llm").checked = llm;
      await runAsk(p.get("ask"), mode, k, llm);
      const n = parseInt(p.get("cite"), 10);
      if (n > 0) await click($("answer").querySelector('.cite[data-n="' + n + '"]'), "citation [" + n + "]");
    } else if (p.has("reports") || p.has("report")) {
      selectTab("reports");
      reportsLoaded = true;
      await loadReports();
      const name = p.get("report") || p.get("open");
      if (name) {
        const item = [...$("report-list").querySelectorAll(".report")].find((b) => b.dataset.name === name);
        await click(item, "report " + name);
      }
    } else if (p.has("doc")) {
      const s = parseInt(p.get("start"), 10), e = parseInt(p.get("end"), 10);
      await openDocument(p.get("doc"), Number.isFinite(s) && Number.isFinite(e) ? [s, e] : null, []);
    }
  }

  async function showHealth() {
    try {
      const h = await api("GET", "/health");
      $("health").textContent = [h.workspace ? "workspace" : "no workspace", h.chat ? "chat model" : "no chat model"].join(" · ");
      if (!h.chat) {
        $("ask-llm").disabled = true;
        $("ask-llm").title = "this server has no chat model (--llm)";
      }
    } catch (e) {
      $("health").textContent = "server unreachable";
    }
  }

  async function boot() {
    document.body.dataset.state = "booting";
    const p = new URLSearchParams(location.hash.slice(1));
    if (p.has("key")) {
      apiKey = p.get("key").trim();
      storage.set(apiKey);
      p.delete("key");
      const rest = p.toString();
      history.replaceState(null, "", location.pathname + location.search + (rest ? "#" + rest : ""));
    }
    showKey();
    await showHealth();
    try {
      await applyFragment(p);
      await pending;
    } catch (e) {
      showError(e);
    }
    document.body.dataset.state = "ready";
  }
  window.addEventListener("hashchange", () => track(applyFragment(new URLSearchParams(location.hash.slice(1)))));
  boot();
})();
</script>
</body>
</html>
)ragft_ui";

std::string build_page() {
  std::string page(kPage);
  const std::size_t open = page.find("<script>");
  const std::size_t close = page.find("</script>");
  RAGFT_CHECK(open != std::string::npos && close != std::string::npos && open < close);
  const std::size_t from = open + std::string_view("<script>").size();
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int len = 0;
  RAGFT_CHECK(EVP_Digest(page.data() + from, close - from, digest, &len, EVP_sha256(), nullptr) == 1 && len == 32);
  unsigned char b64[64] = {};
  const int n = EVP_EncodeBlock(b64, digest, static_cast<int>(len));
  const std::string_view placeholder = "@SCRIPT_HASH@";
  const std::size_t at = page.find(placeholder);
  RAGFT_CHECK(at != std::string::npos && at < open);
  page.replace(at, placeholder.size(), reinterpret_cast<const char*>(b64), static_cast<std::size_t>(n));
  return page;
}

}  // namespace

const std::string& web_ui_html() {
  static const std::string page = build_page();
  return page;
}

Reply handle_web_ui(const ServeContext&, const RequestContext&) {
  return Reply{200, "text/html; charset=utf-8", web_ui_html(), {}};
}

}  // namespace ragft::serve
