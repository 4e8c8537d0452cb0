import { describe, expect, it } from 'vitest';
import { specHash, workloadGroupId, workloadsDigest } from '../../src/model/hashing';
import {
  aggregateDocuments,
  aggregatedFilePath,
  destinationBasePath,
  destinationCheckFiles,
  nestedPlacementDirectory,
  noneModeTrackingFile,
} from '../../src/model/paths';
import type { Destination, DestinationSpec, GitStateStore, WorkSpec } from '../../src/model/types';

const store = (path?: string): GitStateStore => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'GitStateStore',
  metadata: { name: 'default' },
  spec: { url: 'file:///x', path },
});
const destination = (path: string, filepath?: DestinationSpec['filepath']): Destination => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Destination',
  metadata: { name: 'worker-1' },
  spec: { path, stateStoreRef: { kind: 'GitStateStore', name: 'default' }, filepath },
});
const work = (source: WorkSpec['source'], extra: Partial<WorkSpec> = {}): WorkSpec => ({
  source,
  promiseName: 'mongodb',
  pipelineName: 'instance-configure',
  replicas: source === 'resource' ? 'one' : 'all',
  workloadGroups: [],
  ...extra,
});

describe('state-store path layout (behaviour §7)', () => {
  it('ids the root workload group 5058f, the first five hex chars of md5(".")', () => {
    expect(workloadGroupId('.')).toBe('5058f');
    expect(workloadGroupId('monitoring')).toMatch(/^[0-9a-f]{5}$/);
    expect(workloadGroupId('monitoring')).not.toBe('5058f');
  });

  it('joins the state store path and the Destination path, ignoring empty and "." parts', () => {
    expect(destinationBasePath(destination('worker-1'), store())).toBe('worker-1');
    expect(destinationBasePath(destination('./clusters/worker-1/'), store('/fleet/'))).toBe(
      'fleet/clusters/worker-1',
    );
  });

  it('lays out resources as resources/<ns>/<promise>/<resource>/<pipeline>/<id5>', () => {
    const spec = work('resource', { resourceName: 'mongo-v4', resourceNamespace: 'team-a' });
    expect(nestedPlacementDirectory(destination('worker-1'), store(), spec, '5058f')).toBe(
      'worker-1/resources/team-a/mongodb/mongo-v4/instance-configure/5058f',
    );
  });

  it('lays out Promise pipeline output as dependencies/<promise>/<pipeline>/<id5>', () => {
    expect(
      nestedPlacementDirectory(
        destination('d'),
        store(),
        work('promise', { pipelineName: 'promise-configure' }),
        '5058f',
      ),
    ).toBe('d/dependencies/mongodb/promise-configure/5058f');
  });

  it('puts static dependencies at dependencies/<promise>/5058f/static', () => {
    expect(nestedPlacementDirectory(destination('d'), store(), work('dependencies'), '5058f')).toBe(
      'd/dependencies/mongodb/5058f/static',
    );
  });

  it('names the aggregated file from filepath.filename, defaulting to aggregated.yaml', () => {
    expect(aggregatedFilePath(destination('d', { mode: 'aggregatedYAML' }), store())).toBe(
      'd/aggregated.yaml',
    );
    expect(
      aggregatedFilePath(
        destination('d', { mode: 'aggregatedYAML', filename: 'all.yaml' }),
        store('s'),
      ),
    ).toBe('s/d/all.yaml');
  });

  it('tracks none-mode placements under .kratix/<placement>.yaml', () => {
    expect(noneModeTrackingFile(destination('d', { mode: 'none' }), store(), 'w.worker-1')).toBe(
      'd/.kratix/w.worker-1.yaml',
    );
  });

  it('writes check documents under dependencies/ and resources/, or at the root in none mode', () => {
    expect(destinationCheckFiles(destination('d'), store()).map((f) => f.path)).toEqual([
      'd/dependencies/kratix-canary-namespace.yaml',
      'd/resources/kratix-canary-configmap.yaml',
    ]);
    expect(
      destinationCheckFiles(destination('d', { mode: 'none' }), store()).map((f) => f.path),
    ).toEqual(['d/kratix-canary-namespace.yaml', 'd/kratix-canary-configmap.yaml']);
  });

  it('aggregates documents in placement-name order, separated by ---', () => {
    const text = aggregateDocuments([
      { placementName: 'b.d', contents: ['kind: B\n'] },
      { placementName: 'a.d', contents: ['---\nkind: A1\n', 'kind: A2'] },
    ]);
    expect(text).toBe('kind: A1\n---\nkind: A2\n---\nkind: B\n');
    expect(aggregateDocuments([])).toBe('');
  });
});

describe('spec hashing', () => {
  it('hashes equal specs equally whatever their key order, and different specs differently', () => {
    expect(specHash({ a: 1, b: { c: [1, 2] } })).toBe(specHash({ b: { c: [1, 2] }, a: 1 }));
    expect(specHash({ a: 1 })).not.toBe(specHash({ a: 2 }));
    expect(specHash({ list: [1, 2] })).not.toBe(specHash({ list: [2, 1] }));
  });

  it('digests workloads independently of their order', () => {
    const a = { filepath: 'a.yaml', content: 'a' };
    const b = { filepath: 'b.yaml', content: 'b' };
    expect(workloadsDigest([a, b])).toBe(workloadsDigest([b, a]));
    expect(workloadsDigest([a])).not.toBe(workloadsDigest([{ ...a, content: 'changed' }]));
  });
});
