import * as path from 'node:path';
import { ESLint } from 'eslint';
import { describe, expect, it } from 'vitest';

/**
 * The lint guard that keeps workflow code deterministic: Node modules are refused in
 * src/workflows and in src/model (which workflows import), type-only imports included.
 */
const root = path.resolve(__dirname, '..', '..');

async function restrictedImports(file: string, code: string): Promise<string[]> {
  const eslint = new ESLint({ cwd: root });
  const [result] = await eslint.lintText(code, { filePath: path.join(root, file) });
  return (result?.messages ?? [])
    .filter((m) => m.ruleId === '@typescript-eslint/no-restricted-imports')
    .map((m) => m.message);
}

describe('the lint guard on workflow and model code', () => {
  it('refuses node:fs in a workflow and in a model file, and a type-only import too', async () => {
    const code =
      "import fs from 'node:fs';\nimport type { Stats } from 'fs';\nexport const x: Stats | typeof fs | undefined = undefined;\n";
    expect(await restrictedImports('src/workflows/lint-probe.ts', code)).toHaveLength(2);
    expect(await restrictedImports('src/model/lint-probe.ts', code)).toHaveLength(2);
  }, 60_000);

  it('refuses a workflow importing an activity module for its values, not for its types', async () => {
    const value =
      "import { createActivities } from '../activities';\nexport const a = createActivities;\n";
    const typeOnly =
      "import type { Activities } from '../activities';\nexport type A = Activities;\n";
    expect(await restrictedImports('src/workflows/lint-probe.ts', value)).toHaveLength(1);
    expect(await restrictedImports('src/workflows/lint-probe.ts', typeOnly)).toEqual([]);
  }, 60_000);

  it('lets activities use Node modules', async () => {
    const code = "import fs from 'node:fs';\nexport const x = fs;\n";
    expect(await restrictedImports('src/activities/lint-probe.ts', code)).toEqual([]);
  }, 60_000);
});
