import assert from 'node:assert/strict';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, it } from 'node:test';
import { escapeXml, formatTick, linearTicks, lineChart, logTicks } from '../bench/charts.ts';
import { renderCharts, watchCharts } from '../bench/charts-from-results.ts';

/** Every element opened is closed, in order; the document is one <svg> element (a minimal well-formedness check). */
function assertWellFormed(svg: string): void {
  const stack: string[] = [];
  const body = svg.replace(/<title>[^<]*<\/title>/g, '');
  for (const m of body.matchAll(/<(\/?)([a-zA-Z][\w-]*)([^>]*?)(\/?)>/g)) {
    const [, closing, name, attrs, selfClosing] = m as unknown as [string, string, string, string, string];
    // Attributes are name="value" pairs without a stray quote or angle bracket.
    assert.match(attrs, /^(\s+[\w:-]+="[^"<>]*")*\s*$/, `attributes of <${name}>: ${attrs}`);
    if (selfClosing === '/') continue;
    if (closing === '/') assert.equal(stack.pop(), name, `</${name}> closes what was opened`);
    else stack.push(name);
  }
  assert.deepEqual(stack, [], 'every element is closed');
  assert.match(svg, /^<svg xmlns="http:\/\/www\.w3\.org\/2000\/svg"[^>]*>/);
  assert.match(svg.trimEnd(), /<\/svg>$/);
}

/** The numbers of the tick labels of one axis group. */
function tickLabels(svg: string, group: string): string[] {
  const m = new RegExp(`<g class="${group}"[^>]*>([\\s\\S]*?)</g>`).exec(svg);
  assert.ok(m, `group ${group}`);
  return [...(m[1] as string).matchAll(/<text[^>]*>([^<]*)<\/text>/g)].map((t) => t[1] as string);
}

describe('bench chart writer', () => {
  it('writes valid SVG with a title, labelled axes, a legend and one path per series', () => {
    const svg = lineChart({
      title: 'Create <throughput> & p99',
      xLabel: 'in flight',
      yLabel: 'creates/s',
      series: [
        { name: 'pipeline', points: [[1, 150], [4, 420], [16, 610], [64, 650]] },
        { name: 'raw etcd', points: [[1, 440], [4, 1500], [16, 2900], [64, 3400]], dashed: true },
      ],
      xLog: true,
      marks: [{ y: 3000, label: 'aim' }],
    });
    assertWellFormed(svg);
    assert.match(svg, /Create &lt;throughput&gt; &amp; p99/);
    assert.match(svg, /in flight \(log scale\)/);
    assert.match(svg, /creates\/s/);
    assert.equal([...svg.matchAll(/<g class="series"/g)].length, 2);
    assert.equal([...svg.matchAll(/<path d="M/g)].length, 2);
    assert.equal([...svg.matchAll(/<circle /g)].length, 8);
    assert.match(svg, /data-name="raw etcd"[^>]*>\n<path [^>]*stroke-dasharray/);
    assert.match(svg, /<g class="legend">[\s\S]*>pipeline<[\s\S]*>raw etcd</);
    assert.match(svg, /<g class="mark">[\s\S]*>aim</);
    // Log x axis over 1..64: the powers of ten and 2, 5 between; linear y from 0 past the largest value.
    assert.deepEqual(tickLabels(svg, 'x-ticks'), ['1', '2', '5', '10', '20', '50', '100']);
    const y = tickLabels(svg, 'y-ticks');
    assert.equal(y[0], '0');
    assert.ok(Number((y[y.length - 1] as string).replace(/,/g, '')) >= 3400, `y reaches the data: ${y.join(' ')}`);
  });

  it('places points by their values: larger y higher, larger x further right', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', series: [{ name: 's', points: [[0, 0], [10, 100]] }] });
    const circles = [...svg.matchAll(/<circle cx="([\d.]+)" cy="([\d.]+)"/g)].map((m) => [Number(m[1]), Number(m[2])] as const);
    assert.equal(circles.length, 2);
    const [a, b] = circles as [readonly [number, number], readonly [number, number]];
    assert.ok(b[0] > a[0] && b[1] < a[1], `points ${JSON.stringify(circles)}`);
  });

  it('leaves out points a log axis cannot show and draws an empty chart without failing', () => {
    const svg = lineChart({ title: 't', xLabel: 'x', yLabel: 'y', yLog: true, series: [{ name: 's', points: [[1, 0], [2, 10], [3, Number.NaN], [4, 1000]] }] });
    assertWellFormed(svg);
    assert.equal([...svg.matchAll(/<circle /g)].length, 2);
    assertWellFormed(lineChart({ title: 'empty', xLabel: 'x', yLabel: 'y', series: [] }));
  });

  it('picks round ticks and short labels', () => {
    assert.deepEqual(linearTicks(0, 650), [0, 200, 400, 600]);
    assert.deepEqual(linearTicks(0, 1), [0, 0.2, 0.4, 0.6, 0.8, 1]);
    assert.deepEqual(logTicks(1, 10_000), [1, 10, 100, 1000, 10_000]);
    assert.equal(formatTick(1500), '1,500');
    assert.equal(formatTick(25_000), '25k');
    assert.equal(formatTick(2_500_000), '2.5M');
    assert.equal(formatTick(0.25), '0.25');
    assert.equal(escapeXml(`a<b>&"'`), 'a&lt;b&gt;&amp;&quot;&apos;');
  });

  it('draws one saturation point per rate over several ramps: the median p99 of the ramps that ran it', () => {
    // Three ramps of one side: the first two end at 200/s, the third goes on to 400/s.
    const p99s: Record<number, number[]> = { 50: [10, 30, 20], 100: [40, 60, 50], 200: [150, 120, 90], 400: [300] };
    const saturation = Object.entries(p99s).flatMap(([rate, list]) =>
      list.map((p99Ms, i) => ({ watchers: 1000, side: 'service' as const, ramp: i + 1, ratePerSec: Number(rate), deliveredPerSec: Number(rate) * 1000, p99Ms })),
    );
    const [chart] = watchCharts(saturation, []);
    assert.ok(chart !== undefined);
    assertWellFormed(chart.svg);
    const points = [...chart.svg.matchAll(/<title>watch service: ([\d,.k]+), ([\d,.k]+)<\/title>/g)].map((m) => [m[1], m[2]]);
    assert.deepEqual(points, [['50', '20'], ['100', '50'], ['200', '120'], ['400', '300']]);
  });

  it('renders the charts of the results files that have their data, and only those', () => {
    const dir = mkdtempSync(join(tmpdir(), 'bench-charts-'));
    try {
      const results = join(dir, 'results');
      const images = join(dir, 'images');
      // No results at all: nothing written, nothing thrown.
      assert.deepEqual(renderCharts(results, images), []);
      mkdirSync(results);
      writeFileSync(
        join(results, 'pipeline.json'),
        JSON.stringify({
          loadSweep: [1, 4, 16, 64].map((inFlight) => ({
            operation: 'create',
            inFlight,
            pipeline: { opsPerSec: 100 * inFlight ** 0.5, p99Ms: 2 * inFlight },
            raw: { opsPerSec: 400 * inFlight ** 0.5, p99Ms: inFlight },
          })),
        }),
      );
      writeFileSync(
        join(results, 'watch.json'),
        JSON.stringify({
          saturation: [1000, 5000].flatMap((watchers) =>
            (['service', 'grpc', 'redis'] as const).flatMap((side) =>
              [50, 100, 200].map((ratePerSec) => ({ watchers, side, ratePerSec, deliveredPerSec: ratePerSec * watchers, p99Ms: ratePerSec / 2 })),
            ),
          ),
          fanout: [],
        }),
      );
      const written = renderCharts(results, images).map((p) => p.slice(images.length + 1)).sort();
      assert.deepEqual(written, ['pipeline-load-p99.svg', 'pipeline-load-throughput.svg', 'watch-saturation-1000.svg', 'watch-saturation-5000.svg']);
      const saturation = readFileSync(join(images, 'watch-saturation-1000.svg'), 'utf8');
      assertWellFormed(saturation);
      assert.equal([...saturation.matchAll(/<g class="series"/g)].length, 3);
      assert.match(saturation, /100 ms/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

