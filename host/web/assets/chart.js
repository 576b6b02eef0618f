// A bar chart of activity per day, drawn as SVG from aggregated log counts
// ({kind, count, datetime} rows). The numbers are also given as a table for
// screen readers.
import { h } from "./dom.js";

const NS = "http://www.w3.org/2000/svg";

function s(tag, attrs, ...kids) {
  const el = document.createElementNS(NS, tag);
  for (const [k, v] of Object.entries(attrs || {})) el.setAttribute(k, String(v));
  for (const k of kids) el.append(k instanceof Node ? k : document.createTextNode(String(k)));
  return el;
}

export function activityChart(aggregated, days = 30) {
  const perDay = new Map();
  const now = new Date();
  const start = new Date(Date.UTC(now.getUTCFullYear(), now.getUTCMonth(), now.getUTCDate()));
  start.setUTCDate(start.getUTCDate() - (days - 1));
  for (let i = 0; i < days; i++) {
    const d = new Date(start);
    d.setUTCDate(start.getUTCDate() + i);
    perDay.set(d.toISOString().slice(0, 10), 0);
  }
  for (const row of aggregated || []) {
    const d = new Date(row.datetime);
    if (isNaN(d)) continue;
    const key = d.toISOString().slice(0, 10);
    if (perDay.has(key)) perDay.set(key, perDay.get(key) + (row.count || 0));
  }
  const entries = [...perDay.entries()];
  const max = Math.max(1, ...entries.map(([, c]) => c));
  const W = 600, H = 140, pad = 24, bw = (W - pad) / days;
  const svg = s("svg", { viewBox: `0 0 ${W} ${H + 20}`, class: "chart", role: "img",
    "aria-label": `Actions per day over the last ${days} days; most in one day: ${max}` });
  svg.append(s("line", { x1: pad, y1: H, x2: W, y2: H, class: "axis" }));
  svg.append(s("text", { x: 0, y: 10, class: "tick" }, max));
  svg.append(s("text", { x: 0, y: H, class: "tick" }, 0));
  entries.forEach(([day, c], i) => {
    const bh = Math.round((c / max) * (H - 10));
    const bar = s("rect", { x: pad + i * bw + 1, y: H - bh, width: Math.max(1, bw - 2),
      height: bh, class: "bar" });
    bar.append(s("title", {}, `${day}: ${c}`));
    svg.append(bar);
    if (i % 7 === 0) svg.append(s("text", { x: pad + i * bw, y: H + 14, class: "tick" },
      day.slice(5)));
  });
  const total = entries.reduce((a, [, c]) => a + c, 0);
  return h("figure", { class: "chart-box" }, svg,
    h("figcaption", null, `${total} actions in the last ${days} days`));
}
