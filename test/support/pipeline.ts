/**
 * The gateway's pipeline over a storage in one process, wired as the services wire it (the
 * admission chain of buildAdmissionChain, the generated schemas for decoding, the watch
 * service without caches), with the system namespaces and the kinds' system objects created:
 * for tests of what the pipeline does with a request.
 */
import assert from 'node:assert/strict';
import { StatusError } from '../../lib/errors.ts';
import type { KindDefinition, KindRegistry } from '../../lib/kinds/index.ts';
import type { ClusterConfig } from '../../lib/kinds/allocation.ts';
import { generatedSchemaValidator } from '../../lib/kinds/validate.ts';
import { createLogger } from '../../lib/log.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import type { Storage } from '../../services/storage/api.ts';
import { WatchService } from '../../services/watch/core/watch-service.ts';

export interface InProcessPipeline {
  pipeline: Pipeline;
  /** The built-in kinds tests write most. */
  namespaces: KindDefinition;
  configmaps: KindDefinition;
  nodes: KindDefinition;
}

/** `cluster`: the service ranges and API server address kinds' allocators use (kube's defaults when absent). */
export async function inProcessPipeline(storage: Storage, registry: KindRegistry, options: { cluster?: ClusterConfig } = {}): Promise<InProcessPipeline> {
  const schemas = generatedSchemaValidator();
  const admission = buildAdmissionChain({ registry, storage, schemas });
  const watcher = new WatchService({ caches: new Map(), storage, registry, logger: createLogger({ service: 'test', level: 'error' }) });
  const pipeline = new Pipeline({ authenticator: new TokenFileAuthenticator([]), authorizer: new PrivilegedGroupAuthorizer(), admission, storage, watcher, schemas, kinds: registry, cluster: options.cluster });
  const namespaces = registry.get('', 'v1', 'namespaces');
  const configmaps = registry.get('', 'v1', 'configmaps');
  const nodes = registry.get('', 'v1', 'nodes');
  assert.ok(namespaces !== undefined && configmaps !== undefined && nodes !== undefined);
  await pipeline.ensureSystemNamespaces(namespaces);
  return { pipeline, namespaces, configmaps, nodes };
}

/** The StatusError `promise` is refused with; fails the test unless its reason is `reason`. */
export async function refusal(promise: Promise<unknown>, reason: string): Promise<StatusError> {
  try {
    await promise;
  } catch (err) {
    assert.ok(err instanceof StatusError, String(err));
    assert.equal(err.reason, reason, err.message);
    return err;
  }
  assert.fail(`expected ${reason}`);
}
