import * as fs from 'node:fs';
import * as path from 'node:path';
import { Worker } from '@temporalio/worker';
import type { ReplayResult } from '@temporalio/worker';
import { describe, expect, it } from 'vitest';
import { installTemporalRuntime } from '../../src/worker/runtime';

/**
 * Histories recorded from real runs (`node dist/tools/demo/main.js --record-histories
 * test/fixtures/histories`) replayed against today's workflow code: a change that would
 * break workflows already running (non-determinism) fails here.
 */
const dir = path.join(__dirname, '..', 'fixtures', 'histories');
const files = fs
  .readdirSync(dir)
  .filter((f) => f.endsWith('.json'))
  .sort();

describe('workflow replay', () => {
  it('has recorded histories of every workflow type to replay', () => {
    const types = new Set(files.map((f) => f.split('-')[0]));
    expect([...types].sort()).toEqual([
      'destinationReconcile',
      'promiseDelete',
      'promiseRevisionDelete',
      'promiseUpdate',
      'resourceDelete',
      'resourceReconcile',
      'workPlacementDelete',
    ]);
  });

  it('replays every recorded history without a determinism error', async () => {
    installTemporalRuntime('WARN');
    const histories = files.map(
      (f) =>
        JSON.parse(fs.readFileSync(path.join(dir, f), 'utf8')) as {
          workflowId: string;
          history: object;
        },
    );
    const results: ReplayResult[] = [];
    for await (const result of Worker.runReplayHistories(
      { workflowsPath: path.join(__dirname, '..', '..', 'src', 'workflows', 'index.ts') },
      histories,
    )) {
      results.push(result);
    }
    expect(results).toHaveLength(files.length);
    const failures = results
      .filter((r) => r.error)
      .map((r) => `${r.workflowId}: ${String(r.error)}`);
    expect(failures).toEqual([]);
  }, 120_000);
});
