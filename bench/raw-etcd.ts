/**
 * The raw etcd reference of the storage and pipeline benches: the KV operations the raw side
 * measures, made by the client BENCH_RAW_CLIENT names.
 *
 * - `etcd3` (default, the reference of the published figures): the etcd3 client the service's
 *   createEtcdClient makes (retries off, same limits), a txn built with its fluent API.
 * - `kv`: the same EtcdKv client the storage service uses for its KV calls (etcd-kv.ts), about a
 *   quarter of etcd3's client CPU per call; on a machine of few cores the raw side then takes
 *   less CPU from etcd itself, so its figures are closer to what etcd can do.
 *
 * Either way the work is the same: a create is a txn create-if-absent, an update a txn
 * comparing the mod revision, a get a linearizable range and JSON.parse of the value, a list
 * page a range with a limit at one revision.
 */
import type { EtcdClient } from '../services/storage/backends/etcd.ts';

export type RawClientName = 'etcd3' | 'kv';

/** BENCH_RAW_CLIENT, checked: `etcd3` (default) or `kv`. */
export function rawClientName(env: NodeJS.ProcessEnv = process.env): RawClientName {
  const value = env.BENCH_RAW_CLIENT ?? 'etcd3';
  if (value !== 'etcd3' && value !== 'kv') throw new Error(`BENCH_RAW_CLIENT must be etcd3 or kv, not ${JSON.stringify(value)}`);
  return value;
}

/** What a report says of the raw side's client. */
export function rawClientDescription(name: RawClientName): string {
  return name === 'kv'
    ? 'EtcdKv (BENCH_RAW_CLIENT=kv: the storage service\'s own KV client, unary gRPC over node:http2)'
    : 'etcd3 (createEtcdClient: retries off, same limits)';
}

/** A key's value and mod revision (decimal string, as etcd3 gives it). */
export interface RawValue {
  value: Buffer;
  modRevision: string;
}

/** A page of a range: its keys and values, whether more follow, the revision it was read at. */
export interface RawPage {
  kvs: Array<{ key: Buffer; value: Buffer }>;
  more: boolean;
  revision: string;
}

/** The raw side's KV operations. */
export interface RawEtcd {
  readonly name: RawClientName;
  /** Writes `value` at `key` if absent (txn create-if-absent); whether it was. */
  create(key: string, value: string): Promise<boolean>;
  /** The key's value and mod revision (linearizable range), undefined when absent. */
  get(key: string): Promise<RawValue | undefined>;
  /** Writes `value` at `key` if its mod revision is `modRevision`; the revision written, undefined if it was not. */
  update(key: string, modRevision: string, value: string): Promise<string | undefined>;
  /** At most `limit` keys from `start` up to `end`, at `revision` ('0': the current one). */
  page(start: Buffer, end: Buffer, limit: number, revision: string): Promise<RawPage>;
}

/** The raw operations over `client` (etcd3) or its `kvCalls` (EtcdKv), as `name` says. */
export function rawEtcd(client: EtcdClient, name: RawClientName): RawEtcd {
  if (name === 'kv') {
    const kv = client.kvCalls;
    return {
      name,
      create: async (key, value) => (await kv.swap(key, 0, value)).succeeded === true,
      get: async (key) => {
        const found = (await kv.range({ key: Buffer.from(key) })).kvs?.[0];
        return found === undefined ? undefined : { value: found.value ?? Buffer.alloc(0), modRevision: String(found.mod_revision ?? 0) };
      },
      update: async (key, modRevision, value) => {
        const response = await kv.swap(key, Number(modRevision), value);
        return response.succeeded === true ? String(response.header?.revision ?? 0) : undefined;
      },
      page: async (start, end, limit, revision) => {
        const response = await kv.range({ key: start, range_end: end, limit, revision: Number(revision) });
        return {
          kvs: (response.kvs ?? []).map((item) => ({ key: item.key, value: item.value ?? Buffer.alloc(0) })),
          more: response.more === true,
          revision: String(response.header?.revision ?? 0),
        };
      },
    };
  }
  return {
    name,
    create: async (key, value) => (await client.if(key, 'Mod', '==', 0).then(client.put(key).value(value)).commit()).succeeded,
    get: async (key) => {
      const found = (await client.get(key).exec()).kvs[0];
      return found === undefined ? undefined : { value: found.value, modRevision: found.mod_revision };
    },
    update: async (key, modRevision, value) => {
      const response = await client.if(key, 'Mod', '==', modRevision).then(client.put(key).value(value)).commit();
      return response.succeeded ? response.header.revision : undefined;
    },
    page: async (start, end, limit, revision) => {
      const response = await client.kv.range({ key: start, range_end: end, limit: String(limit), revision });
      return { kvs: response.kvs, more: response.more, revision: response.header.revision };
    },
  };
}
