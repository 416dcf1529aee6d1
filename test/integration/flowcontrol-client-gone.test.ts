/**
 * A client that goes away before flow control admits its request gives its seat back: the REST
 * handler (real, with the real FlowControl) is told of the close however early it comes, here
 * while the request is still being authenticated.
 */
import assert from 'node:assert/strict';
import { createServer } from 'node:http';
import { connect, type AddressInfo } from 'node:net';
import { test } from 'node:test';
import type { Logger } from '../../lib/log.ts';
import { builtinRegistry } from '../../lib/kinds/index.ts';
import { Metrics } from '../../lib/metrics.ts';
import { createTelemetry } from '../../lib/tracing.ts';
import { buildAdmissionChain } from '../../services/admission/core/chain.ts';
import { PrivilegedGroupAuthorizer } from '../../services/auth/core/authorizer.ts';
import { TokenFileAuthenticator } from '../../services/auth/core/token-file.ts';
import { MemoryEngine, MemoryStorage } from '../../services/storage/backends/memory.ts';
import { FlowControl } from '../../services/gateway/core/flowcontrol/controller.ts';
import { Pipeline } from '../../services/gateway/core/pipeline.ts';
import { BodyReader } from '../../services/gateway/rest/body.ts';
import { BodyBudget, DEFAULT_EDGE_LIMITS } from '../../services/gateway/rest/edge-limits.ts';
import { RestHandler } from '../../services/gateway/rest/handler.ts';

const TOKEN = 'flowcontrol-gone-test-token';
const PATH = '/api/v1/namespaces/default/configmaps';

const logger = { debug() {}, info() {}, warn() {}, error() {}, with: () => logger } as unknown as Logger;

/** The value of a flowcontrol series of global-default (0 when absent). */
async function levelValue(metrics: Metrics, name: string): Promise<number> {
  const metric = await metrics.registry.getSingleMetric(name)?.get();
  return (metric?.values ?? []).filter((v) => v.labels.priority_level === 'global-default').reduce((sum, v) => sum + v.value, 0);
}

/** Waits (bounded) until `check` holds, yielding to the event loop between tries. */
async function eventually(what: string, check: () => Promise<boolean>, timeoutMs = 5000): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (!(await check())) {
    if (Date.now() > deadline) assert.fail(`timed out waiting for ${what}`);
    await new Promise((resolve) => setTimeout(resolve, 10));
  }
}

test('a client gone during authentication gives its seat back; later requests of its level are served', async () => {
  const registry = builtinRegistry();
  const storage = new MemoryStorage({ logger }, new MemoryEngine());
  const tokens = new TokenFileAuthenticator([{ token: TOKEN, user: { username: 'someone', uid: '2', groups: ['system:authenticated'] } }]);
  // Authentication of the first request waits until the test lets it go (a slow auth service).
  let letAuthenticate: () => void = () => {};
  const authenticationHeld = new Promise<void>((resolve) => (letAuthenticate = resolve));
  let first = true;
  const authenticator = {
    authenticate: async (credentials: Parameters<TokenFileAuthenticator['authenticate']>[0]) => {
      if (first) {
        first = false;
        await authenticationHeld;
      }
      return tokens.authenticate(credentials);
    },
  };
  const pipeline = new Pipeline({
    authenticator,
    authorizer: new PrivilegedGroupAuthorizer(),
    admission: buildAdmissionChain({ registry, storage }),
    kinds: registry,
    storage,
    watcher: {},
    authCacheTtlMs: 0,
  } as unknown as ConstructorParameters<typeof Pipeline>[0]);
  const telemetry = createTelemetry({ serviceName: 'test', env: {} });
  const metrics = new Metrics({ processMetrics: false });
  const flowControl = new FlowControl({ serverConcurrencyLimit: 6, queueWaitMs: 1000, logger, metrics });
  const rest = new RestHandler({
    pipeline,
    registry,
    tracer: telemetry.tracer,
    propagator: telemetry.propagator,
    logger,
    serverAddress: '127.0.0.1',
    bodies: new BodyReader({ budget: new BodyBudget(DEFAULT_EDGE_LIMITS.maxBodyBytesInFlight), timeoutMs: 5000 }),
    flowControl,
  });
  let serverSawClose: () => void = () => {};
  const closedOnServer = new Promise<void>((resolve) => (serverSawClose = resolve));
  const server = createServer((req, res) => {
    res.once('close', serverSawClose);
    rest.handle(req, res);
  });
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  try {
    const { port } = server.address() as AddressInfo;
    const nominal = flowControl.nominalLimits().get('global-default')!;
    assert.ok(nominal >= 1);
    const socket = connect(port, '127.0.0.1', () => socket.write(`GET ${PATH} HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer ${TOKEN}\r\n\r\n`));
    socket.on('error', () => {});
    // The request is in authentication: the client leaves, then authentication ends.
    await eventually('authentication of the first request', async () => !first);
    socket.destroy();
    await closedOnServer;
    letAuthenticate();
    await eventually('the gone request dispatched and its seat given back', async () => {
      return (await levelValue(metrics, 'apiserver_flowcontrol_dispatched_requests_total')) === 1 && (await levelValue(metrics, 'apiserver_flowcontrol_current_executing_requests')) === 0;
    });
    // More requests of the level than it has seats, one after another: each is served.
    for (let i = 0; i < nominal + 2; i++) {
      const response = await fetch(`http://127.0.0.1:${port}${PATH}`, { headers: { authorization: `Bearer ${TOKEN}` }, signal: AbortSignal.timeout(5000) });
      await response.text();
      assert.ok(response.status !== 429 && response.status < 500, `status ${response.status}`);
    }
    await eventually('no seat held', async () => (await levelValue(metrics, 'apiserver_flowcontrol_current_executing_requests')) === 0);
    assert.equal(await levelValue(metrics, 'apiserver_flowcontrol_current_inqueue_requests'), 0);
    assert.equal(await levelValue(metrics, 'apiserver_flowcontrol_dispatched_requests_total'), 1 + nominal + 2);
  } finally {
    server.closeAllConnections();
    await new Promise((resolve) => server.close(resolve));
  }
});
