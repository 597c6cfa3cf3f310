// Floor: one tile per desk, updated from the /api/v1/stream Server-Sent Events.
"use strict";
(() => {
  const { api, el, duration } = Poise;
  const grid = document.getElementById("tiles");
  const siteSel = document.getElementById("site"), teamSel = document.getElementById("team");
  const live = document.getElementById("live"), summary = document.getElementById("summary");
  const csv = document.getElementById("csv");
  const tiles = new Map();   // device -> tile data
  const nodes = new Map();   // device -> element
  let skew = 0;              // server now - browser now (s)
  let source = null;
  const PACE = { fast: "▲ fast", slow: "▼ slow", steady: "■ steady", unknown: "· pace n/a" };
  const params = new URLSearchParams(location.search);
  for (const [sel, key] of [[siteSel, "site"], [teamSel, "team"]]) {
    const v = params.get(key);
    if (v) { sel.append(el("option", { value: v }, v)); sel.value = v; }
  }

  function state(t) {
    if (!t.online) return "offline";
    if (t.cue) return "cue";
    return t.in_call ? "call" : "idle";
  }
  function render(t) {
    const s = state(t);
    const status = !t.online ? "○ Offline" : t.in_call ? "☎ In call" : "● Idle";
    const callTime = el("span", { class: "calltime", dataset: { started: t.call_started || "" } },
      t.in_call ? duration(t.call_s) : "");
    const label = [t.name, status.slice(2), t.cue ? `cue ${t.cue}` : "", t.in_call ? "in call" : "",
      `pace ${t.pace}`].filter(Boolean).join(", ");
    const a = el("a", {
        class: `tile s-${s} p-${t.pace}`, href: `/desk/${encodeURIComponent(t.device)}`,
        role: "listitem", "aria-label": label,
        dataset: { device: t.device, state: s, online: String(t.online), cue: t.cue || "",
                   incall: String(t.in_call), pace: t.pace },
      },
      el("span", { class: "name" }, t.name),
      el("span", { class: "sub" }, [t.team, t.agent].filter(Boolean).join(" · ")),
      el("span", { class: "status" }, status, " ", callTime),
      el("span", { class: "cue" }, t.cue ? `◆ ${t.cue.replace("_", " ")}` : ""),
      el("span", { class: "pace" }, PACE[t.pace] || t.pace),
    );
    return a;
  }
  function put(t) {
    tiles.set(t.device, t);
    const n = render(t), old = nodes.get(t.device);
    if (old) {
      const focused = document.activeElement === old;
      old.replaceWith(n);
      if (focused) n.focus();
    } else grid.append(n);
    nodes.set(t.device, n);
  }
  function tally() {
    const all = [...tiles.values()];
    const on = all.filter((t) => t.online).length, call = all.filter((t) => t.in_call).length;
    const cue = all.filter((t) => t.cue).length;
    summary.textContent = `${all.length} desks · ${on} online · ${call} in a call · ${cue} cued now`;
  }
  function fill(sel, values, chosen) {
    const keep = sel.value || chosen || "";
    sel.replaceChildren(el("option", { value: "" }, "all"), ...values.map((v) => el("option", { value: v }, v)));
    sel.value = values.includes(keep) ? keep : "";
  }
  function query() {
    const q = new URLSearchParams();
    if (siteSel.value) q.set("site", siteSel.value);
    if (teamSel.value) q.set("team", teamSel.value);
    return q.toString();
  }
  async function load() {
    const q = query();
    const f = await api(`/api/v1/floor${q ? "?" + q : ""}`);
    skew = f.now - Date.now() / 1000;
    fill(siteSel, f.sites, params.get("site")); fill(teamSel, f.teams, params.get("team"));
    tiles.clear(); nodes.clear();
    const frag = document.createDocumentFragment();   // one layout for the whole floor
    for (const t of f.tiles) {
      const n = render(t);
      tiles.set(t.device, t); nodes.set(t.device, n); frag.append(n);
    }
    grid.replaceChildren(frag); tally();
    csv.href = `/api/v1/floor.csv${q ? "?" + q : ""}`;
    connect(q);
    document.body.dataset.loaded = String(Date.now());
  }
  function connect(q) {
    if (source) source.close();
    source = new EventSource(`/api/v1/stream${q ? "?" + q : ""}`);
    source.onopen = () => { live.textContent = "live"; live.dataset.state = "live"; };
    source.onerror = () => { live.textContent = "reconnecting…"; live.dataset.state = "down"; };
    source.addEventListener("tiles", (e) => {
      const m = JSON.parse(e.data);
      skew = m.now - Date.now() / 1000;
      m.tiles.forEach(put); tally();
      document.body.dataset.updated = String(Date.now());
    });
  }
  setInterval(() => {   // call timers tick in the page; state changes come from the stream
    const now = Date.now() / 1000 + skew;
    for (const n of grid.querySelectorAll(".calltime")) {
      const st = parseFloat(n.dataset.started);
      if (st) n.textContent = duration(now - st);
    }
  }, 1000);
  // Arrow keys move between tiles (Enter opens one: they are links).
  grid.addEventListener("keydown", (e) => {
    const list = [...grid.querySelectorAll(".tile")];
    const i = list.indexOf(document.activeElement);
    if (i < 0) return;
    const cols = Math.max(1, Math.round(grid.clientWidth / list[0].offsetWidth));
    const step = { ArrowRight: 1, ArrowLeft: -1, ArrowDown: cols, ArrowUp: -cols, Home: -i, End: list.length - 1 - i }[e.key];
    if (step === undefined) return;
    e.preventDefault();
    list[Math.min(list.length - 1, Math.max(0, i + step))].focus();
  });
  siteSel.addEventListener("change", () => load().catch(showError));
  teamSel.addEventListener("change", () => load().catch(showError));
  function showError(e) { live.textContent = `error: ${e.message}`; }
  load().catch(showError);
})();
