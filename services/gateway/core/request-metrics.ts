/**
 * The gateway's request metrics, a RequestObserver fed by both front doors, with the names,
 * labels and label values of kube-apiserver's (k8s.io/apiserver/pkg/endpoints/metrics/metrics.go):
 *
 * - apiserver_request_total{verb,dry_run,group,version,resource,subresource,scope,component,code}
 * - apiserver_request_duration_seconds{verb,dry_run,group,version,resource,subresource,scope,component}
 *   with kube's buckets (0.005 s to 60 s), a sampled request's trace id as the bucket's exemplar
 *   (an unsampled request's trace id names no stored trace);
 * - apiserver_current_inflight_requests{request_kind} (readOnly, mutating): the most requests
 *   in flight at once since the previous scrape (kube: in the last second), long-running ones
 *   (watches) not counted, as kube's max-in-flight filter leaves them out;
 * - apiserver_longrunning_requests{verb,group,version,resource,subresource,scope,component};
 * - apiserver_registered_watchers{group,version,kind}: watches open (kube's, from the same file
 *   in the releases that had it).
 *
 * `verb` is kube's reported verb: the HTTP method, upper-cased, with GET of a collection as
 * LIST, watch=true as WATCH, an apply patch as APPLY and log/exec/attach/portforward/proxy as
 * CONNECT (create is POST, update PUT, delete DELETE; deletecollection is DELETECOLLECTION, the
 * verb kube's endpoint installer instruments that route with); `scope` is kube's
 * CleanScope ('resource' for a named object or a create, 'namespace', 'cluster', '' for a
 * non-resource request); `component` is 'apiserver'.
 *
 * On the request path: a request's label values are joined into one key that finds the
 * series' children, bound once, so no label object is built per request; prom-client still
 * validates and hashes the bound labels on each inc and observe (once per request, not per
 * watch event).
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import type { ExemplarHistogram, Metrics } from '../../../lib/metrics.ts';
import { elapsedSeconds, type ApiRequest, type RequestObserver } from './observe.ts';

/** kube's apiserver_request_duration_seconds buckets. */
export const REQUEST_DURATION_BUCKETS: readonly number[] = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];

const COMPONENT = 'apiserver';
const APPLY_PATCH = 'application/apply-patch+yaml';
/** Subresources kube reports as CONNECT. */
const CONNECT_SUBRESOURCES = new Set(['log', 'exec', 'portforward', 'attach', 'proxy']);
/** The verbs kube reports; anything else is 'other'. */
const REPORTED_VERBS = new Set(['APPLY', 'CONNECT', 'CREATE', 'DELETE', 'DELETECOLLECTION', 'GET', 'LIST', 'PATCH', 'POST', 'PROXY', 'PUT', 'UPDATE', 'WATCH', 'WATCHLIST']);
/** kube verbs and the HTTP method kube's metrics name them by. */
const METHOD_OF_VERB: Readonly<Record<string, string>> = {
  get: 'GET',
  list: 'LIST',
  watch: 'WATCH',
  create: 'POST',
  update: 'PUT',
  patch: 'PATCH',
  delete: 'DELETE',
  deletecollection: 'DELETECOLLECTION',
};

/** The name of a kind, for apiserver_registered_watchers; '' when unknown. */
export type KindOf = (group: string, version: string, resource: string) => string;

/** kube's reported verb of a request (metrics.go cleanVerb and CanonicalVerb). */
export function reportedVerb(request: ApiRequest): string {
  let verb: string;
  if (request.resourceRequest) {
    verb = METHOD_OF_VERB[request.verb] ?? request.verb.toUpperCase();
    if (verb === 'PATCH' && request.contentType === APPLY_PATCH) verb = 'APPLY';
    if (CONNECT_SUBRESOURCES.has(request.subresource)) verb = 'CONNECT';
  } else {
    verb = request.protocol === 'rest' ? request.method.toUpperCase() : request.verb.toUpperCase();
    if (verb === 'HEAD') verb = 'GET';
  }
  return REPORTED_VERBS.has(verb) ? verb : 'other';
}

/** kube's CleanScope. */
export function reportedScope(request: ApiRequest): string {
  if (request.name !== '' || request.verb === 'create') return 'resource';
  if (request.namespace !== '') return 'namespace';
  if (request.resourceRequest) return 'cluster';
  return '';
}

/** Whether kube's max-in-flight filter counts a request as read-only (by its method, known on arrival). */
function readOnly(request: ApiRequest): boolean {
  if (request.protocol === 'rest') return request.method === 'GET' || request.method === 'HEAD' || request.method === 'OPTIONS';
  return /^(Get|List|Watch)/.test(request.method);
}

/** One series of the request metrics: its label values and bound children. */
interface Series {
  readonly labels: Record<string, string>;
  readonly duration: Histogram.Internal<string>;
  readonly byCode: Map<number, Counter.Internal>;
}

/** What a request in flight is counted as. */
const Held = { ReadOnly: 0, Mutating: 1, LongRunning: 2 } as const;
type Held = (typeof Held)[keyof typeof Held];

/** The request metrics (see the module comment). */
export class RequestMetrics implements RequestObserver {
  private readonly total: Counter<string>;
  private readonly duration: ExemplarHistogram<string>;
  private readonly longRunning: Gauge<string>;
  private readonly watchers: Gauge<string>;
  private readonly kindOf: KindOf;
  private readonly series = new Map<string, Series>();
  /** Requests in flight and what they are counted as, until finished. */
  private readonly held = new WeakMap<ApiRequest, { held: Held; longRunning?: Gauge.Internal<string>; watchers?: Gauge.Internal<string> }>();
  private readonly current = [0, 0];
  private readonly peak = [0, 0];

  constructor(metrics: Metrics, kindOf: KindOf = () => '') {
    this.kindOf = kindOf;
    this.total = metrics.counter({
      name: 'apiserver_request_total',
      help: 'Counter of apiserver requests broken out for each verb, dry run value, group, version, resource, scope, component, and HTTP response code.',
      labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component', 'code'],
    });
    this.duration = metrics.exemplarHistogram({
      name: 'apiserver_request_duration_seconds',
      help: 'Response latency distribution in seconds for each verb, dry run value, group, version, resource, subresource, scope and component.',
      labelNames: ['verb', 'dry_run', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
      buckets: REQUEST_DURATION_BUCKETS,
    });
    const { current, peak } = this;
    metrics.gauge({
      name: 'apiserver_current_inflight_requests',
      help: 'Maximal number of requests in flight at once (watches excluded) since the previous scrape, per request kind.',
      labelNames: ['request_kind'],
      collect() {
        this.labels('readOnly').set(peak[Held.ReadOnly] ?? 0);
        this.labels('mutating').set(peak[Held.Mutating] ?? 0);
        peak[Held.ReadOnly] = current[Held.ReadOnly] ?? 0;
        peak[Held.Mutating] = current[Held.Mutating] ?? 0;
      },
    });
    this.longRunning = metrics.gauge({
      name: 'apiserver_longrunning_requests',
      help: 'Gauge of all active long-running apiserver requests broken out by verb, group, version, resource, scope and component.',
      labelNames: ['verb', 'group', 'version', 'resource', 'subresource', 'scope', 'component'],
    });
    this.watchers = metrics.gauge({
      name: 'apiserver_registered_watchers',
      help: 'Number of currently registered watchers for a given resources',
      labelNames: ['group', 'version', 'kind'],
    });
  }

  received(request: ApiRequest): void {
    const held = readOnly(request) ? Held.ReadOnly : Held.Mutating;
    this.held.set(request, { held });
    this.enter(held);
  }

  responseStarted(request: ApiRequest): void {
    const entry = this.held.get(request);
    if (entry === undefined || entry.held === Held.LongRunning || !request.longRunning) return;
    // A watch is long-running from here: out of the in-flight count, into the long-running gauges.
    this.leave(entry.held);
    entry.held = Held.LongRunning;
    entry.longRunning = this.longRunning.labels(reportedVerb(request), request.group, request.version, request.resource, request.subresource, reportedScope(request), COMPONENT);
    entry.longRunning.inc();
    if (request.verb === 'watch') {
      entry.watchers = this.watchers.labels(request.group, request.version, this.kindOf(request.group, request.version, request.resource));
      entry.watchers.inc();
    }
  }

  finished(request: ApiRequest): void {
    const entry = this.held.get(request);
    if (entry !== undefined) {
      this.held.delete(request);
      if (entry.held === Held.LongRunning) {
        entry.longRunning?.dec();
        entry.watchers?.dec();
      } else this.leave(entry.held);
    }
    const verb = reportedVerb(request);
    const dryRun = request.dryRun ? 'All' : '';
    const scope = reportedScope(request);
    const key = `${verb}\0${dryRun}\0${request.group}\0${request.version}\0${request.resource}\0${request.subresource}\0${scope}`;
    let series = this.series.get(key);
    if (series === undefined) {
      const labels = {
        verb,
        dry_run: dryRun,
        group: request.group,
        version: request.version,
        resource: request.resource,
        subresource: request.subresource,
        scope,
        component: COMPONENT,
      };
      series = { labels, duration: this.duration.labels(verb, dryRun, request.group, request.version, request.resource, request.subresource, scope, COMPONENT), byCode: new Map() };
      this.series.set(key, series);
    }
    let counter = series.byCode.get(request.code);
    if (counter === undefined) {
      counter = this.total.labels(...Object.values(series.labels), String(request.code));
      series.byCode.set(request.code, counter);
    }
    counter.inc();
    const seconds = elapsedSeconds(request);
    // The exemplar takes prom-client's slower path (a label object per call): sampled requests
    // only, as an exemplar must point at a trace that was stored.
    if (request.traceSampled) this.duration.observe(series.labels, seconds, request.traceId);
    else series.duration.observe(seconds);
  }

  private enter(held: Held): void {
    const now = (this.current[held] ?? 0) + 1;
    this.current[held] = now;
    if (now > (this.peak[held] ?? 0)) this.peak[held] = now;
  }

  private leave(held: Held): void {
    if (held === Held.LongRunning) return;
    this.current[held] = Math.max(0, (this.current[held] ?? 0) - 1);
  }
}
