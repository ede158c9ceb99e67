/**
 * The workers chart, hand-written SVG like the main bench's: one panel per metric (throughput,
 * memory, the fast route's p99 beside a blocking one, …), each with a category on the x axis (the
 * worker count `N=2`, or a workers × pool case `4×2`) and one bar per series (node:http, uWS) in
 * every category, labelled with its value.
 *
 * @module
 */
import { xmlEscape } from "../svg-chart.js";

/** One metric against a category (N, or workers × pool). */
export interface Panel {
  title: string;
  /** Unit after each value label: `req/s`, `MB`, `ms`. */
  unit: string;
  /** Values per category label (`N=1`, `4×2`); categories appear in first-seen order. */
  series: ReadonlyArray<{ label: string; values: ReadonlyMap<string, number> }>;
}

const COLOURS = ["#1f6feb", "#0b8a6b", "#8250df", "#bf3989"];
const PANEL_WIDTH = 440;
const PANEL_HEIGHT = 260;
const PLOT_TOP = 40;
const PLOT_BOTTOM = 40;

function label(value: number, unit: string): string {
  if (!Number.isFinite(value)) return "–";
  const text = value >= 100 || unit === "count" ? Math.round(value).toLocaleString("en-US") : value.toFixed(1);
  return unit === "req/s" && value >= 1000 ? `${(value / 1000).toFixed(1)}k` : text;
}

function renderPanel(panel: Panel, x0: number, y0: number): string[] {
  const ns = [...new Set(panel.series.flatMap((s) => [...s.values.keys()]))];
  const max = Math.max(1, ...panel.series.flatMap((s) => [...s.values.values()].filter(Number.isFinite)));
  const plotHeight = PANEL_HEIGHT - PLOT_TOP - PLOT_BOTTOM;
  const groupWidth = (PANEL_WIDTH - 40) / Math.max(1, ns.length);
  const barWidth = Math.min(36, (groupWidth - 12) / Math.max(1, panel.series.length));
  const baseline = y0 + PLOT_TOP + plotHeight;
  const parts = [
    `<text x="${x0 + 10}" y="${y0 + 22}" class="panel">${xmlEscape(`${panel.title} (${panel.unit})`)}</text>`,
    `<line x1="${x0 + 20}" y1="${baseline}" x2="${x0 + PANEL_WIDTH - 10}" y2="${baseline}" stroke="#8c959f"/>`,
  ];
  ns.forEach((n, g) => {
    const gx = x0 + 30 + g * groupWidth;
    panel.series.forEach((series, i) => {
      const value = series.values.get(n) ?? NaN;
      const h = Number.isFinite(value) ? Math.max(1, (value / max) * plotHeight) : 0;
      const bx = gx + i * barWidth;
      parts.push(
        `<rect x="${bx.toFixed(1)}" y="${(baseline - h).toFixed(1)}" width="${(barWidth - 2).toFixed(1)}" height="${h.toFixed(1)}" fill="${COLOURS[i % COLOURS.length]}"><title>${xmlEscape(
          `${series.label}, ${n}: ${label(value, panel.unit)} ${panel.unit}`,
        )}</title></rect>`,
        `<text x="${(bx + barWidth / 2 - 1).toFixed(1)}" y="${(baseline - h - 4).toFixed(1)}" class="value">${xmlEscape(label(value, panel.unit))}</text>`,
      );
    });
    parts.push(`<text x="${(gx + (barWidth * panel.series.length) / 2).toFixed(1)}" y="${baseline + 16}" class="axis">${xmlEscape(n)}</text>`);
  });
  return parts;
}

/** Renders the panels two per row, with a legend of the series (taken from the first panel). */
export function renderWorkersChart(title: string, subtitle: string, panels: readonly Panel[]): string {
  const columns = 2;
  const rows = Math.ceil(panels.length / columns);
  const top = 80;
  const width = columns * PANEL_WIDTH + 20;
  const height = top + rows * PANEL_HEIGHT + 30;
  const legend = (panels[0]?.series ?? []).map(
    (s, i) => `<rect x="${10 + i * 140}" y="56" width="12" height="12" fill="${COLOURS[i % COLOURS.length]}"/><text x="${26 + i * 140}" y="66" class="legend">${xmlEscape(s.label)}</text>`,
  );
  const body = panels.flatMap((panel, i) => renderPanel(panel, 10 + (i % columns) * PANEL_WIDTH, top + Math.floor(i / columns) * PANEL_HEIGHT));
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.title{font-size:18px;font-weight:bold}.subtitle{font-size:12px;fill:#57606a}.panel{font-size:13px;font-weight:bold}.value{font-size:10px;text-anchor:middle}.axis{font-size:11px;text-anchor:middle}.legend{font-size:12px}.note{font-size:11px;fill:#57606a}</style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" class="title">${xmlEscape(title)}</text>`,
    `<text x="10" y="44" class="subtitle">${xmlEscape(subtitle)}</text>`,
    ...legend,
    ...body,
    `<text x="10" y="${height - 10}" class="note">median of the samples per point; RSS is the peak per process, summed over the master and its workers</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
