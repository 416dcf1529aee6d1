/**
 * The metrics registry: instruments shared by name, Prometheus text by default and
 * OpenMetrics with exemplars when asked, counters named the same in both whatever the order.
 */
import { describe, test } from 'node:test';
import assert from 'node:assert/strict';
import { acceptsOpenMetrics, Metrics, OPENMETRICS_CONTENT_TYPE, PROMETHEUS_CONTENT_TYPE } from './metrics.ts';

/** What Prometheus 2.x/3.x sends when scraping with exemplar storage on. */
const PROMETHEUS_OPENMETRICS_ACCEPT =
  'application/openmetrics-text;version=1.0.0,application/openmetrics-text;version=0.0.1;q=0.75,text/plain;version=0.0.4;q=0.5,*/*;q=0.1';

describe('Metrics', () => {
  test('an instrument asked for twice is the same one; a name of another type is refused', () => {
    const metrics = new Metrics({ processMetrics: false });
    const a = metrics.counter({ name: 'x_total', help: 'x', labelNames: ['l'] });
    const b = metrics.counter({ name: 'x_total', help: 'x', labelNames: ['l'] });
    assert.equal(a, b);
    assert.throws(() => metrics.gauge({ name: 'x_total', help: 'x' }), /already registered as a counter/);
  });

  test('Prometheus text by default, OpenMetrics with exemplars when asked, counters keep _total in both', async () => {
    const metrics = new Metrics({ processMetrics: false });
    const requests = metrics.counter({ name: 'demo_requests_total', help: 'requests', labelNames: ['verb'] });
    requests.labels('get').inc(2);
    const latency = metrics.exemplarHistogram({ name: 'demo_seconds', help: 'latency', labelNames: ['verb'], buckets: [0.1, 1] });
    latency.observe({ verb: 'get' }, 0.05, '0af7651916cd43dd8448eb211c80319c');

    const plain = await metrics.render(undefined);
    assert.equal(plain.contentType, PROMETHEUS_CONTENT_TYPE);
    assert.match(plain.body, /^demo_requests_total\{verb="get"\} 2$/m);
    assert.match(plain.body, /^demo_seconds_bucket\{le="0.1",verb="get"\} 1$/m);
    assert.doesNotMatch(plain.body, /trace_id/, 'the Prometheus text format has no exemplars');

    const om = await metrics.render(PROMETHEUS_OPENMETRICS_ACCEPT);
    assert.equal(om.contentType, OPENMETRICS_CONTENT_TYPE);
    assert.match(om.body, /^# TYPE demo_requests counter$/m);
    assert.match(om.body, /^demo_requests_total\{verb="get"\} 2$/m);
    assert.match(om.body, /^demo_seconds_bucket\{le="0.1",verb="get"\} 1 # \{trace_id="0af7651916cd43dd8448eb211c80319c"\} 0.05 \d+/m);
    assert.match(om.body, /# EOF\n$/);

    // After an OpenMetrics rendering the Prometheus one still names counters in full.
    const again = await metrics.render('text/plain');
    assert.match(again.body, /^# TYPE demo_requests_total counter$/m);
    assert.match(again.body, /^demo_requests_total\{verb="get"\} 2$/m);
  });

  test('renderings asked for at once each get their own format', async () => {
    const metrics = new Metrics({ processMetrics: false });
    metrics.counter({ name: 'c_total', help: 'c' }).inc();
    const [a, b, c] = await Promise.all([metrics.render(PROMETHEUS_OPENMETRICS_ACCEPT), metrics.render(undefined), metrics.render(PROMETHEUS_OPENMETRICS_ACCEPT)]);
    assert.match(a.body, /^c_total 1$/m);
    assert.match(a.body, /# EOF/);
    assert.match(b.body, /^# TYPE c_total counter$/m);
    assert.doesNotMatch(b.body, /# EOF/);
    assert.match(c.body, /^# TYPE c counter$/m);
  });

  test('process metrics are there by default', async () => {
    const metrics = new Metrics();
    const { body } = await metrics.render(undefined);
    assert.match(body, /^process_cpu_seconds_total \d/m);
    assert.match(body, /^process_resident_memory_bytes \d/m);
  });

  test('acceptsOpenMetrics reads weights', () => {
    assert.equal(acceptsOpenMetrics(PROMETHEUS_OPENMETRICS_ACCEPT), true);
    assert.equal(acceptsOpenMetrics('application/openmetrics-text; version=1.0.0'), true);
    assert.equal(acceptsOpenMetrics('application/openmetrics-text;q=0, text/plain'), false);
    assert.equal(acceptsOpenMetrics('text/plain;version=0.0.4'), false);
    assert.equal(acceptsOpenMetrics('*/*'), false);
    assert.equal(acceptsOpenMetrics(undefined), false);
  });
});
