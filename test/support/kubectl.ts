/**
 * Runs the real kubectl against a control plane. The binary is $KUBECTL, else kubectl 1.32 from
 * the Cloud SDK folder, else `kubectl` on PATH. HOME is a fresh temporary folder so discovery
 * is never served from a previous run's cache.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

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
  (args: string[], options?: { input?: string; timeoutMs?: number }): Promise<KubectlResult>;
  /** Starts a long-running kubectl (e.g. `get -w`); `lines` collects stdout lines as they come. */
  spawn(args: string[]): { lines: string[]; waitFor(predicate: (lines: string[]) => boolean, timeoutMs: number): Promise<void>; stop(): void };
}

export function createKubectl(kubeconfig: string, binary = kubectlBinary()): Kubectl {
  const home = mkdtempSync(join(tmpdir(), 'kubectl-home-'));
  process.once('exit', () => rmSync(home, { recursive: true, force: true }));
  const env = { ...process.env, HOME: home, KUBECONFIG: kubeconfig };
  const run = (args: string[], options: { input?: string; timeoutMs?: number } = {}): Promise<KubectlResult> =>
    new Promise((resolve, reject) => {
      const child = spawn(binary, args, { env, stdio: ['pipe', 'pipe', 'pipe'] });
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
    child.stderr.on('data', (d: Buffer) => lines.push(`stderr: ${d.toString().trim()}`));
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
