// Lint rules: typescript-eslint's recommended set, plus the habits the project keeps.
import tseslint from 'typescript-eslint';

export default tseslint.config(
  { ignores: ['node_modules/', 'lib/gen/', '.data/'] },
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
);
