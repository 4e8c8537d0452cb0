import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { KubePlatform } from '../../support/kube-platform';
import { promiseAvailableAt, startKubeScenario } from '../../support/kube-scenario';
import type { StateRepo } from '../../support/state-repo';

/** PromiseRevisions and ResourceBindings (Kratix docs: Promise Revisions) with kubectl. */

const redis = (f: string) => `examples/redis/${f}`;
const redisFile = (name: string) =>
  `worker-1/resources/default/redis/${name}/instance-configure/5058f/redis.yaml`;

describe('Promise Revisions on a cluster (Kratix docs: Promise Revisions)', () => {
  let platform: KubePlatform;
  let repo: StateRepo;

  /** Each request's last reconciled Promise version. */
  async function versions(): Promise<Record<string, string>> {
    const out = await platform.kubectlOk([
      'get',
      'redis',
      '-o',
      'jsonpath={range .items[*]}{.metadata.name}={.status.promiseVersion}{"\\n"}{end}',
    ]);
    return Object.fromEntries(
      out
        .trim()
        .split('\n')
        .filter((l) => l !== '')
        .map((l) => l.split('=') as [string, string]),
    );
  }

  beforeAll(async () => {
    ({ platform, repo } = await startKubeScenario('revisions', 'examples/mongodb/platform.yaml'));
  });

  afterAll(async () => {
    await platform?.stop();
  });

  it('snapshots redis-v0.1.0 as the latest revision and binds every request to it', async () => {
    await platform.kubectlOk(['apply', '-f', redis('promise-v0.1.0.yaml')]);
    await promiseAvailableAt(platform, 'redis', 'v0.1.0');
    for (const n of ['cache-a', 'cache-b', 'cache-c']) {
      await platform.kubectlOk(['apply', '-f', redis(`${n}.yaml`)]);
    }
    await platform.eventually('three requests at v0.1.0', async () => {
      const v = await versions();
      return Object.values(v).filter((x) => x === 'v0.1.0').length === 3;
    });
    const revisions = await platform.kubectlOk(['get', 'promiserevisions']);
    expect(revisions.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+LATEST$/),
      expect.stringMatching(/^redis-v0\.1\.0\s+true$/),
    ]);
    expect(
      await platform.kubectlOk([
        'get',
        'promiserevisions',
        '-l',
        'kratix.io/promise-name=redis',
        '-o',
        'name',
      ]),
    ).toBe('promiserevision.platform.kratix.io/redis-v0.1.0\n');
    expect(await platform.kubectlOk(['get', 'resourcebindings'])).toMatch(
      /cache-b-redis\s+cache-b\s+redis\s+latest\s+v0\.1\.0/,
    );
  });

  it('keeps a pinned request on its version when v0.2.0 becomes the latest', async () => {
    await platform.kubectlOk(['apply', '-f', redis('cache-b-pin-v0.1.0.yaml')]);
    await platform.kubectlOk(['apply', '-f', redis('promise-v0.2.0.yaml')]);
    await promiseAvailableAt(platform, 'redis', 'v0.2.0');
    await platform.eventually('the floating requests at v0.2.0', async () => {
      const v = await versions();
      return v['cache-a'] === 'v0.2.0' && v['cache-c'] === 'v0.2.0';
    });
    expect((await versions())['cache-b']).toBe('v0.1.0');
    expect(await repo.read(redisFile('cache-a'))).toContain('redis:7.2.4');
    expect(await repo.read(redisFile('cache-b'))).toContain('redis:7.0.15');
    const revisions = await platform.kubectlOk(['get', 'promiserevisions']);
    expect(revisions.trim().split('\n')).toEqual([
      expect.stringMatching(/^NAME\s+LATEST$/),
      expect.stringMatching(/^redis-v0\.1\.0\s*$/),
      expect.stringMatching(/^redis-v0\.2\.0\s+true$/),
    ]);
    expect(await platform.kubectlOk(['get', 'resourcebindings'])).toMatch(
      /cache-b-redis\s+cache-b\s+redis\s+v0\.1\.0\s+v0\.1\.0/,
    );
  });

  it('refuses to delete the latest revision, in kubectl delete itself', async () => {
    const r = await platform.kubectl(['delete', 'promiserevision', 'redis-v0.2.0']);
    expect(r.code).not.toBe(0);
    expect(r.stderr).toContain(
      'can not delete the latest PromiseRevision; delete the Promise instead',
    );
    expect(await platform.kubectlOk(['get', 'promiserevision', 'redis-v0.2.0', '-o', 'name'])).toBe(
      'promiserevision.platform.kratix.io/redis-v0.2.0\n',
    );
  });

  it('deleting a non-latest revision deletes the requests bound to exactly it, with their bindings and files', async () => {
    await platform.kubectlOk(['delete', 'promiserevision', 'redis-v0.1.0', '--timeout=120s']);
    expect(Object.keys(await versions()).sort()).toEqual(['cache-a', 'cache-c']);
    expect(await platform.kubectlOk(['get', 'resourcebindings', '-o', 'name'])).not.toContain(
      'cache-b-redis',
    );
    expect(await repo.read(redisFile('cache-b'))).toBeUndefined();
    expect(await repo.read(redisFile('cache-a'))).toContain('redis:7.2.4');
  });
});
