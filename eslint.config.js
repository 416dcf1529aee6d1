// Lint rules: typescript-eslint's recommended set, plus the habits the project keeps.
import tseslint from 'typescript-eslint';
import { serviceBoundaries } from './scripts/lint/service-boundaries.js';

export default tseslint.config(
  { ignores: ['node_modules/', 'lib/gen/', 'packages/client/src/gen/', '.data/'] },
  ...tseslint.configs.recommended,
  {
    rules: {
      '@typescript-eslint/no-unused-vars': ['error', { argsIgnorePattern: '^_', varsIgnorePattern: '^_', destructuredArrayIgnorePattern: '^_' }],
      '@typescript-eslint/consistent-type-imports': 'error',
      'no-restricted-syntax': [
        'error',
        { selector: 'TSEnumDeclaration', message: 'enums are not erasable; use a union of string literals' },
        { selector: 'TSModuleDeclaration[kind="namespace"]', message: 'namespaces are not erasable' },
      ],
    },
  },
  {
    // What a service may import of another (see scripts/lint/service-boundaries.js); tests,
    // test/, scripts/ and bench/ compose services and may import any part of them.
    files: ['services/**', 'lib/**'],
    ignores: ['**/*.test.ts'],
    plugins: { local: { rules: { 'service-boundaries': serviceBoundaries } } },
    rules: { 'local/service-boundaries': 'error' },
  },
);
