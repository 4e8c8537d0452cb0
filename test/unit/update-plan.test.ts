import { describe, expect, it } from 'vitest';
import { defaultRollout } from '../../src/model/rollout';
import type {
  Destination,
  ResourceBinding,
  StateStore,
  Work,
  WorkPlacement,
} from '../../src/model/types';
import {
  assemblePlan,
  destinationDiffs,
  existingPlacements,
  fileDiff,
  pathsToList,
  planDestinationWrites,
  planWorkPlacements,
  resultingFiles,
  splitFleet,
} from '../../src/model/update-plan';
import { resolveRollout } from '../../src/model/validate-rollout';

const store: StateStore = {
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'GitStateStore',
  metadata: { name: 'default' },
  spec: { url: 'file:///tmp/state.git' },
};

const destination = (name: string, labels: Record<string, string>): Destination => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Destination',
  metadata: { name, labels },
  spec: { path: name, stateStoreRef: { kind: 'GitStateStore', name: 'default' } },
});
const destinations = [destination('dev', { env: 'dev' }), destination('prod', { env: 'prod' })];
const candidates = destinations.map((d) => ({
  name: d.metadata.name,
  labels: d.metadata.labels ?? {},
  strictMatchLabels: false,
}));

const binding = (version: string): ResourceBinding => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'ResourceBinding',
  metadata: { name: 'b', namespace: 'default' },
  spec: {
    promiseRef: { name: 'app' },
    resourceRef: { name: 'x', namespace: 'default' },
    version,
  },
});

/** The Work the `render` pipeline of request `name` would produce, selecting `env`. */
const work = (name: string, env: string, content: string): Work => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'Work',
  metadata: { name: `app-${name}-render`, namespace: 'default' },
  spec: {
    source: 'resource',
    promiseName: 'app',
    pipelineName: 'render',
    resourceName: name,
    resourceNamespace: 'default',
    replicas: 'one',
    workloadGroups: [
      {
        id: '5058f',
        directory: '.',
        destinationSelectors: { promise: [{ matchLabels: { env } }], resource: [] },
        workloads: [{ filepath: 'config.yaml', content }],
        digest: content,
      },
    ],
  },
});

const placement = (name: string, dest: string, misplaced = false): WorkPlacement => ({
  apiVersion: 'platform.kratix.io/v1alpha1',
  kind: 'WorkPlacement',
  metadata: {
    name: `app-${name}-render.${dest}`,
    namespace: 'kratix-platform-system',
    labels: misplaced ? { 'kratix.io/misplaced': 'true' } : {},
  },
  spec: {
    targetDestinationName: dest,
    workName: `app-${name}-render`,
    workNamespace: 'default',
    workloadGroupId: '5058f',
    promiseName: 'app',
    resourceName: name,
    digest: 'old',
    paths: [`${dest}/resources/default/app/${name}/render/5058f`],
  },
});

describe('the update plan (pure)', () => {
  it('re-runs floating bindings, bindings pinned to the proposed version and requests without a binding; leaves other pins', () => {
    const { rerun, pinned } = splitFleet(
      [
        { namespace: 'default', name: 'a', binding: binding('latest') },
        { namespace: 'default', name: 'b' },
        { namespace: 'default', name: 'c', binding: binding('v2') },
        { namespace: 'default', name: 'd', binding: binding('v1') },
      ],
      'v2',
    );
    expect(rerun.map((r) => r.name)).toEqual(['a', 'b', 'c']);
    expect(pinned).toEqual([{ namespace: 'default', name: 'd', version: 'v1' }]);
  });

  it('names kept, added and misplaced placements as the scheduler decides them', () => {
    // Was on dev; the proposed selector says prod: prod is added, dev misplaced.
    const moved = planWorkPlacements(
      work('a', 'prod', 'v: 2\n'),
      candidates,
      existingPlacements([placement('a', 'dev')]),
    );
    expect(moved.changes).toEqual([
      { placement: 'app-a-render.prod', destination: 'prod', groupId: '5058f', change: 'added' },
      { placement: 'app-a-render.dev', destination: 'dev', groupId: '5058f', change: 'misplaced' },
    ]);
    const stays = planWorkPlacements(
      work('b', 'dev', 'v: 2\n'),
      candidates,
      existingPlacements([placement('b', 'dev')]),
    );
    expect(stays.changes.map((c) => c.change)).toEqual(['kept']);
    // Placed again where it was misplaced before: a placement added back, nothing misplaced.
    const back = planWorkPlacements(
      work('c', 'dev', 'v: 2\n'),
      candidates,
      existingPlacements([placement('c', 'dev', true)]),
    );
    expect(back.changes.map((c) => c.change)).toEqual(['added']);
    const none = planWorkPlacements(work('d', 'qa', 'v: 2\n'), candidates, []);
    expect(none.unscheduled).toEqual([{ groupId: '5058f', matchLabels: { env: 'qa' } }]);
  });

  it('lays out the files as the writer would and diffs them: changed, new and removed files; unchanged ones not listed', () => {
    const w = work('a', 'dev', 'name: a\nversion: v2\n');
    const { targets } = planWorkPlacements(
      w,
      candidates,
      existingPlacements([placement('a', 'dev')]),
    );
    const { writes, problems } = planDestinationWrites({
      works: [{ work: w, targets }],
      destination: (n) => destinations.find((d) => d.metadata.name === n),
      stateStore: () => store,
      previous: () => undefined,
    });
    expect(problems).toEqual([]);
    expect(writes).toHaveLength(1);
    const dir = 'dev/resources/default/app/a/render/5058f';
    expect(pathsToList(writes[0]!.changes)).toEqual([dir]);
    const resulting = resultingFiles(writes[0]!.changes, () => [
      `${dir}/config.yaml`,
      `${dir}/old.yaml`,
    ]);
    const now: Record<string, string> = {
      [`${dir}/config.yaml`]: 'name: a\nversion: v1\n',
      [`${dir}/old.yaml`]: 'gone: true\n',
    };
    const diffs = destinationDiffs('dev', resulting, (p) =>
      now[p] === undefined ? undefined : new TextEncoder().encode(now[p]),
    );
    expect(diffs.map((d) => [d.path, d.change])).toEqual([
      [`${dir}/config.yaml`, 'modified'],
      [`${dir}/old.yaml`, 'removed'],
    ]);
    expect(diffs[0]!.patch).toContain('-version: v1\n+version: v2');
    expect(diffs[1]!.patch).toContain('+++ /dev/null');

    expect(fileDiff('dev', 'x', new TextEncoder().encode('same\n'), 'same\n')).toBeUndefined();
    const added = fileDiff('dev', 'new.yaml', undefined, 'a: 1\n');
    expect(added?.change).toBe('added');
    expect(added?.patch).toMatch(/^--- \/dev\/null\n\+\+\+ b\/new\.yaml/);
    expect(fileDiff('dev', 'bin', undefined, new Uint8Array([0xff, 0xfe]))).toEqual({
      destination: 'dev',
      path: 'bin',
      change: 'added',
      binary: true,
    });
  });

  it('assembles batches and counts from the rollout', () => {
    const rollout = resolveRollout({ concurrency: 5, override: { batchSize: 2 } });
    const rerun = ['a', 'b', 'c'].map((name) => ({ namespace: 'default', name }));
    const changes = planWorkPlacements(
      work('a', 'prod', 'x'),
      candidates,
      existingPlacements([placement('a', 'dev')]),
    );
    const plan = assemblePlan({
      promise: 'app',
      currentVersion: 'v1',
      proposedVersion: 'v2',
      changed: true,
      rollout,
      rerun,
      pinned: [{ namespace: 'default', name: 'd', version: 'v1' }],
      promiseWorks: [],
      resourceWorks: new Map([
        ['default/a', { works: [{ work: 'app-a-render', pipeline: 'render', ...changes }] }],
        ['default/c', { works: [], error: 'pipeline render would fail' }],
      ]),
      files: [{ destination: 'prod', path: 'p', change: 'added' }],
    });
    expect(plan.rollout).toBe(
      'per-update policy, batches of 2, maxConcurrency 5, no failure budget, onFailure halt',
    );
    expect(plan.batches).toEqual([['default/a', 'default/b'], ['default/c']]);
    expect(plan.resources.map((r) => r.batch)).toEqual([0, 0, 1]);
    expect(plan.summary).toEqual({
      resourcesRerun: 3,
      resourcesPinned: 1,
      batches: 2,
      placements: { added: 1, kept: 0, misplaced: 1, unscheduled: 0 },
      filesChanged: { prod: 1 },
      errors: 1,
    });
    expect(assemblePlan({ ...planInput(), rollout: defaultRollout(10) }).rollout).toBe(
      'default policy, one batch, maxConcurrency 10, no failure budget, onFailure halt',
    );
  });
});

function planInput() {
  return {
    promise: 'app',
    proposedVersion: 'v1',
    changed: true,
    rollout: defaultRollout(10),
    rerun: [],
    pinned: [],
    promiseWorks: [],
    resourceWorks: new Map(),
    files: [],
  };
}
