/**
 * Hand-written SVG bar chart of the speed-ups: per case, one bar per other
 * implementation showing its median ÷ ours, on a logarithmic axis with a line at 1×
 * (bars reaching right of it: ours is faster).
 */
import { ratio } from './format.js';
import { implementations, type Report } from './report.js';

const COLOURS = ['#4e79a7', '#e15759', '#f28e2b', '#59a14f', '#b07aa1', '#76b7b2'];
const LABEL_W = 350;
const PLOT_W = 520;
const BAR_H = 13;
const GAP = 12;
const TOP = 56;

function escape(s: string): string {
  return s.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;');
}

/** Axis ticks 1-2-5 per decade between lo and hi. */
function ticks(lo: number, hi: number): number[] {
  const out: number[] = [];
  for (let e = Math.floor(Math.log10(lo)); e <= Math.ceil(Math.log10(hi)); e++) {
    for (const m of [1, 2, 5]) {
      const v = m * 10 ** e;
      if (v >= lo * 0.999 && v <= hi * 1.001) out.push(v);
    }
  }
  return out;
}

export function chartSvg(r: Report): string {
  const others = implementations(r).slice(1);
  const cases = r.cases.filter((c) => Object.keys(c.ratios).length > 0);
  const values = cases.flatMap((c) => Object.values(c.ratios));
  const lo = 10 ** Math.floor(Math.log10(Math.min(0.5, ...values)));
  const hi = 10 ** Math.ceil(Math.log10(Math.max(2, ...values)));
  const x = (v: number) => LABEL_W + (PLOT_W * Math.log10(v / lo)) / Math.log10(hi / lo);
  const groupH = (c: (typeof cases)[number]) => Object.keys(c.ratios).length * BAR_H + GAP;
  const plotH = cases.reduce((s, c) => s + groupH(c), 0);
  const width = LABEL_W + PLOT_W + 70;
  const skipped = r.cases.filter((c) => Object.keys(c.ratios).length === 0);
  const height = TOP + plotH + 40 + skipped.length * 16;
  const parts: string[] = [];
  parts.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" ` +
    'font-family="system-ui, sans-serif" font-size="12">');
  parts.push(`<rect width="${width}" height="${height}" fill="#fff"/>`);
  parts.push(`<text x="10" y="20" font-size="15" font-weight="bold">${escape(
    `wasm-attention speed-up (their median ÷ ours, log scale; > 1× means ours is faster)`)}</text>`);
  parts.push(`<text x="10" y="38" fill="#555">${escape(`${r.machine.cpu}, ${r.machine.runtime}, 1 thread, ${r.mode} run, ${r.date.slice(0, 10)}`)}</text>`);
  // Legend.
  let lx = LABEL_W;
  others.forEach((name, i) => {
    parts.push(`<rect x="${lx}" y="${TOP - 14}" width="10" height="10" fill="${COLOURS[i % COLOURS.length]}"/>`);
    parts.push(`<text x="${lx + 14}" y="${TOP - 5}">vs ${escape(name)}</text>`);
    lx += 40 + name.length * 7;
  });
  // Grid.
  for (const t of ticks(lo, hi)) {
    const tx = x(t).toFixed(1);
    parts.push(`<line x1="${tx}" y1="${TOP}" x2="${tx}" y2="${TOP + plotH}" stroke="${t === 1 ? '#000' : '#ddd'}"/>`);
    parts.push(`<text x="${tx}" y="${TOP + plotH + 16}" text-anchor="middle" fill="#555">${ratio(t)}</text>`);
  }
  let y = TOP + GAP / 2;
  for (const c of cases) {
    const bars = others.filter((n) => c.ratios[n] !== undefined);
    parts.push(`<text x="${LABEL_W - 8}" y="${(y + (bars.length * BAR_H) / 2 + 4).toFixed(1)}" text-anchor="end">${escape(c.label)}</text>`);
    for (const name of bars) {
      const v = c.ratios[name]!;
      const colour = COLOURS[others.indexOf(name) % COLOURS.length];
      const x0 = x(Math.min(1, v)), x1 = x(Math.max(1, v));
      parts.push(`<rect x="${x0.toFixed(1)}" y="${y.toFixed(1)}" width="${Math.max(1, x1 - x0).toFixed(1)}" ` +
        `height="${BAR_H - 2}" fill="${colour}"><title>${escape(`${c.label}: ${name} ${ratio(v)}`)}</title></rect>`);
      parts.push(`<text x="${(x1 + 4).toFixed(1)}" y="${(y + BAR_H - 3).toFixed(1)}" font-size="10">${ratio(v)}</text>`);
      y += BAR_H;
    }
    y += GAP;
  }
  skipped.forEach((c, i) => {
    parts.push(`<text x="10" y="${TOP + plotH + 38 + i * 16}" fill="#555">${escape(
      `${c.label}: ours only (${c.entries[0]?.timing ? `${c.entries[0].timing.median.toFixed(0)} ms median` : 'not run'}); others not run`)}</text>`);
  });
  parts.push('</svg>');
  return parts.join('\n') + '\n';
}
