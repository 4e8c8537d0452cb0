// @ts-check
import { builtinModules } from 'node:module';
import js from '@eslint/js';
import tseslint from 'typescript-eslint';
import { importX } from 'eslint-plugin-import-x';
import { createTypeScriptImportResolver } from 'eslint-import-resolver-typescript';

const nodeBuiltins = builtinModules.filter((m) => !m.startsWith('_'));
const DETERMINISTIC =
  'Workflow code and the model it imports stay deterministic and bundle into the workflow sandbox: no Node modules.';
const noNodeModules = {
  paths: nodeBuiltins.map((name) => ({ name, message: DETERMINISTIC })),
  patterns: [{ group: ['node:*'], message: DETERMINISTIC }],
};

export default tseslint.config(
  { ignores: ['dist/', 'node_modules/', '.promiseflow/', 'coverage/'] },
  js.configs.recommended,
  ...tseslint.configs.recommended,
  importX.flatConfigs.typescript,
  {
    files: ['**/*.js', '**/*.cjs'],
    languageOptions: {
      sourceType: 'commonjs',
      globals: {
        require: 'readonly',
        module: 'writable',
        process: 'readonly',
        console: 'readonly',
        __dirname: 'readonly',
      },
    },
    rules: { '@typescript-eslint/no-require-imports': 'off' },
  },
  {
    // Typed rules, as the Temporal SDK's own repository lints: no promise left floating,
    // type-only imports marked, and no import cycles.
    files: ['**/*.ts'],
    languageOptions: {
      parserOptions: {
        // lint-probe.ts: the virtual file test/unit/lint-guard.test.ts lints.
        projectService: { allowDefaultProject: ['src/*/lint-probe.ts'] },
        tsconfigRootDir: import.meta.dirname,
      },
    },
    settings: { 'import-x/resolver-next': [createTypeScriptImportResolver()] },
    rules: {
      '@typescript-eslint/no-unused-vars': [
        'error',
        { argsIgnorePattern: '^_', varsIgnorePattern: '^_' },
      ],
      '@typescript-eslint/no-floating-promises': 'error',
      '@typescript-eslint/consistent-type-imports': [
        'error',
        { fixStyle: 'separate-type-imports' },
      ],
      'import-x/no-cycle': 'error',
    },
  },
  {
    // The model is pure: workflows import it, so it must never reach for Node or I/O.
    files: ['src/model/**/*.ts'],
    rules: { '@typescript-eslint/no-restricted-imports': ['error', noNodeModules] },
  },
  {
    files: ['src/workflows/**/*.ts'],
    rules: {
      '@typescript-eslint/no-restricted-imports': [
        'error',
        {
          paths: noNodeModules.paths,
          patterns: [
            ...noNodeModules.patterns,
            {
              group: [
                '**/activities',
                '**/activities/*',
                '**/platform/**',
                '**/pipelines/**',
                '**/statestores/**',
                '**/client/**',
                '**/bridge/**',
                '**/cli/**',
                '**/worker/**',
                '**/temporal/**',
              ],
              allowTypeImports: true,
              message: 'Workflows decide; they import only the types of activities and adapters.',
            },
          ],
        },
      ],
      'no-restricted-globals': [
        'error',
        { name: 'setTimeout', message: 'use sleep() from @temporalio/workflow' },
      ],
    },
  },
);
