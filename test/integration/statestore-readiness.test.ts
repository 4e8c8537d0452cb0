import * as fs from 'node:fs';
import * as path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { provisionStateStore } from '../../tools/servers/state-store-backends';
import type { ProvisionedStateStore } from '../../tools/servers/state-store-backends';
import type { Condition, KratixObject } from '../../src/model/types';
import { startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

const ready = (o: KratixObject) =>
  (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === 'Ready');

/** A Destination is Ready only when its state store can be written; otherwise it says why (issue 4). */
describe('state store readiness', () => {
  let platform: TestPlatform;
  let s3: ProvisionedStateStore;
  let https: ProvisionedStateStore;

  beforeAll(async () => {
    platform = await startTestPlatform('readiness');
    s3 = await provisionStateStore('s3', path.join(platform.dir, 's3'));
    https = await provisionStateStore('git-https', path.join(platform.dir, 'https'));
  });

  afterAll(async () => {
    await platform?.stop();
    await s3?.stop();
    await https?.stop();
  });

  async function applyYaml(name: string, yaml: string) {
    const file = path.join(platform.dir, `${name}.yaml`);
    fs.writeFileSync(file, yaml);
    const r = await platform.cli(['apply', '-f', file, '--wait']);
    expect(r.code, r.stdout + r.stderr).toBe(0);
  }
  /** Renames the example's objects so several stores live side by side. */
  function variant(yaml: string, suffix: string, edit: (y: string) => string = (y) => y): string {
    return edit(
      yaml
        .replace(
          /name: (default|minio-credentials|git-credentials|platform-cluster|worker-1)$/gm,
          `name: $1-${suffix}`,
        )
        .replace(/path: (platform-cluster|worker-1)$/gm, `path: $1-${suffix}`),
    );
  }

  it('marks Destinations on a reachable bucket Ready and the store Ready', async () => {
    await applyYaml('s3-ok', variant(s3.platformYaml, 'ok'));
    const d = (await platform.client.get('destinations', { name: 'worker-1-ok' })).items[0]!;
    expect(ready(d)).toMatchObject({ status: 'True', reason: 'StateStoreReady' });
    const store = (await platform.client.get('bucketstatestores', { name: 'default-ok' }))
      .items[0]!;
    expect(store.status?.status).toBe('Ready');
  });

  it('reports a missing bucket as NotReady with the reason', async () => {
    await applyYaml(
      's3-nobucket',
      variant(s3.platformYaml, 'nobucket', (y) =>
        y.replace('bucketName: kratix', 'bucketName: no-such-bucket'),
      ),
    );
    const d = (await platform.client.get('destinations', { name: 'worker-1-nobucket' })).items[0]!;
    expect(ready(d)?.status).toBe('False');
    expect(ready(d)?.message).toContain('bucket "no-such-bucket" does not exist');
    const store = (await platform.client.get('bucketstatestores', { name: 'default-nobucket' }))
      .items[0]!;
    expect(store.status?.status).toBe('NotReady');
    expect((await platform.cli(['get', 'destinations'])).stdout).toMatch(
      /worker-1-nobucket\s+False/,
    );
  });

  it('reports bad S3 credentials without revealing them', async () => {
    await applyYaml(
      's3-badcreds',
      variant(s3.platformYaml, 'badcreds', (y) =>
        y.replace(/secretAccessKey: .*/, 'secretAccessKey: wrong-secret-123'),
      ),
    );
    const d = (await platform.client.get('destinations', { name: 'worker-1-badcreds' })).items[0]!;
    expect(ready(d)?.status).toBe('False');
    expect(ready(d)?.message).toMatch(/access denied/i);
    expect(ready(d)?.message).not.toContain('wrong-secret-123');
  });

  it('reports a missing Secret by name', async () => {
    const yaml = variant(s3.platformYaml, 'nosecret').replace(
      /^apiVersion: v1\nkind: Secret[\s\S]*?---\n/m,
      '',
    );
    await applyYaml(
      's3-nosecret',
      yaml.replace('name: minio-credentials-nosecret', 'name: not-there'),
    );
    const d = (await platform.client.get('destinations', { name: 'worker-1-nosecret' })).items[0]!;
    expect(ready(d)?.status).toBe('False');
    expect(ready(d)?.message).toContain('Secret "default/not-there"');
  });

  it('reports a wrong Git password as NotReady, never putting it in status, logs or workflow history', async () => {
    const password = /password: (\S+)/.exec(https.platformYaml)![1]!;
    await applyYaml(
      'git-badpass',
      variant(https.platformYaml, 'badpass', (y) =>
        y.replace(`password: ${password}`, 'password: hunter2-wrong'),
      ),
    );
    const d = (await platform.client.get('destinations', { name: 'worker-1-badpass' })).items[0]!;
    expect(ready(d)?.status).toBe('False');
    expect(ready(d)?.message).toMatch(/authentication failed/i);
    expect(ready(d)?.message).not.toContain('hunter2-wrong');
    const history = await platform.client.temporal.workflow
      .getHandle('destination-reconcile/worker-1-badpass')
      .fetchHistory();
    expect(JSON.stringify(history)).not.toContain('hunter2-wrong');
    expect(fs.readFileSync(platform.logFile, 'utf8')).not.toContain('hunter2-wrong');
  });
});
