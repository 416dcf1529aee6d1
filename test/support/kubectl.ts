/**
 * Runs the real kubectl against a control plane. The binary is $KUBECTL, else kubectl 1.32 from
 * the Cloud SDK folder, else `kubectl` on PATH. HOME is a fresh temporary folder so discovery
 * is never served from a previous run's cache.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before } from 'node:test';
import { startControlPlane, type ControlPlane, type ControlPlaneOptions } from '../../lib/local/control-plane.ts';

const SDK_KUBECTL = '/usr/lib/google-cloud-sdk/bin/kubectl.1.32';

export function kubectlBinary(): string {
  if (process.env.KUBECTL !== undefined && process.env.KUBECTL !== '') return process.env.KUBECTL;
  if (existsSync(SDK_KUBECTL)) return SDK_KUBECTL;
  return 'kubectl';
}

export interface KubectlResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface Kubectl {
  /** Runs kubectl once; `env` adds to its environment (e.g. KUBE_EDITOR). */
  (args: string[], options?: { input?: string; timeoutMs?: number; env?: Record<string, string> }): Promise<KubectlResult>;
  /** Starts a long-running kubectl (e.g. `get -w`); `lines` collects stdout lines as they come. */
  spawn(args: string[]): { lines: string[]; waitFor(predicate: (lines: string[]) => boolean, timeoutMs: number): Promise<void>; stop(): void };
}

export function createKubectl(kubeconfig: string, binary = kubectlBinary()): Kubectl {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig };
  const run = (args: string[], options: { input?: string; timeoutMs?: number; env?: Record<string, string> } = {}): Promise<KubectlResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, args, { env: { ...env, ...options.env }, stdio: ['pipe', 'pipe', 'pipe'] });
      let stdout = '';
      let stderr = '';
      child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
      child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
      const timer = setTimeout(() => child.kill('SIGKILL'), options.timeoutMs ?? 30_000);
      child.on('error', (err) => {
        clearTimeout(timer);
        reject(err);
      });
      child.on('close', (code) => {
        clearTimeout(timer);
        resolve({ code, stdout, stderr });
      });
      child.stdin.end(options.input ?? '');
    });
  const kubectl = run as Kubectl;
  kubectl.spawn = (args) => {
    const child = spawn(binary, args, { env, stdio: ['ignore', 'pipe', 'pipe'] });
    const lines: string[] = [];
    const waiters = new Set<() => void>();
    let partial = '';
    child.stdout.on('data', (d: Buffer) => {
      partial += d.toString();
      const parts = partial.split('\n');
      partial = parts.pop() ?? '';
      lines.push(...parts);
      for (const w of waiters) w();
    });
    child.stderr.on('data', (d: Buffer) => {
      lines.push(`stderr: ${d.toString().trim()}`);
      for (const w of waiters) w();
    });
    return {
      lines,
      waitFor: (predicate, timeoutMs) =>
        new Promise<void>((resolve, reject) => {
          if (predicate(lines)) return resolve();
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`timed out; kubectl printed:\n${lines.join('\n')}`));
          }, timeoutMs);
          const check = () => {
            if (!predicate(lines)) return;
            clearTimeout(timer);
            waiters.delete(check);
            resolve();
          };
          waiters.add(check);
        }),
      stop: () => child.kill('SIGTERM'),
    };
  };
  return kubectl;
}

/**
 * For a suite that runs every kubectl of `versions` (e.g. "1.27", the Cloud SDK's
 * kubectl.<version>) against one control plane: registers before() to start the plane in a
 * temporary folder (named after `name`) and after() to stop it and remove the folder. When a
 * version is missing nothing starts and `skip` says which, for the suite's describe().
 * `options` are the plane's (flags, replicas).
 */
export function kubectlVersionsPlane(
  name: string,
  versions: readonly string[],
  options: Omit<ControlPlaneOptions, 'dataDir' | 'logDir'> = {},
): { skip: string | false; kubectl(version: string): Kubectl; kubeconfig(): string } {
  const binary = (v: string): string => `/usr/lib/google-cloud-sdk/bin/kubectl.${v}`;
  const missing = versions.filter((v) => !existsSync(binary(v)));
  let dir: string | undefined;
  let plane: ControlPlane | undefined;
  before(async () => {
    if (missing.length > 0) return;
    dir = await mkdtemp(join(tmpdir(), `e2e-${name}-`));
    plane = await startControlPlane({ dataDir: dir, logDir: join(dir, 'logs'), ...options });
  });
  after(async () => {
    await plane?.stop();
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });
  return {
    skip: missing.length > 0 ? `no kubectl ${missing.join(', ')}` : false,
    kubectl: (version) => {
      if (plane === undefined) throw new Error('the control plane has not started (call from a test or hook)');
      return createKubectl(plane.kubeconfig, binary(version));
    },
    /** The admin kubeconfig of the plane, for other clients in the same suite. */
    kubeconfig: () => {
      if (plane === undefined) throw new Error('the control plane has not started (call from a test or hook)');
      return plane.kubeconfig;
    },
  };
}
