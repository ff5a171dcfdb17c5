/**
 * Hand-written SVG for the benchmark charts: horizontal bar charts (linear or
 * log scale, several series per row, goal marks) and line charts. Pure
 * functions of their input, so a chart is a function of the JSON it comes
 * from. Every chart sits on its own white card (legible in light and dark
 * themes), has a title, axis labels with units, and the figure beside each
 * bar or point.
 */

const WIDTH = 760;
const FONT = 'font-family="-apple-system, BlinkMacSystemFont, Segoe UI, Helvetica, Arial, sans-serif"';
const INK = '#1f2328';
const MUTED = '#57606a';
const GRID = '#d8dee4';
/** Okabe–Ito colours: distinguishable with colour-blindness, dark enough on white. */
export const PALETTE = ['#0072B2', '#E69F00', '#009E73', '#CC79A7', '#D55E00', '#56B4E9'];

export function escapeXml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** A figure as the tables print it: thousands separated, fewer decimals as it grows. */
export function formatNumber(value: number): string {
  const digits = Math.abs(value) >= 100 ? 0 : Math.abs(value) >= 10 ? 1 : 2;
  return new Intl.NumberFormat('en-US', { maximumFractionDigits: digits, minimumFractionDigits: 0 }).format(value);
}

/** Rough width of `text` at `size` px in a proportional sans-serif (layout only). */
const textWidth = (text: string, size = 12) => text.length * size * 0.56;

const r1 = (n: number) => Math.round(n * 10) / 10;

function text(x: number, y: number, content: string, attrs = ''): string {
  return `<text x="${r1(x)}" y="${r1(y)}" ${attrs}>${escapeXml(content)}</text>`;
}

/** Ticks of a linear axis from 0: about five, at 1, 2 or 5 × a power of ten. */
export function linearTicks(max: number): number[] {
  if (!(max > 0)) return [0, 1];
  const rough = max / 5;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough) ?? 10 * power;
  const ticks: number[] = [];
  for (let t = 0; t < max + step * 0.999; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis: the powers of ten around [min, max]. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(Math.max(min, 1e-9)));
  const hi = Math.max(lo + 1, Math.ceil(Math.log10(Math.max(max, 1e-9))));
  return Array.from({ length: hi - lo + 1 }, (_, i) => Number((10 ** (lo + i)).toPrecision(12)));
}

function frame(height: number, title: string, subtitle: string | undefined, body: string[], footer: string | undefined): string {
  const lines = [
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${height}" viewBox="0 0 ${WIDTH} ${height}" role="img" aria-labelledby="chart-title" ${FONT}>`,
    `<title id="chart-title">${escapeXml(title)}</title>`,
    `<rect x="0.5" y="0.5" width="${WIDTH - 1}" height="${height - 1}" rx="6" fill="#ffffff" stroke="${GRID}"/>`,
    text(16, 26, title, `font-size="16" font-weight="600" fill="${INK}"`),
    ...(subtitle ? [text(16, 44, subtitle, `font-size="12" fill="${MUTED}"`)] : []),
    ...body,
    ...(footer ? [text(16, height - 10, footer, `font-size="10" fill="${MUTED}"`)] : []),
    '</svg>',
  ];
  return `${lines.join('\n')}\n`;
}

function legend(series: { name: string; dashed?: boolean }[], y: number, colors: string[]): string[] {
  let x = 16;
  return series.flatMap((s, i) => {
    const mark = s.dashed
      ? `<line x1="${x}" y1="${y - 4}" x2="${x + 12}" y2="${y - 4}" stroke="${colors[i]}" stroke-width="2" stroke-dasharray="4 3"/>`
      : `<rect x="${x}" y="${y - 10}" width="12" height="12" rx="2" fill="${colors[i]}"/>`;
    const out = [mark, text(x + 17, y, s.name, `font-size="12" fill="${INK}"`)];
    x += 17 + textWidth(s.name) + 18;
    return out;
  });
}

export interface BarRow {
  label: string;
  /** One value per series; null draws no bar (and `missing` when the whole row is null). */
  values: (number | null)[];
  missing?: string;
}

export interface GoalMark {
  value: number;
  label: string;
}

export interface BarGroup {
  heading?: string;
  rows: BarRow[];
  goals?: GoalMark[];
}

export interface BarChart {
  title: string;
  subtitle?: string;
  footer?: string;
  /** The value axis's label, unit included, e.g. "requests per second". */
  axisLabel: string;
  /** Appended to each figure, e.g. " ms". */
  unit?: string;
  scale?: 'linear' | 'log';
  series: string[];
  groups: BarGroup[];
}

const BAR = 14;
const BAR_GAP = 3;
const ROW_GAP = 10;
const HEADING = 22;

/** Horizontal bars, one row per label, one bar per series in each row; groups under bold headings; goal marks as dashed lines. */
export function barChart(chart: BarChart): string {
  const colors = chart.series.map((_, i) => PALETTE[i % PALETTE.length]);
  const unit = chart.unit ?? '';
  const labelWidth = Math.min(300, Math.max(...chart.groups.flatMap((g) => g.rows.map((r) => textWidth(r.label)))) + 24);
  const left = 16 + labelWidth;
  const right = WIDTH - 90;
  const values = chart.groups
    .flatMap((g) => [...g.rows.flatMap((r) => r.values), ...(g.goals ?? []).map((m) => m.value)])
    .filter((v): v is number => v !== null && Number.isFinite(v));
  const log = chart.scale === 'log';
  const positive = values.filter((v) => v > 0);
  const ticks = log ? logTicks(Math.min(...positive, 10), Math.max(...positive, 10)) : linearTicks(Math.max(...values, 0));
  const [lo, hi] = [ticks[0], ticks[ticks.length - 1]];
  const x = (v: number) =>
    log
      ? left + ((Math.log10(Math.max(v, lo)) - Math.log10(lo)) / (Math.log10(hi) - Math.log10(lo))) * (right - left)
      : left + ((v - lo) / (hi - lo)) * (right - left);

  const top = (chart.subtitle ? 52 : 36) + 24;
  const body: string[] = legend(
    chart.series.map((name) => ({ name })),
    top - 8,
    colors,
  );
  let y = top + 8;
  const plotTop = y;
  const marks: string[] = [];
  for (const group of chart.groups) {
    const groupTop = y;
    if (group.heading) {
      body.push(text(16, y + 14, group.heading, `font-size="12" font-weight="600" fill="${INK}"`));
      y += HEADING;
    }
    for (const row of group.rows) {
      const rowHeight = chart.series.length * (BAR + BAR_GAP) - BAR_GAP;
      body.push(text(left - 8, y + rowHeight / 2 + 4, row.label, `font-size="12" fill="${INK}" text-anchor="end"`));
      if (row.values.every((v) => v === null || !Number.isFinite(v))) {
        body.push(text(left + 6, y + rowHeight / 2 + 4, row.missing ?? 'not measured', `font-size="11" font-style="italic" fill="${MUTED}"`));
      }
      row.values.forEach((value, i) => {
        const barY = y + i * (BAR + BAR_GAP);
        if (value === null || !Number.isFinite(value)) return;
        const width = Math.max(1, x(value) - left);
        body.push(
          `<rect class="bar" data-series="${escapeXml(chart.series[i])}" data-value="${value}" x="${left}" y="${r1(barY)}" width="${r1(width)}" height="${BAR}" fill="${colors[i]}"/>`,
          text(left + width + 4, barY + BAR - 3, `${formatNumber(value)}${unit}`, `font-size="11" fill="${INK}"`),
        );
      });
      y += rowHeight + ROW_GAP;
    }
    for (const goal of group.goals ?? []) {
      const gx = r1(x(goal.value));
      marks.push(
        `<line class="goal" data-value="${goal.value}" x1="${gx}" y1="${r1(groupTop + (group.heading ? HEADING - 4 : 0))}" x2="${gx}" y2="${r1(y - ROW_GAP + 2)}" stroke="${INK}" stroke-width="1.5" stroke-dasharray="5 3"/>`,
        text(gx + 4, groupTop + 14, goal.label, `font-size="11" fill="${INK}"`),
      );
    }
    y += 6;
  }
  const plotBottom = y;
  const grid = ticks.flatMap((t) => [
    `<line x1="${r1(x(t))}" y1="${plotTop}" x2="${r1(x(t))}" y2="${plotBottom}" stroke="${GRID}" stroke-width="1"/>`,
    text(x(t), plotBottom + 14, formatNumber(t), `font-size="11" fill="${MUTED}" text-anchor="middle"`),
  ]);
  const axisLabel = `${chart.axisLabel}${log ? ' (log scale)' : ''}`;
  const height = plotBottom + 50 + (chart.footer ? 12 : 0);
  return frame(
    height,
    chart.title,
    chart.subtitle,
    [
      ...grid,
      `<line x1="${left}" y1="${plotTop}" x2="${left}" y2="${plotBottom}" stroke="${MUTED}" stroke-width="1"/>`,
      ...body,
      ...marks,
      text((left + right) / 2, plotBottom + 32, axisLabel, `font-size="12" fill="${INK}" text-anchor="middle"`),
    ],
    chart.footer,
  );
}

export interface LineSeries {
  name: string;
  points: [number, number][];
  /** Dashed, no figures at the points: a reference such as ideal scaling. */
  dashed?: boolean;
  /** Index into the palette, so a series and its reference share a colour. */
  color: number;
}

export interface LineChart {
  title: string;
  subtitle?: string;
  footer?: string;
  xLabel: string;
  yLabel: string;
  xTicks: number[];
  series: LineSeries[];
}

/** Lines with a marker and its figure at each point (not for dashed references); linear axes, y from 0. */
export function lineChart(chart: LineChart): string {
  const colors = chart.series.map((s) => PALETTE[s.color % PALETTE.length]);
  const top = (chart.subtitle ? 52 : 36) + 24;
  const [left, right, plotTop, plotBottom] = [76, WIDTH - 40, top + 16, top + 296];
  const yTicks = linearTicks(Math.max(...chart.series.flatMap((s) => s.points.map((p) => p[1])), 0));
  const [xLo, xHi] = [Math.min(...chart.xTicks), Math.max(...chart.xTicks)];
  const x = (v: number) => left + 20 + ((v - xLo) / (xHi - xLo || 1)) * (right - left - 40);
  const y = (v: number) => plotBottom - (v / yTicks[yTicks.length - 1]) * (plotBottom - plotTop);
  const body = [
    ...yTicks.flatMap((t) => [
      `<line x1="${left}" y1="${r1(y(t))}" x2="${right}" y2="${r1(y(t))}" stroke="${GRID}" stroke-width="1"/>`,
      text(left - 6, y(t) + 4, formatNumber(t), `font-size="11" fill="${MUTED}" text-anchor="end"`),
    ]),
    ...chart.xTicks.map((t) => text(x(t), plotBottom + 16, formatNumber(t), `font-size="11" fill="${MUTED}" text-anchor="middle"`)),
    `<line x1="${left}" y1="${plotBottom}" x2="${right}" y2="${plotBottom}" stroke="${MUTED}" stroke-width="1"/>`,
    text((left + right) / 2, plotBottom + 36, chart.xLabel, `font-size="12" fill="${INK}" text-anchor="middle"`),
    text(
      18,
      (plotTop + plotBottom) / 2,
      chart.yLabel,
      `font-size="12" fill="${INK}" text-anchor="middle" transform="rotate(-90 18 ${r1((plotTop + plotBottom) / 2)})"`,
    ),
    ...legend(chart.series, top - 8, colors),
  ];
  chart.series.forEach((s, i) => {
    const path = s.points.map(([px, py], j) => `${j ? 'L' : 'M'}${r1(x(px))} ${r1(y(py))}`).join(' ');
    body.push(`<path d="${path}" fill="none" stroke="${colors[i]}" stroke-width="2"${s.dashed ? ' stroke-dasharray="5 4" opacity="0.8"' : ''}/>`);
    if (s.dashed) return;
    for (const [px, py] of s.points) {
      body.push(
        `<circle class="point" data-series="${escapeXml(s.name)}" data-x="${px}" data-value="${py}" cx="${r1(x(px))}" cy="${r1(y(py))}" r="4" fill="${colors[i]}"/>`,
        text(x(px) + 7, y(py) - 7, formatNumber(py), `font-size="11" fill="${INK}"`),
      );
    }
  });
  return frame(plotBottom + 56 + (chart.footer ? 12 : 0), chart.title, chart.subtitle, body, chart.footer);
}
