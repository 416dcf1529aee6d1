/**
 * A small line-chart writer for the benchmark results: plain SVG text, no dependency. Each
 * chart has one or more series of (x, y) points drawn as lines with markers, axes with round
 * ticks (linear or powers of ten), axis labels, a title, a legend, and optional horizontal
 * reference lines (an aim, say). The output is a whole SVG document that renders the same in a
 * browser and on GitHub (fonts are generic, colours fixed, nothing scripted).
 */

/** One line of a chart. Points are drawn in the order given; a non-finite point is left out. */
export interface Series {
  name: string;
  points: ReadonlyArray<readonly [number, number]>;
  /** Drawn dashed (a reference beside a measured side, say). */
  dashed?: boolean;
}

export interface LineChartOptions {
  title: string;
  xLabel: string;
  yLabel: string;
  series: readonly Series[];
  /** A logarithmic axis (base 10); every value on it must be positive (others are left out). */
  xLog?: boolean;
  yLog?: boolean;
  /** Horizontal reference lines across the plot (included in the y range). */
  marks?: ReadonlyArray<{ y: number; label: string }>;
  /** Overall size in px (default 640 x 400). */
  width?: number;
  height?: number;
}

/** Colours of the series, in order (repeated past the last), distinguishable in greyscale too. */
const PALETTE = ['#1f77b4', '#d62728', '#2ca02c', '#ff7f0e', '#9467bd', '#8c564b', '#17becf', '#7f7f7f'];
const MARGIN = { top: 40, right: 20, bottom: 56, left: 72 };

/** Text for an SVG element or attribute. */
export function escapeXml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&apos;' })[c] as string);
}

/** A tick label: 1,500 / 0.25 / 20k / 1.5M, short enough for an axis. */
export function formatTick(value: number): string {
  const abs = Math.abs(value);
  if (abs >= 1e6) return `${trim(value / 1e6)}M`;
  if (abs >= 1e4) return `${trim(value / 1e3)}k`;
  if (abs >= 1000) return Math.round(value).toLocaleString('en-US');
  return trim(value);
}

function trim(value: number): string {
  return String(Number(value.toPrecision(3)));
}

/** Round ticks covering [min, max] of a linear axis: steps of 1, 2 or 5 times a power of ten. */
export function linearTicks(min: number, max: number, target = 5): number[] {
  if (!(max > min)) return [min];
  const raw = (max - min) / target;
  const power = 10 ** Math.floor(Math.log10(raw));
  const step = ([1, 2, 5, 10].find((m) => m * power >= raw) ?? 10) * power;
  const ticks: number[] = [];
  for (let t = Math.ceil(min / step - 1e-9) * step; t <= max + step * 1e-9; t += step) ticks.push(Number(t.toPrecision(12)));
  return ticks;
}

/** Ticks of a log axis over [min, max]: the powers of ten, with 2 and 5 between when there are few. */
export function logTicks(min: number, max: number): number[] {
  const lo = Math.floor(Math.log10(min));
  const hi = Math.ceil(Math.log10(max));
  const multiples = hi - lo <= 3 ? [1, 2, 5] : [1];
  const ticks: number[] = [];
  for (let p = lo; p <= hi; p++) {
    for (const m of multiples) {
      const t = Number((m * 10 ** p).toPrecision(12));
      if (t >= min * (1 - 1e-9) && t <= max * (1 + 1e-9)) ticks.push(t);
    }
  }
  return ticks;
}

/** The nearest 1, 2 or 5 times a power of ten at or below (at or above) a positive value. */
function roundLog(value: number, direction: 'down' | 'up'): number {
  const power = 10 ** Math.floor(Math.log10(value));
  const steps = [1, 2, 5, 10].map((m) => Number((m * power).toPrecision(12)));
  if (direction === 'down') return [...steps].reverse().find((t) => t <= value * (1 + 1e-9)) ?? power;
  return steps.find((t) => t >= value * (1 - 1e-9)) ?? power * 10;
}

interface Axis {
  min: number;
  max: number;
  log: boolean;
  ticks: number[];
}

/** The range an axis shows: the data's, widened to round ticks (a linear one starts at 0 for positive data). */
function axisOf(values: number[], log: boolean): Axis {
  if (log) {
    const positive = values.filter((v) => v > 0);
    let min = positive.length > 0 ? Math.min(...positive) : 1;
    let max = positive.length > 0 ? Math.max(...positive) : 10;
    // Widened to the nearest 1, 2 or 5 times a power of ten, not to whole decades.
    min = roundLog(min, 'down');
    max = roundLog(max, 'up');
    if (max <= min) max = roundLog(min * 1.01, 'up');
    return { min, max, log, ticks: logTicks(min, max) };
  }
  let min = values.length > 0 ? Math.min(0, ...values) : 0;
  let max = values.length > 0 ? Math.max(...values) : 1;
  if (max <= min) max = min + 1;
  const ticks = linearTicks(min, max);
  min = Math.min(min, ticks[0] as number);
  const last = ticks[ticks.length - 1] as number;
  if (last < max) {
    const step = ticks.length > 1 ? last - (ticks[ticks.length - 2] as number) : max - min;
    ticks.push(Number((last + step).toPrecision(12)));
  }
  max = ticks[ticks.length - 1] as number;
  return { min, max, log, ticks };
}

function scale(axis: Axis, from: number, to: number): (v: number) => number {
  const f = axis.log ? Math.log10 : (v: number) => v;
  const a = f(axis.min);
  const b = f(axis.max);
  return (v) => from + ((f(v) - a) / (b - a)) * (to - from);
}

const usable = (log: boolean) => (v: number) => Number.isFinite(v) && (!log || v > 0);

/** The chart as a whole SVG document. */
export function lineChart(options: LineChartOptions): string {
  const width = options.width ?? 640;
  const height = options.height ?? 400;
  const xLog = options.xLog === true;
  const yLog = options.yLog === true;
  const okX = usable(xLog);
  const okY = usable(yLog);
  const series = options.series.map((s) => ({ ...s, points: s.points.filter(([x, y]) => okX(x) && okY(y)) }));
  const marks = (options.marks ?? []).filter((m) => okY(m.y));
  const xAxis = axisOf(series.flatMap((s) => s.points.map(([x]) => x)), xLog);
  const yAxis = axisOf([...series.flatMap((s) => s.points.map(([, y]) => y)), ...marks.map((m) => m.y)], yLog);
  const left = MARGIN.left;
  const right = width - MARGIN.right;
  const top = MARGIN.top;
  const bottom = height - MARGIN.bottom;
  const sx = scale(xAxis, left, right);
  const sy = scale(yAxis, bottom, top);
  const px = (v: number) => sx(v).toFixed(1);
  const py = (v: number) => sy(v).toFixed(1);

  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="sans-serif" font-size="12">`,
    `<title>${escapeXml(options.title)}</title>`,
    `<rect width="${width}" height="${height}" fill="#ffffff"/>`,
    `<text class="title" x="${width / 2}" y="22" text-anchor="middle" font-size="15" font-weight="bold">${escapeXml(options.title)}</text>`,
  );
  // Grid and ticks.
  out.push('<g class="x-axis" stroke="#e0e0e0">');
  for (const t of xAxis.ticks) out.push(`<line x1="${px(t)}" y1="${top}" x2="${px(t)}" y2="${bottom}"/>`);
  out.push('</g>', '<g class="y-axis" stroke="#e0e0e0">');
  for (const t of yAxis.ticks) out.push(`<line x1="${left}" y1="${py(t)}" x2="${right}" y2="${py(t)}"/>`);
  out.push('</g>');
  out.push(`<g class="axes" stroke="#333333"><line x1="${left}" y1="${bottom}" x2="${right}" y2="${bottom}"/><line x1="${left}" y1="${top}" x2="${left}" y2="${bottom}"/></g>`);
  out.push('<g class="x-ticks" text-anchor="middle" fill="#333333">');
  for (const t of xAxis.ticks) out.push(`<text x="${px(t)}" y="${bottom + 16}">${escapeXml(formatTick(t))}</text>`);
  out.push('</g>', '<g class="y-ticks" text-anchor="end" fill="#333333">');
  for (const t of yAxis.ticks) out.push(`<text x="${left - 6}" y="${(sy(t) + 4).toFixed(1)}">${escapeXml(formatTick(t))}</text>`);
  out.push('</g>');
  out.push(
    `<text class="x-label" x="${(left + right) / 2}" y="${height - 14}" text-anchor="middle">${escapeXml(options.xLabel)}${xLog ? ' (log scale)' : ''}</text>`,
    `<text class="y-label" transform="translate(16 ${(top + bottom) / 2}) rotate(-90)" text-anchor="middle">${escapeXml(options.yLabel)}${yLog ? ' (log scale)' : ''}</text>`,
  );
  // Reference lines.
  for (const m of marks) {
    out.push(
      `<g class="mark"><line x1="${left}" y1="${py(m.y)}" x2="${right}" y2="${py(m.y)}" stroke="#555555" stroke-dasharray="2 3"/>` +
        `<text x="${right - 4}" y="${(sy(m.y) - 4).toFixed(1)}" text-anchor="end" fill="#555555">${escapeXml(m.label)}</text></g>`,
    );
  }
  // Series.
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] as string;
    out.push(`<g class="series" data-name="${escapeXml(s.name)}" stroke="${colour}" fill="${colour}">`);
    if (s.points.length > 1) {
      const d = s.points.map(([x, y], k) => `${k === 0 ? 'M' : 'L'}${px(x)} ${py(y)}`).join(' ');
      out.push(`<path d="${d}" fill="none" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>`);
    }
    for (const [x, y] of s.points) {
      out.push(`<circle cx="${px(x)}" cy="${py(y)}" r="3"><title>${escapeXml(`${s.name}: ${formatTick(x)}, ${formatTick(y)}`)}</title></circle>`);
    }
    out.push('</g>');
  });
  // Legend, top left inside the plot.
  out.push('<g class="legend">');
  if (series.length > 0) {
    // A backing so that the legend stays readable over lines it covers.
    const w = 50 + 7 * Math.max(...series.map((s) => s.name.length));
    out.push(`<rect x="${left + 4}" y="${top + 2}" width="${w}" height="${series.length * 16 + 6}" fill="#ffffff" fill-opacity="0.85" stroke="#cccccc"/>`);
  }
  series.forEach((s, i) => {
    const colour = PALETTE[i % PALETTE.length] as string;
    const y = top + 14 + i * 16;
    out.push(
      `<line x1="${left + 10}" y1="${y - 4}" x2="${left + 34}" y2="${y - 4}" stroke="${colour}" stroke-width="2"${s.dashed === true ? ' stroke-dasharray="6 4"' : ''}/>` +
        `<text x="${left + 40}" y="${y}" fill="#222222">${escapeXml(s.name)}</text>`,
    );
  });
  out.push('</g>', '</svg>', '');
  return out.join('\n');
}
