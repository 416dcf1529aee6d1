/**
 * A real etcd (Debian etcd-server 3.4, binary `etcd`) on loopback ports, for the integration
 * tests and the `make up` launcher: one member (startEtcd) or a cluster of several
 * (startEtcdCluster), each member its own process with its own data dir. Using the real server
 * rather than a fake keeps revisions, compaction, watch semantics and, in a cluster, leader
 * elections honest.
 */
import { randomBytes } from 'node:crypto';
import { mkdir, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { freePort } from './ports.ts';
import { addExitCleanup, spawnProcess, waitUntil, type ManagedProcess } from './process.ts';

export interface EtcdServer {
  /** Client URL, http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The running etcd; a new one after restart(). */
  readonly process: ManagedProcess;
  /** SIGTERM (then SIGKILL), and remove the data dir if it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
  /** kill -9 then start again on the same ports and data dir (for restart tests) */
  restart(): Promise<void>;
}

export interface EtcdOptions {
  /** default: fresh temp dir, removed on stop */
  dataDir?: string;
  /** default: a free port */
  clientPort?: number;
  /** default: a free port */
  peerPort?: number;
  /** append etcd's output to this file */
  logFile?: string;
  /** receive etcd's output lines, prefixed with "[etcd]" */
  onLine?: (l: string) => void;
  /** default 'etcd' */
  binary?: string;
  /** how long to wait for etcd to answer; default 30 s */
  timeoutMs?: number;
}

/** One member of a cluster started by startEtcdCluster. */
export interface EtcdMember {
  /** Its process label: `etcd` for the first member, then `etcd-1`, `etcd-2`, ... */
  readonly name: string;
  /** Client URL, http://127.0.0.1:PORT */
  readonly endpoint: string;
  readonly dataDir: string;
  /** The last etcd process started for it (exited while the member is stopped). */
  readonly process: ManagedProcess;
  /** SIGTERM, then SIGKILL after graceMs (a leader hands its leadership over first); its data stays for start(). */
  stop(graceMs?: number): Promise<void>;
  /** kill -9; its data stays for start(). */
  kill(): Promise<void>;
  /** Starts it again on the same ports and data dir if it is not running, and waits until it answers. */
  start(): Promise<void>;
  /** kill -9 then start() (what a supervisor does with a member that died). */
  restart(): Promise<void>;
  /** Its Maintenance status (role, revision, raft index), as `etcdctl endpoint status` shows it. */
  status(): Promise<EtcdMemberStatus>;
}

export interface EtcdCluster {
  /** Every member's client URL, comma-separated in member order: what the storage service's --etcd-endpoints takes. */
  readonly endpoints: string;
  readonly members: readonly EtcdMember[];
  /** The member that leads now, by the members' own statuses; undefined while there is none (an election). */
  leader(): Promise<EtcdMember | undefined>;
  /** Stops every member (SIGTERM, then SIGKILL) and removes the data dir if it was a temporary one. Safe to call twice. */
  stop(): Promise<void>;
}

export interface EtcdClusterOptions {
  /** Members (at least 1; an odd count, 3 or 5, tolerates the loss of a minority). */
  members: number;
  /**
   * default: fresh temp dir, removed on stop. Each member's data is in a directory named
   * after it; `cluster.json` records the members' ports, which a cluster must keep across
   * restarts (its members know each other by peer URL), so a later start on the same dataDir
   * reuses them.
   */
  dataDir?: string;
  /** append each member's output to the file this returns for its name (`etcd`, `etcd-1`, ...) */
  logFile?: (memberName: string) => string;
  /** receive every member's output lines, prefixed with "[etcd]", "[etcd-1]", ... */
  onLine?: (l: string) => void;
  /** default 'etcd' */
  binary?: string;
  /** how long to wait for the members to answer; default 30 s */
  timeoutMs?: number;
  /** raft heartbeat interval; default 100 ms (etcd's) with peers, 10 ms for a single member */
  heartbeatMs?: number;
  /** raft election timeout; default 1000 ms (etcd's) with peers, 100 ms for a single member */
  electionMs?: number;
}

/** One member's Maintenance.Status, the fields `etcdctl endpoint status` prints. */
export interface EtcdMemberStatus {
  /** This member's ID (decimal, as etcd's JSON gateway gives 64-bit numbers). */
  memberId: string;
  /** The ID of the member it follows as leader ("0" while it knows none). */
  leaderId: string;
  isLeader: boolean;
  /** The store revision this member has applied. */
  revision: number;
  raftIndex: number;
  raftTerm: number;
}

/** Default readiness timeout: etcd normally answers in ~0.1 s, but CI machines stall. */
const DEFAULT_TIMEOUT_MS = 30_000;
/** Fresh ports to try when automatically chosen ones were taken between freePort() and bind. */
const PORT_ATTEMPTS = 3;
/** One health/identity probe must not hang longer than this; waitUntil retries. */
const PROBE_TIMEOUT_MS = 2_000;
/** The file of a cluster's data dir that records its members' ports. */
const LAYOUT_FILE = 'cluster.json';

function isPortClash(tail: string): boolean {
  return /address already in use/i.test(tail);
}

/**
 * Environment without ETCD_* variables: etcd reads its flags from them too, and a stray
 * ETCD_DATA_DIR or ETCD_NAME in a developer's shell must not change the server we start.
 */
function childEnv(): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = {};
  for (const [key, value] of Object.entries(process.env)) {
    if (!key.startsWith('ETCD_') && !key.startsWith('ETCDCTL_')) env[key] = value;
  }
  return env;
}

/** A POST to etcd's v3 JSON gateway (etcd 3.4 serves it at /v3/, and /v3beta/). */
async function gateway<T>(endpoint: string, path: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<T> {
  const res = await fetch(`${endpoint}/v3/${path}`, { method: 'POST', body: '{}', signal: AbortSignal.timeout(timeoutMs) });
  if (!res.ok) throw new Error(`${endpoint}/v3/${path} answered ${res.status}`);
  return (await res.json()) as T;
}

/**
 * Ready means: /health says {"health":"true"} (etcd serves client requests only after it has a
 * leader and has published itself) and the member answering carries the unique name we gave this
 * start, so an etcd of someone else that holds the port is never mistaken for ours.
 */
async function probe(endpoint: string, memberName: string): Promise<boolean> {
  const health = await fetch(`${endpoint}/health`, { signal: AbortSignal.timeout(PROBE_TIMEOUT_MS) });
  const body = (await health.json()) as { health?: unknown };
  if (body.health !== 'true') throw new Error(`/health answered ${JSON.stringify(body)}`);
  const members = (await gateway<{ members?: { name?: string }[] }>(endpoint, 'cluster/member/list')).members ?? [];
  if (!members.some((m) => m.name === memberName)) {
    throw new Error(`another etcd answers at ${endpoint} (members: ${members.map((m) => m.name).join(', ')})`);
  }
  return true;
}

/** The Maintenance status of the member at `endpoint`; rejects when it does not answer within timeoutMs. */
export async function etcdStatus(endpoint: string, timeoutMs = PROBE_TIMEOUT_MS): Promise<EtcdMemberStatus> {
  const s = await gateway<{ header?: { member_id?: string; revision?: string }; leader?: string; raftIndex?: string; raftTerm?: string }>(
    endpoint,
    'maintenance/status',
    timeoutMs,
  );
  const memberId = s.header?.member_id ?? '0';
  const leaderId = s.leader ?? '0';
  return {
    memberId,
    leaderId,
    isLeader: leaderId !== '0' && leaderId === memberId,
    revision: Number(s.header?.revision ?? 0),
    raftIndex: Number(s.raftIndex ?? 0),
    raftTerm: Number(s.raftTerm ?? 0),
  };
}

/** What one member is: where it listens and keeps its data; its etcd name changes at every start. */
interface MemberSlot {
  label: string;
  dataDir: string;
  clientPort: number;
  peerPort: number;
  /** The --name of its current (or last) start. */
  etcdName: string;
  running: ManagedProcess | undefined;
  /** Whether `running` has not exited yet. */
  alive: boolean;
}

/** What every member of one cluster starts with. */
interface LaunchSettings {
  binary: string;
  token: string;
  heartbeatMs: number;
  electionMs: number;
  timeoutMs: number;
  logFile: ((label: string) => string) | undefined;
  onLine: ((line: string) => void) | undefined;
}

interface Layout {
  token: string;
  members: { clientPort: number; peerPort: number }[];
}

const peerUrl = (slot: MemberSlot): string => `http://127.0.0.1:${slot.peerPort}`;
const clientUrl = (slot: MemberSlot): string => `http://127.0.0.1:${slot.clientPort}`;

/** A layout recorded by an earlier start on `dataDir`, if any. */
async function readLayout(dataDir: string): Promise<Layout | undefined> {
  let text: string;
  try {
    text = await readFile(join(dataDir, LAYOUT_FILE), 'utf8');
  } catch {
    return undefined;
  }
  const layout = JSON.parse(text) as Layout;
  if (!Array.isArray(layout.members) || typeof layout.token !== 'string') throw new Error(`${join(dataDir, LAYOUT_FILE)} is not an etcd cluster layout`);
  return layout;
}

/**
 * A new etcd --name for each start of a member: etcd republishes its name on restart, which
 * lets probe() tell this process apart from an old or foreign etcd on the same port.
 */
function freshName(): string {
  return `local-${randomBytes(4).toString('hex')}`;
}

/**
 * Spawns one member (`slot`, one of `cluster`) on its ports as `slot.etcdName` and waits
 * until it is ours and ready; kills it on failure.
 */
async function launchMember(slot: MemberSlot, cluster: readonly MemberSlot[], settings: LaunchSettings): Promise<ManagedProcess> {
  await mkdir(slot.dataDir, { recursive: true, mode: 0o700 });
  const proc = spawnProcess({
    name: slot.label,
    command: settings.binary,
    args: [
      '--name', slot.etcdName,
      '--data-dir', slot.dataDir,
      '--listen-client-urls', clientUrl(slot),
      '--advertise-client-urls', clientUrl(slot),
      '--listen-peer-urls', peerUrl(slot),
      '--initial-advertise-peer-urls', peerUrl(slot),
      // Used only to bootstrap; etcd ignores both once the data dir holds a member (on restart).
      '--initial-cluster', cluster.map((s) => `${s.etcdName}=${peerUrl(s)}`).join(','),
      '--initial-cluster-state', 'new',
      // Peers of another local cluster that reuses a port are refused, not joined.
      '--initial-cluster-token', settings.token,
      '--heartbeat-interval', String(settings.heartbeatMs),
      '--election-timeout', String(settings.electionMs),
      // A member that returns (or lagged) asks before it campaigns, so it does not depose a
      // healthy leader with a higher term (etcd's default from 3.5 on).
      '--pre-vote',
      '--logger', 'zap',
      '--log-level', 'warn',
    ],
    env: childEnv(),
    ...(settings.logFile !== undefined ? { logFile: settings.logFile(slot.label) } : {}),
    ...(settings.onLine !== undefined ? { onLine: settings.onLine } : {}),
  });
  slot.running = proc;
  slot.alive = true;
  void proc.exited.then(() => {
    if (slot.running === proc) slot.alive = false;
  });
  try {
    await waitUntil(`${slot.label} at ${clientUrl(slot)} (data dir ${slot.dataDir})`, () => probe(clientUrl(slot), slot.etcdName), {
      timeoutMs: settings.timeoutMs,
      process: proc,
    });
  } catch (err) {
    await proc.kill();
    throw err;
  }
  return proc;
}

/**
 * Starts a cluster of `members` etcd processes on loopback and resolves once every member
 * answers (which needs a leader, so they start together). Without a dataDir it uses a temp dir
 * removed by stop(), and picks free ports (with other ones if they were taken meanwhile); with
 * a dataDir, the ports of its first start are kept for good.
 */
export async function startEtcdCluster(options: EtcdClusterOptions): Promise<EtcdCluster> {
  const count = options.members;
  if (!Number.isInteger(count) || count < 1) throw new Error(`an etcd cluster needs a whole number of members of at least 1, got ${count}`);
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'local-etcd-cluster-')));
  if (!ownsDataDir) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const forgetDataDir = ownsDataDir ? addExitCleanup(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 })) : () => {};
  const removeDataDir = async (): Promise<void> => {
    forgetDataDir();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };

  let layout: Layout | undefined;
  try {
    layout = await readLayout(dataDir);
  } catch (err) {
    await removeDataDir();
    throw err;
  }
  if (layout !== undefined && layout.members.length !== count) {
    await removeDataDir();
    throw new Error(`${dataDir} holds an etcd cluster of ${layout.members.length} members, not ${count}: start it with ${layout.members.length}, or remove the directory`);
  }
  const token = layout?.token ?? `local-${randomBytes(6).toString('hex')}`;
  const alone = count === 1;
  const heartbeatMs = options.heartbeatMs ?? (alone ? 10 : 100);
  const electionMs = options.electionMs ?? (alone ? 100 : 1_000);
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const binary = options.binary ?? 'etcd';

  const slots: MemberSlot[] = Array.from({ length: count }, (_, i) => {
    const label = i === 0 ? 'etcd' : `etcd-${i}`;
    return { label, dataDir: join(dataDir, label), clientPort: 0, peerPort: 0, etcdName: '', running: undefined, alive: false };
  });

  const settings: LaunchSettings = { binary, token, heartbeatMs, electionMs, timeoutMs, logFile: options.logFile, onLine: options.onLine };
  const launch = (slot: MemberSlot): Promise<ManagedProcess> => launchMember(slot, slots, settings);

  const autoPorts = layout === undefined;
  for (let attempt = 1; ; attempt++) {
    for (const [i, slot] of slots.entries()) {
      slot.clientPort = layout?.members[i]?.clientPort ?? (await freePort());
      slot.peerPort = layout?.members[i]?.peerPort ?? (await freePort());
      // Every name first, so that each member's --initial-cluster names all of them.
      slot.etcdName = freshName();
    }
    const started = await Promise.allSettled(slots.map((slot) => launch(slot)));
    const failed = started.find((s): s is PromiseRejectedResult => s.status === 'rejected');
    if (failed === undefined) break;
    await Promise.all(slots.map((slot) => slot.running?.kill()));
    const message = failed.reason instanceof Error ? failed.reason.message : '';
    if (autoPorts && attempt < PORT_ATTEMPTS && isPortClash(message)) {
      // The members of a failed bootstrap recorded each other's old ports: start afresh.
      await Promise.all(slots.map((slot) => rm(slot.dataDir, { recursive: true, force: true })));
      continue;
    }
    await removeDataDir();
    throw failed.reason;
  }
  if (autoPorts && !ownsDataDir) {
    const recorded: Layout = { token, members: slots.map((s) => ({ clientPort: s.clientPort, peerPort: s.peerPort })) };
    await writeFile(join(dataDir, LAYOUT_FILE), JSON.stringify(recorded, null, 2) + '\n', { mode: 0o600 });
  }

  let stopping: Promise<void> | undefined;
  const members: EtcdMember[] = slots.map((slot) => {
    let starting: Promise<void> | undefined;
    const member: EtcdMember = {
      name: slot.label,
      endpoint: clientUrl(slot),
      dataDir: slot.dataDir,
      get process() {
        return slot.running as ManagedProcess;
      },
      stop: async (graceMs) => {
        await starting?.catch(() => {});
        await slot.running?.stop(graceMs);
      },
      kill: async () => {
        await starting?.catch(() => {});
        await slot.running?.kill();
      },
      start: () => {
        if (stopping !== undefined) return Promise.reject(new Error(`${slot.label}: start() after the cluster's stop()`));
        if (starting !== undefined) return starting;
        if (slot.alive) return Promise.resolve();
        slot.etcdName = freshName();
        starting = launch(slot)
          .then(() => undefined)
          .finally(() => {
            starting = undefined;
          });
        return starting;
      },
      restart: async () => {
        await member.kill();
        await member.start();
      },
      status: () => etcdStatus(clientUrl(slot)),
    };
    return member;
  });

  return {
    endpoints: slots.map(clientUrl).join(','),
    members,
    leader: async () => {
      const statuses = await Promise.all(members.map((m) => m.status().catch(() => undefined)));
      const index = statuses.findIndex((s) => s?.isLeader === true);
      return index === -1 ? undefined : members[index];
    },
    stop() {
      stopping ??= (async () => {
        // Followers first, then the leader. Stopped together, the leader spends etcd's request
        // timeout (~7 s) trying to hand its leadership to members that are going away; alone,
        // with no active follower left, it exits at once (measured: ~0.2 s in all, not ~7 s).
        // Handing it over first (leader first) would only move the wait to the next leader.
        const statuses = await Promise.all(slots.map((slot) => (slot.alive ? etcdStatus(clientUrl(slot), 500).catch(() => undefined) : undefined)));
        const leader = slots[statuses.findIndex((s) => s?.isLeader === true)];
        await Promise.all(slots.filter((slot) => slot !== leader).map((slot) => slot.running?.stop()));
        await leader?.running?.stop();
        await removeDataDir();
      })();
      return stopping;
    },
  };
}

/**
 * Starts a single-member etcd and resolves once it answers. Without ports, it picks free ones
 * (and retries with others if they were taken meanwhile). Without a dataDir, it uses a temp dir
 * removed by stop().
 */
export async function startEtcd(options: EtcdOptions = {}): Promise<EtcdServer> {
  const binary = options.binary ?? 'etcd';
  const timeoutMs = options.timeoutMs ?? DEFAULT_TIMEOUT_MS;
  const ownsDataDir = options.dataDir === undefined;
  const dataDir = options.dataDir ?? (await mkdtemp(join(tmpdir(), 'local-etcd-')));
  // etcd wants its data dir private (it warns otherwise); mkdtemp already makes it 0700.
  if (!ownsDataDir) await mkdir(dataDir, { recursive: true, mode: 0o700 });
  const forgetDataDir = ownsDataDir
    ? addExitCleanup(() => rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 }))
    : () => {};
  const removeDataDir = async (): Promise<void> => {
    forgetDataDir();
    if (ownsDataDir) await rm(dataDir, { recursive: true, force: true, maxRetries: 3 });
  };

  const slot: MemberSlot = { label: 'etcd', dataDir, clientPort: 0, peerPort: 0, etcdName: '', running: undefined, alive: false };
  const logFile = options.logFile;
  const settings: LaunchSettings = {
    binary,
    token: `local-${randomBytes(6).toString('hex')}`,
    // A single member has nobody to wait for: short raft timers make it elect itself in ~0.1 s
    // instead of ~1 s, and cannot cause leader flapping without peers.
    heartbeatMs: 10,
    electionMs: 100,
    timeoutMs,
    logFile: logFile === undefined ? undefined : () => logFile,
    onLine: options.onLine,
  };
  const launch = (): Promise<ManagedProcess> => {
    slot.etcdName = freshName();
    return launchMember(slot, [slot], settings);
  };

  let current: ManagedProcess | undefined;
  const autoPorts = options.clientPort === undefined && options.peerPort === undefined;
  for (let attempt = 1; current === undefined; attempt++) {
    slot.clientPort = options.clientPort ?? (await freePort());
    slot.peerPort = options.peerPort ?? (await freePort());
    try {
      current = await launch();
    } catch (err) {
      // The error message carries etcd's last output, where a bind failure shows.
      const message = err instanceof Error ? err.message : '';
      if (autoPorts && attempt < PORT_ATTEMPTS && isPortClash(message)) continue;
      await removeDataDir();
      throw err;
    }
  }
  const endpoint = clientUrl(slot);

  let running: ManagedProcess = current;
  let stopping: Promise<void> | undefined;
  let restarting: Promise<void> | undefined;

  const server: EtcdServer = {
    endpoint,
    dataDir,
    get process() {
      return running;
    },
    stop() {
      stopping ??= (async () => {
        // Let an in-flight restart finish (or fail) so we stop the process it started.
        await restarting?.catch(() => {});
        await running.stop();
        await removeDataDir();
      })();
      return stopping;
    },
    restart() {
      if (stopping !== undefined) return Promise.reject(new Error('etcd: restart() after stop()'));
      if (restarting !== undefined) return restarting;
      restarting = (async () => {
        await running.kill();
        // Same ports and data dir: clients keep their endpoint, the data must survive.
        running = await launch();
      })().finally(() => {
        restarting = undefined;
      });
      return restarting;
    },
  };
  return server;
}
