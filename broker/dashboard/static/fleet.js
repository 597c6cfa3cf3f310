// Fleet (admins): every device, sortable by any column; offline/stale/unhealthy rows highlighted.
"use strict";
(() => {
  const { api, el, ago } = Poise;
  const COLS = [
    ["device", "Device"], ["name", "Desk"], ["site", "Site"], ["online", "Online"],
    ["last_seen", "Last seen"], ["software", "Software"], ["model", "Model"],
    ["config_version", "Config"], ["outbox_depth", "Outbox"], ["dropped", "Dropped"],
    ["cpu_temp_c", "Temp °C"], ["overflows", "Overflows"], ["missing", "Missing seq"],
    ["unhealthy", "Health"],
  ];
  let rows = [], now = Date.now() / 1000, sortKey = "device", asc = true;
  const head = document.querySelector("#fleet thead tr"), body = document.querySelector("#fleet tbody");
  head.replaceChildren(...COLS.map(([k, label]) => el("th", { scope: "col", "aria-sort": "none", dataset: { key: k } },
    el("button", { type: "button" }, label))));
  head.addEventListener("click", (e) => {
    const th = e.target.closest("th"); if (!th) return;
    asc = sortKey === th.dataset.key ? !asc : true; sortKey = th.dataset.key; draw();
  });
  function cell(r, k) {
    const v = r[k];
    if (k === "online") return r.online ? "● online" : r.stale ? "◐ stale" : "○ offline";
    if (k === "last_seen") return ago(v, now);
    if (k === "unhealthy") return v.length ? `⚠ ${v.join(", ")}` : "✓ ok";
    if (k === "cpu_temp_c") return v === null ? "" : v.toFixed(1);
    return v === null || v === undefined ? "" : v;
  }
  function draw() {
    const key = (r) => { const v = r[sortKey]; return Array.isArray(v) ? v.length : v; };
    rows.sort((a, b) => {
      const x = key(a), y = key(b);
      if (x === y) return 0;
      if (x === null || x === undefined) return 1;
      if (y === null || y === undefined) return -1;
      return (x < y ? -1 : 1) * (asc ? 1 : -1);
    });
    for (const th of head.children) th.setAttribute("aria-sort", th.dataset.key === sortKey ? (asc ? "ascending" : "descending") : "none");
    body.replaceChildren(...rows.map((r) => el("tr", {
        class: [r.unhealthy.length ? "bad" : "", r.stale ? "stale" : "", r.online ? "" : "offline"].join(" ").trim(),
        dataset: { device: r.device } },
      ...COLS.map(([k]) => el("td", {}, k === "device" ? el("a", { href: `/desk/${encodeURIComponent(r.device)}` }, r.device) : cell(r, k))))));
    document.getElementById("count").textContent =
      `${rows.length} devices · ${rows.filter((r) => r.online).length} online · ${rows.filter((r) => r.unhealthy.length).length} need attention`;
  }
  async function load() {
    const [f, gaps] = await Promise.all([api("/api/v1/fleet"), api("/api/v1/fleet/gaps")]);
    rows = f; now = Date.now() / 1000; draw();
    document.querySelector("#gaps tbody").replaceChildren(...(gaps.length ? gaps.map((g) => el("tr", {},
      el("td", {}, g.device), el("td", {}, g.boot), el("td", {}, g.first === g.last ? g.first : `${g.first}–${g.last}`)))
      : [el("tr", {}, el("td", { colspan: 3 }, "No gaps: every desk's data arrived."))]));
    document.body.dataset.loaded = String(Date.now());
  }
  load().catch((e) => { document.getElementById("count").textContent = `error: ${e.message}`; });
})();
