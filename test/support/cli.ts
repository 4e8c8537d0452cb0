import { expect } from 'vitest';
import type { TestPlatform } from './platform';

/** `promiseflow <args>`, failing the test with the CLI's output when it exits non-zero. */
export async function cliOk(platform: TestPlatform, args: string[]): Promise<string> {
  const r = await platform.cli(args);
  expect(r.code, `promiseflow ${args.join(' ')}\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}

/**
 * `promiseflow apply -f FILE --wait`. A non-zero exit fails the test but (soft) lets it go
 * on checking what was written, so one failure does not hide the others.
 */
export async function applyWait(platform: TestPlatform, file: string): Promise<string> {
  const r = await platform.cli(['apply', '-f', file, '--wait']);
  expect.soft(r.code, `promiseflow apply -f ${file} --wait\n${r.stdout}${r.stderr}`).toBe(0);
  return r.stdout;
}
