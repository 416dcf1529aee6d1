/**
 * API Priority and Fairness in one gateway replica, as kube-apiserver's APF controller and
 * filter (k8s.io/apiserver pkg/util/flowcontrol): the PriorityLevelConfigurations and
 * FlowSchemas as last seen (followed through the watch service by {@link followFlowControl}),
 * the replica's server concurrency limit split into the limited levels by their
 * nominalConcurrencyShares (nominalCL = ceil(serverCL * shares / sum of every level's shares),
 * kube's formula), one {@link QueueSet} per level, and the classification of every request.
 *
 * The mandatory objects are imagined while missing (kube's controller does the same), and
 * until the first lists arrive the whole bootstrap configuration is in force, so requests are
 * classified from the first moment. A FlowSchema naming a level that does not exist is
 * ignored (kube's "dangling" schema).
 *
 * Each stored FlowSchema's `Dangling` condition says whether its level exists, in kube's words
 * ({@link FlowControl.apply} returns the conditions to write; {@link followFlowControl} has them
 * written).
 *
 * Not done (yet) as kube does: borrowing between levels (lendablePercent,
 * borrowingLimitPercent: every level keeps its nominal limit), work estimation (every request
 * is one seat; kube gives LISTs and large deletes more).
 *
 * Metrics (kube's names and labels, pkg/util/flowcontrol/metrics): apiserver_flowcontrol_
 * current_inqueue_requests, current_executing_requests, current_executing_seats (one seat a
 * request) by priority_level and flow_schema; rejected_requests_total{priority_level,
 * flow_schema,reason}, dispatched_requests_total{priority_level,flow_schema},
 * request_wait_duration_seconds{priority_level,flow_schema,execute},
 * request_queue_length_after_enqueue{priority_level,flow_schema}, nominal_limit_seats and
 * current_limit_seats{priority_level}.
 */
import type { Counter, Gauge, Histogram } from 'prom-client';
import { Informer, type WatchSource } from '../../../../lib/informer.ts';
import type { KubeObject } from '../../../../lib/kube.ts';
import type { Logger } from '../../../../lib/log.ts';
import type { Metrics } from '../../../../lib/metrics.ts';
import { bootstrapConfiguration, FLOWCONTROL_GROUP } from './bootstrap.ts';
import { flowDistinguisher, flowSchemaRules, hashFlowId, matchesFlowSchema, matchingOrder, type FlowSchemaRules, type RequestDigest } from './classify.ts';
import { QueueSet, type QueueSetConfig, type QueueSetObserver, type RejectReason, type Seat } from './queueset.ts';
import { RetryAfter } from './retry-after.ts';

/** kube's --max-requests-inflight and --max-mutating-requests-inflight defaults: APF's server limit is their sum. */
export const DEFAULT_MAX_REQUESTS_INFLIGHT = 400;
export const DEFAULT_MAX_MUTATING_REQUESTS_INFLIGHT = 200;
/** kube's queue wait limit: a quarter of its default --request-timeout (60 s). */
export const DEFAULT_QUEUE_WAIT_MS = 15_000;

/** kube's request_wait_duration_seconds buckets. */
const WAIT_BUCKETS = [0, 0.005, 0.02, 0.05, 0.1, 0.2, 0.5, 1, 2, 5, 10, 15, 30];
const QUEUE_LENGTH_BUCKETS = [0, 10, 25, 50, 100, 250, 500, 1000];

export interface FlowControlOptions {
  /** The seats of this replica (kube: max-requests-inflight + max-mutating-requests-inflight). */
  serverConcurrencyLimit: number;
  /** How long a request may wait in its queue before it is rejected (default 15 s). */
  queueWaitMs?: number;
  metrics?: Metrics;
  logger: Logger;
  now?: () => number;
}

/** What a request was classified as: the headers' UIDs and the metrics' labels. */
export interface Classification {
  flowSchema: string;
  flowSchemaUid: string;
  priorityLevel: string;
  priorityLevelUid: string;
  exempt: boolean;
}

/** The outcome of asking for a seat. */
export type Admission =
  | { kind: 'execute'; classification: Classification; seat: Seat }
  | { kind: 'reject'; classification: Classification; reason: RejectReason; retryAfterSeconds: number }
  | {
      kind: 'wait';
      classification: Classification;
      /** The seat, or the refusal (with kube's Retry-After) when the request leaves its queue. */
      outcome: Promise<{ kind: 'execute'; seat: Seat } | { kind: 'reject'; reason: RejectReason; retryAfterSeconds: number }>;
      cancel(): void;
    };

interface LevelState {
  name: string;
  uid: string;
  exempt: boolean;
  shares: number;
  queuing: QueueSetConfig['queuing'];
  nominalLimit: number;
  queues: QueueSet;
  retryAfter: RetryAfter;
}

/** A FlowSchema whose Dangling condition is not what it should be: the condition to write. */
export interface FlowSchemaStatusUpdate {
  /** The stored object, as last seen (its resourceVersion guards the write). */
  flowSchema: KubeObject;
  condition: { type: 'Dangling'; status: 'True' | 'False'; reason: string; message: string };
}

/** presyncFlowSchemaStatus: the Dangling condition a schema should carry, or undefined when it does. */
function danglingUpdate(fs: KubeObject, dangling: boolean): FlowSchemaStatusUpdate | undefined {
  const level = String(((fs.spec as Record<string, unknown> | undefined)?.priorityLevelConfiguration as Record<string, unknown> | undefined)?.name ?? '');
  const condition: FlowSchemaStatusUpdate['condition'] = dangling
    ? { type: 'Dangling', status: 'True', reason: 'NotFound', message: `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(level)} but there is no such object` }
    : { type: 'Dangling', status: 'False', reason: 'Found', message: `This FlowSchema references the PriorityLevelConfiguration object named ${JSON.stringify(level)} and it exists` };
  const conditions = (fs.status as Record<string, unknown> | undefined)?.conditions;
  const current = (Array.isArray(conditions) ? conditions : []).find((c: Record<string, unknown>) => c?.type === 'Dangling') as Record<string, unknown> | undefined;
  if (current !== undefined && current.status === condition.status && current.reason === condition.reason && current.message === condition.message) return undefined;
  return { flowSchema: fs, condition };
}

/** One flow schema as used, with its level. */
interface SchemaState {
  rules: FlowSchemaRules;
  level: LevelState;
}

function levelSpec(object: KubeObject): { exempt: boolean; shares: number; queuing: QueueSetConfig['queuing'] } {
  const spec = (object.spec ?? {}) as Record<string, unknown>;
  if (spec.type === 'Exempt') return { exempt: true, shares: Number((spec.exempt as Record<string, unknown> | undefined)?.nominalConcurrencyShares ?? 0) || 0, queuing: undefined };
  const limited = (spec.limited ?? {}) as Record<string, unknown>;
  const response = (limited.limitResponse ?? {}) as Record<string, unknown>;
  const q = response.type === 'Queue' ? ((response.queuing ?? {}) as Record<string, unknown>) : undefined;
  const shares = limited.nominalConcurrencyShares === undefined ? 30 : Number(limited.nominalConcurrencyShares) || 0;
  return {
    exempt: false,
    shares,
    queuing:
      q === undefined
        ? undefined
        : { queues: Math.max(1, Number(q.queues) || 64), handSize: Math.max(1, Number(q.handSize) || 8), queueLengthLimit: Math.max(1, Number(q.queueLengthLimit) || 50) },
  };
}

export class FlowControl {
  private readonly o: FlowControlOptions;
  private readonly queueWaitMs: number;
  private levels = new Map<string, LevelState>();
  private schemas: SchemaState[] = [];
  /** The schema of a request no other matches (set by apply, which the constructor runs). */
  private catchAll!: SchemaState;
  private readonly gauges: {
    inQueue: Gauge<'priority_level' | 'flow_schema'>;
    executing: Gauge<'priority_level' | 'flow_schema'>;
    executingSeats: Gauge<'priority_level' | 'flow_schema'>;
    nominal: Gauge<'priority_level'>;
    current: Gauge<'priority_level'>;
  } | undefined;
  private readonly counters: {
    rejected: Counter<'priority_level' | 'flow_schema' | 'reason'>;
    dispatched: Counter<'priority_level' | 'flow_schema'>;
    wait: Histogram<'priority_level' | 'flow_schema' | 'execute'>;
    queueLength: Histogram<'priority_level' | 'flow_schema'>;
  } | undefined;

  constructor(options: FlowControlOptions) {
    this.o = options;
    this.queueWaitMs = options.queueWaitMs ?? DEFAULT_QUEUE_WAIT_MS;
    const m = options.metrics;
    if (m !== undefined) {
      const byFlow = ['priority_level', 'flow_schema'] as const;
      this.gauges = {
        inQueue: m.gauge({ name: 'apiserver_flowcontrol_current_inqueue_requests', help: 'Number of requests currently pending in queues of the API Priority and Fairness subsystem', labelNames: byFlow }),
        executing: m.gauge({
          name: 'apiserver_flowcontrol_current_executing_requests',
          help: 'Number of requests in initial (for a WATCH) or any (for a non-WATCH) execution stage in the API Priority and Fairness subsystem',
          labelNames: byFlow,
        }),
        executingSeats: m.gauge({
          name: 'apiserver_flowcontrol_current_executing_seats',
          help: 'Concurrency (number of seats) occupied by the currently executing (initial stage for a WATCH, any stage otherwise) requests in the API Priority and Fairness subsystem',
          labelNames: byFlow,
        }),
        nominal: m.gauge({ name: 'apiserver_flowcontrol_nominal_limit_seats', help: 'Nominal number of execution seats configured for each priority level', labelNames: ['priority_level'] }),
        current: m.gauge({ name: 'apiserver_flowcontrol_current_limit_seats', help: 'current derived number of execution seats available to each priority level', labelNames: ['priority_level'] }),
      };
      this.counters = {
        rejected: m.counter({ name: 'apiserver_flowcontrol_rejected_requests_total', help: 'Number of requests rejected by API Priority and Fairness subsystem', labelNames: [...byFlow, 'reason'] }),
        dispatched: m.counter({ name: 'apiserver_flowcontrol_dispatched_requests_total', help: 'Number of requests executed by API Priority and Fairness subsystem', labelNames: byFlow }),
        wait: m.histogram({ name: 'apiserver_flowcontrol_request_wait_duration_seconds', help: 'Length of time a request spent waiting in its queue', labelNames: [...byFlow, 'execute'], buckets: WAIT_BUCKETS }),
        queueLength: m.histogram({
          name: 'apiserver_flowcontrol_request_queue_length_after_enqueue',
          help: 'Length of queue in the API Priority and Fairness subsystem, as seen by each request after it is enqueued',
          labelNames: byFlow,
          buckets: QUEUE_LENGTH_BUCKETS,
        }),
      };
    }
    const boot = bootstrapConfiguration();
    this.apply([...boot.mandatoryPriorityLevels, ...boot.suggestedPriorityLevels], [...boot.mandatoryFlowSchemas, ...boot.suggestedFlowSchemas]);
  }

  /** The nominal seats of each level now (exempt levels have none), by name. */
  nominalLimits(): Map<string, number> {
    return new Map([...this.levels.values()].filter((l) => !l.exempt).map((l) => [l.name, l.nominalLimit]));
  }

  /**
   * Takes a new configuration: the stored levels and schemas (the mandatory ones imagined when
   * missing). Levels that stay keep their queues and the requests in them. Returns the
   * Dangling conditions of the given schemas that are not yet what they should be.
   */
  apply(priorityLevels: readonly KubeObject[], flowSchemas: readonly KubeObject[]): FlowSchemaStatusUpdate[] {
    const boot = bootstrapConfiguration();
    const byName = new Map<string, KubeObject>();
    for (const pl of priorityLevels) byName.set(String(pl.metadata?.name ?? ''), pl);
    for (const mandatory of boot.mandatoryPriorityLevels) if (!byName.has(String(mandatory.metadata?.name))) byName.set(String(mandatory.metadata?.name), mandatory);
    const specs = new Map([...byName].map(([name, object]) => [name, { object, ...levelSpec(object) }]));
    const shareSum = [...specs.values()].reduce((sum, s) => sum + s.shares, 0);
    const serverLimit = this.o.serverConcurrencyLimit;
    const next = new Map<string, LevelState>();
    for (const [name, spec] of specs) {
      const nominalLimit = spec.exempt ? 0 : shareSum > 0 ? Math.ceil((serverLimit * spec.shares) / shareSum) : 0;
      const config: QueueSetConfig = { concurrencyLimit: spec.exempt ? Infinity : nominalLimit, queuing: spec.queuing };
      const uid = String(spec.object.metadata?.uid ?? '');
      const existing = this.levels.get(name);
      let state: LevelState;
      if (existing !== undefined && existing.exempt === spec.exempt) {
        state = { ...existing, uid, shares: spec.shares, queuing: spec.queuing, nominalLimit };
        if (existing.nominalLimit !== nominalLimit || JSON.stringify(existing.queuing) !== JSON.stringify(spec.queuing)) existing.queues.reconfigure(config);
        state.queues = existing.queues;
      } else {
        state = { name, uid, exempt: spec.exempt, shares: spec.shares, queuing: spec.queuing, nominalLimit, queues: new QueueSet(config, this.queueWaitMs, this.observerFor(name), this.o.now), retryAfter: new RetryAfter(this.o.now) };
      }
      next.set(name, state);
      this.gauges?.nominal.set({ priority_level: name }, nominalLimit);
      this.gauges?.current.set({ priority_level: name }, nominalLimit);
    }
    for (const name of this.levels.keys()) {
      if (!next.has(name)) {
        // Its requests finish in their queue set; new ones cannot reach it.
        this.gauges?.nominal.remove({ priority_level: name });
        this.gauges?.current.remove({ priority_level: name });
      }
    }
    this.levels = next;
    const schemas = new Map<string, FlowSchemaRules>();
    for (const fs of flowSchemas) schemas.set(String(fs.metadata?.name ?? ''), flowSchemaRules(fs));
    const used: SchemaState[] = [];
    for (const rules of [...schemas.values()].sort(matchingOrder)) {
      const level = next.get(rules.priorityLevel);
      if (level === undefined) continue; // dangling: not used
      used.push({ rules, level });
    }
    // As kube's digest: the mandatory exempt and catch-all schemas are supplied when none by
    // their names is in use (missing, or dangling), exempt first and catch-all last, so that
    // system:masters stays exempt and every request has a level. Their levels are mandatory
    // (imagined above when missing), so they always exist.
    const mandatory = (name: string): SchemaState => {
      const rules = flowSchemaRules(boot.mandatoryFlowSchemas.find((fs) => fs.metadata?.name === name)!);
      return { rules, level: next.get(rules.priorityLevel)! };
    };
    if (!used.some((s) => s.rules.name === 'exempt')) used.unshift(mandatory('exempt'));
    let catchAll = used.find((s) => s.rules.name === 'catch-all');
    if (catchAll === undefined) used.push((catchAll = mandatory('catch-all')));
    this.schemas = used;
    this.catchAll = catchAll;
    const updates: FlowSchemaStatusUpdate[] = [];
    for (const fs of flowSchemas) {
      const level = String(((fs.spec as Record<string, unknown> | undefined)?.priorityLevelConfiguration as Record<string, unknown> | undefined)?.name ?? '');
      const update = danglingUpdate(fs, !next.has(level));
      if (update !== undefined) updates.push(update);
    }
    return updates;
  }

  /** The flow schema and level of a request (the catch-all schema when none matches). */
  classify(digest: RequestDigest): SchemaState {
    for (const schema of this.schemas) if (matchesFlowSchema(digest, schema.rules)) return schema;
    return this.catchAll;
  }

  /**
   * Asks for a seat for a request: classified, then started at once, refused, or queued. The
   * caller releases the seat when the request is done (a watch: once it is initialized).
   */
  admit(digest: RequestDigest): Admission {
    const schema = this.classify(digest);
    const level = schema.level;
    const classification: Classification = {
      flowSchema: schema.rules.name,
      flowSchemaUid: schema.rules.uid,
      priorityLevel: level.name,
      priorityLevelUid: level.uid,
      exempt: level.exempt,
    };
    const hash = level.queuing !== undefined && level.queuing.queues > 1 ? hashFlowId(schema.rules.name, flowDistinguisher(digest, schema.rules)) : 0n;
    const result = level.queues.start(schema.rules.name, hash);
    if (result.kind === 'execute') return { kind: 'execute', classification, seat: result.seat };
    if (result.kind === 'reject') return { kind: 'reject', classification, reason: result.reason, retryAfterSeconds: level.retryAfter.dropped() };
    return {
      kind: 'wait',
      classification,
      outcome: result.outcome.then((r) => (r.kind === 'execute' ? r : { ...r, retryAfterSeconds: level.retryAfter.dropped() })),
      cancel: result.cancel,
    };
  }

  private observerFor(level: string): QueueSetObserver {
    const g = this.gauges;
    const c = this.counters;
    if (g === undefined || c === undefined) return { queued() {}, unqueued() {}, executing() {}, finished() {}, rejected() {} };
    const labels = (fs: string) => ({ priority_level: level, flow_schema: fs });
    return {
      queued(fs, queueLength) {
        g.inQueue.inc(labels(fs));
        c.queueLength.observe(labels(fs), queueLength);
      },
      unqueued(fs) {
        g.inQueue.dec(labels(fs));
      },
      executing(fs, waitedMs) {
        g.executing.inc(labels(fs));
        g.executingSeats.inc(labels(fs));
        c.dispatched.inc(labels(fs));
        c.wait.observe({ ...labels(fs), execute: 'true' }, waitedMs / 1000);
      },
      finished(fs) {
        g.executing.dec(labels(fs));
        g.executingSeats.dec(labels(fs));
      },
      rejected(fs, reason, waitedMs) {
        c.rejected.inc({ ...labels(fs), reason });
        c.wait.observe({ ...labels(fs), execute: 'false' }, waitedMs / 1000);
      },
    };
  }
}

/** The followers of the flow-control objects; stop() ends them. */
export interface FlowControlFollower {
  /** Whether both resources have been listed once. */
  synced(): boolean;
  stop(): Promise<void>;
}

/**
 * Follows the PriorityLevelConfigurations and FlowSchemas through the watch service and hands
 * every change to `flowControl` (each replica follows on its own, so a change applies on all
 * of them). Changes arriving together are applied once. FlowSchemas whose Dangling condition
 * is not yet right are handed to `writeStatus`.
 */
export function followFlowControl(
  flowControl: FlowControl,
  source: WatchSource,
  logger: Logger,
  writeStatus?: (updates: FlowSchemaStatusUpdate[]) => Promise<void>,
): FlowControlFollower {
  const objects = { prioritylevelconfigurations: new Map<string, KubeObject>(), flowschemas: new Map<string, KubeObject>() };
  const listed = { prioritylevelconfigurations: false, flowschemas: false };
  let scheduled = false;
  const schedule = (): void => {
    if (scheduled || !listed.prioritylevelconfigurations || !listed.flowschemas) return;
    scheduled = true;
    queueMicrotask(() => {
      scheduled = false;
      let updates: FlowSchemaStatusUpdate[];
      try {
        updates = flowControl.apply([...objects.prioritylevelconfigurations.values()], [...objects.flowschemas.values()]);
      } catch (err) {
        // Stored objects this replica cannot apply must not take it down: it keeps serving with
        // the configuration it had, and applies the next change.
        logger.error('applying the flow-control configuration failed; the previous one stays', { error: err });
        return;
      }
      if (updates.length > 0 && writeStatus !== undefined) {
        // The written status comes back as an event; a write that lost a race is retried by the next one.
        writeStatus(updates).catch((err: unknown) => logger.warn('writing the FlowSchemas\' Dangling conditions failed', { error: err }));
      }
    });
  };
  const informers = (['prioritylevelconfigurations', 'flowschemas'] as const).map(
    (resource) =>
      new Informer({
        source,
        target: { group: FLOWCONTROL_GROUP, version: 'v1', resource, namespace: '' },
        logger,
        handlers: {
          replace(list) {
            objects[resource] = new Map(list.map((o) => [String(o.metadata?.name ?? ''), o]));
            listed[resource] = true;
            schedule();
          },
          event(type, object) {
            const name = String(object.metadata?.name ?? '');
            if (type === 'DELETED') objects[resource].delete(name);
            else objects[resource].set(name, object);
            schedule();
          },
        },
      }),
  );
  for (const informer of informers) informer.start();
  return {
    synced: () => informers.every((i) => i.synced()),
    stop: async () => {
      await Promise.all(informers.map((i) => i.stop()));
    },
  };
}
