// Sift's web page: reads the state from the URL, asks /search, draws the
// answer.  Every piece of article text goes into the page through
// textContent, never as markup: titles, outlets and snippets are untrusted.
// The marks of snippets and of titles' "title_html" (<b>...</b> around
// matches, with <, > and & escaped in the text, SPEC.md) are split apart
// here and drawn as <mark>.
"use strict";

const PAGE = 10;
const $ = (id) => document.getElementById(id);
let state = { q: "", outlet: [], from: "", to: "", sort: "", offset: 0 };
let secret = sessionStorage.getItem("sift-secret") || "";
let started = performance.now();

function el(tag, attrs, ...children) {
  const e = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (k === "class") e.className = v;
    else if (k.startsWith("on")) e.addEventListener(k.slice(2), v);
    else e.setAttribute(k, v);
  }
  for (const c of children) e.append(c);
  return e;
}

function readUrl() {
  const p = new URLSearchParams(location.search);
  state = {
    q: p.get("q") || "", outlet: p.getAll("outlet"), from: p.get("from") || "",
    to: p.get("to") || "", sort: p.get("sort") || "", offset: parseInt(p.get("offset"), 10) || 0,
  };
  $("q").value = state.q;
  $("from").value = state.from;
  $("to").value = state.to;
  $("sort").value = state.sort;
}

function params(extra) {
  const p = new URLSearchParams();
  if (state.q) p.set("q", state.q);
  for (const o of state.outlet) p.append("outlet", o);
  if (state.from) p.set("from", state.from);
  if (state.to) p.set("to", state.to);
  if (state.sort) p.set("sort", state.sort);
  if (state.offset) p.set("offset", String(state.offset));
  for (const [k, v] of Object.entries(extra || {})) p.set(k, v);
  return p;
}

// Change the state, keep it in the URL (so a search can be shared), ask.
function go(change) {
  Object.assign(state, change);
  history.pushState(null, "", "?" + params().toString());
  search();
}

function unescapeText(s) {
  return s.replace(/&lt;/g, "<").replace(/&gt;/g, ">").replace(/&amp;/g, "&");
}

// Marked text (a snippet, a title_html) appended to e as text and <mark>s.
function appendMarked(e, text) {
  text.split(/(<b>|<\/b>)/).reduce((marked, part) => {
    if (part === "<b>") return true;
    if (part === "</b>") return false;
    if (part) e.append(marked ? el("mark", {}, unescapeText(part)) : unescapeText(part));
    return marked;
  }, false);
  return e;
}

function safeUrl(u) {
  try {
    const url = new URL(u);
    return url.protocol === "http:" || url.protocol === "https:" ? url.href : null;
  } catch (e) {
    return null;
  }
}

function drawHits(r) {
  const ol = $("hits");
  ol.replaceChildren();
  for (const h of r.hits) {
    const href = h.url && safeUrl(h.url);
    const title = h.title_html ? appendMarked(document.createDocumentFragment(), h.title_html)
      : h.title || h.id;
    const meta = [h.outlet, h.date].filter(Boolean).join(" · ");
    ol.append(el("li", {},
      el("h3", {}, href ? el("a", { href, rel: "noopener noreferrer" }, title) : title),
      el("div", { class: "meta" }, meta),
      h.snippet ? appendMarked(el("p", { class: "snippet" }), h.snippet) : ""));
  }
  const pages = Math.max(1, Math.ceil(r.total / PAGE));
  const page = Math.floor(r.offset / PAGE) + 1;
  $("page").textContent = r.total ? "page " + page + " of " + pages : "";
  $("prev").disabled = r.offset === 0;
  $("next").disabled = r.offset + r.hits.length >= r.total;
}

function drawFacets(r) {
  const outlets = $("outlets");
  outlets.replaceChildren();
  for (const f of (r.facets && r.facets.outlet) || []) {
    outlets.append(el("li", {},
      el("button", { type: "button", class: "link", title: "only " + f.value,
        onclick: () => go({ outlet: state.outlet.concat([f.value]), offset: 0 }) }, f.value),
      el("span", { class: "count" }, String(f.count))));
  }
  const months = ((r.facets && r.facets.month) || []).slice().sort((a, b) =>
    a.value < b.value ? -1 : 1);
  const max = Math.max(1, ...months.map((m) => m.count));
  const bars = $("months");
  bars.replaceChildren();
  for (const m of months) {
    const fill = el("span", { class: "fill" });
    fill.style.width = (100 * m.count / max).toFixed(1) + "%";
    bars.append(el("button", { type: "button", class: "bar", title: m.value + ": " + m.count,
      onclick: () => go({ from: m.value, to: m.value, offset: 0 }) },
      el("span", {}, m.value), fill, el("span", { class: "count" }, String(m.count))));
  }
}

function drawFilters() {
  const box = $("filters");
  box.replaceChildren();
  state.outlet.forEach((o, i) => box.append(el("button", { type: "button",
    title: "remove this filter",
    onclick: () => go({ outlet: state.outlet.filter((_, k) => k !== i), offset: 0 }) },
    "× outlet: " + o)));
  if (state.from || state.to) {
    box.append(el("button", { type: "button", title: "remove the date range",
      onclick: () => go({ from: "", to: "", offset: 0 }) },
      "× dates: " + (state.from || "…") + " – " + (state.to || "…")));
  }
}

async function search() {
  drawFilters();
  const status = $("status");
  status.className = "";
  status.textContent = "Searching…";
  const url = "/search?" + params({ limit: String(PAGE), facets: "outlet:15,month:all" });
  let r, res;
  try {
    res = await fetch(url, { headers: secret ? { Authorization: "Bearer " + secret } : {} });
    r = await res.json();
  } catch (e) {
    status.className = "error";
    status.textContent = "The server did not answer (" + e.message + ").";
    return;
  }
  if (res.status === 401) {
    $("auth").hidden = false;
    $("secret").focus();
  }
  if (!r.ok) {
    status.className = "error";
    status.textContent = r.error.message + (r.error.column ? " (at column " + r.error.column + ")" : "");
    $("hits").replaceChildren();
    return;
  }
  status.textContent = (r.total_exact ? "" : "about ") + r.total.toLocaleString("en") +
    (r.total === 1 ? " article" : " articles") + " (" + (r.took_us / 1000).toFixed(1) + " ms)";
  drawHits(r);
  drawFacets(r);
  if (!document.body.dataset.firstShownMs)
    document.body.dataset.firstShownMs = String(Math.round(performance.now() - started));
}

document.addEventListener("DOMContentLoaded", () => {
  $("search").addEventListener("submit", (ev) => {
    ev.preventDefault();
    go({ q: $("q").value.trim(), from: $("from").value.trim(), to: $("to").value.trim(),
      sort: $("sort").value, offset: 0 });
  });
  $("prev").addEventListener("click", () => go({ offset: Math.max(0, state.offset - PAGE) }));
  $("next").addEventListener("click", () => go({ offset: state.offset + PAGE }));
  $("auth-go").addEventListener("click", () => {
    secret = $("secret").value;
    sessionStorage.setItem("sift-secret", secret);
    $("auth").hidden = true;
    search();
  });
  window.addEventListener("popstate", () => { readUrl(); search(); });
  readUrl();
  started = performance.now();
  search();
});
