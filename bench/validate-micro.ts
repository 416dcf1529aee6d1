/**
 * Micro-benchmark of what schema validation adds to a write at the front door, on a 1 KiB
 * ConfigMap: the body scan (checkUntrustedJson, which now counts keys too), JSON.parse, the
 * schema decoding (unknown/duplicate fields, types) and the validation proper (required, enums).
 * `node bench/validate-micro.ts`: prints nanoseconds per operation, the median of 5 rounds.
 */
import { checkUntrustedJson, parseObjectBytes, type KubeObject } from '../lib/kube.ts';
import { BUILTIN_KINDS } from '../lib/kinds/builtin/index.ts';
import { generatedSchemaValidator } from '../lib/kinds/validate.ts';
import { decodeObjectMeta } from '../lib/object-meta.ts';

const data: Record<string, string> = {};
for (let i = 0; i < 24; i++) data[`key-${i}`] = `value number ${i} of the map`;
const body = {
  apiVersion: 'v1',
  kind: 'ConfigMap',
  metadata: { name: 'bench', namespace: 'default', labels: { app: 'bench', tier: 'web' }, annotations: { note: 'a micro benchmark' } },
  data,
};
const bytes = Buffer.from(JSON.stringify(body));
const kind = BUILTIN_KINDS.find((k) => k.kind === 'ConfigMap');
if (kind === undefined) throw new Error('no ConfigMap kind');
const schemas = generatedSchemaValidator();
const parsed = parseObjectBytes(bytes);

function nsPerOp(fn: () => unknown, iterations = 200_000): number {
  for (let i = 0; i < 20_000; i++) fn();
  const rounds: number[] = [];
  for (let r = 0; r < 5; r++) {
    const start = process.hrtime.bigint();
    for (let i = 0; i < iterations; i++) fn();
    rounds.push(Number(process.hrtime.bigint() - start) / iterations);
  }
  return rounds.sort((a, b) => a - b)[2] ?? 0;
}

const rows: [string, () => unknown][] = [
  ['checkUntrustedJson (scan)', () => checkUntrustedJson(bytes)],
  ['JSON.parse (parseObjectBytes)', () => parseObjectBytes(bytes)],
  ['decodeObjectMeta', () => decodeObjectMeta(parsed, kind)],
  ['schema decode (Strict, with source)', () => schemas.decode(parsed, kind, { fieldValidation: 'Strict', source: { bytes, keys: checkUntrustedJson(bytes).keys } })],
  ['schema validate (required, enums)', () => schemas.validate(parsed as KubeObject, kind)],
];
console.log(`body: ${bytes.length} bytes`);
for (const [name, fn] of rows) console.log(`${name.padEnd(40)} ${nsPerOp(fn).toFixed(0).padStart(7)} ns/op`);
