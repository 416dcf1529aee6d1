/**
 * Writes the typed gRPC services of the built-in kinds (proto/apiserver/kinds/, and their list
 * in the client package: packages/client/src/kinds.ts; see lib/kinds/gen/typed-api.ts) from
 * BUILTIN_KINDS and the generated kind data. Run by
 * `make gen-typed-api` after a built-in kind is added or changed; the build and the tests never
 * run it (a test checks that the committed files are what it writes).
 * Usage: node scripts/gen-typed-api.ts [--check]   (--check: fail if the committed files differ)
 */
import { mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { BUILTIN_KINDS } from '../lib/kinds/builtin/index.ts';
import { generateTypedApi, TYPED_API_DIR } from '../lib/kinds/gen/typed-api.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));

/**
 * The files (paths from the repository's root) that differ from what the generator writes, and
 * those of the directory it owns (proto/apiserver/kinds/) that it no longer writes.
 */
export function staleTypedApiFiles(files: ReadonlyMap<string, string>, root = ROOT): { changed: string[]; removed: string[] } {
  const owned = `proto/${TYPED_API_DIR}`;
  let existing: string[] = [];
  try {
    existing = readdirSync(path.join(root, owned)).map((f) => `${owned}/${f}`);
  } catch {
    // not yet generated
  }
  const removed = existing.filter((f) => !files.has(f));
  const changed: string[] = [];
  for (const [rel, content] of files) {
    let current: string | undefined;
    try {
      current = readFileSync(path.join(root, rel), 'utf8');
    } catch {
      current = undefined;
    }
    if (current !== content) changed.push(rel);
  }
  return { changed, removed };
}

function main(): void {
  const check = process.argv.includes('--check');
  const { files, warnings } = generateTypedApi(BUILTIN_KINDS);
  for (const w of warnings) process.stderr.write(`warning: ${w}\n`);
  const { changed, removed } = staleTypedApiFiles(files);
  if (!check) {
    for (const rel of removed) rmSync(path.join(ROOT, rel));
    for (const rel of changed) {
      mkdirSync(path.dirname(path.join(ROOT, rel)), { recursive: true });
      writeFileSync(path.join(ROOT, rel), files.get(rel)!);
    }
  }
  const stale = [...changed, ...removed];
  process.stdout.write(`${files.size} files, ${stale.length} ${check ? 'stale' : 'written or removed'}\n`);
  if (check && stale.length > 0) {
    process.stderr.write(`stale: ${stale.join(', ')} (run make gen-typed-api)\n`);
    process.exitCode = 1;
  }
}

if (process.argv[1] !== undefined && path.resolve(process.argv[1]) === fileURLToPath(import.meta.url)) {
  try {
    main();
  } catch (err) {
    process.stderr.write(`gen-typed-api: ${err instanceof Error ? err.message : String(err)}\n`);
    process.exitCode = 1;
  }
}
