/**
 * The lint rule that keeps services apart (eslint.config.js applies it to the sources of
 * services/ and lib/, tests excepted):
 *
 * - A source file of services/<X>/ may import from another service services/<Y>/ only
 *   services/<Y>/api.ts (its contract: interfaces, types, the errors callers see) and
 *   services/<Y>/grpc/client.ts (the same contract over gRPC, and the wire conversions other
 *   services need). Its own service's files are its own business.
 * - A source file of lib/ imports no service: lib/ is what services share, below them.
 * - Tests (*.test.ts anywhere), test/, scripts/ and bench/ may import any part of any service:
 *   they compose services, or their cores, in one process (scripts/single-process.ts,
 *   test/integration/pipeline.test.ts), which is what a composition is for.
 *
 * Plain JavaScript, not TypeScript, so that ESLint loads it under any Node it runs on. A local
 * rule rather than no-restricted-imports: that rule matches the text of an import, and a
 * relative import's meaning depends on how deep its file sits (`../../watch/core/x.ts` from
 * services/gateway/rest/ is `../watch/core/x.ts` from services/gateway/), so this one resolves
 * every relative import against its file and judges the path it names.
 */
import path from 'node:path';
import { fileURLToPath } from 'node:url';

/** The repository's root: two levels above this file. */
const ROOT = fileURLToPath(new URL('../../', import.meta.url));

/** What another service may import of a service, relative to its folder. */
export const SERVICE_ENTRY_POINTS = ['api.ts', 'grpc/client.ts'];

/** `file` relative to the repository, with forward slashes; undefined outside it. */
function repoPath(file) {
  const rel = path.relative(ROOT, file);
  if (rel === '' || rel.startsWith('..') || path.isAbsolute(rel)) return undefined;
  return rel.split(path.sep).join('/');
}

/** `{ service, rest }` when `rel` lies in services/<service>/, else undefined. */
function serviceOf(rel) {
  const match = /^services\/([^/]+)\/(.+)$/.exec(rel);
  return match === null ? undefined : { service: match[1], rest: match[2] };
}

/** @type {import('eslint').Rule.RuleModule} */
export const serviceBoundaries = {
  meta: {
    type: 'problem',
    docs: { description: 'a service reaches another only through its api.ts and grpc/client.ts; lib/ imports no service' },
    schema: [],
    messages: {
      internal:
        'services/{{from}} may import of the {{to}} service only services/{{to}}/api.ts and services/{{to}}/grpc/client.ts, not services/{{to}}/{{rest}}',
      lib: 'lib/ imports no service (services/{{to}}/{{rest}}): it is what services share',
    },
  },
  create(context) {
    const file = repoPath(context.filename);
    if (file === undefined) return {};
    const from = serviceOf(file);
    const inLib = file.startsWith('lib/');
    if (from === undefined && !inLib) return {};

    /** @param {import('estree').Node | null | undefined} source */
    const check = (source) => {
      if (source === null || source === undefined || source.type !== 'Literal' || typeof source.value !== 'string') return;
      const specifier = source.value;
      if (!specifier.startsWith('./') && !specifier.startsWith('../')) return;
      const target = repoPath(path.resolve(path.dirname(context.filename), specifier));
      const to = target === undefined ? undefined : serviceOf(target);
      if (to === undefined) return;
      const data = { from: from?.service ?? '', to: to.service, rest: to.rest };
      if (inLib) context.report({ node: source, messageId: 'lib', data });
      else if (to.service !== from?.service && !SERVICE_ENTRY_POINTS.includes(to.rest)) context.report({ node: source, messageId: 'internal', data });
    };
    return {
      ImportDeclaration: (node) => check(node.source),
      ExportNamedDeclaration: (node) => check(node.source),
      ExportAllDeclaration: (node) => check(node.source),
      ImportExpression: (node) => check(node.source),
    };
  },
};
