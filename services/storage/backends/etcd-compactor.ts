/**
 * The compactor's etcd side: the claim is a transaction on kube-apiserver's own record key
 * (`compact_rev_key`, compared by version), and compaction is etcd's.
 */
import type { Etcd3 } from 'etcd3';
import type { Logger } from '../../../lib/log.ts';
import { startCompactor, type ClaimResult, type Compactor } from '../core/compactor.ts';
import { COMPACT_REVISION_KEY } from './etcd.ts';

export async function claimEtcdCompaction(client: Etcd3, version: number, revision: number): Promise<ClaimResult> {
  const response = await client
    .if(COMPACT_REVISION_KEY, 'Version', '==', version)
    .then(client.put(COMPACT_REVISION_KEY).value(String(revision)))
    .else(client.get(COMPACT_REVISION_KEY))
    .commit();
  const currentRevision = Number(response.header.revision);
  if (response.succeeded) return { won: true, version: version + 1, currentRevision };
  const kv = response.responses[0]?.response_range?.kvs[0];
  return { won: false, version: kv === undefined ? 0 : Number(kv.version), currentRevision };
}

export function startEtcdCompactor(client: Etcd3, intervalMs: number, logger: Logger): Compactor {
  return startCompactor({
    claim: (version, revision) => claimEtcdCompaction(client, version, revision),
    compact: async (revision) => {
      await client.kv.compact({ revision: String(revision) });
    },
    intervalMs,
    logger,
  });
}
