/**
 * `make trace-picture`: draws docs/images/trace.svg, the waterfall of a real trace.
 *
 * Starts a control plane of its own (etcd, Redis and the five services, in a temporary
 * folder) exporting spans over OTLP/HTTP JSON to a receiver started here (what Jaeger's OTLP
 * port is in docker-compose), opens a watch of ConfigMaps, creates one, and draws from the
 * exported spans: the create's trace (gateway, auth, admission, storage, etcd, the Redis
 * publish, the watch service's receipt) and the delivery spans linked to it (the watch
 * service's hand-over to the gateway's stream, the gateway's to the watching client), which
 * live in the watch request's own trace. The delivery interval is 0 here so that the watch
 * service's span of this very event is drawn (by default a stream makes at most one per 10 s).
 *
 * Usage: node scripts/trace-picture.ts [output.svg]   (default docs/images/trace.svg)
 */
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { startControlPlane } from '../lib/local/control-plane.ts';
import { startOtlpReceiver, type ReceivedSpan } from '../test/support/otlp-receiver.ts';
import { createRestClient } from '../test/support/rest-client.ts';

const ROOT = resolve(dirname(fileURLToPath(import.meta.url)), '..');
const NS = 'default';
const NAME = 'traced-demo';

const KIND_NAMES: Record<number, string> = { 1: 'internal', 2: 'server', 3: 'client', 4: 'producer', 5: 'consumer' };
const COLORS: Record<string, string> = {
  gateway: '#4e79a7',
  auth: '#f28e2b',
  admission: '#59a14f',
  storage: '#e15759',
  watch: '#b07aa1',
};

function escape(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** The spans of one trace in waterfall order: each after its parent, siblings by start. */
function waterfall(spans: ReceivedSpan[]): { span: ReceivedSpan; depth: number }[] {
  const ids = new Set(spans.map((s) => s.spanId));
  const out: { span: ReceivedSpan; depth: number }[] = [];
  const visit = (parentId: string, depth: number, roots: boolean) => {
    const children = spans
      .filter((s) => (roots ? !ids.has(s.parentSpanId) : s.parentSpanId === parentId))
      .sort((a, b) => a.startMs - b.startMs);
    for (const s of children) {
      out.push({ span: s, depth });
      visit(s.spanId, depth + 1, false);
    }
  };
  visit('', 0, true);
  return out;
}

/** An SVG waterfall of `rows` (the trace) and `linked` (delivery spans linked to it). */
export function drawWaterfall(rows: { span: ReceivedSpan; depth: number }[], linked: ReceivedSpan[]): string {
  const all = [...rows.map((r) => r.span), ...linked];
  const t0 = Math.min(...all.map((s) => s.startMs));
  const t1 = Math.max(...all.map((s) => s.endMs));
  const total = Math.max(t1 - t0, 0.001);
  const labelWidth = 430;
  const barWidth = 620;
  const rowHeight = 22;
  const top = 58;
  const sectionGap = 34;
  const width = labelWidth + barWidth + 330;
  const height = top + rows.length * rowHeight + sectionGap + linked.length * rowHeight + 40;
  const x = (ms: number) => labelWidth + ((ms - t0) / total) * barWidth;
  const out: string[] = [];
  out.push(`<svg xmlns="http://www.w3.org/2000/svg" width="${width}" height="${height}" viewBox="0 0 ${width} ${height}" font-family="DejaVu Sans, Arial, sans-serif" font-size="12">`);
  out.push(`<rect width="100%" height="100%" fill="#ffffff"/>`);
  out.push(`<text x="10" y="20" font-size="15" font-weight="bold">A ConfigMap create, watched: one trace across five services, etcd and Redis</text>`);
  out.push(`<text x="10" y="40" fill="#555">${escape(`trace ${rows[0]?.span.traceId ?? ''} · ${total.toFixed(1)} ms shown · bars: span start to end · colour: service`)}</text>`);
  // Time grid.
  for (let i = 0; i <= 4; i++) {
    const gx = labelWidth + (barWidth * i) / 4;
    out.push(`<line x1="${gx}" y1="${top - 6}" x2="${gx}" y2="${height - 30}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${gx}" y="${height - 14}" text-anchor="middle" fill="#777">${((total * i) / 4).toFixed(1)} ms</text>`);
  }
  const rowOf = new Map<string, number>();
  const drawRow = (s: ReceivedSpan, depth: number, y: number, note: string) => {
    rowOf.set(s.spanId, y);
    const color = COLORS[s.service] ?? '#999999';
    const label = `${s.service}: ${s.name}`;
    out.push(`<text x="${10 + depth * 14}" y="${y + 15}"><tspan fill="${color}" font-weight="bold">${escape(s.service)}</tspan><tspan>${escape(label.slice(s.service.length))}</tspan></text>`);
    const bx = x(s.startMs);
    const bw = Math.max(2, x(s.endMs) - bx);
    const kind = KIND_NAMES[s.kind] ?? '';
    out.push(`<rect x="${bx.toFixed(1)}" y="${y + 4}" width="${bw.toFixed(1)}" height="${rowHeight - 8}" rx="2" fill="${color}"${s.statusCode === 2 ? ' stroke="#c00" stroke-width="2"' : ''}><title>${escape(`${label} (${kind}) ${s.durationMs.toFixed(2)} ms`)}</title></rect>`);
    out.push(`<text x="${(bx + bw + 4).toFixed(1)}" y="${y + 15}" fill="#555">${escape(`${s.durationMs.toFixed(2)} ms ${kind}${note}`)}</text>`);
  };
  rows.forEach((r, i) => drawRow(r.span, r.depth, top + i * rowHeight, ''));
  const linkedTop = top + rows.length * rowHeight + sectionGap;
  out.push(`<line x1="10" y1="${linkedTop - 14}" x2="${width - 10}" y2="${linkedTop - 14}" stroke="#bbb" stroke-dasharray="4 3"/>`);
  out.push(`<text x="10" y="${linkedTop - 20}" fill="#555">delivery to watchers: spans of the watch request's own trace, linked to this one (dashed)</text>`);
  linked.forEach((s, i) => {
    const y = linkedTop + i * rowHeight;
    const events = s.attributes['k8s.watch.events'];
    const ns = s.attributes['k8s.namespace.name'];
    const scope = ns === undefined ? '' : ns === '' ? ' · a watch of all namespaces (a controller)' : ` · a watch of namespace ${String(ns)}`;
    drawRow(s, 0, y, `${events === undefined ? '' : ` · stands for ${String(events)} event(s)`}${scope}`);
    for (const l of s.links) {
      const from = rowOf.get(l.spanId);
      const target = rows.find((r) => r.span.spanId === l.spanId)?.span;
      if (from === undefined || target === undefined) continue;
      const lx = x(target.endMs);
      out.push(`<path d="M ${lx.toFixed(1)} ${from + rowHeight / 2} L ${x(s.startMs).toFixed(1)} ${y + rowHeight / 2}" stroke="#666" stroke-dasharray="3 3" fill="none"/>`);
    }
  });
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}

async function main(): Promise<void> {
  const output = resolve(process.argv[2] ?? join(ROOT, 'docs', 'images', 'trace.svg'));
  const dir = await mkdtemp(join(tmpdir(), 'trace-picture-'));
  const receiver = await startOtlpReceiver();
  const plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    env: {
      OTEL_EXPORTER_OTLP_ENDPOINT: receiver.endpoint,
      OTEL_EXPORTER_OTLP_PROTOCOL: 'http/json',
      OTEL_BSP_SCHEDULE_DELAY: '50',
      OTEL_TRACES_WATCH_DELIVERY_INTERVAL: '0',
    },
  });
  try {
    const ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
    const token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
    const rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
    // Warm up: the first requests fill the gateway's caches and connections; the picture is of
    // a create as it usually runs, with its authorization asked of the auth service.
    await rest.request('GET', `/api/v1/namespaces/${NS}/configmaps`);
    const stop = new AbortController();
    const seen = (async () => {
      for await (const event of rest.watch(`/api/v1/namespaces/${NS}/configmaps?watch=true`, stop.signal)) {
        if ((event.object as { metadata?: { name?: string } } | undefined)?.metadata?.name === NAME) return;
      }
    })();
    await new Promise((r) => setTimeout(r, 500));
    const created = await rest.request('POST', `/api/v1/namespaces/${NS}/configmaps`, {
      body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name: NAME }, data: { greeting: 'hello' } },
    });
    if (created.status !== 201) throw new Error(`create answered ${created.status}: ${created.body.toString()}`);
    await seen;
    stop.abort();
    const isWrite = (s: ReceivedSpan) => s.name === 'etcd Txn' && String(s.attributes['db.etcd.key']).endsWith(`/configmaps/${NS}/${NAME}`);
    await receiver.waitFor((all) => all.some(isWrite), 15_000);
    const traceId = (receiver.spans.find(isWrite) as ReceivedSpan).traceId;
    const isLinked = (s: ReceivedSpan) => s.links.some((l) => l.traceId === traceId);
    await receiver.waitFor(
      (all) =>
        all.some((s) => s.traceId === traceId && s.name.startsWith('receive ')) &&
        all.some((s) => s.traceId === traceId && s.service === 'gateway' && s.kind === 2) &&
        all.some((s) => isLinked(s) && s.service === 'gateway') &&
        all.some((s) => isLinked(s) && s.service === 'watch'),
      15_000,
    );
    const rows = waterfall(receiver.spans.filter((s) => s.traceId === traceId));
    const linked = receiver.spans.filter(isLinked).sort((a, b) => a.startMs - b.startMs);
    await writeFile(output, drawWaterfall(rows, linked));
    process.stdout.write(`${rows.length} spans of trace ${traceId} and ${linked.length} linked delivery spans drawn to ${output}\n`);
    for (const r of rows) process.stdout.write(`${'  '.repeat(r.depth)}${r.span.service}: ${r.span.name} ${r.span.durationMs.toFixed(2)} ms\n`);
    for (const s of linked) process.stdout.write(`(linked) ${s.service}: ${s.name} ${s.durationMs.toFixed(2)} ms\n`);
  } finally {
    await plane.stop();
    await receiver.close();
    await rm(dir, { recursive: true, force: true });
  }
}

if (process.argv[1] !== undefined && resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  await main();
}
