/**
 * `make up` keeps serving through the death of any one of its processes. scripts/up.ts runs as
 * a child (as `make up` runs it) while 12 writers create and update ConfigMaps over HTTPS with
 * the admin token, and two clients watch them: a REST watch that resumes from its last
 * resourceVersion (and would relist on 410), and a client-node informer restarted when it
 * reports an error. Each process in turn (storage, watch, admission, auth, gateway, then etcd
 * and redis-server) is killed with SIGKILL; the supervisor must say so and restart it, and
 * writes must be acknowledged again within seconds, with no hand on the control plane.
 *
 * At the end: every acknowledged write is in the final state; the REST watch received every
 * change to the namespace exactly once and in order, exactly as etcd's history has them (or, had
 * it been sent 410, its cache equals the final state); the informer's cache equals it too.
 * Writers see errors while a process is down: only acknowledged writes count.
 */
import assert from 'node:assert/strict';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { after, before, test } from 'node:test';
import { CoreV1Api, KubeConfig, makeInformer, type Informer, type ObjectCache, type V1ConfigMap } from '@kubernetes/client-node';
import { createTelemetry } from '../../lib/tracing.ts';
import { createEtcdClient, EtcdStorage } from '../../services/storage/backends/etcd.ts';
import { startMakeUp, type MakeUp } from '../support/make-up.ts';
import type { RestClient } from '../support/rest-client.ts';

const NS = 'supervised';
const PATH = `/api/v1/namespaces/${NS}/configmaps`;
const WRITERS = 12;
const VICTIMS = ['storage', 'watch', 'admission', 'auth', 'gateway', 'etcd', 'redis'] as const;
/** Every request of a writer or the watcher gives up after this; a hung one must not stall the test. */
const REQUEST_TIMEOUT_MS = 5_000;

let up: MakeUp | undefined;
let rest: RestClient;

before(async () => {
  up = await startMakeUp('supervision');
  rest = await up.rest();
  const created = await rest.request('POST', '/api/v1/namespaces', { body: { metadata: { name: NS } } });
  assert.equal(created.status, 201, created.body.toString());
});

after(async () => {
  const status = await up?.stop();
  if (status !== undefined) assert.deepEqual(status, { code: 0, signal: null }, 'SIGTERM stops make up cleanly');
});

/** Listeners woken whenever a writer or a watcher records something. */
const changes = new EventTarget();
const bump = (): void => void changes.dispatchEvent(new Event('change'));

/** Resolves once `check()` holds (checked now and at every recorded change, and every 200 ms). */
function until(what: string, check: () => boolean, timeoutMs: number): Promise<void> {
  return new Promise((resolve, reject) => {
    const done = (): void => {
      clearTimeout(timer);
      clearInterval(poll);
      changes.removeEventListener('change', onChange);
    };
    const onChange = (): void => {
      if (!check()) return;
      done();
      resolve();
    };
    const timer = setTimeout(() => {
      done();
      reject(new Error(`timed out after ${timeoutMs} ms waiting for ${what}`));
    }, timeoutMs);
    const poll = setInterval(onChange, 200);
    changes.addEventListener('change', onChange);
    onChange();
  });
}

interface Wire {
  type?: string;
  object?: { code?: number; metadata?: { name?: string; resourceVersion?: string }; data?: Record<string, string> };
}
interface Ack {
  name: string;
  rv: string;
  v: number;
  at: number;
}

/** Creates and updates (compare-and-swap on its last known resourceVersion) ConfigMaps of its own. */
class Writer {
  private readonly id: number;
  private readonly acks: Ack[];
  /** Its objects as last known; undefined after an unacknowledged write (read again before the next update). */
  private readonly known = new Map<string, { rv: string; v: number } | undefined>();
  private nextName = 0;
  /** A create that got no answer: tried again (AlreadyExists then means it committed). */
  private pendingCreate: string | undefined;
  errors = 0;

  constructor(id: number, acks: Ack[]) {
    this.id = id;
    this.acks = acks;
  }

  async run(stopped: () => boolean): Promise<void> {
    while (!stopped()) {
      try {
        await this.step();
      } catch {
        // Refused, reset or timed out while a process is down: not acknowledged, try on.
        this.errors++;
        await sleep(100);
      }
      await sleep(20);
    }
  }

  private ack(name: string, object: Wire['object'], v: number): void {
    const rv = object?.metadata?.resourceVersion ?? '';
    this.known.set(name, { rv, v });
    this.acks.push({ name, rv, v, at: Date.now() });
    bump();
  }

  private async step(): Promise<void> {
    if (this.pendingCreate === undefined && (this.known.size < 3 || Math.random() < 0.2)) {
      this.pendingCreate = `w${this.id}-${this.nextName++}`;
    }
    const signal = AbortSignal.timeout(REQUEST_TIMEOUT_MS);
    if (this.pendingCreate !== undefined) {
      const name = this.pendingCreate;
      const res = await rest.request('POST', PATH, { body: { metadata: { name }, data: { v: '0' } }, signal });
      if (res.status === 201) {
        this.pendingCreate = undefined;
        this.ack(name, res.json() as Wire['object'], 0);
      } else if (res.status === 409) {
        // AlreadyExists: an earlier attempt committed without an answer.
        this.pendingCreate = undefined;
        this.known.set(name, undefined);
      } else {
        throw new Error(`create answered ${res.status}`);
      }
      return;
    }
    const names = [...this.known.keys()];
    const name = names[Math.floor(Math.random() * names.length)] as string;
    const current = this.known.get(name);
    if (current === undefined) {
      const res = await rest.request('GET', `${PATH}/${name}`, { signal });
      if (res.status !== 200) throw new Error(`get answered ${res.status}`);
      const object = res.json() as Wire['object'];
      this.known.set(name, { rv: object?.metadata?.resourceVersion ?? '', v: Number(object?.data?.v) });
      return;
    }
    const v = current.v + 1;
    this.known.set(name, undefined);
    const res = await rest.request('PUT', `${PATH}/${name}`, { body: { metadata: { name, resourceVersion: current.rv }, data: { v: String(v) } }, signal });
    if (res.status === 200) this.ack(name, res.json() as Wire['object'], v);
    else if (res.status !== 409) throw new Error(`update answered ${res.status}`);
    // 409 Conflict: an earlier unacknowledged update committed; read it before the next update.
  }
}

/** A REST watch of the namespace that resumes from its last resourceVersion and relists on 410. */
class ResumingWatch {
  /** Change events as received, "TYPE name@rv". */
  readonly events: string[] = [];
  /** Index in `events` where each list started. */
  readonly lists: number[] = [];
  readonly cache = new Map<string, { rv: string; v: number }>();
  reconnects = 0;
  lastError: unknown;
  private lastRv = '';
  private readonly controller = new AbortController();
  private running: Promise<void> | undefined;

  async start(): Promise<void> {
    await this.list();
    this.running = this.run();
  }

  async stop(): Promise<void> {
    this.controller.abort();
    await this.running;
  }

  /** Whether it has received the write `name@rv`. */
  has(name: string, rv: string): boolean {
    return this.cache.get(name)?.rv === rv || this.events.some((e) => e.endsWith(` ${name}@${rv}`));
  }

  private async list(): Promise<void> {
    for (;;) {
      try {
        const res = await rest.request('GET', PATH, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
        if (res.status === 200) {
          const body = res.json() as { metadata: { resourceVersion: string }; items: NonNullable<Wire['object']>[] };
          this.cache.clear();
          for (const item of body.items) this.cache.set(item.metadata?.name ?? '', { rv: item.metadata?.resourceVersion ?? '', v: Number(item.data?.v) });
          this.lastRv = body.metadata.resourceVersion;
          this.lists.push(this.events.length);
          bump();
          return;
        }
      } catch (err) {
        this.lastError = err;
      }
      if (this.controller.signal.aborted) return;
      await sleep(200);
    }
  }

  private async run(): Promise<void> {
    const signal = this.controller.signal;
    while (!signal.aborted) {
      let expired = false;
      try {
        for await (const event of rest.watch(`${PATH}?watch=true&allowWatchBookmarks=true&resourceVersion=${this.lastRv}`, signal) as AsyncGenerator<Wire>) {
          const object = event.object;
          if (event.type === 'ERROR') {
            if (object?.code !== 410) throw new Error(`watch ERROR ${JSON.stringify(object)}`);
            expired = true;
            break;
          }
          const rv = object?.metadata?.resourceVersion ?? '';
          this.lastRv = rv;
          if (event.type === 'BOOKMARK') continue;
          const name = object?.metadata?.name ?? '';
          this.events.push(`${event.type} ${name}@${rv}`);
          if (event.type === 'DELETED') this.cache.delete(name);
          else this.cache.set(name, { rv, v: Number(object?.data?.v) });
          bump();
        }
      } catch (err) {
        this.lastError = err;
      }
      if (signal.aborted) return;
      if (expired) await this.list();
      this.reconnects++;
      await sleep(200);
    }
  }
}

/** A client-node informer, started again whenever it reports an error (as a controller does). */
function startInformer(): { informer: Informer<V1ConfigMap> & ObjectCache<V1ConfigMap>; errors: unknown[]; stop(): Promise<void> } {
  const kc = new KubeConfig();
  kc.loadFromFile(join((up as MakeUp).dir, 'admin.kubeconfig'));
  const api = kc.makeApiClient(CoreV1Api);
  const informer = makeInformer<V1ConfigMap>(kc, PATH, () => api.listNamespacedConfigMap({ namespace: NS }));
  const errors: unknown[] = [];
  let stopped = false;
  let retry: NodeJS.Timeout | undefined;
  informer.on('error', (err: unknown) => {
    errors.push(err);
    if (!stopped) retry = setTimeout(() => void informer.start().catch(() => {}), 500);
  });
  for (const verb of ['add', 'update', 'delete'] as const) informer.on(verb, bump);
  void informer.start().catch(() => {});
  return {
    informer,
    errors,
    stop: async () => {
      stopped = true;
      clearTimeout(retry);
      await informer.stop();
    },
  };
}

const state = (entries: Iterable<[string, { rv: string; v: number }]>): string[] => [...entries].map(([n, o]) => `${n}@${o.rv}=${o.v}`).sort();

test('kill -9 of each process in turn: restarted by the supervisor, writes acknowledged again within seconds, no acknowledged write lost, every change watched once in order', async (t) => {
  const plane = up as MakeUp;
  const acks: Ack[] = [];
  const watch = new ResumingWatch();
  await watch.start();
  const startRv = Number(await listRv());
  const informer = startInformer();

  let stopWriters = false;
  const writers = Array.from({ length: WRITERS }, (_, i) => new Writer(i, acks));
  const writing = Promise.all(writers.map((w) => w.run(() => stopWriters)));
  try {
    await until('the first writes', () => acks.length >= 2 * WRITERS, 20_000);

    for (const victim of VICTIMS) {
      const pid = plane.pidOf(victim);
      const mark = plane.lines.length;
      const killedAt = Date.now();
      process.kill(pid, 'SIGKILL');
      await plane.line(new RegExp(`^\\[supervisor\\] ${victim} \\(pid ${pid}\\) was killed by SIGKILL after [\\d.]+ s; restarting in 1 s$`), 10_000, mark);
      const restarted = await plane.line(new RegExp(`^\\[supervisor\\] ${victim} restarted \\(pid (\\d+)\\)$`), 30_000, mark);
      const restartedAt = Date.now();
      assert.notEqual(plane.pidOf(victim), pid, restarted);
      // Serving again: every writer has a write acknowledged after the restart.
      const ackMark = acks.length;
      await until(`writes after ${victim} restarted`, () => acks.length >= ackMark + WRITERS, 20_000);
      const firstAck = acks[ackMark] as Ack;
      // The longest time without an acknowledged write, from the kill until writes flow again.
      const times = [killedAt, ...acks.filter((a) => a.at > killedAt && a.at <= firstAck.at).map((a) => a.at)];
      const gap = Math.max(...times.map((at, i) => (i === 0 ? 0 : at - (times[i - 1] as number))));
      if (victim === 'watch' || victim === 'gateway') {
        // The watch path is back too (for the others, checked once at the end: after storage or
        // etcd the changefeed waits for the dead leader's lease).
        await until(`the watch to see a write after ${victim} restarted`, () => watch.has(firstAck.name, firstAck.rv), 20_000);
      }
      t.diagnostic(`${victim}: restarted ${restartedAt - killedAt} ms after the kill; longest time without an acknowledged write ${gap} ms`);
    }
  } finally {
    stopWriters = true;
    await writing;
  }
  const errors = writers.reduce((n, w) => n + w.errors, 0);
  t.diagnostic(`${acks.length} writes acknowledged, ${errors} failed; the watch reconnected ${watch.reconnects} times and listed ${watch.lists.length} time(s); the informer reported ${informer.errors.length} errors`);

  // The final state, and both watchers converged to it.
  const final = await finalList();
  const finalState = state(final.items.map((i) => [i.metadata?.name ?? '', { rv: i.metadata?.resourceVersion ?? '', v: Number(i.data?.v) }]));
  try {
    await until('the REST watch to converge', () => state(watch.cache).join() === finalState.join(), 30_000);
    // The informer re-lists on client-node's own schedule, which backs off after each error it
    // saw during the kills: on a machine busy with the rest of the suite that has taken longer
    // than 30 s once the server (whose REST watch converged just above) was already right.
    await until('the informer to converge', () => state(informer.informer.list(NS).map((o) => [o.metadata?.name ?? '', { rv: o.metadata?.resourceVersion ?? '', v: Number(o.data?.v) }])).join() === finalState.join(), 90_000);
  } finally {
    await watch.stop();
    await informer.stop();
  }

  // Every acknowledged write is there: the object exists, at that write or a later one.
  const finalByName = new Map(final.items.map((i) => [i.metadata?.name ?? '', i]));
  const lastAck = new Map<string, Ack>();
  for (const ack of acks) {
    const object = finalByName.get(ack.name);
    assert.ok(object !== undefined, `acknowledged ${ack.name}@${ack.rv} is missing`);
    assert.ok(Number(object.metadata?.resourceVersion) >= Number(ack.rv), `${ack.name} is at ${object.metadata?.resourceVersion}, before acknowledged ${ack.rv}`);
    lastAck.set(ack.name, ack);
  }
  for (const [name, ack] of lastAck) {
    const object = finalByName.get(name);
    if (object?.metadata?.resourceVersion === ack.rv) assert.equal(object.data?.v, String(ack.v), `${name}@${ack.rv}`);
  }

  // The REST watch: every change exactly once, in order, as etcd's history has it.
  const history = await namespaceHistory(startRv, Number(final.metadata?.resourceVersion));
  for (const ack of acks) {
    assert.ok(history.includes(`${ack.v === 0 ? 'ADDED' : 'MODIFIED'} ${ack.name}@${ack.rv}`), `acknowledged ${ack.name}@${ack.rv} is not in etcd's history`);
  }
  if (watch.lists.length === 1) {
    assert.deepEqual(watch.events, history, 'the watch received exactly the committed changes, each once, in order');
  } else {
    // It was sent 410 and relisted: each stretch between lists is in order, without repeats.
    for (let i = 0; i < watch.lists.length; i++) {
      const stretch = watch.events.slice(watch.lists[i], watch.lists[i + 1]);
      const revisions = stretch.map((e) => Number(e.split('@')[1]));
      assert.ok(revisions.every((r, j) => j === 0 || r > (revisions[j - 1] as number)), `stretch ${i} in order: ${stretch.join(', ')}`);
      for (const e of stretch) assert.ok(history.includes(e), `${e} is a committed change`);
    }
  }
});

async function listRv(): Promise<string> {
  return String((await finalList()).metadata?.resourceVersion);
}

async function finalList(): Promise<{ metadata?: { resourceVersion?: string }; items: NonNullable<Wire['object']>[] }> {
  let last: unknown;
  for (let i = 0; i < 50; i++) {
    try {
      const res = await rest.request('GET', PATH, { signal: AbortSignal.timeout(REQUEST_TIMEOUT_MS) });
      if (res.status === 200) return res.json() as { metadata?: { resourceVersion?: string }; items: NonNullable<Wire['object']>[] };
      last = res.status;
    } catch (err) {
      last = err;
    }
    await sleep(200);
  }
  throw new Error(`cannot list ${PATH}: ${String(last)}`);
}

/** The namespace's changes after `from` up to `to`, read from etcd itself, as "TYPE name@rv". */
async function namespaceHistory(from: number, to: number): Promise<string[]> {
  const serving = (up as MakeUp).lines.find((l) => l.startsWith('[storage] ') && l.includes('"msg":"serving"')) ?? '';
  const endpoint = /"etcd":"([^"]+)"/.exec(serving)?.[1];
  assert.ok(endpoint !== undefined, `storage's serving line names etcd: ${serving}`);
  const client = createEtcdClient(endpoint);
  try {
    const storage = new EtcdStorage(client, { tracer: createTelemetry({ serviceName: 'test', env: {} }).tracer });
    const result = await storage.events({ group: '', resource: 'configmaps' }, { fromRevision: String(from), toRevision: String(to) });
    assert.equal(result.more, false);
    return result.events.filter((e) => e.namespace === NS).map((e) => `${e.type} ${e.name}@${e.revision}`);
  } finally {
    client.close();
  }
}
