/**
 * The raw grpc-js reference of the watch bench, a child process: a minimal grpc-js server of
 * the same apiserver.v1.Watch API (same proto, same WatchEvent message) that keeps each open
 * stream in a set (per namespace, or "all namespaces") and, on command, writes events of the
 * same payload size at a steady rate: each event to every stream of all namespaces and to the
 * streams of its namespace. No cache, no Redis, no filter objects, no tracing, no async
 * generators: what a watch fan-out costs in grpc-js itself.
 */
import * as grpc from '@grpc/grpc-js';
import type { WatchEvent } from '../lib/gen/apiserver/v1/WatchEvent.ts';
import type { WatchRequest__Output } from '../lib/gen/apiserver/v1/WatchRequest.ts';
import { loadApiProto } from '../lib/proto.ts';
import { serveCommands, steadySchedule, wallNow } from './watch-ipc.ts';
import { emptyLog, type WriteLog } from './watch-protocol.ts';

export interface RunCommand {
  count: number;
  rate: number;
  /** The window these events belong to (0: warm-up). */
  window: number;
  /** Index of the first event in the whole run: event g has revision g + 1 and namespace ns-(g % nsCount). */
  firstIndex: number;
  nsCount: number;
  /** Size of each event's object bytes. */
  payloadBytes: number;
}

const server = new grpc.Server();
const everything = new Set<grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>>();
const idle = new Set<grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>>();
const byNamespace = new Map<string, Set<grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>>>();
let streams = 0;

server.addService(loadApiProto().apiserver.v1.Watch.service, {
  Watch: (call: grpc.ServerWritableStream<WatchRequest__Output, WatchEvent>) => {
    const namespace = call.request.ref?.namespace ?? '';
    let set = everything;
    // A watch of another resource than the one written stays idle (memory measurement).
    if ((call.request.ref?.resource ?? 'configmaps') !== 'configmaps') set = idle;
    else if (namespace !== '') {
      set = byNamespace.get(namespace) ?? new Set();
      byNamespace.set(namespace, set);
    }
    set.add(call);
    streams++;
    call.on('cancelled', () => {
      if (set.delete(call)) streams--;
    });
  },
});

function payload(bytes: number): Buffer {
  const object = {
    apiVersion: 'v1',
    kind: 'ConfigMap',
    metadata: { name: 'cm-00000000', namespace: 'ns-0', resourceVersion: '1', labels: { app: 'watch-bench' } },
    data: { payload: '' },
  };
  const base = JSON.stringify(object).length;
  object.data.payload = 'x'.repeat(Math.max(0, bytes - base));
  return Buffer.from(JSON.stringify(object));
}

/** Writes `count` events at `rate`; resolves with their log. */
async function run(command: RunCommand): Promise<WriteLog> {
  const log = emptyLog(command.count);
  const object = payload(command.payloadBytes);
  await steadySchedule(command.count, command.rate, (i) => {
    const g = command.firstIndex + i;
    const ns = g % command.nsCount;
    const t = wallNow();
    log.revision[i] = g + 1;
    log.commitAt[i] = t;
    log.sentAt[i] = t;
    log.ns[i] = ns;
    log.window[i] = command.window;
    const event: WatchEvent = { type: 'ADDED', object, resourceVersion: String(g + 1) };
    for (const call of everything) call.write(event);
    for (const call of byNamespace.get(`ns-${ns}`) ?? []) call.write(event);
  });
  return log;
}

serveCommands({
  listen: () =>
    new Promise<number>((resolve, reject) => {
      server.bindAsync('127.0.0.1:0', grpc.ServerCredentials.createInsecure(), (err, port) => (err === null ? resolve(port) : reject(err)));
    }),
  streams: () => streams,
  run: (c: RunCommand) => run(c),
  close: () => {
    for (const call of everything) call.end();
    for (const call of idle) call.end();
    for (const set of byNamespace.values()) for (const call of set) call.end();
    server.forceShutdown();
  },
});
