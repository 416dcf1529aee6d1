/**
 * watch: a stream of events (GET .../{resource}?watch, or the /watch/ path), JSON lines, Table
 * rows for clients that asked for a Table, or protobuf frames for clients that asked for
 * protobuf (built-in kinds; media/protobuf.ts). YAML cannot be streamed: 406, as kube.
 */
import { trace } from '@opentelemetry/api';
import { parseObjectBytes } from '../../../../lib/kube.ts';
import { apiVersionOf, withTypeMeta, type KindDefinition } from '../../../../lib/kinds/index.ts';
import type { WatchEvent } from '../../../watch/api.ts';
import { SlowWatcherError, type WatchOptions } from '../../../watch/api.ts';
import { toTable } from '../../../../lib/kinds/printing.ts';
import { protobufWatchFrame, type ProtobufAnswers } from '../media/protobuf.ts';
import { includeObjectPolicy, parseRestQuery } from '../query.ts';
import { streamRepresentationOf, targetOf, type VerbContext } from './context.ts';

export async function watch(ctx: VerbContext): Promise<void> {
  const representation = streamRepresentationOf(ctx);
  const query = parseRestQuery(ctx.info.query, 'watch');
  const { info, user } = ctx;
  const resource = info.resource;
  let fieldSelector = query.watch.fieldSelector ?? '';
  if (info.name !== '') {
    // GET .../watch/{resource}/{name}: a watch of one object.
    fieldSelector = [fieldSelector, `metadata.name=${info.name}`].filter((s) => s !== '').join(',');
  }
  const options: WatchOptions = { ...query.watch, fieldSelector };
  const includeObject = representation.table ? includeObjectPolicy(query) : 'Metadata';
  // A watch lives until its client, its timeoutSeconds or shutdown ends it (no request deadline).
  const signal = AbortSignal.any([ctx.closed, ctx.stopping]);
  const events = await ctx.pipeline.watch(user, { ...targetOf(info), name: '' }, options, signal);
  const protobuf = representation.format === 'protobuf';
  const send = ctx.writer.startStream(protobuf ? 'protobuf' : 'json');
  // Delivery spans (tracing on, a recorded request): reported here, in this loop (watch-delivery.ts).
  const { delivery } = events;
  try {
    for await (const event of events) {
      delivery?.arrived(event);
      let line: Buffer;
      if (protobuf) {
        line = encodedOnce(event, `protobuf/${resource.group}/${resource.version}/${resource.kind}`, () => protobufFrame(ctx.protobuf, event, resource));
      } else if (representation.table && (event.type === 'ADDED' || event.type === 'MODIFIED' || event.type === 'DELETED')) {
        line = encodedOnce(event, `table/${resource.resource}/${includeObject}`, () => {
          const object = parseObjectBytes(event.object);
          const table = toTable(resource.printer, [withTypeMeta(object, resource)], { now: ctx.clock(), includeObject });
          return Buffer.from(`${JSON.stringify({ type: event.type, object: table })}\n`);
        });
      } else {
        line = encodedOnce(event, 'json', () => Buffer.concat([Buffer.from(`{"type":"${event.type}","object":`), event.object, Buffer.from('}\n')]));
      }
      await send(line);
      delivery?.handedOn();
      if (signal.aborted) break;
    }
  } catch (err) {
    if (!(err instanceof SlowWatcherError)) throw err;
    // The client read too slowly and its watch was dropped. kube-apiserver's cacher closes
    // such a watcher and its response simply ends, without an ERROR event: client-go's
    // reflector watches again from its last resourceVersion, `kubectl get -w` ends. (The
    // typed gRPC API reports the same drop as 429 TooManyRequests.)
    trace.getActiveSpan()?.addEvent('watch dropped: the client did not keep up');
    ctx.logger.warn('watch stream ended: its client did not keep up with its events', {
      group: resource.group,
      resource: resource.resource,
      namespace: info.namespace,
      user: user.username,
      error: err,
    });
  } finally {
    delivery?.stopped();
  }
  ctx.writer.end();
}

/**
 * One event as a protobuf frame: its object as a message of `resource`'s kind (a BOOKMARK's
 * object too: kube's bookmarks are empty objects of the kind), an ERROR's as a Status.
 */
function protobufFrame(protobuf: ProtobufAnswers, event: WatchEvent, resource: KindDefinition): Buffer {
  const object = parseObjectBytes(event.object);
  const encoded = event.type === 'ERROR' ? protobuf.encodeAs('v1', 'Status', object) : protobuf.encodeAs(apiVersionOf(resource), resource.kind, object);
  return protobufWatchFrame(event.type, encoded);
}

/**
 * The watch stream lines of each event, by output format. The watch client hands every
 * watcher of one multiplexed message the same WatchEvent object, so all HTTP watchers that
 * receive it share one encoding per format (a Table's age column is computed once for them,
 * within milliseconds of each other); entries go with the event.
 */
const watchLines = new WeakMap<WatchEvent, Map<string, Buffer>>();

export function encodedOnce(event: WatchEvent, format: string, encode: () => Buffer): Buffer {
  let lines = watchLines.get(event);
  if (lines === undefined) watchLines.set(event, (lines = new Map()));
  let line = lines.get(format);
  if (line === undefined) lines.set(format, (line = encode()));
  return line;
}
