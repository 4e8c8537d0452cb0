import { describe, expect, it } from 'vitest';
import {
  decideSchedule,
  destinationMatches,
  effectiveMatchLabels,
  unschedulableLogData,
  workPlacementName,
} from '../../src/model/placement';
import type {
  DestinationCandidate,
  ExistingPlacement,
  SchedulableGroup,
  SchedulableWork,
  SchedulingSelectors,
} from '../../src/model/placement';

const dest = (
  name: string,
  labels: Record<string, string> = {},
  strictMatchLabels = false,
): DestinationCandidate => ({ name, labels, strictMatchLabels });

const sel = (
  promise: Record<string, string>[] = [],
  resource: Record<string, string>[] = [],
): SchedulingSelectors => ({
  promise: promise.map((matchLabels) => ({ matchLabels })),
  resource: resource.map((matchLabels) => ({ matchLabels })),
});

const group = (
  id: string,
  destinationSelectors: SchedulingSelectors,
  directory = '.',
): SchedulableGroup => ({ id, directory, destinationSelectors });

const work = (
  replicas: 'one' | 'all',
  groups: SchedulableGroup[],
  name = 'w',
): SchedulableWork => ({ name, namespace: 'default', replicas, groups });

const placed = (
  name: string,
  destination: string,
  groupId = '5058f',
  misplaced = false,
): ExistingPlacement => ({ name, destination, groupId, misplaced });

describe('effectiveMatchLabels', () => {
  it('adds workflow selectors to the Promise selectors', () => {
    expect(effectiveMatchLabels(sel([{ environment: 'dev' }], [{ pvCapacity: 'large' }]))).toEqual({
      environment: 'dev',
      pvCapacity: 'large',
    });
  });

  it('never lets a workflow selector override a key the Promise sets', () => {
    expect(
      effectiveMatchLabels(sel([{ environment: 'dev' }], [{ environment: 'prod', tier: 'app' }])),
    ).toEqual({ environment: 'dev', tier: 'app' });
  });

  it('ANDs every selector of each list, and is empty without any', () => {
    expect(effectiveMatchLabels(sel([{ a: '1' }, { b: '2' }], [{ c: '3' }, { d: '4' }]))).toEqual({
      a: '1',
      b: '2',
      c: '3',
      d: '4',
    });
    expect(effectiveMatchLabels(sel())).toEqual({});
  });
});

describe('destinationMatches', () => {
  it('takes every non-strict Destination when there are no selectors', () => {
    expect(destinationMatches(dest('a'), {})).toBe(true);
    expect(destinationMatches(dest('a', { environment: 'prod' }), {})).toBe(true);
  });

  it('gives a strictMatchLabels Destination only work whose selectors are non-empty and match', () => {
    const strict = dest('s', { environment: 'dev' }, true);
    expect(destinationMatches(strict, {})).toBe(false);
    expect(destinationMatches(strict, { environment: 'dev' })).toBe(true);
    expect(destinationMatches(strict, { environment: 'prod' })).toBe(false);
  });

  it('needs every selected label on the Destination', () => {
    expect(destinationMatches(dest('a', { environment: 'dev' }), { environment: 'dev' })).toBe(
      true,
    );
    expect(
      destinationMatches(dest('a', { environment: 'dev' }), {
        environment: 'dev',
        pvCapacity: 'large',
      }),
    ).toBe(false);
  });
});

describe('decideSchedule', () => {
  const dev1 = dest('dev-1', { environment: 'dev' });
  const dev2 = dest('dev-2', { environment: 'dev' });
  const dev3 = dest('dev-3', { environment: 'dev' });
  const prod = dest('prod-1', { environment: 'prod' });
  const strict = dest('strict-1', { environment: 'dev' }, true);
  const devSelectors = sel([{ environment: 'dev' }]);

  it('sends dependencies (replicas all) to EVERY matching Destination', () => {
    const d = decideSchedule(
      work('all', [group('5058f', devSelectors)]),
      [prod, dev2, strict, dev1],
      [],
    );
    expect(d.targets.map((t) => t.placementName)).toEqual(['w.dev-1', 'w.dev-2', 'w.strict-1']);
    expect(d.misplaced).toEqual([]);
    expect(d.unscheduled).toEqual([]);
  });

  it('sends a resource (replicas one) to exactly ONE matching Destination, whatever the input order', () => {
    const a = decideSchedule(work('one', [group('5058f', devSelectors)]), [dev1, dev2, prod], []);
    const b = decideSchedule(work('one', [group('5058f', devSelectors)]), [prod, dev2, dev1], []);
    expect(a.targets).toHaveLength(1);
    expect(['dev-1', 'dev-2']).toContain(a.targets[0]!.destination);
    expect(b.targets).toEqual(a.targets);
  });

  it('keeps a resource on the Destination chosen before while it still matches', () => {
    for (const home of ['dev-1', 'dev-2', 'dev-3']) {
      const d = decideSchedule(
        work('one', [group('5058f', devSelectors)]),
        [dev1, dev2, dev3, prod],
        [placed(`w.${home}`, home)],
      );
      expect(d.targets.map((t) => t.destination)).toEqual([home]);
      expect(d.misplaced).toEqual([]);
    }
  });

  it('moves a resource whose Destination no longer matches, flagging the old placement misplaced', () => {
    const d = decideSchedule(
      work('one', [group('5058f', devSelectors)]),
      [dest('dev-1', { environment: 'staging' }), dev2],
      [placed('w.dev-1', 'dev-1')],
    );
    expect(d.targets.map((t) => t.placementName)).toEqual(['w.dev-2']);
    expect(d.misplaced).toEqual(['w.dev-1']);
  });

  it('flags placements on Destinations no longer targeted as misplaced, once (Kratix docs: Updates, misplaced workloads)', () => {
    const prodSelectors = sel([{ environment: 'prod' }]);
    const d = decideSchedule(
      work('all', [group('5058f', prodSelectors)]),
      [dev1, prod],
      [placed('w.dev-1', 'dev-1')],
    );
    expect(d.targets.map((t) => t.placementName)).toEqual(['w.prod-1']);
    expect(d.misplaced).toEqual(['w.dev-1']);
    // Already flagged: not flagged again, not rewritten.
    const again = decideSchedule(
      work('all', [group('5058f', prodSelectors)]),
      [dev1, prod],
      [placed('w.dev-1', 'dev-1', '5058f', true), placed('w.prod-1', 'prod-1')],
    );
    expect(again.targets.map((t) => t.placementName)).toEqual(['w.prod-1']);
    expect(again.misplaced).toEqual([]);
  });

  it('reports groups no Destination matches, with their selectors, and writes nothing for them', () => {
    const selectors = sel([{ environment: 'dev' }], [{ pvCapacity: 'large' }]);
    const d = decideSchedule(work('one', [group('5058f', selectors)]), [dev1, prod], []);
    expect(d.targets).toEqual([]);
    expect(d.unscheduled).toEqual([{ groupId: '5058f', destinationSelectors: selectors }]);
    expect(unschedulableLogData(selectors)).toEqual({
      destinationSelectors: {
        promise: [{ target: { matchLabels: { environment: 'dev' } } }],
        resource: [{ target: { matchLabels: { pvCapacity: 'large' } } }],
      },
    });
    expect(unschedulableLogData(sel([{ environment: 'dev' }]))).toEqual({
      destinationSelectors: { promise: [{ target: { matchLabels: { environment: 'dev' } } }] },
    });
  });

  it('schedules a directory group by its own selectors, each group to its own Destination', () => {
    const monitoring = dest('mon-1', { environment: 'dev', role: 'monitoring' });
    const app = dest('app-1', { environment: 'dev', tier: 'app' });
    const d = decideSchedule(
      work('one', [
        group('5058f', sel([{ environment: 'dev' }], [{ tier: 'app' }])),
        group('abcde', sel([{ environment: 'dev' }], [{ role: 'monitoring' }]), 'monitoring'),
      ]),
      [monitoring, app],
      [],
    );
    expect(d.targets).toEqual([
      { groupId: '5058f', destination: 'app-1', placementName: 'w.5058f.app-1' },
      { groupId: 'abcde', destination: 'mon-1', placementName: 'w.abcde.mon-1' },
    ]);
  });

  it('keeps the name of an existing placement for the same group and Destination when the number of groups changes', () => {
    // One group before (`w.dev-1`), two now: the root group's placement on dev-1 is the
    // same placement (same files), not a new one next to a "misplaced" old one whose
    // deletion would remove the files still in use.
    const d = decideSchedule(
      work('one', [
        group('5058f', devSelectors),
        group('abcde', sel([{ environment: 'dev' }], [{ role: 'monitoring' }]), 'monitoring'),
      ]),
      [dev1, dev2, dest('mon-1', { environment: 'dev', role: 'monitoring' })],
      [placed('w.dev-1', 'dev-1')],
    );
    expect(d.targets).toContainEqual({
      groupId: '5058f',
      destination: 'dev-1',
      placementName: 'w.dev-1',
    });
    expect(d.misplaced).toEqual([]);
    // A flagged placement that is targeted again is the same placement too (and is rewritten).
    const back = decideSchedule(
      work('all', [group('5058f', devSelectors)]),
      [dev1],
      [placed('w.5058f.dev-1', 'dev-1', '5058f', true)],
    );
    expect(back.targets.map((t) => t.placementName)).toEqual(['w.5058f.dev-1']);
  });

  it('names placements <work>.<destination>, adding the group id when there are several groups', () => {
    expect(workPlacementName('namespace', '5058f', 'dev-cluster-1', 1)).toBe(
      'namespace.dev-cluster-1',
    );
    expect(workPlacementName('w', 'abcde', 'mon-1', 2)).toBe('w.abcde.mon-1');
  });
});
