import { describe, expect, it } from 'vitest';
import { planPlacementWrites } from '../../src/model/work-placement';
import type { Destination, StateStore, Work } from '../../src/model/types';

const store = (name: string): StateStore => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'GitStateStore',
  metadata: { name },
  spec: { url: `file:///tmp/${name}.git` },
});

const destination = (
  name: string,
  storeName: string,
  mode?: 'aggregatedYAML' | 'none',
): Destination => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Destination',
  metadata: { name },
  spec: {
    path: name,
    stateStoreRef: { kind: 'GitStateStore', name: storeName },
    ...(mode ? { filepath: { mode } } : {}),
  },
});

const work: Work = {
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Work',
  metadata: { name: 'redis-cache-a-configure', namespace: 'default' },
  spec: {
    source: 'resource',
    promiseName: 'redis',
    pipelineName: 'configure',
    resourceName: 'cache-a',
    resourceNamespace: 'default',
    replicas: 'all',
    workloadGroups: [
      {
        id: '5058f',
        directory: '.',
        destinationSelectors: { promise: [], resource: [] },
        workloads: [{ filepath: 'redis.yaml', content: 'kind: Redis\n' }],
        digest: 'd1',
      },
    ],
  },
};

function plan(destinations: Destination[], missingStore?: string) {
  return planPlacementWrites({
    work,
    workRef: { name: work.metadata.name, namespace: 'default' },
    targets: destinations.map((d) => ({
      groupId: '5058f',
      destination: d.metadata.name,
      placementName: `${work.metadata.name}.${d.metadata.name}`,
    })),
    destination: (n) => destinations.find((d) => d.metadata.name === n),
    stateStore: (d) =>
      d.spec!.stateStoreRef.name === missingStore
        ? { problem: `GitStateStore "${missingStore}" not found` }
        : { store: store(d.spec!.stateStoreRef.name) },
    previous: () => undefined,
  });
}

describe('planning the writes of a scheduling decision', () => {
  it('makes one write per state store, naming every placement in its message', () => {
    const { stores, problems } = plan([
      destination('a', 'one'),
      destination('b', 'one'),
      destination('c', 'two'),
    ]);
    expect(problems).toEqual([]);
    expect(stores.map((s) => [s.store, s.message])).toEqual([
      ['GitStateStore/one', 'Update from: redis-cache-a-configure.a, redis-cache-a-configure.b'],
      ['GitStateStore/two', 'Update from: redis-cache-a-configure.c'],
    ]);
    expect(stores[0]!.changes.replaceDirs?.map((d) => d.dir)).toEqual([
      'a/resources/default/redis/cache-a/configure/5058f',
      'b/resources/default/redis/cache-a/configure/5058f',
    ]);
    expect(stores[0]!.placements[0]).toMatchObject({
      kind: 'WorkPlacement',
      metadata: {
        name: 'redis-cache-a-configure.a',
        namespace: 'kratix-platform-system',
        labels: {
          'kratix.io/work': 'redis-cache-a-configure',
          'kratix.io/targetDestinationName': 'a',
          'kratix.io/promise-name': 'redis',
          'kratix.io/resource-name': 'cache-a',
        },
      },
      spec: { paths: ['a/resources/default/redis/cache-a/configure/5058f'], digest: 'd1' },
    });
  });

  it("leaves an aggregatedYAML Destination's one file to be derived from all its placements", () => {
    const { stores } = plan([destination('agg', 'one', 'aggregatedYAML')]);
    expect(stores[0]!.changes).toEqual({});
    expect(stores[0]!.aggregated.map((d) => d.metadata.name)).toEqual(['agg']);
    expect(stores[0]!.placements[0]!.spec!.paths).toEqual([]);
  });

  it('tracks loose files of a `none` Destination in .kratix/<placement>.yaml', () => {
    const { stores } = plan([destination('flat', 'one', 'none')]);
    expect(stores[0]!.changes.writeFiles?.map((f) => f.path)).toEqual([
      'flat/redis.yaml',
      'flat/.kratix/redis-cache-a-configure.flat.yaml',
    ]);
  });

  it('fails a Destination without a state store alone, planning the others', () => {
    const { stores, problems } = plan([destination('a', 'one'), destination('b', 'gone')], 'gone');
    expect(stores.map((s) => s.store)).toEqual(['GitStateStore/one']);
    expect(problems).toEqual([
      {
        placementName: 'redis-cache-a-configure.b',
        destination: 'b',
        message: 'GitStateStore "gone" not found',
      },
    ]);
  });
});
