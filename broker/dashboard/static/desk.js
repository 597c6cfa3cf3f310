// Desk / agent page: uPlot timelines from /api/v1/desks/{device}/timeline and the per-call rows.
"use strict";
(() => {
  const { api, el, duration, time } = Poise;
  const device = document.getElementById("desk").dataset.device;
  const err = document.getElementById("error");
  const base = `/api/v1/desks/${encodeURIComponent(device)}`;
  // Okabe–Ito colours (colour-blind safe); every series also differs by dash or point shape.
  const C = { blue: "#0072B2", orange: "#E69F00", green: "#009E73", verm: "#D55E00",
              purple: "#CC79A7", sky: "#56B4E9", grey: "#666666" };
  const plots = [];

  function chart(id, ts, series, opts = {}) {
    const target = document.getElementById(id);
    target.replaceChildren();
    const data = [ts, ...series.map((s) => s.data)];
    const width = Math.max(320, target.clientWidth || 600);
    const u = new uPlot({
      width, height: opts.height || 180,
      scales: { x: { time: true } },
      axes: [{}, { label: opts.unit || "", ...(opts.yValues ? { values: opts.yValues } : {}) }],
      series: [{}, ...series.map((s) => ({
        label: s.label, stroke: s.color, width: 2, dash: s.dash, spanGaps: false,
        points: s.points ? { show: true, size: 7, fill: s.color } : { show: ts.length < 60 },
        paths: s.points ? () => null : undefined,
      }))],
    }, data, target);
    target.dataset.points = String(ts.length);
    plots.push(u);
    return u;
  }
  async function load(span) {
    plots.splice(0).forEach((p) => p.destroy());
    const until = Date.now() / 1000, since = until - span;
    const q = `?since=${since.toFixed(0)}&until=${(until + 60).toFixed(0)}`;
    document.getElementById("csv-timeline").href = `${base}/timeline.csv${q}`;
    document.getElementById("csv-calls").href = `${base}/calls.csv${q}`;
    const [info, tl, calls] = await Promise.all([api(base), api(`${base}/timeline${q}`), api(`${base}/calls${q}`)]);
    document.getElementById("title").textContent = info.name;
    document.getElementById("meta").textContent =
      [info.site, info.team, info.agent && `agent ${info.agent}`].filter(Boolean).join(" · ");
    document.title = `Poise · ${info.name}`;
    const S = tl.series, ts = tl.ts;
    chart("c-rate", ts, [
      { label: "speech rate", data: S.speech_rate_sps, color: C.blue },
      { label: "articulation rate", data: S.articulation_rate_sps, color: C.orange, dash: [6, 3] },
      { label: "baseline (articulation)", data: S.baseline_articulation_sps, color: C.grey, dash: [2, 4] },
    ], { unit: "syl/s" });
    chart("c-pitch", ts, [{ label: "pitch SD", data: S.pitch_sd_st, color: C.purple }], { unit: "st" });
    const fa = document.getElementById("f-arousal");
    if (tl.sees_arousal && S.arousal) {
      fa.hidden = false;
      chart("c-arousal", ts, [{ label: "arousal", data: S.arousal, color: C.verm }]);
    } else {
      fa.hidden = true;
      document.getElementById("c-arousal").replaceChildren();
    }
    chart("c-talk", ts, [
      { label: "agent talk", data: S.agent_talk_s, color: C.blue },
      { label: "customer talk", data: S.customer_talk_s, color: C.sky, dash: [6, 3] },
      { label: "overlap", data: S.overlap_s, color: C.verm, dash: [2, 2] },
      { label: "dead air", data: S.dead_air_s, color: C.grey, dash: [10, 4] },
    ], { unit: "s" });
    chart("c-int", ts, [
      { label: "agent interrupts", data: S.interruptions_by_agent, color: C.orange },
      { label: "customer interrupts", data: S.interruptions_by_customer, color: C.green, dash: [6, 3] },
    ]);
    // Cues: one row of points per cue type (y = row), so the type is readable without colour.
    const kinds = Object.keys(tl.cues).sort();
    const cts = [...new Set(kinds.flatMap((k) => tl.cues[k]))].sort((a, b) => a - b);
    const palette = [C.orange, C.blue, C.verm, C.green, C.purple, C.sky, C.grey];
    chart("c-cues", cts.length ? cts : [since, until], kinds.map((k, i) => ({
      label: k, color: palette[i % palette.length], points: true,
      data: (cts.length ? cts : [since, until]).map((t) => (tl.cues[k].includes(t) ? i + 1 : null)),
    })), { unit: "cue", yValues: (u, splits) => splits.map((v) => (Number.isInteger(v) && kinds[v - 1]) || "") });
    const body = document.querySelector("#calls tbody");
    body.replaceChildren(...calls.map((c) => el("tr", {},
      el("td", {}, time(c.start)), el("td", {}, duration(c.duration_s)),
      el("td", {}, c.talk_share === null ? "" : `${Math.round(c.talk_share * 100)} %`),
      el("td", {}, c.overlap_s.toFixed(1)), el("td", {}, c.dead_air_s.toFixed(1)),
      el("td", {}, c.interruptions_by_agent),
      el("td", {}, Object.entries(c.cues).map(([k, n]) => `${k} ×${n}`).join(", ")),
    )));
    if (!calls.length) body.append(el("tr", {}, el("td", { colspan: 7 }, "No calls in this span.")));
    document.body.dataset.loaded = String(Date.now());
  }
  function fail(e) {
    err.hidden = false;
    err.textContent = e.status === 403 ? "You may not see this desk." :
      e.status === 404 ? "No such desk." : `Could not load: ${e.message}`;
    document.querySelector(".charts").hidden = true;
    document.body.dataset.loaded = String(Date.now());
  }
  for (const b of document.querySelectorAll("button[data-span]")) {
    b.addEventListener("click", () => {
      for (const o of document.querySelectorAll("button[data-span]")) o.setAttribute("aria-pressed", String(o === b));
      load(Number(b.dataset.span)).catch(fail);
    });
  }
  load(43200).catch(fail);
})();
