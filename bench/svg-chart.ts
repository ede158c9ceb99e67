/**
 * The result chart, hand-written SVG (no dependency): one group of horizontal bars per workload,
 * one bar per contender (same colour in every group), each labelled with its median req/s and,
 * when laminar was measured, its ratio to laminar on node:http. All groups share one scale, so a
 * bar can be compared across workloads too.
 *
 * @module
 */
import type { Summary } from "./aggregate.js";

/** What the chart shows. */
export interface ChartInput {
  title: string;
  /** A second line: machine, tool, rounds. */
  subtitle: string;
  workloads: readonly string[];
  /** Contender ids in order, with their labels. */
  contenders: ReadonlyArray<{ id: string; label: string }>;
  summaries: readonly Summary[];
  /** Per `${contender}|${workload}`: ratio to the reference (laminar), shown after the value. */
  ratios?: ReadonlyMap<string, number>;
  /** The label of what the ratios are relative to. */
  ratioTo?: string;
}

const PALETTE = ["#1f6feb", "#0b8a6b", "#8250df", "#bf3989", "#d4760a", "#57606a", "#9a6700", "#cf222e", "#0969da", "#1a7f37"];

/** Escapes text for an XML text node or attribute. */
export function xmlEscape(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ "&": "&amp;", "<": "&lt;", ">": "&gt;", '"': "&quot;", "'": "&apos;" })[c]!);
}

/** `12345.6` → `12,346`. */
function thousands(value: number): string {
  return Number.isFinite(value) ? Math.round(value).toLocaleString("en-US") : "n/a";
}

/** Renders the chart as a standalone SVG document. */
export function renderChart(input: ChartInput): string {
  const labelWidth = 190;
  const barMax = 520;
  const valueWidth = 190;
  const width = labelWidth + barMax + valueWidth;
  const barHeight = 16;
  const gap = 4;
  const groupHeader = 26;
  const groupGap = 14;
  const top = 64;
  const byKey = new Map(input.summaries.map((s) => [`${s.contender}|${s.workload}`, s]));
  const max = Math.max(1, ...input.summaries.map((s) => (Number.isFinite(s.medianRps) ? s.medianRps : 0)));
  const parts: string[] = [];
  let y = top;
  for (const workload of input.workloads) {
    parts.push(`<text x="10" y="${y + 17}" class="workload">${xmlEscape(workload)}</text>`);
    y += groupHeader;
    input.contenders.forEach((contender, index) => {
      const summary = byKey.get(`${contender.id}|${workload}`);
      const rps = summary?.medianRps ?? NaN;
      const length = Number.isFinite(rps) ? Math.max(1, (rps / max) * barMax) : 0;
      const colour = PALETTE[index % PALETTE.length]!;
      const ratio = input.ratios?.get(`${contender.id}|${workload}`);
      const ratioText = ratio !== undefined && Number.isFinite(ratio) ? ` (${ratio.toFixed(2)}×)` : "";
      parts.push(
        `<text x="${labelWidth - 8}" y="${y + barHeight - 4}" class="name">${xmlEscape(contender.label)}</text>`,
        `<rect x="${labelWidth}" y="${y}" width="${length.toFixed(1)}" height="${barHeight}" fill="${colour}"><title>${xmlEscape(
          `${contender.label}, ${workload}: ${thousands(rps)} req/s`,
        )}</title></rect>`,
        `<text x="${(labelWidth + length + 6).toFixed(1)}" y="${y + barHeight - 4}" class="value">${xmlEscape(
          Number.isFinite(rps) ? `${thousands(rps)} req/s${ratioText}` : "not measured",
        )}</text>`,
      );
      y += barHeight + gap;
    });
    y += groupGap;
  }
  const note = input.ratioTo === undefined ? "" : `ratios in parentheses: contender / ${input.ratioTo}, paired per round`;
  const height = y + 24;
  return [
    `<?xml version="1.0" encoding="UTF-8"?>`,
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="Helvetica, Arial, sans-serif">`,
    `<style>.title{font-size:18px;font-weight:bold}.subtitle{font-size:12px;fill:#57606a}.workload{font-size:14px;font-weight:bold}.name{font-size:12px;text-anchor:end}.value{font-size:12px;fill:#24292f}.note{font-size:11px;fill:#57606a}</style>`,
    `<rect width="100%" height="100%" fill="#ffffff"/>`,
    `<text x="10" y="24" class="title">${xmlEscape(input.title)}</text>`,
    `<text x="10" y="44" class="subtitle">${xmlEscape(input.subtitle)}</text>`,
    ...parts,
    `<text x="10" y="${height - 10}" class="note">${xmlEscape(`median req/s, higher is better; ${note}`)}</text>`,
    `</svg>`,
    "",
  ].join("\n");
}
