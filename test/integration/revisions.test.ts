import * as fs from 'node:fs';
import * as path from 'node:path';
import { simpleGit } from 'simple-git';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Condition, KratixObject } from '../../src/model/types';
import { renderExample, startTestPlatform } from '../support/platform';
import type { TestPlatform } from '../support/platform';

/** Seed 002: PromiseRevisions and ResourceBindings, driven through the CLI. */
describe('Promise Revisions and Resource Bindings', () => {
  let platform: TestPlatform;
  let repo: string;
  const redis = (f: string) => path.join(__dirname, '..', '..', 'examples', 'redis', f);

  async function cli(...args: string[]) {
    const r = await platform.cli(args);
    return r;
  }
  async function applyOk(file: string) {
    const r = await cli('apply', '-f', file, '--wait');
    expect(r.code, `${file}: ${r.stdout}${r.stderr}`).toBe(0);
    return r;
  }
  async function get(kind: string, name: string): Promise<KratixObject> {
    const { items } = await platform.client.get(kind, { name });
    return items[0]!;
  }
  const condition = (o: KratixObject, type: string) =>
    (o.status?.conditions as Condition[] | undefined)?.find((c) => c.type === type);
  async function repoFile(file: string): Promise<string | undefined> {
    return simpleGit()
      .raw(['--git-dir', repo, 'show', `main:${file}`])
      .catch(() => undefined);
  }
  const redisFile = (name: string) =>
    `worker-1/resources/default/redis/${name}/instance-configure/5058f/redis.yaml`;

  beforeAll(async () => {
    platform = await startTestPlatform('revisions');
    repo = path.join(platform.dir, 'state.git');
    await simpleGit().init(true, [repo, '--initial-branch=main']);
    const platformYaml = path.join(platform.dir, 'platform.yaml');
    fs.writeFileSync(
      platformYaml,
      renderExample('examples/mongodb/platform.yaml', { STATE_STORE_URL: `file://${repo}` }),
    );
    await applyOk(platformYaml);
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('snapshots redis-v0.1.0 as the latest revision and binds every request to it', async () => {
    await applyOk(redis('promise-v0.1.0.yaml'));
    for (const n of ['cache-a', 'cache-b', 'cache-c']) await applyOk(redis(`${n}.yaml`));
    const revision = await get('promiserevisions', 'redis-v0.1.0');
    expect(revision.metadata.labels).toMatchObject({
      'kratix.io/promise-name': 'redis',
      'kratix.io/latest-revision': 'true',
    });
    expect(revision.spec).toMatchObject({ promiseRef: { name: 'redis' }, version: 'v0.1.0' });
    expect((revision.spec as { promiseSpec: { api: { kind: string } } }).promiseSpec.api.kind).toBe(
      'CustomResourceDefinition',
    );
    const binding = await get('resourcebindings', 'cache-a-redis');
    expect(binding.spec).toMatchObject({
      version: 'latest',
      promiseRef: { name: 'redis' },
      resourceRef: { name: 'cache-a' },
    });
    expect(binding.status?.lastAppliedVersion).toBe('v0.1.0');
    expect(await repoFile(redisFile('cache-a'))).toContain('redis:7.0.15');
  });

  it('makes v0.2.0 the only latest revision and re-runs floating requests on it', async () => {
    await applyOk(redis('promise-v0.2.0.yaml'));
    const table = (await cli('get', 'promiserevisions')).stdout;
    expect(table).toMatch(/^NAME\s+LATEST/m);
    expect(table).toMatch(/^redis-v0\.1\.0\s+v0\.1\.0\s+\S+$/m);
    expect(table).toMatch(/^redis-v0\.2\.0\s+true\s+v0\.2\.0\s+\S+$/m);
    for (const n of ['cache-a', 'cache-b', 'cache-c']) {
      expect((await get('resourcebindings', `${n}-redis`)).status?.lastAppliedVersion).toBe(
        'v0.2.0',
      );
      expect(await repoFile(redisFile(n))).toContain('redis:7.2.4');
    }
    expect((await cli('get', 'redis')).stdout).toMatch(/cache-a\s+redis version: 7\.2\.4/);
  });

  it('keeps a request pinned to an old version on that revision, and moves it when the binding changes', async () => {
    await applyOk(redis('cache-b-pin-v0.1.0.yaml'));
    expect((await get('resourcebindings', 'cache-b-redis')).status?.lastAppliedVersion).toBe(
      'v0.1.0',
    );
    expect(await repoFile(redisFile('cache-b'))).toContain('redis:7.0.15');
    // A later update re-runs the floating requests but leaves the pinned one alone.
    await applyOk(redis('promise-v0.4.0.yaml'));
    expect(await repoFile(redisFile('cache-a'))).toContain('redis:7.4.1');
    expect(await repoFile(redisFile('cache-b'))).toContain('redis:7.0.15');
    expect((await get('resourcebindings', 'cache-b-redis')).status?.lastAppliedVersion).toBe(
      'v0.1.0',
    );
    // Unpinning (version: latest) moves it to the latest revision at once.
    const unpin = path.join(platform.dir, 'cache-b-latest.yaml');
    fs.writeFileSync(
      unpin,
      fs
        .readFileSync(redis('cache-b-pin-v0.1.0.yaml'), 'utf8')
        .replace('version: v0.1.0', 'version: latest'),
    );
    await applyOk(unpin);
    expect((await get('resourcebindings', 'cache-b-redis')).status?.lastAppliedVersion).toBe(
      'v0.4.0',
    );
    expect(await repoFile(redisFile('cache-b'))).toContain('redis:7.4.1');
  });

  it('makes the most recently applied version latest (no semver) and updates its revision in place', async () => {
    await applyOk(redis('promise-v0.1.0-patched.yaml'));
    const revisions = (await platform.client.get('promiserevisions')).items;
    const latest = revisions.filter(
      (r) => r.metadata.labels?.['kratix.io/latest-revision'] === 'true',
    );
    expect(latest.map((r) => r.metadata.name)).toEqual(['redis-v0.1.0']);
    expect(revisions.map((r) => r.metadata.name).sort()).toEqual([
      'redis-v0.1.0',
      'redis-v0.2.0',
      'redis-v0.4.0',
    ]);
    const spec = JSON.stringify((await get('promiserevisions', 'redis-v0.1.0')).spec);
    expect(spec).toContain('7.0.16');
    expect(spec).not.toContain('7.0.15');
    // The pinned request runs with the updated v0.1.0 spec; floating ones follow v0.1.0 too.
    expect(await repoFile(redisFile('cache-b'))).toContain('redis:7.0.16');
    expect(await repoFile(redisFile('cache-a'))).toContain('redis:7.0.16');
  });

  it('records a failing upgrade without retrying it, lets the others carry on, and recovers on a good version', async () => {
    const r = await cli('apply', '-f', redis('promise-v0.3.0-broken.yaml'), '--wait');
    expect(r.code).toBe(1);
    expect(r.stdout).toContain('1 resource(s) failed');
    const a = await get('resourcebindings', 'cache-a-redis');
    expect(a.status?.lastAppliedVersion).toBe('v0.1.0');
    expect(a.status?.failedVersion).toBe('v0.3.0');
    expect(condition(a, 'UpgradeSucceeded')).toMatchObject({
      status: 'False',
      reason: 'UpgradeFailed',
    });
    const request = await get('redis', 'cache-a');
    const failed = condition(request, 'ConfigureWorkflowCompleted');
    expect(failed).toMatchObject({ status: 'False', reason: 'ConfigureWorkflowFailed' });
    expect(failed?.message).toContain(
      'pipeline "instance-configure" container "render-redis" failed',
    );
    // The state store keeps the last good output; the later pipeline did not run for cache-a.
    expect(await repoFile(redisFile('cache-a'))).toContain('redis:7.0.16');
    // Others carried on.
    expect(await repoFile(redisFile('cache-c'))).toContain('redis:7.4.0');
    expect((await get('resourcebindings', 'cache-c-redis')).status?.lastAppliedVersion).toBe(
      'v0.3.0',
    );
    // Not retried in a loop: exactly one failed run of cache-a's child.
    const runs: string[] = [];
    for await (const wf of platform.client.temporal.workflow.list({
      query: `WorkflowId = 'resource-reconcile/redis/default/cache-a' AND TaskQueue = '${platform.config.temporal.taskQueue}' AND ExecutionStatus = 'Failed'`,
    })) {
      runs.push(wf.runId);
    }
    expect(runs).toHaveLength(1);

    await applyOk(redis('promise-v0.4.0.yaml'));
    const recovered = await get('resourcebindings', 'cache-a-redis');
    expect(recovered.status?.lastAppliedVersion).toBe('v0.4.0');
    expect(recovered.status?.failedVersion).toBeUndefined();
    expect(condition(recovered, 'UpgradeSucceeded')).toMatchObject({
      status: 'True',
      reason: 'UpgradeComplete',
    });
    expect(await repoFile(redisFile('cache-a'))).toContain('redis:7.4.1');
  });

  it('refuses to delete the latest revision', async () => {
    const r = await cli('delete', 'promiserevisions', 'redis-v0.4.0');
    expect(r.code).toBe(2);
    expect(r.stderr).toContain('can not delete the latest PromiseRevision');
    expect(
      (await platform.client.get('promiserevisions')).items.map((i) => i.metadata.name),
    ).toContain('redis-v0.4.0');
  });

  it('deletes the requests bound to exactly a deleted revision, with their bindings, works, placements and files', async () => {
    await applyOk(redis('cache-b-pin-v0.1.0.yaml'));
    expect(await repoFile(redisFile('cache-b'))).toContain('redis:7.0.16');
    const r = await cli('delete', 'promiserevisions', 'redis-v0.1.0', '--wait');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    const names = (await platform.client.get('redis')).items.map((i) => i.metadata.name);
    expect(names.sort()).toEqual(['cache-a', 'cache-c']);
    expect(
      (await platform.client.get('resourcebindings')).items.map((b) => b.metadata.name).sort(),
    ).toEqual(['cache-a-redis', 'cache-c-redis']);
    expect(
      (await platform.client.get('works', { labelSelector: 'kratix.io/resource-name=cache-b' }))
        .items,
    ).toEqual([]);
    expect(
      (
        await platform.client.get('workplacements', {
          labelSelector: 'kratix.io/resource-name=cache-b',
        })
      ).items,
    ).toEqual([]);
    expect(await repoFile(redisFile('cache-b'))).toBeUndefined();
    expect(await repoFile(redisFile('cache-a'))).toBeDefined();
    const log = await simpleGit().raw(['--git-dir', repo, 'log', '--format=%s', 'main']);
    expect(log).toContain('Delete from: redis-cache-b-instance-configure.worker-1');
    expect(
      (await platform.client.get('promiserevisions')).items.map((i) => i.metadata.name),
    ).not.toContain('redis-v0.1.0');
  });

  it('runs the delete pipeline and removes every file when a request is deleted', async () => {
    const r = await cli('delete', 'redis', 'cache-c', '--wait');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect(await repoFile(redisFile('cache-c'))).toBeUndefined();
    expect(
      await repoFile(
        'worker-1/resources/default/redis/cache-c/instance-monitoring/5058f/monitoring.yaml',
      ),
    ).toBeUndefined();
    const log = fs.readFileSync(platform.logFile, 'utf8');
    expect(log).toMatch(
      /"pipeline":"instance-delete".*"object":"Redis\/cache-c".*"msg":"pipeline completed"/,
    );
  });

  it('names a Promise without a version label <promise>-not-set', async () => {
    const file = path.join(platform.dir, 'unversioned.yaml');
    fs.writeFileSync(
      file,
      'apiVersion: platform.kratix.io/v1alpha1\nkind: Promise\nmetadata:\n  name: unversioned\nspec:\n  dependencies:\n    - apiVersion: v1\n      kind: Namespace\n      metadata:\n        name: unversioned\n',
    );
    await applyOk(file);
    const revision = await get('promiserevisions', 'unversioned-not-set');
    expect(revision.spec).toMatchObject({ version: 'not-set' });
    expect(revision.metadata.labels?.['kratix.io/latest-revision']).toBe('true');
    expect(
      await repoFile(
        'worker-1/dependencies/unversioned/5058f/static/unversioned-dependencies.yaml',
      ),
    ).toContain('name: unversioned');
  });

  it('deletes a Promise with its requests, revisions, bindings, dependencies and files', async () => {
    expect(
      await repoFile('worker-1/dependencies/redis/5058f/static/redis-dependencies.yaml'),
    ).toContain('redis-operator');
    const r = await cli('delete', 'promise', 'redis', '--wait');
    expect(r.code, r.stdout + r.stderr).toBe(0);
    expect((await platform.client.get('promises')).items.map((p) => p.metadata.name)).toEqual([
      'unversioned',
    ]);
    expect(
      (await platform.client.get('promiserevisions')).items.map((p) => p.metadata.name),
    ).toEqual(['unversioned-not-set']);
    expect((await platform.client.get('resourcebindings')).items).toEqual([]);
    expect(
      (
        await platform.client.get('workplacements', {
          labelSelector: 'kratix.io/promise-name=redis',
        })
      ).items,
    ).toEqual([]);
    expect(
      await repoFile('worker-1/dependencies/redis/5058f/static/redis-dependencies.yaml'),
    ).toBeUndefined();
    expect(await repoFile(redisFile('cache-a'))).toBeUndefined();
  });
});
