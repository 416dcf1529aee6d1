/**
 * The benchmark charts, drawn from the results files (`make bench-charts`; `make bench` runs it
 * after the benches): SVG line charts (bench/charts.ts) in docs/images/, which the README shows.
 *
 *   - pipeline-load-throughput.svg, pipeline-load-p99.svg: throughput and p99 against requests
 *     in flight, the pipeline beside raw etcd, per operation (bench/results/pipeline.json
 *     `loadSweep`, written by the pipeline bench; left alone when the file has none);
 *   - watch-saturation-<watchers>.svg: the watchers' p99 against the write rate, per side (the
 *     watch service, raw grpc-js streaming, raw Redis pub/sub), from the watch bench's
 *     saturation run (bench/results/watch.json `saturation`; over several ramps, the median
 *     p99 of the ramps that ran a rate);
 *   - watch-fanout.svg: deliveries per second each side sustained (p99 under the saturation
 *     bound) against the number of watchers (watch.json `fanout`).
 *
 *   node bench/charts-from-results.ts [resultsDir] [imagesDir]
 *
 * A chart whose data is missing is not drawn (and an older one is left as it is).
 */
import { existsSync, mkdirSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { lineChart, type Series } from './charts.ts';
import { median, writeAtomically } from './harness.ts';

/** One point of the pipeline bench's load sweep (medians over its rounds). */
export interface LoadSweepPoint {
  operation: string;
  inFlight: number;
  pipeline: { opsPerSec: number; p99Ms: number };
  raw: { opsPerSec: number; p99Ms: number };
}

/** The side of a watch saturation step: the watch service, raw grpc-js streaming, raw Redis pub/sub. */
export type SaturationSide = 'service' | 'grpc' | 'redis';

/** One step of the watch bench's saturation run. */
export interface SaturationPoint {
  watchers: number;
  side: SaturationSide;
  /** Events written per second (offered). */
  ratePerSec: number;
  /** Deliveries per second that arrived (events x watchers when every one kept up). */
  deliveredPerSec: number;
  p99Ms: number;
  /** The ramp of the step (1-based; absent in results of a single ramp). */
  ramp?: number;
}

/** What a side sustained at a number of watchers. */
export interface FanoutPoint {
  watchers: number;
  side: string;
  deliveriesPerSec: number;
  p99Ms: number;
}

export const SIDE_NAMES: Record<SaturationSide, string> = { service: 'watch service', grpc: 'raw grpc-js', redis: 'raw Redis pub/sub' };

/** The watchers' p99 bound of the saturation run: a step past it ends that side's run. */
export const SATURATION_P99_MS = 100;

function readJson(path: string): Record<string, unknown> | undefined {
  if (!existsSync(path)) return undefined;
  return JSON.parse(readFileSync(path, 'utf8')) as Record<string, unknown>;
}

function sideName(side: string): string {
  return SIDE_NAMES[side as SaturationSide] ?? side;
}

/** The load-sweep charts; [] when there is no sweep. */
export function loadSweepCharts(sweep: readonly LoadSweepPoint[]): { file: string; svg: string }[] {
  if (sweep.length === 0) return [];
  const operations = [...new Set(sweep.map((p) => p.operation))];
  const seriesOf = (value: (side: LoadSweepPoint['raw']) => number): Series[] =>
    operations.flatMap((op) => {
      const points = sweep.filter((p) => p.operation === op).sort((a, b) => a.inFlight - b.inFlight);
      return [
        { name: `${op}: pipeline`, points: points.map((p) => [p.inFlight, value(p.pipeline)] as const) },
        { name: `${op}: raw etcd`, points: points.map((p) => [p.inFlight, value(p.raw)] as const), dashed: true },
      ];
    });
  return [
    {
      file: 'pipeline-load-throughput.svg',
      svg: lineChart({ title: 'REST pipeline against raw etcd: throughput', xLabel: 'requests in flight', yLabel: 'operations/s', xLog: true, series: seriesOf((s) => s.opsPerSec) }),
    },
    {
      file: 'pipeline-load-p99.svg',
      svg: lineChart({ title: 'REST pipeline against raw etcd: p99 latency', xLabel: 'requests in flight', yLabel: 'p99 (ms)', xLog: true, yLog: true, series: seriesOf((s) => s.p99Ms) }),
    },
  ];
}

/** A saturation chart per watcher count, and the fan-out chart; [] when there is no data. */
export function watchCharts(saturation: readonly SaturationPoint[], fanout: readonly FanoutPoint[]): { file: string; svg: string }[] {
  const charts: { file: string; svg: string }[] = [];
  for (const watchers of [...new Set(saturation.map((p) => p.watchers))].sort((a, b) => a - b)) {
    const points = saturation.filter((p) => p.watchers === watchers);
    const sides = [...new Set(points.map((p) => p.side))];
    /** One point per rate: the median p99 over the ramps that ran it. */
    const curve = (side: SaturationSide): (readonly [number, number])[] => {
      const byRate = new Map<number, number[]>();
      for (const p of points) if (p.side === side) byRate.set(p.ratePerSec, [...(byRate.get(p.ratePerSec) ?? []), p.p99Ms]);
      return [...byRate].sort(([a], [b]) => a - b).map(([rate, p99s]) => [rate, median(p99s)] as const);
    };
    charts.push({
      file: `watch-saturation-${watchers}.svg`,
      svg: lineChart({
        title: `Watch saturation: ${watchers.toLocaleString('en-US')} watchers of all configmaps`,
        xLabel: 'creates/s (each to every watcher)',
        yLabel: 'watchers’ p99 (ms)',
        xLog: true,
        yLog: true,
        marks: [{ y: SATURATION_P99_MS, label: `${SATURATION_P99_MS} ms` }],
        series: sides.map((side) => ({
          name: sideName(side),
          points: curve(side),
        })),
      }),
    });
  }
  if (fanout.length > 0) {
    const sides = [...new Set(fanout.map((p) => p.side))];
    charts.push({
      file: 'watch-fanout.svg',
      svg: lineChart({
        title: `Watch fan-out: deliveries/s sustained with p99 under ${SATURATION_P99_MS} ms`,
        xLabel: 'watchers of all configmaps',
        yLabel: 'deliveries/s',
        xLog: true,
        yLog: true,
        series: sides.map((side) => ({
          name: sideName(side),
          points: fanout.filter((p) => p.side === side).sort((a, b) => a.watchers - b.watchers).map((p) => [p.watchers, p.deliveriesPerSec] as const),
        })),
      }),
    });
  }
  return charts;
}

/**
 * Draws every chart whose data the results files in `resultsDir` hold into `imagesDir`;
 * returns the paths written.
 */
export function renderCharts(resultsDir: string, imagesDir: string): string[] {
  const charts: { file: string; svg: string }[] = [];
  const pipeline = readJson(join(resultsDir, 'pipeline.json'));
  if (Array.isArray(pipeline?.loadSweep)) charts.push(...loadSweepCharts(pipeline.loadSweep as LoadSweepPoint[]));
  const watch = readJson(join(resultsDir, 'watch.json'));
  if (watch !== undefined) {
    const saturation = Array.isArray(watch.saturation) ? (watch.saturation as SaturationPoint[]) : [];
    const fanout = Array.isArray(watch.fanout) ? (watch.fanout as FanoutPoint[]) : [];
    charts.push(...watchCharts(saturation, fanout));
  }
  if (charts.length === 0) return [];
  mkdirSync(imagesDir, { recursive: true });
  return charts.map(({ file, svg }) => {
    const path = join(imagesDir, file);
    writeAtomically(path, svg);
    return path;
  });
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  const root = fileURLToPath(new URL('../', import.meta.url));
  const resultsDir = resolve(process.argv[2] ?? join(root, 'bench', 'results'));
  const imagesDir = resolve(process.argv[3] ?? join(root, 'docs', 'images'));
  const written = renderCharts(resultsDir, imagesDir);
  process.stderr.write(written.length === 0 ? `charts: no chart data in ${resultsDir}\n` : `charts: ${written.join(', ')}\n`);
}
