/**
 * Writes kube-strategic-cases.json: the application cases (original + patch -> result, or an
 * error) of k8s.io/apimachinery's strategic merge patch test tables, as facts, from the text
 * of pkg/util/strategicpatch/patch_test.go at the tag named (read from a git directory of
 * k8s.io/apimachinery):
 *
 *   node lib/patch/testdata/extract-kube-cases.ts <apimachinery git dir> v0.36.3
 *
 * Each table entry gives the applications kube's tests make of it:
 * - createStrategicMergePatchTestCaseData (TestStrategicMergePatch): original + twoWay ->
 *   twoWayResult (else modified), and current + threeWay -> result when a result is given;
 *   kube's test sorts merging lists of every document first (sortMergeListsByName), so these
 *   cases are marked `sorted` for the test to do the same.
 * - strategicMergePatchRawTestCases (TestStrategicMergePatch): the same two applications, unsorted.
 * - customStrategicMergePatchTestCaseData / customStrategicMergePatchRawTestCases
 *   (TestCustomStrategicMergePatch): original + twoWay -> modified, or an expected error.
 */
import { execFileSync } from 'node:child_process';
import { writeFileSync } from 'node:fs';
import { parse } from 'yaml';

interface Application {
  test: string;
  table: string;
  description: string;
  application: 'twoWay' | 'threeWay';
  sorted: boolean;
  original: unknown;
  patch: unknown;
  expected?: unknown;
  error?: string;
}

const [gitDir, tag] = process.argv.slice(2);
if (gitDir === undefined || tag === undefined) throw new Error('usage: extract-kube-cases.ts <apimachinery git dir> <tag>');
const path = 'pkg/util/strategicpatch/patch_test.go';
const source = execFileSync('git', ['-C', gitDir, 'show', `${tag}:${path}`], { encoding: 'utf8', maxBuffer: 64 << 20 });

/** YAML as sigs.k8s.io/yaml reads it (YAML 1.1); absent or empty text is nil. */
function yaml(text: string | undefined): unknown {
  if (text === undefined || text.trim() === '') return undefined;
  return parse(text, { version: '1.1' }) as unknown;
}

/** The text between the backquotes of `var <name> = []byte(` ... `)`. */
function byteBlock(name: string): string {
  const m = new RegExp(`var ${name} = \\[\\]byte\\(\`([^\`]*)\`\\)`).exec(source);
  if (m?.[1] === undefined) throw new Error(`no table ${name}`);
  return m[1];
}

/** The entries of `var <name> = []StrategicMergePatchRawTestCase{ ... }` (up to the closing brace at column 0). */
function rawEntries(name: string): { description: string; fields: Record<string, string> }[] {
  const start = source.indexOf(`var ${name} = []StrategicMergePatchRawTestCase{`);
  if (start < 0) throw new Error(`no table ${name}`);
  const end = source.indexOf('\n}\n', start);
  const block = source.slice(start, end);
  return block
    .split(/\n\t\{\n\t\tDescription: /)
    .slice(1)
    .map((entry) => {
      const description = JSON.parse(/^("(?:[^"\\]|\\.)*")/.exec(entry)?.[1] ?? 'null') as string;
      const fields: Record<string, string> = {};
      for (const m of entry.matchAll(/\t(\w+): \[\]byte\(`([^`]*)`\)/g)) fields[m[1] as string] = m[2] as string;
      const error = /ExpectedError: ("(?:[^"\\]|\\.)*")/.exec(entry)?.[1];
      if (error !== undefined) fields.ExpectedError = JSON.parse(error) as string;
      return { description, fields };
    });
}

const out: Application[] = [];
const nonEmpty = (v: unknown): boolean => v !== undefined && v !== null && (typeof v !== 'object' || Object.keys(v).length > 0);

interface YamlCase {
  description: string;
  original?: unknown;
  twoWay?: unknown;
  modified?: unknown;
  current?: unknown;
  threeWay?: unknown;
  result?: unknown;
  twoWayResult?: unknown;
}

for (const c of (yaml(byteBlock('createStrategicMergePatchTestCaseData')) as { testCases: YamlCase[] }).testCases) {
  const base = { test: 'TestStrategicMergePatch', table: 'createStrategicMergePatchTestCaseData', description: c.description, sorted: true };
  out.push({ ...base, application: 'twoWay', original: c.original ?? null, patch: c.twoWay ?? null, expected: c.twoWayResult ?? c.modified ?? null });
  if (nonEmpty(c.result)) out.push({ ...base, application: 'threeWay', original: c.current ?? null, patch: c.threeWay ?? null, expected: c.result });
}
for (const { description, fields } of rawEntries('strategicMergePatchRawTestCases')) {
  const base = { test: 'TestStrategicMergePatch', table: 'strategicMergePatchRawTestCases', description, sorted: false };
  out.push({ ...base, application: 'twoWay', original: yaml(fields.Original) ?? null, patch: yaml(fields.TwoWay) ?? null, expected: yaml(fields.TwoWayResult) ?? yaml(fields.Modified) ?? null });
  if (fields.Result !== undefined) out.push({ ...base, application: 'threeWay', original: yaml(fields.Current) ?? null, patch: yaml(fields.ThreeWay) ?? null, expected: yaml(fields.Result) ?? null });
}
for (const c of (yaml(byteBlock('customStrategicMergePatchTestCaseData')) as { testCases: YamlCase[] }).testCases) {
  out.push({
    test: 'TestCustomStrategicMergePatch', table: 'customStrategicMergePatchTestCaseData', description: c.description, sorted: true,
    application: 'twoWay', original: c.original ?? null, patch: c.twoWay ?? null, expected: c.twoWayResult ?? c.modified ?? null,
  });
}
for (const { description, fields } of rawEntries('customStrategicMergePatchRawTestCases')) {
  const error = fields.ExpectedError;
  out.push({
    test: 'TestCustomStrategicMergePatch', table: 'customStrategicMergePatchRawTestCases', description, sorted: false, application: 'twoWay',
    original: yaml(fields.Original) ?? null, patch: yaml(fields.TwoWay) ?? null,
    ...(error !== undefined && error !== '' ? { error } : { expected: yaml(fields.TwoWayResult) ?? yaml(fields.Modified) ?? null }),
  });
}

const file = new URL('./kube-strategic-cases.json', import.meta.url);
writeFileSync(file, `${JSON.stringify({ source: `k8s.io/apimachinery ${tag} ${path}`, cases: out }, null, 1)}\n`);
process.stdout.write(`${out.length} applications\n`);
