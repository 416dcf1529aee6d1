/**
 * The deployment files, checked without Docker or a cluster: Dockerfile (+ .dockerignore),
 * docker-compose.yml and deploy/ (Kubernetes). What a service reads is taken from the services
 * themselves (`--help` prints each flag table), so a variable that no service reads, an address
 * that names nothing, or a port nobody listens on fails here rather than at `docker compose up`
 * or `kubectl apply`. Kubernetes objects are also checked field by field against the API models
 * of @kubernetes/client-node, which catches misspelt and misplaced fields.
 *
 * When the docker CLI with its compose plugin, or kubectl, is on PATH, their offline renderers
 * (`docker compose config`, `kubectl kustomize`) run too; those two tests skip otherwise. So does
 * `haproxy -c` on compose/haproxy.cfg when haproxy is on PATH.
 */
import assert from 'node:assert/strict';
import { execFile, spawnSync } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { dirname, join, posix } from 'node:path';
import { test } from 'node:test';
import { fileURLToPath } from 'node:url';
import { promisify } from 'node:util';
import * as k8s from '@kubernetes/client-node';
import { parseAllDocuments } from 'yaml';

const ROOT = fileURLToPath(new URL('..', import.meta.url));
const SERVICES = ['gateway', 'auth', 'admission', 'storage', 'watch'] as const;
type ServiceName = (typeof SERVICES)[number];
/** The monitoring port (METRICS_LISTEN) of every service container, in compose and in deploy/. */
const METRICS_PORT = 9090;
/** The internal services: headless Services in deploy/, so that callers reach every pod. */
const INTERNAL: readonly ServiceName[] = ['storage', 'auth', 'admission', 'watch'];
/** The Deployments an HorizontalPodAutoscaler scales. */
const AUTOSCALED: readonly ServiceName[] = ['gateway', 'watch'];

/**
 * The standard OTEL_* variables the services' telemetry reads (lib/tracing.ts and the OTLP
 * exporters it creates). Listed one by one, so that a misspelt one fails like any other.
 */
const OTEL_VARIABLES = new Set(
  [
    'OTEL_SERVICE_NAME',
    'OTEL_RESOURCE_ATTRIBUTES',
    'OTEL_TRACES_EXPORTER',
    'OTEL_TRACES_SAMPLER',
    'OTEL_TRACES_SAMPLER_ARG',
    'OTEL_BSP_SCHEDULE_DELAY',
    'OTEL_BSP_MAX_QUEUE_SIZE',
    'OTEL_BSP_MAX_EXPORT_BATCH_SIZE',
    'OTEL_BSP_EXPORT_TIMEOUT',
  ].concat(
    ['ENDPOINT', 'PROTOCOL', 'HEADERS', 'TIMEOUT', 'COMPRESSION'].flatMap((s) => [
      `OTEL_EXPORTER_OTLP_${s}`,
      `OTEL_EXPORTER_OTLP_TRACES_${s}`,
    ]),
  ),
);

// ---------------------------------------------------------------------------------------------
// Reading the files

type Json = null | boolean | number | string | Json[] | { [key: string]: Json };
type Obj = { [key: string]: Json };

function isObj(v: unknown): v is Obj {
  return v !== null && typeof v === 'object' && !Array.isArray(v);
}
function obj(v: unknown, where: string): Obj {
  assert.ok(isObj(v), `${where}: expected a mapping, got ${JSON.stringify(v)}`);
  return v;
}
function list(v: unknown, where: string): Json[] {
  assert.ok(Array.isArray(v), `${where}: expected a list, got ${JSON.stringify(v)}`);
  return v as Json[];
}
function str(v: unknown, where: string): string {
  assert.equal(typeof v, 'string', `${where}: expected a string, got ${JSON.stringify(v)}`);
  return v as string;
}

function read(path: string): string {
  return readFileSync(join(ROOT, path), 'utf8');
}

/**
 * YAML as Kubernetes and Compose read it: YAML 1.1 (`0440` is octal, `<<` merges), duplicate
 * keys rejected.
 */
function parseYamlDocuments(path: string): Json[] {
  const docs = parseAllDocuments(read(path), { version: '1.1', merge: true, uniqueKeys: true });
  assert.ok(Array.isArray(docs), `${path}: not a YAML stream`);
  const out: Json[] = [];
  for (const doc of docs) {
    assert.deepEqual(doc.errors.map(String), [], `${path}: YAML errors`);
    const value = doc.toJS({ maxAliasCount: 100 }) as Json;
    if (value !== null) out.push(value);
  }
  return out;
}

/** Runs `--help` of every service (in parallel: each loads its whole module graph). */
async function readFlagTables(): Promise<Map<ServiceName, Set<string>>> {
  const run = promisify(execFile);
  const tables = await Promise.all(
    SERVICES.map(async (name) => {
      const { stdout } = await run(process.execPath, [`services/${name}/main.ts`, '--help'], { cwd: ROOT, timeout: 120_000 });
      // | `--listen` | `STORAGE_LISTEN` | `127.0.0.1:50061` | gRPC listen address |
      const envs = [...stdout.matchAll(/^\| `--[a-z0-9-]+` \| `([A-Z][A-Z0-9_]*)` \|/gm)].map((m) => m[1] ?? '');
      assert.ok(envs.length >= 4, `services/${name}/main.ts --help printed no flag table:\n${stdout}`);
      return [name, new Set(envs)] as const;
    }),
  );
  return new Map(tables);
}
let flagTables: Promise<Map<ServiceName, Set<string>>> | undefined;
function serviceEnv(): Promise<Map<ServiceName, Set<string>>> {
  flagTables ??= readFlagTables();
  return flagTables;
}

/**
 * The service a container or compose service runs, from its `services/<name>/main.ts`
 * argument (after any of node's own flags, such as the gateway's heap settings).
 */
function programOf(args: readonly Json[] | undefined): ServiceName | undefined {
  const first = args?.find((a) => typeof a !== 'string' || !a.startsWith('--'));
  if (typeof first !== 'string') return undefined;
  const m = /^services\/([a-z]+)\/main\.ts$/.exec(first);
  if (m === null) return undefined;
  assert.ok(existsSync(join(ROOT, first)), `${first} does not exist`);
  assert.ok((SERVICES as readonly string[]).includes(m[1] ?? ''), `${first}: not one of ${SERVICES.join(', ')}`);
  return m[1] as ServiceName;
}

function checkEnvNames(where: string, program: ServiceName, names: Iterable<string>, known: Set<string>): void {
  for (const name of names) {
    assert.ok(
      known.has(name) || OTEL_VARIABLES.has(name),
      `${where}: ${name} is not read by ${program} (its flags: ${[...known].join(', ')}; or a standard OTEL_* variable)`,
    );
  }
}

/** host:port pairs an address-valued variable points at; [] for other variables. */
function addressesOf(name: string, value: string): { host: string; port: number }[] {
  if (/_ADDRESS$/.test(name)) {
    // A comma-separated list; a DNS name stands for every address it resolves to.
    return value.split(',').map((one) => {
      const m = /^([a-z0-9.-]+):(\d+)$/.exec(one.trim());
      assert.ok(m !== null, `${name}=${value}: expected host:port[,host:port...]`);
      return { host: m[1] ?? '', port: Number(m[2]) };
    });
  }
  if (/_(URL|ENDPOINT|ENDPOINTS)$/.test(name)) {
    return value.split(',').map((raw) => {
      const url = new URL(raw.trim());
      const defaults: Record<string, number> = { 'http:': 80, 'https:': 443, 'redis:': 6379 };
      const port = url.port === '' ? defaults[url.protocol] : Number(url.port);
      assert.ok(port !== undefined, `${name}=${value}: no port`);
      return { host: url.hostname, port };
    });
  }
  return [];
}

/** The port of METRICS_LISTEN (the plaintext monitoring port), or undefined. */
function metricsPort(env: Map<string, string>): number | undefined {
  const value = env.get('METRICS_LISTEN');
  if (value === undefined || value === '') return undefined;
  const m = /^(0\.0\.0\.0|\[::\]):(\d+)$/.exec(value);
  assert.ok(m !== null, `METRICS_LISTEN=${value}: must listen on every interface (0.0.0.0:PORT) to be scraped and probed`);
  return Number(m[2]);
}

/** Ports in the *_LISTEN values of an environment. */
function listenPorts(env: Map<string, string>): number[] {
  return [...env].filter(([k]) => /_LISTEN$/.test(k)).map(([k, v]) => {
    const m = /^(0\.0\.0\.0|\[::\]):(\d+)$/.exec(v);
    assert.ok(m !== null, `${k}=${v}: a service in a container must listen on every interface (0.0.0.0:PORT)`);
    return Number(m[2]);
  });
}

/** The port a `node scripts/health-probe.ts 127.0.0.1:PORT` command checks, or undefined. */
function probedPort(command: readonly Json[]): number | undefined {
  const i = command.indexOf('scripts/health-probe.ts');
  if (i === -1) return undefined;
  assert.ok(existsSync(join(ROOT, 'scripts/health-probe.ts')), 'scripts/health-probe.ts does not exist');
  assert.equal(command[0], 'node', `${JSON.stringify(command)}: the probe runs with node`);
  const m = /^127\.0\.0\.1:(\d+)$/.exec(String(command[i + 1]));
  assert.ok(m !== null, `${JSON.stringify(command)}: expected 127.0.0.1:PORT`);
  return Number(m[1]);
}

// ---------------------------------------------------------------------------------------------
// Dockerfile

interface Instruction {
  keyword: string;
  args: string;
}

function dockerfileStages(): { args: Map<string, string>; stages: { from: string; name?: string; body: Instruction[] }[] } {
  const logical = read('Dockerfile')
    .replace(/\\\n/g, ' ')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'));
  const args = new Map<string, string>();
  const stages: { from: string; name?: string; body: Instruction[] }[] = [];
  for (const line of logical) {
    const m = /^([A-Za-z]+)\s+(.*)$/.exec(line);
    assert.ok(m !== null, `Dockerfile: cannot read "${line}"`);
    const keyword = (m[1] ?? '').toUpperCase();
    const rest = (m[2] ?? '').trim();
    if (keyword === 'FROM') {
      const [image = '', as, name] = rest.split(/\s+/);
      const from = image.replace(/\$\{(\w+)\}/g, (_, v: string) => args.get(v) ?? `\${${v}}`);
      stages.push(as?.toUpperCase() === 'AS' && name !== undefined ? { from, name, body: [] } : { from, body: [] });
    } else if (stages.length === 0) {
      assert.equal(keyword, 'ARG', 'Dockerfile: only ARG may precede the first FROM');
      const [k = '', v = ''] = rest.split('=');
      args.set(k, v);
    } else {
      stages.at(-1)?.body.push({ keyword, args: rest });
    }
  }
  return { args, stages };
}

/** .dockerignore patterns as regular expressions over context-relative paths. */
function dockerignore(): RegExp[] {
  return read('.dockerignore')
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '' && !l.startsWith('#'))
    .map((pattern) => {
      assert.ok(!pattern.startsWith('!'), '.dockerignore: exceptions (!) are not understood by this test');
      const body = pattern
        .replace(/^\/+|\/+$/g, '')
        .split('/')
        .map((part) => (part === '**' ? '.*' : part.replace(/[.+^${}()|[\]\\]/g, '\\$&').replace(/\*/g, '[^/]*').replace(/\?/g, '[^/]')))
        .join('/')
        .replace(/\.\*\//g, '(?:.*/)?');
      // A pattern excludes what it matches and everything under it.
      return new RegExp(`^${body}(?:/.*)?$`);
    });
}

function makeGenCommand(): { gen: string[]; fix: string } {
  const makefile = read('Makefile').replace(/\\\n/g, ' ');
  const recipe = /^lib\/gen\/\.stamp:.*\n((?:\t.*\n)+)/m.exec(makefile);
  assert.ok(recipe !== null, 'Makefile: no lib/gen/.stamp recipe');
  const lines = (recipe[1] ?? '').split('\n').map((l) => l.trim());
  const gen = lines.find((l) => l.includes('proto-loader-gen-types')) ?? '';
  const fix = lines.find((l) => l.startsWith('find lib/gen')) ?? '';
  assert.ok(gen !== '' && fix !== '', 'Makefile: the lib/gen/.stamp recipe changed shape; update this test');
  return { gen: gen.slice(gen.indexOf('proto-loader-gen-types')).split(/\s+/), fix: fix.replace(/\s+/g, ' ') };
}

test('Dockerfile: one image for the five services, proto types generated like `make gen`, non-root runtime', () => {
  const { stages } = dockerfileStages();
  assert.ok(stages.length >= 2, 'Dockerfile: expected a build stage and a runtime stage');
  const runtime = stages.at(-1)!;
  assert.match(runtime.from, /^node:24(\.\d+){0,2}-bookworm-slim(@sha256:[0-9a-f]{64})?$/, 'runtime base image');
  const runs = (stage: { body: Instruction[] }) => stage.body.filter((i) => i.keyword === 'RUN').map((i) => i.args);
  const final = (keyword: string) => runtime.body.filter((i) => i.keyword === keyword).at(-1)?.args;

  // Generation: the same command and options as the Makefile, in a stage with the dev dependencies.
  const expected = makeGenCommand();
  const genStage = stages.find((s) => runs(s).some((r) => r.includes('proto-loader-gen-types')));
  assert.ok(genStage !== undefined, 'Dockerfile: no stage runs proto-loader-gen-types');
  const npmCi = runs(genStage).find((r) => /\bnpm ci\b/.test(r));
  assert.ok(npmCi !== undefined && !/--omit[= ]dev|--production/.test(npmCi), 'the generating stage needs `npm ci` with dev dependencies');
  const genRun = runs(genStage).find((r) => r.includes('proto-loader-gen-types')) ?? '';
  const [genPart = '', ...rest] = genRun.split('&&').map((p) => p.trim());
  assert.deepEqual(genPart.slice(genPart.indexOf('proto-loader-gen-types')).split(/\s+/), expected.gen, 'gen command differs from the Makefile');
  assert.equal(rest.join(' && ').replace(/\s+/g, ' '), expected.fix, 'import fix-up differs from the Makefile');
  for (const file of expected.gen.filter((t) => t.endsWith('.proto'))) {
    assert.ok(existsSync(join(ROOT, 'proto', file)), `proto/${file} (generated in the Dockerfile) does not exist`);
  }
  assert.ok(
    runtime.body.some((i) => i.keyword === 'COPY' && i.args.includes(`--from=${genStage.name}`) && i.args.includes('lib/gen')),
    'the runtime stage must copy lib/gen from the generating stage',
  );

  // Production dependencies only at run time.
  const depsStage = stages.find((s) => runs(s).some((r) => /\bnpm ci\b.*--omit[= ]dev/.test(r)));
  assert.ok(depsStage !== undefined, 'Dockerfile: no `npm ci --omit=dev`');
  assert.ok(runtime.body.some((i) => i.keyword === 'COPY' && i.args.includes(`--from=${depsStage.name}`) && i.args.includes('node_modules')));
  assert.ok(!runs(runtime).some((r) => /\bnpm (ci|install)\b/.test(r)), 'the runtime stage installs nothing itself');

  // Entry point and user.
  assert.deepEqual(JSON.parse(final('ENTRYPOINT') ?? 'null'), ['node']);
  const cmd = JSON.parse(final('CMD') ?? 'null') as Json[];
  assert.ok(programOf(cmd) !== undefined, `CMD ${JSON.stringify(cmd)}: expected ["services/<name>/main.ts"]`);
  const user = final('USER') ?? '';
  assert.ok(user !== '' && !/^(root|0)(:|$)/.test(user), `runtime USER must be non-root, got "${user}"`);

  // Every file the containers run is in the image, and every COPY source is in the build context.
  const ignored = dockerignore();
  const copies = runtime.body.filter((i) => i.keyword === 'COPY' && !i.args.includes('--from='));
  const copied = copies.flatMap((i) => i.args.split(/\s+/).slice(0, -1));
  for (const src of copied) {
    const path = src.replace(/\/$/, '');
    assert.ok(existsSync(join(ROOT, path)), `COPY ${src}: does not exist`);
    assert.ok(!ignored.some((re) => re.test(path)), `COPY ${src}: excluded by .dockerignore`);
  }
  const needed = ['package.json', 'proto/apiserver/v1/meta.proto', 'lib/service-main.ts', 'scripts/health-probe.ts', ...SERVICES.map((s) => `services/${s}/main.ts`)];
  for (const file of needed) {
    assert.ok(copied.some((src) => file === src || (src.endsWith('/') && file.startsWith(src))), `${file} is not copied into the runtime image`);
    assert.ok(!ignored.some((re) => re.test(file)), `${file} is excluded by .dockerignore`);
  }
  for (const path of ['node_modules', 'lib/gen', '.git', '.data']) {
    assert.ok(ignored.some((re) => re.test(path)), `.dockerignore must exclude ${path}: it is made inside the build or is host state`);
  }
});

// ---------------------------------------------------------------------------------------------
// docker-compose.yml

const COMPOSE_SERVICE_KEYS = new Set([
  'image', 'build', 'command', 'entrypoint', 'environment', 'env_file', 'ports', 'expose', 'volumes',
  'depends_on', 'healthcheck', 'restart', 'stop_grace_period', 'stop_signal', 'user', 'working_dir',
  'networks', 'labels', 'init', 'read_only', 'tmpfs', 'cap_drop', 'cap_add', 'security_opt',
  'ulimits', 'logging', 'deploy', 'profiles', 'pull_policy', 'hostname', 'container_name', 'mem_limit', 'cpus',
]);
const HEALTHCHECK_KEYS = new Set(['test', 'interval', 'timeout', 'retries', 'start_period', 'start_interval', 'disable']);

interface ComposeService {
  name: string;
  raw: Obj;
  env: Map<string, string>;
  command: Json[];
  program: ServiceName | undefined;
}

function compose(): { services: Map<string, ComposeService>; volumes: Obj } {
  const [doc, ...more] = parseYamlDocuments('docker-compose.yml');
  assert.equal(more.length, 0, 'docker-compose.yml: one document');
  const top = obj(doc, 'docker-compose.yml');
  for (const key of Object.keys(top)) {
    assert.ok(['services', 'volumes', 'networks', 'configs', 'secrets', 'name'].includes(key) || key.startsWith('x-'), `docker-compose.yml: unknown top-level key ${key}`);
  }
  const services = new Map<string, ComposeService>();
  for (const [name, value] of Object.entries(obj(top.services, 'services'))) {
    const raw = obj(value, `services.${name}`);
    for (const key of Object.keys(raw)) {
      assert.ok(COMPOSE_SERVICE_KEYS.has(key) || key.startsWith('x-'), `services.${name}: unknown key ${key}`);
    }
    const env = new Map<string, string>();
    const environment = raw.environment ?? {};
    if (Array.isArray(environment)) {
      for (const entry of environment) {
        const [k = '', ...v] = str(entry, `services.${name}.environment`).split('=');
        env.set(k, v.join('='));
      }
    } else {
      for (const [k, v] of Object.entries(obj(environment, `services.${name}.environment`))) {
        assert.ok(typeof v === 'string', `services.${name}.environment.${k}: quote the value (Compose wants strings)`);
        env.set(k, v);
      }
    }
    const command = raw.command === undefined ? [] : list(raw.command, `services.${name}.command`);
    services.set(name, { name, raw, env, command, program: programOf(command) });
  }
  return { services, volumes: obj(top.volumes ?? {}, 'volumes') };
}

/** compose/haproxy.cfg as sections (global, defaults, frontend NAME, ...) of trimmed lines. */
function haproxyConfig(): { sections: { kind: string; name: string; lines: string[] }[] } {
  const sections: { kind: string; name: string; lines: string[] }[] = [];
  for (const raw of read('compose/haproxy.cfg').split('\n')) {
    const line = raw.replace(/#.*$/, '').trim();
    if (line === '') continue;
    const m = /^(global|defaults|frontend|backend|listen|resolvers)(?:\s+(\S+))?$/.exec(line);
    if (m !== null && !/^\s/.test(raw)) sections.push({ kind: m[1] ?? '', name: m[2] ?? '', lines: [] });
    else {
      assert.ok(sections.length > 0, `compose/haproxy.cfg: "${line}" outside a section`);
      sections.at(-1)!.lines.push(line.replace(/\s+/g, ' '));
    }
  }
  return { sections };
}

/** Ports a compose service listens on inside the network. */
function composeListenPorts(s: ComposeService): number[] {
  const ports = s.program === undefined ? [] : listenPorts(s.env);
  for (const arg of s.command) {
    const m = /^--listen-client-urls=(.*)$/.exec(String(arg));
    if (m !== null) ports.push(...(m[1] ?? '').split(',').map((u) => Number(new URL(u).port)));
  }
  for (const port of (s.raw.expose as Json[] | undefined) ?? []) ports.push(Number(port));
  // The redis image listens on redis-server's default port unless told otherwise.
  if (String(s.raw.image).startsWith('redis:') && !s.command.includes('--port')) ports.push(6379);
  return ports;
}

function composePorts(s: ComposeService): { host?: string; published: string; target: number }[] {
  return ((s.raw.ports as Json[] | undefined) ?? []).map((p) => {
    if (isObj(p)) return { published: String(p.published), target: Number(p.target), ...(p.host_ip ? { host: String(p.host_ip) } : {}) };
    const parts = String(p).split(':');
    const target = Number(parts.at(-1));
    if (parts.length === 3) return { host: parts[0] ?? '', published: parts[1] ?? '', target };
    return { published: parts.length === 2 ? (parts[0] ?? '') : '', target };
  });
}

test('docker-compose.yml: the five services, etcd, redis, jaeger and the gateways\' load balancer, wired by name', async () => {
  const known = await serviceEnv();
  const { services, volumes } = compose();
  for (const name of [...SERVICES, 'etcd', 'redis', 'jaeger', 'gateway-lb']) assert.ok(services.has(name), `docker-compose.yml: no service ${name}`);

  for (const s of services.values()) {
    if (s.program === undefined) continue;
    const where = `docker-compose.yml services.${s.name}`;
    assert.equal(s.program, s.name, `${where}: runs services/${s.program}/main.ts`);
    assert.ok(s.raw.build !== undefined, `${where}: built from the Dockerfile`);
    checkEnvNames(where, s.program, s.env.keys(), known.get(s.program)!);
    assert.equal(s.env.get('OTEL_SERVICE_NAME'), s.name, `${where}: OTEL_SERVICE_NAME`);
    assert.equal(s.env.get('OTEL_EXPORTER_OTLP_ENDPOINT'), 'http://jaeger:4318', `${where}: traces go to jaeger over OTLP/HTTP`);
    assert.ok(listenPorts(s.env).length > 0, `${where}: sets no *_LISTEN address, so it listens on loopback only`);

    // Every address names a compose service that listens there and is started first.
    const dependsOn = obj(s.raw.depends_on ?? {}, `${where}.depends_on`);
    for (const [key, value] of s.env) {
      for (const { host, port } of addressesOf(key, value)) {
        const target = services.get(host);
        assert.ok(target !== undefined, `${where}: ${key}=${value} names no service`);
        assert.ok(composeListenPorts(target).includes(port), `${where}: ${key}=${value}, but ${host} listens on ${composeListenPorts(target).join(', ')}`);
        assert.ok(host in dependsOn, `${where}: ${key} points at ${host}, which is not in depends_on`);
      }
    }
    // Health: grpc.health.v1 on the plaintext monitoring port, the same in every service.
    assert.equal(metricsPort(s.env), METRICS_PORT, `${where}: METRICS_LISTEN=0.0.0.0:${METRICS_PORT}`);
    const health = obj(s.raw.healthcheck, `${where}.healthcheck`);
    const port = probedPort(list(health.test, `${where}.healthcheck.test`).slice(1));
    assert.equal(port, METRICS_PORT, `${where}: the healthcheck must probe the monitoring port`);
  }

  for (const s of services.values()) {
    // Scale-safe: `--scale NAME=N` needs no fixed container name.
    assert.equal(s.raw.container_name, undefined, `services.${s.name}: container_name prevents --scale`);
    assert.ok(s.raw.healthcheck !== undefined, `services.${s.name}: no healthcheck`);
    for (const key of Object.keys(obj(s.raw.healthcheck, `${s.name}.healthcheck`))) {
      assert.ok(HEALTHCHECK_KEYS.has(key), `services.${s.name}.healthcheck: unknown key ${key}`);
    }
    assert.equal(list(obj(s.raw.healthcheck, '').test, `${s.name}.healthcheck.test`)[0], 'CMD', `services.${s.name}: exec-form healthcheck`);
    for (const [dep, cond] of Object.entries(obj(s.raw.depends_on ?? {}, `${s.name}.depends_on`))) {
      assert.ok(services.has(dep), `services.${s.name}.depends_on: no service ${dep}`);
      const condition = obj(cond, `${s.name}.depends_on.${dep}`).condition;
      const wanted = services.get(dep)?.raw.healthcheck === undefined ? 'service_started' : 'service_healthy';
      assert.equal(condition, wanted, `services.${s.name}.depends_on.${dep}`);
    }
  }

  // Start order: storage before admission and watch; all before the gateway.
  const deps = (name: string) => Object.keys(obj(services.get(name)?.raw.depends_on ?? {}, name));
  for (const name of ['admission', 'watch']) assert.ok(deps(name).includes('storage'), `${name} must start after storage`);
  for (const name of ['auth', 'admission', 'storage', 'watch']) assert.ok(deps('gateway').includes(name), `gateway must start after ${name}`);
  assert.ok(deps('storage').includes('etcd') && deps('storage').includes('redis'), 'storage must start after etcd and redis');

  // Published on the host's loopback only: the load balancer's 6443 (and 50051) and the Jaeger UI.
  // None of the five services publishes a port, so each can be scaled.
  const allowed: Record<string, number[]> = { 'gateway-lb': [6443, 50051], jaeger: [16686] };
  for (const s of services.values()) {
    const published = composePorts(s);
    for (const p of published) {
      assert.equal(p.host, '127.0.0.1', `services.${s.name}: port ${p.target} must be bound to 127.0.0.1`);
      assert.equal(Number(p.published), p.target, `services.${s.name}: port ${p.target} is published as ${p.published}`);
      assert.ok((allowed[s.name] ?? []).includes(p.target), `services.${s.name} must not publish ${p.target}`);
    }
  }
  assert.ok(composePorts(services.get('gateway-lb')!).some((p) => p.target === 6443), 'gateway-lb publishes 6443');

  // The load balancer: HAProxy with the committed configuration, forwarding every published port
  // to the gateways' same port, found by re-resolving the name `gateway` through Docker's DNS.
  const lb = services.get('gateway-lb')!;
  assert.match(String(lb.raw.image), /^haproxy:\d+\.\d+(-alpine)?$/, 'gateway-lb: an HAProxy image');
  const mount = ((lb.raw.volumes as Json[] | undefined) ?? []).map(String).find((v) => v.includes('/usr/local/etc/haproxy/haproxy.cfg'));
  assert.equal(mount, './compose/haproxy.cfg:/usr/local/etc/haproxy/haproxy.cfg:ro', 'gateway-lb mounts compose/haproxy.cfg read-only');
  const cfg = haproxyConfig();
  for (const { target } of composePorts(lb)) {
    const frontend = cfg.sections.find((sec) => sec.kind === 'frontend' && sec.lines.some((l) => l === `bind :${target}` || l === `bind 0.0.0.0:${target}`));
    assert.ok(frontend !== undefined, `compose/haproxy.cfg: no frontend binds :${target}`);
    const backendName = frontend.lines.find((l) => l.startsWith('default_backend '))?.split(/\s+/)[1];
    const backend = cfg.sections.find((sec) => sec.kind === 'backend' && sec.name === backendName);
    assert.ok(backend !== undefined, `compose/haproxy.cfg: frontend ${frontend.name} has no backend`);
    const template = backend.lines.find((l) => l.startsWith('server-template '))?.split(/\s+/);
    assert.equal(template?.[3], `gateway:${target}`, `compose/haproxy.cfg backend ${backend.name}: server-template gateway:${target}`);
    assert.ok(Number(template[2]) >= 2, `compose/haproxy.cfg backend ${backend.name}: room for several gateways`);
    const serverParams = [...backend.lines.filter((l) => l.startsWith('default-server ')), template.join(' ')].join(' ').split(/\s+/);
    const resolvers = serverParams[serverParams.indexOf('resolvers') + 1];
    assert.ok(serverParams.includes('resolvers') && serverParams.includes('check'), `compose/haproxy.cfg backend ${backend.name}: checked servers from a resolvers section`);
    const section = cfg.sections.find((sec) => sec.kind === 'resolvers' && sec.name === resolvers);
    assert.ok(section?.lines.some((l) => /^nameserver \S+ 127\.0\.0\.11:53$/.test(l)), `compose/haproxy.cfg: resolvers ${resolvers} must ask Docker's DNS (127.0.0.11:53)`);
    const checkPort = serverParams[serverParams.indexOf('port') + 1];
    assert.equal(Number(checkPort), METRICS_PORT, `compose/haproxy.cfg backend ${backend.name}: readiness from the gateways' monitoring port`);
  }
  const lbHealth = list(obj(lb.raw.healthcheck, 'gateway-lb.healthcheck').test, 'gateway-lb.healthcheck.test').map(String);
  const monitor = cfg.sections.find((sec) => sec.lines.some((l) => l.startsWith('monitor-uri ')));
  assert.ok(monitor !== undefined, 'compose/haproxy.cfg: a monitor-uri for the healthcheck');
  const monitorUrl = `http://${monitor.lines.find((l) => l.startsWith('bind '))?.split(/\s+/)[1]}${monitor.lines.find((l) => l.startsWith('monitor-uri '))?.split(/\s+/)[1]}`;
  assert.ok(lbHealth.includes(monitorUrl), `gateway-lb: the healthcheck must ask ${monitorUrl}`);

  // auth and the gateway share DATA_DIR on one named volume.
  const auth = services.get('auth')!;
  const gateway = services.get('gateway')!;
  const dataDir = auth.env.get('DATA_DIR');
  assert.ok(dataDir !== undefined && dataDir === gateway.env.get('DATA_DIR'), 'auth and gateway need the same DATA_DIR');
  const volumeAt = (s: ComposeService) =>
    ((s.raw.volumes as Json[] | undefined) ?? []).map(String).find((v) => v.split(':')[1] === dataDir)?.split(':')[0];
  const volume = volumeAt(auth);
  assert.ok(volume !== undefined && volume in volumes, `auth: DATA_DIR ${dataDir} must be a named volume`);
  assert.equal(volumeAt(gateway), volume, 'the gateway must mount the volume auth writes the CA to');
  const sans = (gateway.env.get('GATEWAY_TLS_SANS') ?? '').split(',');
  for (const san of ['localhost', '127.0.0.1', 'gateway']) assert.ok(sans.includes(san), `GATEWAY_TLS_SANS must include ${san}`);
  assert.match(auth.env.get('KUBECONFIG_SERVER') ?? '', /^https:\/\/(127\.0\.0\.1|localhost):6443$/, 'admin.kubeconfig must point at the published port');

  // The stores and the tracer.
  const etcd = services.get('etcd')!;
  assert.match(String(etcd.raw.image), /^(quay\.io\/coreos|gcr\.io\/etcd-development)\/etcd:v3\.5\.\d+$/);
  const flag = (name: string) => etcd.command.map(String).find((a) => a.startsWith(`--${name}=`))?.slice(name.length + 3);
  const member = flag('name');
  assert.ok(member !== undefined, 'etcd: --name');
  assert.equal(flag('initial-cluster'), `${member}=${flag('initial-advertise-peer-urls')}`, 'etcd: a one-member --initial-cluster of this member');
  assert.equal(flag('advertise-client-urls'), 'http://etcd:2379', 'etcd: advertise the name clients resolve');
  assert.match(flag('listen-client-urls') ?? '', /^http:\/\/0\.0\.0\.0:2379$/, 'etcd: listen on every interface');
  assert.equal(flag('initial-cluster-state'), 'new');
  assert.match(String(services.get('redis')!.raw.image), /^redis:7(\.|$|-)/);
  const jaeger = services.get('jaeger')!;
  assert.match(String(jaeger.raw.image), /^jaegertracing\/jaeger:2\.\d+\.\d+$/, 'jaeger: the v2 all-in-one image');
  for (const port of [16686, 4318]) assert.ok(composeListenPorts(jaeger).includes(port), `jaeger: exposes ${port}`);
});

test('compose/haproxy.cfg: `haproxy -c` accepts it', (t) => {
  const version = spawnSync('haproxy', ['-v'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0) {
    t.skip('no haproxy');
    return;
  }
  const result = spawnSync('haproxy', ['-c', '-f', 'compose/haproxy.cfg'], { cwd: ROOT, encoding: 'utf8', timeout: 10_000 });
  assert.equal(result.status, 0, result.stderr);
});

test('docker-compose.yml: `docker compose config` accepts it', (t) => {
  const version = spawnSync('docker', ['compose', 'version'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0) {
    t.skip('no docker CLI with the compose plugin');
    return;
  }
  const result = spawnSync('docker', ['compose', '-f', 'docker-compose.yml', 'config', '-q'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
});

// ---------------------------------------------------------------------------------------------
// deploy/ (Kubernetes)

interface Manifest {
  file: string;
  apiVersion: string;
  kind: string;
  name: string;
  raw: Obj;
}

type Models = Record<string, { getAttributeTypeMap?: () => { baseName: string; type: string }[] } | undefined>;
const MODELS = k8s as unknown as Models;

/** Checks `value` against the client-node model `type`; returns what does not fit. */
function shapeProblems(value: unknown, type: string, path: string): string[] {
  const arrayOf = /^Array<(.+)>$/.exec(type);
  if (arrayOf !== null) {
    if (!Array.isArray(value)) return [`${path}: expected a list`];
    return value.flatMap((v, i) => shapeProblems(v, arrayOf[1] ?? '', `${path}[${i}]`));
  }
  const mapOf = /^\{ \[key: string\]: (.+); \}$/.exec(type);
  if (mapOf !== null) {
    if (!isObj(value)) return [`${path}: expected a mapping`];
    return Object.entries(value).flatMap(([k, v]) => shapeProblems(v, mapOf[1] ?? '', `${path}.${k}`));
  }
  switch (type) {
    case 'any':
      return [];
    case 'string':
    case 'Date':
      return typeof value === 'string' ? [] : [`${path}: expected a string, got ${JSON.stringify(value)}`];
    case 'number':
      return typeof value === 'number' ? [] : [`${path}: expected a number, got ${JSON.stringify(value)}`];
    case 'boolean':
      return typeof value === 'boolean' ? [] : [`${path}: expected true or false, got ${JSON.stringify(value)}`];
    case 'IntOrString':
      return typeof value === 'string' || typeof value === 'number' ? [] : [`${path}: expected a number or a string`];
  }
  const attributes = MODELS[type]?.getAttributeTypeMap?.();
  if (attributes === undefined) return [`${path}: no model ${type}`];
  if (!isObj(value)) return [`${path}: expected a mapping (${type})`];
  return Object.entries(value).flatMap(([key, v]) => {
    const attribute = attributes.find((a) => a.baseName === key);
    return attribute === undefined ? [`${path}.${key}: no such field in ${type}`] : shapeProblems(v, attribute.type, `${path}.${key}`);
  });
}

function manifests(): { files: string[]; objects: Manifest[]; kustomization: Obj } {
  const files = readdirSync(join(ROOT, 'deploy')).filter((f) => /\.ya?ml$/.test(f)).sort();
  let kustomization: Obj | undefined;
  const objects: Manifest[] = [];
  for (const file of files) {
    for (const [i, doc] of parseYamlDocuments(`deploy/${file}`).entries()) {
      const raw = obj(doc, `deploy/${file} #${i + 1}`);
      const apiVersion = str(raw.apiVersion, `deploy/${file} #${i + 1} apiVersion`);
      const kind = str(raw.kind, `deploy/${file} #${i + 1} kind`);
      if (kind === 'Kustomization') {
        assert.equal(file, 'kustomization.yaml');
        kustomization = raw;
        continue;
      }
      const name = str(obj(raw.metadata, `deploy/${file} ${kind}.metadata`).name, `deploy/${file} ${kind}.metadata.name`);
      objects.push({ file, apiVersion, kind, name, raw });
    }
  }
  assert.ok(kustomization !== undefined, 'deploy/kustomization.yaml is missing');
  return { files, objects, kustomization };
}

interface Workload {
  manifest: Manifest;
  labels: Obj;
  annotations: Obj;
  pod: k8s.V1PodSpec;
  replicas: number;
  /** Volume names of a StatefulSet's claim templates. */
  claims: string[];
}

function workloads(objects: Manifest[]): Workload[] {
  return objects
    .filter((m) => ['Deployment', 'StatefulSet'].includes(m.kind))
    .map((manifest) => {
      const spec = manifest.raw.spec as unknown as k8s.V1StatefulSetSpec;
      return {
        manifest,
        labels: obj(spec.template.metadata?.labels, `${manifest.name} pod labels`),
        annotations: obj(spec.template.metadata?.annotations ?? {}, `${manifest.name} pod annotations`),
        pod: spec.template.spec!,
        replicas: spec.replicas ?? 1,
        claims: (spec.volumeClaimTemplates ?? []).map((c) => c.metadata?.name ?? ''),
      };
    });
}

function selects(selector: k8s.V1LabelSelector | undefined, labels: Obj): boolean {
  if (selector === undefined) return true;
  for (const [k, v] of Object.entries(selector.matchLabels ?? {})) if (labels[k] !== v) return false;
  for (const e of selector.matchExpressions ?? []) {
    const value = labels[e.key];
    const values = e.values ?? [];
    const ok =
      e.operator === 'In' ? typeof value === 'string' && values.includes(value)
      : e.operator === 'NotIn' ? !(typeof value === 'string' && values.includes(value))
      : e.operator === 'Exists' ? value !== undefined
      : e.operator === 'DoesNotExist' ? value === undefined
      : assert.fail(`unknown selector operator ${e.operator}`);
    if (!ok) return false;
  }
  return true;
}

/** Environment of a container: envFrom ConfigMaps, then env (which wins, as in Kubernetes). */
function containerEnv(container: k8s.V1Container, configMaps: Map<string, Obj>, where: string): Map<string, string> {
  const env = new Map<string, string>();
  for (const source of container.envFrom ?? []) {
    assert.ok(source.configMapRef !== undefined, `${where}: envFrom only from ConfigMaps here`);
    const data = configMaps.get(source.configMapRef.name ?? '');
    assert.ok(data !== undefined, `${where}: envFrom ConfigMap ${source.configMapRef.name} is not in deploy/`);
    for (const [k, v] of Object.entries(data)) env.set(k, String(v));
  }
  for (const e of container.env ?? []) {
    const ref = e.valueFrom?.configMapKeyRef;
    if (ref !== undefined) {
      const value = configMaps.get(ref.name ?? '')?.[ref.key];
      assert.ok(value !== undefined, `${where}: ${e.name} refers to a missing ConfigMap key ${ref.name}/${ref.key}`);
      env.set(e.name, String(value));
    } else {
      env.set(e.name, e.value ?? '');
    }
  }
  return env;
}

/** Container ports of a workload, by number and by name. */
function containerPort(w: Workload, port: number | string): number | undefined {
  for (const c of w.pod.containers) {
    for (const p of c.ports ?? []) if (p.containerPort === port || p.name === port) return p.containerPort;
  }
  return undefined;
}

/** The peers of an ingress rule as written in YAML (`from`; the client-node model calls it `_from`). */
function peersOf(rule: k8s.V1NetworkPolicyIngressRule): k8s.V1NetworkPolicyPeer[] {
  return (rule as { from?: k8s.V1NetworkPolicyPeer[] }).from ?? [];
}

/** Whether the namespace's NetworkPolicies let `from` pods reach `to` pods on `port`. */
function ingressAllowed(policies: k8s.V1NetworkPolicy[], from: Workload, to: Workload, port: number): boolean {
  const applying = policies.filter((p) => selects(p.spec!.podSelector, to.labels) && (p.spec!.policyTypes ?? ['Ingress']).includes('Ingress'));
  if (applying.length === 0) return true;
  return applying.some((p) =>
    (p.spec!.ingress ?? []).some((rule) => {
      const peers = peersOf(rule);
      const peerOk =
        peers.length === 0 ||
        peers.some((peer) => peer.podSelector !== undefined && peer.namespaceSelector === undefined && peer.ipBlock === undefined && selects(peer.podSelector, from.labels));
      const portOk = (rule.ports ?? []).length === 0 || (rule.ports ?? []).some((p) => p.port === port || containerPort(to, p.port ?? -1) === port);
      return peerOk && portOk;
    }),
  );
}

test('deploy/: manifests parse, fit the Kubernetes API, and are all in kustomization.yaml', () => {
  const { files, objects, kustomization } = manifests();
  for (const m of objects) {
    const version = m.apiVersion.split('/').at(-1) ?? '';
    const model = `${version.charAt(0).toUpperCase()}${version.slice(1)}${m.kind}`;
    assert.ok(MODELS[model] !== undefined, `deploy/${m.file}: ${m.apiVersion} ${m.kind} is not a Kubernetes API object`);
    assert.deepEqual(shapeProblems(m.raw, model, `deploy/${m.file} ${m.kind}/${m.name}`), []);
  }
  const resources = list(kustomization.resources, 'kustomization.yaml resources').map(String).sort();
  assert.deepEqual(resources, files.filter((f) => f !== 'kustomization.yaml'), 'kustomization.yaml must list every manifest file of deploy/, and only those');
  const namespaces = objects.filter((m) => m.kind === 'Namespace').map((m) => m.name);
  assert.equal(namespaces.length, 1, 'one Namespace');
  assert.equal(kustomization.namespace, namespaces[0], 'kustomization.yaml puts everything in the Namespace of namespace.yaml');
  for (const m of objects) {
    const ns = obj(m.raw.metadata, m.name).namespace;
    assert.ok(ns === undefined || ns === namespaces[0], `deploy/${m.file} ${m.kind}/${m.name}: namespace ${String(ns)}`);
  }
  const names = objects.map((m) => `${m.kind}/${m.name}`);
  assert.deepEqual(names.filter((n, i) => names.indexOf(n) !== i), [], 'duplicate objects');
});

test('deploy/: workloads are probed, bounded, unprivileged, and configured only with what each service reads', async () => {
  const known = await serviceEnv();
  const { objects } = manifests();
  const configMaps = new Map(objects.filter((m) => m.kind === 'ConfigMap').map((m) => [m.name, obj(m.raw.data, `ConfigMap ${m.name}`)]));
  const all = workloads(objects);
  const byProgram = new Map<ServiceName, Workload>();
  const readme = read('deploy/README.md');

  for (const w of all) {
    const where = `deploy/${w.manifest.file} ${w.manifest.kind}/${w.manifest.name}`;
    assert.equal(w.pod.automountServiceAccountToken, false, `${where}: no service account token (nothing calls the Kubernetes API)`);
    assert.equal(w.pod.enableServiceLinks, false, `${where}: service-link variables would land in the environment`);
    const podSecurity = w.pod.securityContext ?? {};
    assert.equal(podSecurity.seccompProfile?.type, 'RuntimeDefault', `${where}: seccompProfile RuntimeDefault (Pod Security "restricted")`);
    const volumes = new Map((w.pod.volumes ?? []).map((v) => [v.name, v]));
    for (const v of volumes.values()) {
      assert.ok(v.hostPath === undefined, `${where}: no hostPath volumes`);
      if (v.secret !== undefined) {
        assert.ok(readme.includes(`\`${v.secret.secretName}\``), `${where}: Secret ${v.secret.secretName} must be described in deploy/README.md`);
        assert.equal((v.secret.defaultMode ?? 0o644) & 0o007, 0, `${where}: Secret ${v.secret.secretName} must not be world-readable`);
      }
    }

    for (const c of [...(w.pod.initContainers ?? []), ...w.pod.containers]) {
      const cwhere = `${where} container ${c.name}`;
      const sc = c.securityContext ?? {};
      assert.equal(sc.runAsNonRoot ?? podSecurity.runAsNonRoot, true, `${cwhere}: runAsNonRoot`);
      assert.notEqual(sc.runAsUser ?? podSecurity.runAsUser, 0, `${cwhere}: not uid 0`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${cwhere}: allowPrivilegeEscalation false`);
      assert.equal(sc.readOnlyRootFilesystem, true, `${cwhere}: readOnlyRootFilesystem`);
      assert.deepEqual(sc.capabilities?.drop, ['ALL'], `${cwhere}: drop ALL capabilities`);
      assert.ok(sc.privileged !== true, `${cwhere}: not privileged`);
      for (const kind of ['requests', 'limits'] as const) {
        for (const resource of ['cpu', 'memory']) assert.ok(c.resources?.[kind]?.[resource] !== undefined, `${cwhere}: resources.${kind}.${resource}`);
      }
      for (const mount of c.volumeMounts ?? []) {
        assert.ok(volumes.has(mount.name) || w.claims.includes(mount.name), `${cwhere}: mounts unknown volume ${mount.name}`);
      }
    }

    for (const c of w.pod.containers) {
      const cwhere = `${where} container ${c.name}`;
      assert.ok(c.readinessProbe !== undefined && c.livenessProbe !== undefined, `${cwhere}: readiness and liveness probes`);
      const program = programOf(c.args as Json[] | undefined);
      if (program === undefined) continue;
      assert.ok(!byProgram.has(program), `${program} runs in two workloads`);
      byProgram.set(program, w);
      assert.equal(c.image, 'kube-grpc-apiserver', `${cwhere}: the image of the Dockerfile (kustomization.yaml sets its registry and tag)`);
      assert.equal(c.command, undefined, `${cwhere}: the image's ENTRYPOINT (node) runs args`);
      const env = containerEnv(c, configMaps, cwhere);
      checkEnvNames(cwhere, program, env.keys(), known.get(program)!);
      assert.equal(env.get('OTEL_SERVICE_NAME'), program, `${cwhere}: OTEL_SERVICE_NAME`);
      const listening = listenPorts(env);
      assert.ok(listening.length > 0, `${cwhere}: sets no *_LISTEN address, so it listens on loopback only`);
      assert.deepEqual((c.ports ?? []).map((p) => p.containerPort).sort(), [...listening].sort(), `${cwhere}: containerPorts are the ports it listens on`);
      // Probes: the kubelet's native grpc probe (no process per check) on the plaintext monitoring
      // port, the only port it can pass: every other gRPC port requires a client certificate.
      assert.equal(metricsPort(env), METRICS_PORT, `${cwhere}: METRICS_LISTEN=0.0.0.0:${METRICS_PORT}`);
      assert.equal(containerPort(w, 'metrics'), METRICS_PORT, `${cwhere}: container port "metrics" ${METRICS_PORT}`);
      for (const [kind, probe] of Object.entries({ startup: c.startupProbe, readiness: c.readinessProbe, liveness: c.livenessProbe })) {
        assert.ok(probe !== undefined, `${cwhere}: ${kind}Probe`);
        assert.ok(probe.exec === undefined && probe.httpGet === undefined && probe.tcpSocket === undefined, `${cwhere}: ${kind}Probe must be a grpc probe`);
        assert.equal(probe.grpc?.port, METRICS_PORT, `${cwhere}: ${kind}Probe grpc on the monitoring port`);
        assert.ok(probe.grpc.service === undefined || probe.grpc.service === '', `${cwhere}: ${kind}Probe asks the server's overall status`);
      }
      // Scraped by annotation (no Prometheus Operator objects needed).
      const annotations = w.annotations;
      assert.equal(annotations['prometheus.io/scrape'], 'true', `${where}: prometheus.io/scrape`);
      assert.equal(annotations['prometheus.io/port'], String(METRICS_PORT), `${where}: prometheus.io/port`);
      assert.equal(annotations['prometheus.io/path'], '/metrics', `${where}: prometheus.io/path`);

      // Mutual TLS: all three files, from a mounted Secret.
      for (const name of ['GRPC_TLS_CA_FILE', 'GRPC_TLS_CERT_FILE', 'GRPC_TLS_KEY_FILE']) {
        const file = env.get(name);
        assert.ok(file !== undefined && file !== '', `${cwhere}: ${name} (mutual TLS on internal gRPC)`);
        const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dirname(file));
        const secret = mount === undefined ? undefined : volumes.get(mount.name)?.secret;
        assert.ok(secret !== undefined, `${cwhere}: ${name}=${file} is not in a mounted Secret`);
        const items = secret.items?.map((i) => i.path);
        assert.ok(items === undefined || items.includes(posix.basename(file)), `${cwhere}: ${file} is not among the Secret's items`);
      }
      const dataDir = env.get('DATA_DIR');
      if (dataDir !== undefined) {
        const mount = (c.volumeMounts ?? []).find((m) => m.mountPath === dataDir);
        assert.ok(mount !== undefined && mount.readOnly !== true && volumes.get(mount.name)?.emptyDir !== undefined, `${cwhere}: DATA_DIR must be a writable volume`);
      }
    }
  }

  for (const name of SERVICES) assert.ok(byProgram.has(name), `deploy/: no Deployment runs ${name}`);
  const hpas = objects.filter((m) => m.kind === 'HorizontalPodAutoscaler');
  for (const name of ['gateway', 'auth', 'admission', 'watch'] as const) {
    const w = byProgram.get(name)!;
    assert.equal(w.manifest.kind, 'Deployment', `${name}: a Deployment`);
    const hpa = hpas.find((h) => obj(obj(h.raw.spec, 'hpa spec').scaleTargetRef, 'scaleTargetRef').name === w.manifest.name);
    // An autoscaled Deployment leaves its count to the HPA: `kubectl apply` would reset it otherwise.
    const replicas = hpa === undefined ? w.replicas : Number(obj(hpa.raw.spec, 'hpa spec').minReplicas);
    if (hpa !== undefined) assert.equal(obj(w.manifest.raw.spec, 'spec').replicas, undefined, `${name}: spec.replicas must be left to its HorizontalPodAutoscaler`);
    assert.ok(replicas >= 2, `${name} is stateless: at least 2 replicas`);
  }
  const etcd = all.find((w) => w.pod.containers.some((c) => /\/etcd:v3\.5\.\d+$/.test(c.image ?? '')));
  assert.equal(etcd?.manifest.kind, 'StatefulSet', 'etcd 3.5 runs as a StatefulSet');
  // etcd is probed over HTTP on its metrics listener (no process per check), like kubeadm does.
  const etcdContainer = etcd.pod.containers[0]!;
  const metricsUrl = (etcdContainer.args ?? []).find((a) => a.startsWith('--listen-metrics-urls='))?.slice('--listen-metrics-urls='.length);
  assert.ok(metricsUrl !== undefined, 'etcd: --listen-metrics-urls');
  const etcdMetricsPort = Number(new URL(metricsUrl).port);
  for (const [kind, probe] of Object.entries({ startup: etcdContainer.startupProbe, readiness: etcdContainer.readinessProbe, liveness: etcdContainer.livenessProbe })) {
    assert.ok(probe?.httpGet !== undefined && containerPort(etcd, probe.httpGet.port) === etcdMetricsPort, `etcd: ${kind}Probe over HTTP on the metrics port ${etcdMetricsPort}`);
    assert.match(probe.httpGet.path ?? '', /^\/health(\?|$)/, `etcd: ${kind}Probe asks /health`);
  }
  const redis = all.find((w) => w.pod.containers.some((c) => /^redis:7(\.|$|-)/.test(c.image ?? '')));
  assert.equal(redis?.manifest.kind, 'Deployment', 'Redis 7 runs as a Deployment');
  const gatewayEnv = containerEnv(byProgram.get('gateway')!.pod.containers[0]!, configMaps, 'gateway');
  const sans = (gatewayEnv.get('GATEWAY_TLS_SANS') ?? '').split(',');
  for (const san of ['localhost', '127.0.0.1', 'gateway']) assert.ok(sans.includes(san), `gateway: GATEWAY_TLS_SANS must include ${san}`);
});

test('deploy/: internal Services are headless, gateway and watch autoscale on CPU, every workload has a disruption budget', () => {
  const { objects } = manifests();
  const all = workloads(objects);
  const programOfWorkload = (w: Workload) => w.pod.containers.map((c) => programOf(c.args as Json[] | undefined)).find((p) => p !== undefined);

  // Headless, ready pods only: each name resolves to every ready pod, which callers spread over.
  for (const name of INTERNAL) {
    const svc = objects.find((m) => m.kind === 'Service' && m.name === name);
    assert.ok(svc !== undefined, `Service ${name} (callers dial ${name}:PORT)`);
    const spec = svc.raw.spec as unknown as k8s.V1ServiceSpec;
    assert.equal(spec.clusterIP, 'None', `Service ${name}: headless (clusterIP: None), so that callers reach every pod`);
    assert.equal(spec.publishNotReadyAddresses, false, `Service ${name}: publishNotReadyAddresses false (a draining pod leaves the answer)`);
    assert.ok(spec.type === undefined || spec.type === 'ClusterIP', `Service ${name}: type ${spec.type}`);
    const backends = all.filter((w) => selects({ matchLabels: spec.selector as Record<string, string> }, w.labels));
    assert.deepEqual(backends.map(programOfWorkload), [name], `Service ${name} selects the ${name} pods only`);
  }
  const gatewaySvc = objects.find((m) => m.kind === 'Service' && m.name === 'gateway')!;
  assert.notEqual((gatewaySvc.raw.spec as unknown as k8s.V1ServiceSpec).clusterIP, 'None', 'Service gateway keeps a virtual IP for clients');

  // HorizontalPodAutoscalers: autoscaling/v2 on CPU utilization, for gateway and watch.
  const hpas = objects.filter((m) => m.kind === 'HorizontalPodAutoscaler');
  for (const h of hpas) assert.equal(h.apiVersion, 'autoscaling/v2', `HorizontalPodAutoscaler ${h.name}: autoscaling/v2`);
  for (const name of AUTOSCALED) {
    const w = all.find((x) => programOfWorkload(x) === name)!;
    const hpa = hpas.find((h) => {
      const ref = (h.raw.spec as unknown as k8s.V2HorizontalPodAutoscalerSpec).scaleTargetRef;
      return ref.apiVersion === 'apps/v1' && ref.kind === w.manifest.kind && ref.name === w.manifest.name;
    });
    assert.ok(hpa !== undefined, `${name}: no HorizontalPodAutoscaler scales Deployment ${w.manifest.name}`);
    const spec = hpa.raw.spec as unknown as k8s.V2HorizontalPodAutoscalerSpec;
    assert.ok((spec.minReplicas ?? 1) >= 2 && spec.maxReplicas > (spec.minReplicas ?? 1), `${name}: HPA minReplicas >= 2 < maxReplicas`);
    const cpu = (spec.metrics ?? []).find((m) => m.type === 'Resource' && m.resource?.name === 'cpu');
    assert.ok(cpu?.resource?.target.type === 'Utilization' && (cpu.resource.target.averageUtilization ?? 0) > 0, `${name}: HPA on CPU utilization`);
    // Utilization is relative to the request: every container needs one.
    for (const c of w.pod.containers) assert.ok(c.resources?.requests?.cpu !== undefined, `${name}: container ${c.name} has no CPU request`);
  }

  // Disruption budgets: every workload is covered by exactly one, and none forbids all evictions
  // (that would block node drains for good).
  const pdbs = objects.filter((m) => m.kind === 'PodDisruptionBudget');
  for (const w of all) {
    const covering = pdbs.filter((p) => selects((p.raw.spec as unknown as k8s.V1PodDisruptionBudgetSpec).selector, w.labels));
    assert.equal(covering.length, 1, `${w.manifest.kind}/${w.manifest.name}: one PodDisruptionBudget, got ${covering.map((p) => p.name).join(', ') || 'none'}`);
    const spec = covering[0]!.raw.spec as unknown as k8s.V1PodDisruptionBudgetSpec;
    assert.equal(covering[0]!.apiVersion, 'policy/v1');
    assert.ok(spec.maxUnavailable === undefined || spec.minAvailable === undefined, `PodDisruptionBudget ${covering[0]!.name}: one of maxUnavailable and minAvailable`);
    assert.ok(spec.maxUnavailable !== 0 && spec.maxUnavailable !== '0%', `PodDisruptionBudget ${covering[0]!.name}: maxUnavailable 0 blocks every drain`);
    if (typeof spec.minAvailable === 'number') assert.ok(spec.minAvailable < 2, `PodDisruptionBudget ${covering[0]!.name}: minAvailable ${spec.minAvailable} may block drains`);
  }
});

test('deploy/: every address names a Service that reaches a listening port; only the gateway is exposed', async () => {
  const { objects } = manifests();
  const configMaps = new Map(objects.filter((m) => m.kind === 'ConfigMap').map((m) => [m.name, obj(m.raw.data, `ConfigMap ${m.name}`)]));
  const all = workloads(objects);
  const namespace = objects.find((m) => m.kind === 'Namespace')!.name;
  const services = objects.filter((m) => m.kind === 'Service').map((m) => ({ name: m.name, spec: m.raw.spec as unknown as k8s.V1ServiceSpec }));
  const policies = objects.filter((m) => m.kind === 'NetworkPolicy').map((m) => m.raw as unknown as k8s.V1NetworkPolicy);
  const isGateway = (w: Workload) => w.pod.containers.some((c) => programOf(c.args as Json[] | undefined) === 'gateway');

  // Every Service selects pods, and each of its ports leads to a container port of every one.
  for (const s of services) {
    const backends = all.filter((w) => selects({ matchLabels: s.spec.selector as Record<string, string> }, w.labels));
    assert.ok(backends.length > 0, `Service ${s.name} selects no pods`);
    for (const p of s.spec.ports ?? []) {
      for (const w of backends) assert.ok(containerPort(w, p.targetPort ?? p.port) !== undefined, `Service ${s.name} port ${p.port}: ${w.manifest.name} has no port ${p.targetPort}`);
    }
    const exposed = s.spec.type !== undefined && s.spec.type !== 'ClusterIP';
    if (exposed) {
      assert.ok(['LoadBalancer', 'NodePort'].includes(s.spec.type ?? ''), `Service ${s.name}: type ${s.spec.type}`);
      assert.ok(backends.every(isGateway), `Service ${s.name} exposes ${backends.map((w) => w.manifest.name).join(', ')} outside the cluster: only the gateway may be`);
    }
  }
  const external = services.filter((s) => s.spec.type === 'LoadBalancer' || s.spec.type === 'NodePort');
  assert.ok(external.some((s) => (s.spec.ports ?? []).some((p) => p.port === 6443)), 'the gateway is exposed on 6443 by a LoadBalancer or NodePort Service');

  // Every address a service is given names one of these Services, on one of its ports, and the
  // NetworkPolicies let the caller through.
  for (const w of all) {
    for (const c of w.pod.containers) {
      const program = programOf(c.args as Json[] | undefined);
      if (program === undefined) continue;
      for (const [key, value] of containerEnv(c, configMaps, program)) {
        for (const { host, port } of addressesOf(key, value)) {
          const [svcName = '', ns = namespace, ...suffix] = host.split('.');
          assert.ok(ns === namespace && ['', 'svc', 'svc.cluster.local'].includes(suffix.join('.')), `${program}: ${key}=${value} is outside the namespace`);
          const svc = services.find((s) => s.name === svcName);
          assert.ok(svc !== undefined, `${program}: ${key}=${value} names no Service`);
          const svcPort = (svc.spec.ports ?? []).find((p) => p.port === port);
          assert.ok(svcPort !== undefined, `${program}: ${key}=${value}, but Service ${svcName} has no port ${port}`);
          for (const target of all.filter((t) => selects({ matchLabels: svc.spec.selector as Record<string, string> }, t.labels))) {
            const targetPort = containerPort(target, svcPort.targetPort ?? port)!;
            assert.ok(ingressAllowed(policies, w, target, targetPort), `${program} -> ${key}=${value}: blocked by the NetworkPolicies`);
          }
        }
      }
    }
  }

  // NetworkPolicy: ingress denied by default; only the gateway admits peers from outside the namespace.
  assert.ok(
    policies.some((p) => Object.keys(p.spec!.podSelector ?? {}).length === 0 && (p.spec!.policyTypes ?? []).includes('Ingress') && (p.spec!.ingress ?? []).length === 0),
    'a NetworkPolicy that denies all ingress by default',
  );
  for (const p of policies) {
    const selected = all.filter((w) => selects(p.spec!.podSelector, w.labels));
    assert.ok(selected.length > 0 || Object.keys(p.spec!.podSelector ?? {}).length === 0, `NetworkPolicy ${p.metadata?.name} selects no pods`);
    for (const rule of p.spec!.ingress ?? []) {
      const peers = peersOf(rule);
      for (const peer of peers) {
        if (peer.podSelector !== undefined && peer.namespaceSelector === undefined) {
          assert.ok(all.some((w) => selects(peer.podSelector, w.labels)), `NetworkPolicy ${p.metadata?.name}: a peer selector matches no pods`);
        }
      }
      const fromOutside = peers.length === 0 || peers.some((peer) => peer.namespaceSelector !== undefined || peer.ipBlock !== undefined);
      if (fromOutside && !selected.every(isGateway)) {
        // Beyond the gateway, only the monitoring port, and only for namespaces chosen by label.
        const where = `NetworkPolicy ${p.metadata?.name} admits traffic from outside the namespace to ${selected.map((w) => w.manifest.name).join(', ')}`;
        assert.ok(
          peers.length > 0 && peers.every((peer) => peer.ipBlock === undefined && Object.keys(peer.namespaceSelector?.matchLabels ?? {}).length > 0),
          `${where}: only from namespaces selected by label`,
        );
        const ports = rule.ports ?? [];
        assert.ok(ports.length > 0 && ports.every((port) => selected.every((w) => containerPort(w, port.port ?? -1) === METRICS_PORT)), `${where}: only on the monitoring port ${METRICS_PORT}`);
      }
    }
  }

  // The monitoring port of every service is open to a monitoring namespace, whose label
  // deploy/README.md says how to set.
  const readme = read('deploy/README.md');
  for (const w of all.filter((x) => x.pod.containers.some((c) => programOf(c.args as Json[] | undefined) !== undefined))) {
    const monitoring = policies
      .filter((p) => selects(p.spec!.podSelector, w.labels))
      .flatMap((p) => p.spec!.ingress ?? [])
      .filter((rule) => (rule.ports ?? []).some((port) => containerPort(w, port.port ?? -1) === METRICS_PORT))
      .flatMap(peersOf)
      .filter((peer) => peer.namespaceSelector?.matchLabels !== undefined && peer.podSelector === undefined);
    assert.ok(monitoring.length > 0, `${w.manifest.name}: no NetworkPolicy opens the monitoring port ${METRICS_PORT} to a monitoring namespace`);
    for (const peer of monitoring) {
      for (const [k, v] of Object.entries(peer.namespaceSelector!.matchLabels!)) {
        assert.ok(readme.includes(`kubectl label namespace`) && readme.includes(`${k}=${v}`), `deploy/README.md must say how to label the monitoring namespace (${k}=${v})`);
      }
    }
  }
  const gateway = all.find(isGateway)!;
  const open = policies
    .filter((p) => selects(p.spec!.podSelector, gateway.labels))
    .flatMap((p) => p.spec!.ingress ?? [])
    .filter((rule) => peersOf(rule).length === 0 && ((rule.ports ?? []).length === 0 || (rule.ports ?? []).some((p) => containerPort(gateway, p.port ?? -1) === 6443)));
  assert.ok(open.length > 0, 'NetworkPolicy must let clients from anywhere reach the gateway on 6443');
});

test('deploy/: `kubectl kustomize` renders it', (t) => {
  const version = spawnSync('kubectl', ['version', '--client'], { encoding: 'utf8', timeout: 10_000 });
  if (version.status !== 0) {
    t.skip('no kubectl');
    return;
  }
  const result = spawnSync('kubectl', ['kustomize', 'deploy'], { cwd: ROOT, encoding: 'utf8', timeout: 20_000 });
  assert.equal(result.status, 0, result.stderr);
  const rendered = parseAllDocuments(result.stdout, { version: '1.1' });
  assert.ok(Array.isArray(rendered));
  const { objects } = manifests();
  assert.equal(rendered.length, objects.length, 'kustomize renders every object of deploy/');
  const kinds = new Map<string, Record<string, unknown>[]>();
  for (const doc of rendered) {
    const o = obj(doc.toJS(), 'rendered');
    const meta = obj(o.metadata, 'rendered metadata');
    if (o.kind !== 'Namespace') assert.equal(meta.namespace, objects.find((m) => m.kind === 'Namespace')!.name, `${String(o.kind)}/${String(meta.name)}: namespace`);
    kinds.set(String(o.kind), [...(kinds.get(String(o.kind)) ?? []), o]);
  }
  // What the cluster would get, as rendered: every Deployment's containers probed (the kubelet's
  // own probes: grpc or httpGet, never a process started per check), bounded and unprivileged.
  const nameOf = (o: Record<string, unknown>): string => String(obj(o.metadata, 'metadata').name);
  for (const d of kinds.get('Deployment') ?? []) {
    const pod = obj(obj(obj(d.spec, 'spec').template, 'template').spec, 'pod spec');
    for (const c of pod.containers as Record<string, unknown>[]) {
      const ours = String(c.image).startsWith('kube-grpc-apiserver');
      for (const probe of ours ? ['startupProbe', 'readinessProbe', 'livenessProbe'] : ['readinessProbe', 'livenessProbe']) {
        const p = c[probe] as Record<string, unknown> | undefined;
        assert.ok(p !== undefined && (p.grpc !== undefined || p.httpGet !== undefined || p.tcpSocket !== undefined || (p.exec !== undefined && nameOf(d) === 'redis')), `${nameOf(d)}/${String(c.name)}: ${probe} without a process start`);
      }
      const resources = obj(c.resources, `${nameOf(d)} resources`);
      assert.ok(resources.requests !== undefined && resources.limits !== undefined, `${nameOf(d)}/${String(c.name)}: requests and limits`);
      const sc = obj(c.securityContext, `${nameOf(d)} securityContext`);
      assert.equal(sc.allowPrivilegeEscalation, false, `${nameOf(d)}/${String(c.name)}: no privilege escalation`);
    }
  }
  const headless = (kinds.get('Service') ?? []).filter((s) => obj(s.spec, 'spec').clusterIP === 'None').map(nameOf);
  for (const name of ['storage', 'auth', 'admission', 'watch']) assert.ok(headless.includes(name), `Service ${name} is headless`);
  const scaled = (kinds.get('HorizontalPodAutoscaler') ?? []).map((h) => String(obj(obj(h.spec, 'spec').scaleTargetRef, 'scaleTargetRef').name));
  assert.deepEqual(scaled.sort(), ['gateway', 'watch']);
  assert.ok((kinds.get('NetworkPolicy') ?? []).length > 0, 'NetworkPolicies are rendered');
});
