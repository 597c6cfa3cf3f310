// Alerts: offline too long, outbox dropping, "offer a break" (where policy allows).
"use strict";
(() => {
  const { api, el, time } = Poise;
  const ICON = { offline: "○", outbox_dropping: "⚠", offer_break: "☕" };
  async function load() {
    const list = await api("/api/v1/alerts");
    const ul = document.getElementById("alerts");
    ul.replaceChildren(...(list.length ? list.map((a) => el("li", { class: `alert a-${a.kind}`, dataset: { kind: a.kind, device: a.device } },
      el("span", { class: "icon", "aria-hidden": "true" }, ICON[a.kind] || "!"),
      el("a", { href: `/desk/${encodeURIComponent(a.device)}` }, a.name),
      el("span", { class: "sub" }, [a.site, a.team].filter(Boolean).join(" · ")),
      el("span", {}, a.text), el("span", { class: "sub" }, a.since ? `since ${time(a.since)}` : "")))
      : [el("li", {}, "No alerts.")]));
    document.body.dataset.loaded = String(Date.now());
  }
  load().catch((e) => { document.getElementById("alerts").replaceChildren(el("li", {}, `error: ${e.message}`)); });
})();
