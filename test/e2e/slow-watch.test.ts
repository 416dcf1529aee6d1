/**
 * A REST watcher that stops reading, end to end: the gateway drops its watch once its bounded
 * queue (--watch-max-queued-events) overflows, and, as kube-apiserver's cacher does with an
 * unresponsive watcher, its HTTP response then just ends: after the complete events already
 * sent, with no ERROR event. The client watches again from the last resourceVersion it got
 * (as client-go's reflector does) and misses nothing. The socket buffers between the gateway
 * and the client fill first, so the events are large (100 KiB each).
 */
import assert from 'node:assert/strict';
import type { IncomingMessage } from 'node:http';
import { request } from 'node:https';
import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { startControlPlane, type ControlPlane } from '../../lib/local/control-plane.ts';
import { createRestClient, type RestClient } from '../support/rest-client.ts';

const PATH = '/api/v1/namespaces/default/configmaps';
/** The gateway's bound on a watch's unread events. */
const MAX_QUEUED = 8;
/** ConfigMaps written while the slow watcher reads nothing: 10 MiB of events in all. */
const COUNT = 100;
const PAYLOAD = 'x'.repeat(100 * 1024);
/** How long any one awaited step may take. */
const STEP_TIMEOUT_MS = 15_000;

let dir: string;
let plane: ControlPlane;
let rest: RestClient;
let ca: string;
let token: string;
const gatewayLines: string[] = [];
const gatewayLogged = new EventTarget();

before(async () => {
  dir = await mkdtemp(join(tmpdir(), 'e2e-slow-watch-'));
  plane = await startControlPlane({
    dataDir: dir,
    logDir: join(dir, 'logs'),
    flags: { gateway: [`--watch-max-queued-events=${MAX_QUEUED}`] },
    onLine: (line) => {
      if (!line.startsWith('[gateway] ')) return;
      gatewayLines.push(line);
      gatewayLogged.dispatchEvent(new Event('line'));
    },
  });
  ca = await readFile(join(dir, 'pki', 'ca.crt'), 'utf8');
  token = (await readFile(join(dir, 'tokens.csv'), 'utf8')).split(',')[0] ?? '';
  rest = createRestClient(`https://${plane.addresses.https}`, ca, token);
});

after(async () => {
  await plane?.stop();
  await rm(dir, { recursive: true, force: true });
});

interface WireEvent {
  type: string;
  object: { kind?: string; code?: number; metadata?: { name?: string; resourceVersion?: string }; data?: { payload?: string } };
}

/** Opens a watch and leaves its response unread: nothing is taken off the socket. */
function openUnread(path: string, signal: AbortSignal): Promise<IncomingMessage> {
  const url = new URL(`https://${plane.addresses.https}`);
  return new Promise((resolve, reject) => {
    const req = request(
      { host: url.hostname, port: url.port, ca, method: 'GET', path, headers: { Accept: 'application/json', Authorization: `Bearer ${token}` }, signal },
      (res) => {
        res.pause();
        // Reported by readToEnd; until then an abort must not be an unhandled 'error'.
        res.on('error', () => {});
        resolve(res);
      },
    );
    req.on('error', reject);
    req.end();
  });
}

/** Reads a response to its end: its body, or a rejection if it breaks off or takes too long. */
function readToEnd(res: IncomingMessage, timeoutMs: number): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    const timer = setTimeout(() => {
      const text = Buffer.concat(chunks).toString();
      reject(new Error(`the watch stream did not end within ${timeoutMs} ms (${text.split('\n').length - 1} lines read)`));
    }, timeoutMs);
    res.on('data', (chunk: Buffer) => chunks.push(chunk));
    res.on('end', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(chunks));
    });
    res.on('error', (err) => {
      clearTimeout(timer);
      reject(err);
    });
    res.resume();
  });
}

/**
 * Watches from `resourceVersion` until the ConfigMap `name` arrives, watching again from the
 * last resourceVersion seen whenever a stream ends (as client-go's reflector does). Returns the
 * names seen, in order.
 */
async function watchUntil(name: string, resourceVersion: string, timeoutMs: number): Promise<string[]> {
  const controller = new AbortController();
  const timer = setTimeout(() => controller.abort(), timeoutMs);
  const names: string[] = [];
  let rv = resourceVersion;
  try {
    while (!controller.signal.aborted) {
      for await (const raw of rest.watch(`${PATH}?watch=true&resourceVersion=${rv}`, controller.signal)) {
        const event = raw as unknown as WireEvent;
        if (event.type === 'ERROR') break;
        names.push(event.object.metadata?.name ?? '');
        rv = event.object.metadata?.resourceVersion ?? rv;
        if (event.object.metadata?.name === name) return names;
      }
    }
  } catch (err) {
    if (!controller.signal.aborted) throw err;
  } finally {
    clearTimeout(timer);
    controller.abort();
  }
  throw new Error(`timed out after ${timeoutMs} ms waiting for ${name} (seen: ${names.length})`);
}

/** Resolves with the first gateway log line that `match` accepts, or fails after timeoutMs. */
function gatewayLine(match: (line: string) => boolean, timeoutMs: number): Promise<string> {
  const found = gatewayLines.find(match);
  if (found !== undefined) return Promise.resolve(found);
  return new Promise((resolve, reject) => {
    const onLine = () => {
      const line = gatewayLines.find(match);
      if (line === undefined) return;
      clearTimeout(timer);
      gatewayLogged.removeEventListener('line', onLine);
      resolve(line);
    };
    const timer = setTimeout(() => {
      gatewayLogged.removeEventListener('line', onLine);
      reject(new Error(`the gateway logged no matching line within ${timeoutMs} ms`));
    }, timeoutMs);
    gatewayLogged.addEventListener('line', onLine);
  });
}

test('a REST watcher that does not keep up gets a clean end after complete, in-order events, and resumes without a gap', { timeout: 60_000 }, async () => {
  const list = await rest.request('GET', PATH);
  assert.equal(list.status, 200);
  const from = (list.json().metadata as { resourceVersion: string }).resourceVersion;
  const names = Array.from({ length: COUNT }, (_, i) => `slow-${i}`);
  const last = names[COUNT - 1] as string;

  const controller = new AbortController();
  try {
    const slow = await openUnread(`${PATH}?watch=true&resourceVersion=${from}`, controller.signal);
    assert.equal(slow.statusCode, 200);
    // A watcher that keeps up, from the same revision: once it has the last ConfigMap, the
    // gateway has had every event of the slow watch too (they travel on the same stream, no later).
    const keepingUp = watchUntil(last, from, STEP_TIMEOUT_MS);
    for (const name of names) {
      const created = await rest.request('POST', PATH, { body: { apiVersion: 'v1', kind: 'ConfigMap', metadata: { name }, data: { payload: PAYLOAD } } });
      assert.equal(created.status, 201, created.body.toString().slice(0, 500));
    }
    assert.deepEqual(await keepingUp, names, 'the watcher that kept up saw every ConfigMap once, in order');

    // Now the slow watcher reads: what the gateway had sent it, then the end of the stream.
    const body = (await readToEnd(slow, STEP_TIMEOUT_MS)).toString();
    assert.ok(slow.complete, 'the response ended cleanly (its last chunk arrived)');
    assert.ok(body.endsWith('\n'), `the stream ends with a whole line: ...${body.slice(-200)}`);
    const events = body
      .slice(0, -1)
      .split('\n')
      .map((line, i) => {
        try {
          return JSON.parse(line) as WireEvent;
        } catch {
          assert.fail(`line ${i} is not a whole watch event: ${line.slice(0, 200)}...`);
        }
      });
    const errors = events.filter((e) => e.type === 'ERROR');
    assert.deepEqual(errors, [], 'no ERROR event: the stream of a dropped watcher just ends');
    assert.ok(events.length > 0, 'the watcher got events before it was dropped');
    assert.ok(events.length < COUNT, `the watcher was dropped before the last event (got all ${COUNT})`);
    assert.deepEqual(
      events.map((e) => `${e.type} ${e.object.metadata?.name}`),
      names.slice(0, events.length).map((n) => `ADDED ${n}`),
      'the events received are the first ones, in order, none twice',
    );
    for (const e of events) assert.equal(e.object.data?.payload, PAYLOAD, `${e.object.metadata?.name} arrived whole`);
    const revisions = events.map((e) => Number(e.object.metadata?.resourceVersion));
    assert.ok(revisions.every((rv, i) => i === 0 || rv > (revisions[i - 1] as number)), `resourceVersions increase: ${revisions.join(',')}`);

    // The client watches again from its last resourceVersion and gets the rest, no gap, no repeat.
    const lastSeen = events[events.length - 1]?.object.metadata?.resourceVersion ?? '';
    assert.deepEqual(await watchUntil(last, lastSeen, STEP_TIMEOUT_MS), names.slice(events.length));

    // Operators see the drop in the gateway's log, which names the watch and no credential.
    const line = await gatewayLine((l) => l.includes('did not keep up'), STEP_TIMEOUT_MS);
    assert.match(line, /"resource":"configmaps"/);
    assert.match(line, /"namespace":"default"/);
    assert.ok(!line.includes(token), 'the log line holds no token');
  } finally {
    controller.abort();
  }
});
