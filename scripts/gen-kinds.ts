/**
 * Writes the committed kind data (lib/kinds/generated/, proto/k8s/generated/) from the Go API
 * types of kubernetes/api, kubernetes/apimachinery and kubernetes/apiextensions-apiserver at the
 * pinned tag (see
 * lib/kinds/gen/generate.ts and docs/decisions.md). Run by `make gen-kinds`; the build and the
 * tests never run it.
 *
 * The repositories are read from git, without a work tree: KUBE_API_GIT, KUBE_APIMACHINERY_GIT
 * and KUBE_APIEXTENSIONS_GIT name their git directories (clones or mirrors holding the tag).
 * Usage: node scripts/gen-kinds.ts [--check]   (--check: fail if the committed files differ)
 */
import { execFileSync } from 'node:child_process';
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { StatusError } from '../lib/errors.ts';
import { generate, type Repo, type Source } from '../lib/kinds/gen/generate.ts';

/** The upstream tag: v0.36.3 of kubernetes/api, apimachinery and apiextensions-apiserver is Kubernetes 1.36.3. */
export const KUBE_TAG = 'v0.36.3';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
/** Directories the generator owns entirely: files it no longer writes are removed. */
const OUTPUT_DIRS = ['lib/kinds/generated/schemas', 'proto/k8s/generated'];

/** The git directories from the environment; a StatusError saying what to set when missing. */
export function gitDirsFromEnv(env: NodeJS.ProcessEnv = process.env): Record<Repo, string> {
  const api = env.KUBE_API_GIT ?? '';
  const apimachinery = env.KUBE_APIMACHINERY_GIT ?? '';
  const apiextensions = env.KUBE_APIEXTENSIONS_GIT ?? '';
  if (api === '' || apimachinery === '' || apiextensions === '') {
    throw new StatusError(
      'BadRequest',
      'set KUBE_API_GIT, KUBE_APIMACHINERY_GIT and KUBE_APIEXTENSIONS_GIT to git directories of kubernetes/api, ' +
        `kubernetes/apimachinery and kubernetes/apiextensions-apiserver holding the tag ${KUBE_TAG} ` +
        '(e.g. git clone --bare https://github.com/kubernetes/api)',
    );
  }
  return { api, apimachinery, apiextensions };
}

/** Reads files of the tag from git directories (no work tree needed). */
export function gitSource(dirs: Record<Repo, string>, tag = KUBE_TAG): Source {
  const git = (repo: Repo, ...args: string[]): string => execFileSync('git', ['-C', dirs[repo], ...args], { encoding: 'utf8', maxBuffer: 64 << 20 });
  return {
    list: (repo) => git(repo, 'ls-tree', '-r', '--name-only', tag).split('\n').filter((l) => l !== ''),
    read: (repo, file) => git(repo, 'show', `${tag}:${file}`),
  };
}

function main(): void {
  const check = process.argv.includes('--check');
  const { files, warnings } = generate(gitSource(gitDirsFromEnv()));
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const stale: string[] = [];
  for (const dir of OUTPUT_DIRS) {
    let existing: string[] = [];
    try {
      existing = readdirSync(path.join(ROOT, dir));
    } catch {
      // not yet generated
    }
    for (const name of existing) {
      const rel = `${dir}/${name}`;
      if (files.has(rel)) continue;
      stale.push(rel);
      if (!check) rmSync(path.join(ROOT, rel));
    }
  }
  for (const [rel, content] of files) {
    const abs = path.join(ROOT, rel);
    let current: string | undefined;
    try {
      current = readFileSync(abs, 'utf8');
    } catch {
      current = undefined;
    }
    if (current === content) continue;
    stale.push(rel);
    if (check) continue;
    mkdirSync(path.dirname(abs), { recursive: true });
    writeFileSync(abs, content);
  }
  const size = [...files.values()].reduce((n, c) => n + Buffer.byteLength(c), 0);
  process.stdout.write(`${files.size} files, ${(size / 1e6).toFixed(2)} MB, ${stale.length} ${check ? 'stale' : 'written or removed'}\n`);
  if (check && stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')}\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`gen-kinds: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
