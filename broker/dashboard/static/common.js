// Shared helpers. Everything from a device is put into the page with textContent (never
// innerHTML), so a desk called "<script>…" stays text.
"use strict";
const Poise = (() => {
  const csrf = () => document.querySelector('meta[name="csrf-token"]').content;
  async function api(path) {
    const r = await fetch(path, { credentials: "same-origin", headers: { Accept: "application/json" } });
    if (r.status === 401) { location.href = "/login"; throw new Error("logged out"); }
    if (!r.ok) { const e = new Error(`${r.status} ${r.statusText}`); e.status = r.status; throw e; }
    return r.json();
  }
  function el(tag, attrs, ...children) {
    const n = document.createElement(tag);
    for (const [k, v] of Object.entries(attrs || {})) {
      if (v === null || v === undefined || v === false) continue;
      if (k === "class") n.className = v;
      else if (k === "dataset") Object.assign(n.dataset, v);
      else n.setAttribute(k, v === true ? "" : String(v));
    }
    for (const c of children) {
      if (c === null || c === undefined) continue;
      n.append(c instanceof Node ? c : document.createTextNode(String(c)));
    }
    return n;
  }
  function duration(s) {
    if (s === null || s === undefined) return "";
    s = Math.max(0, Math.round(s));
    const h = Math.floor(s / 3600), m = Math.floor((s % 3600) / 60), sec = s % 60;
    return (h ? `${h}:${String(m).padStart(2, "0")}` : `${m}`) + `:${String(sec).padStart(2, "0")}`;
  }
  function time(epoch) {
    if (!epoch) return "never";
    return new Date(epoch * 1000).toISOString().replace("T", " ").slice(0, 19) + "Z";
  }
  function ago(epoch, now) {
    if (!epoch) return "never";
    const s = Math.max(0, now - epoch);
    if (s < 90) return `${Math.round(s)} s ago`;
    if (s < 5400) return `${Math.round(s / 60)} min ago`;
    return `${Math.round(s / 3600)} h ago`;
  }
  return { csrf, api, el, duration, time, ago };
})();
