/**
 * Writes docs/configuration.md from each service's own flag table (`--help`), so the document
 * cannot drift from the code: test/docs.test.ts fails when it is stale.
 * Usage: node scripts/config-docs.ts [--check]
 */
import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { MAKE_UP_VARIABLES } from '../lib/local/make-up-config.ts';

const ROOT = fileURLToPath(new URL('../', import.meta.url));
const SERVICES = ['gateway', 'auth', 'admission', 'storage', 'watch'] as const;
export const CONFIG_DOC = `${ROOT}docs/configuration.md`;

export function renderConfigDoc(): string {
  const sections = SERVICES.map((name) => {
    const r = spawnSync(process.execPath, [`${ROOT}services/${name}/main.ts`, '--help'], { encoding: 'utf8' });
    if (r.status !== 0) throw new Error(`${name} --help failed: ${r.stderr}`);
    const table = r.stdout.slice(r.stdout.indexOf('| flag'));
    return `## ${name}\n\n${table.trim()}\n`;
  });
  const makeUp = [
    '## make up',
    '',
    '`make up` (scripts/up.ts) reads these; every other variable reaches the services unchanged.',
    '',
    '| environment | default | meaning |',
    '|---|---|---|',
    ...MAKE_UP_VARIABLES.map((v) => `| \`${v.env}\` | ${v.default === '' ? '(none)' : `\`${v.default}\``} | ${v.description} |`),
    '',
  ].join('\n');
  return [
    '# Configuration',
    '',
    'Every setting is a command-line flag with an environment variable as fallback (the flag wins).',
    'This file is generated from the services\' own tables: `node scripts/config-docs.ts`.',
    'Tracing is configured by the standard OpenTelemetry variables (see the README).',
    '',
    ...sections,
    makeUp,
  ].join('\n');
}

if (import.meta.url === `file://${process.argv[1]}`) {
  const doc = renderConfigDoc();
  if (process.argv.includes('--check')) {
    if (readFileSync(CONFIG_DOC, 'utf8') !== doc) {
      process.stderr.write('docs/configuration.md is stale: run node scripts/config-docs.ts\n');
      process.exit(1);
    }
  } else {
    writeFileSync(CONFIG_DOC, doc);
  }
}
