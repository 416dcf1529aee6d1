/**
 * etcd's request metrics, kube-apiserver's (k8s.io/apiserver/pkg/storage/etcd3/metrics/metrics.go):
 * etcd_request_duration_seconds, etcd_requests_total and etcd_request_errors_total, each by
 * {operation, type}, where `type` is the resource as kube names it ('pods', 'deployments.apps';
 * '' for calls about the store itself) and `operation` the engine call: get, list, create,
 * update, delete, history, currentRevision, compactedRevision, compact. A decorator over any
 * KeyValueEngine, so the etcd backend's calls are measured where they are made.
 */
import type { Counter, Histogram } from 'prom-client';
import type { Metrics } from '../../../lib/metrics.ts';
import { resourceOfKey } from '../core/keys.ts';
import type { KeyValueEngine, RangeRequest } from '../core/kv.ts';

/** kube's etcd_request_duration_seconds buckets (the same as apiserver_request_duration_seconds). */
export const ETCD_REQUEST_BUCKETS: readonly number[] = [
  0.005, 0.025, 0.05, 0.1, 0.2, 0.4, 0.6, 0.8, 1.0, 1.25, 1.5, 2, 3, 4, 5, 6, 8, 10, 15, 20, 30, 45, 60,
];

interface Children {
  readonly seconds: Histogram.Internal<string>;
  readonly total: Counter.Internal;
  readonly errors: Counter.Internal;
}

/** kube's `type` label of a key: its group resource ('configmaps', 'deployments.apps'). */
function typeOfKey(key: string): string {
  const r = resourceOfKey(key);
  if (r === undefined) return '';
  return r.group === '' ? r.resource : `${r.resource}.${r.group}`;
}

class MeteredEngine implements KeyValueEngine {
  private readonly engine: KeyValueEngine;
  private readonly duration: Histogram<string>;
  private readonly total: Counter<string>;
  private readonly errors: Counter<string>;
  private readonly children = new Map<string, Children>();

  constructor(engine: KeyValueEngine, metrics: Metrics) {
    this.engine = engine;
    const labelNames = ['operation', 'type'];
    this.duration = metrics.histogram({
      name: 'etcd_request_duration_seconds',
      help: 'Etcd request latency in seconds for each operation and object type.',
      labelNames,
      buckets: ETCD_REQUEST_BUCKETS,
    });
    this.total = metrics.counter({ name: 'etcd_requests_total', help: 'Etcd request counts for each operation and object type.', labelNames });
    this.errors = metrics.counter({ name: 'etcd_request_errors_total', help: 'Etcd failed request counts for each operation and object type.', labelNames });
  }

  private async measure<T>(operation: string, type: string, call: () => Promise<T>): Promise<T> {
    const key = `${operation}\0${type}`;
    let c = this.children.get(key);
    if (c === undefined) {
      c = { seconds: this.duration.labels(operation, type), total: this.total.labels(operation, type), errors: this.errors.labels(operation, type) };
      this.children.set(key, c);
    }
    const start = process.hrtime.bigint();
    try {
      return await call();
    } catch (err) {
      c.errors.inc();
      throw err;
    } finally {
      c.total.inc();
      c.seconds.observe(Number(process.hrtime.bigint() - start) / 1e9);
    }
  }

  get(key: string, serializable: boolean): ReturnType<KeyValueEngine['get']> {
    return this.measure('get', typeOfKey(key), () => this.engine.get(key, serializable));
  }

  range(request: RangeRequest): ReturnType<KeyValueEngine['range']> {
    return this.measure('list', typeOfKey(request.start), () => this.engine.range(request));
  }

  create(key: string, value: string): ReturnType<KeyValueEngine['create']> {
    return this.measure('create', typeOfKey(key), () => this.engine.create(key, value));
  }

  replace(key: string, value: string, modRevision: number): ReturnType<KeyValueEngine['replace']> {
    return this.measure('update', typeOfKey(key), () => this.engine.replace(key, value, modRevision));
  }

  remove(key: string, modRevision: number): ReturnType<KeyValueEngine['remove']> {
    return this.measure('delete', typeOfKey(key), () => this.engine.remove(key, modRevision));
  }

  currentRevision(): Promise<number> {
    return this.measure('currentRevision', '', () => this.engine.currentRevision());
  }

  history(prefix: string, from: number, to: number, limit: number): ReturnType<KeyValueEngine['history']> {
    return this.measure('history', typeOfKey(prefix), () => this.engine.history(prefix, from, to, limit));
  }

  compactedRevision(): Promise<number> {
    return this.measure('compactedRevision', '', () => this.engine.compactedRevision());
  }

  compact(revision: number): Promise<void> {
    return this.measure('compact', '', () => this.engine.compact(revision));
  }
}

/** `engine` with its calls measured in `metrics`; `engine` itself when there are no metrics. */
export function meteredEngine(engine: KeyValueEngine, metrics: Metrics | undefined): KeyValueEngine {
  return metrics === undefined ? engine : new MeteredEngine(engine, metrics);
}
