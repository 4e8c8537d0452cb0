import { matchesMatchLabels } from './selectors';
import type { DestinationSelector } from './types';

/**
 * The scheduler (behaviour §5, §6): which Destinations each workload group of a Work goes to,
 * which existing WorkPlacements are now misplaced, and what cannot be scheduled yet.
 * Pure and deterministic: workflows call it, so every decision is in workflow history.
 */

export interface SchedulingSelectors {
  /** From the Promise's `spec.destinationSelectors`. */
  promise: DestinationSelector[];
  /** From the workflow's `/kratix/metadata/destination-selectors.yaml`. */
  resource: DestinationSelector[];
}

export interface SchedulableGroup {
  id: string;
  directory: string;
  destinationSelectors: SchedulingSelectors;
}

export interface SchedulableWork {
  name: string;
  namespace: string;
  /** `all`: every matching Destination (dependencies). `one`: a single one (resources). */
  replicas: 'one' | 'all';
  groups: SchedulableGroup[];
}

export interface DestinationCandidate {
  name: string;
  labels: Record<string, string>;
  strictMatchLabels: boolean;
}

export interface ExistingPlacement {
  name: string;
  destination: string;
  groupId: string;
  misplaced: boolean;
}

export interface PlacementTarget {
  groupId: string;
  destination: string;
  placementName: string;
}

export interface UnscheduledGroup {
  groupId: string;
  destinationSelectors: SchedulingSelectors;
}

export interface ScheduleDecision {
  targets: PlacementTarget[];
  /** Placements no longer targeted: flag them, never rewrite or delete their files. */
  misplaced: string[];
  unscheduled: UnscheduledGroup[];
}

/** WorkPlacement name: `<work>.<destination>`; a second workload group adds its id. */
export function workPlacementName(
  workName: string,
  groupId: string,
  destination: string,
  groupCount: number,
): string {
  return groupCount > 1 ? `${workName}.${groupId}.${destination}` : `${workName}.${destination}`;
}

/**
 * One matchLabels map from both selector lists. A workflow's selectors are added to the
 * Promise's but can never override a key the Promise sets (Kratix's security rule).
 */
export function effectiveMatchLabels(selectors: SchedulingSelectors): Record<string, string> {
  const fromPromise: Record<string, string> = {};
  for (const s of selectors.promise) Object.assign(fromPromise, s.matchLabels ?? {});
  const merged: Record<string, string> = {};
  for (const s of selectors.resource) {
    for (const [k, v] of Object.entries(s.matchLabels ?? {})) {
      if (!(k in fromPromise)) merged[k] = v;
    }
  }
  return { ...merged, ...fromPromise };
}

export function destinationMatches(
  destination: DestinationCandidate,
  matchLabels: Record<string, string>,
): boolean {
  const hasSelectors = Object.keys(matchLabels).length > 0;
  // A strict Destination only takes work that asks for it by label.
  if (destination.strictMatchLabels && !hasSelectors) return false;
  return matchesMatchLabels(destination.labels, matchLabels);
}

/** FNV-1a: a stable spread of resources over equally good Destinations. */
function stableHash(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193) >>> 0;
  }
  return h;
}

export function decideSchedule(
  work: SchedulableWork,
  destinations: DestinationCandidate[],
  existing: ExistingPlacement[],
): ScheduleDecision {
  const sorted = [...destinations].sort((a, b) => a.name.localeCompare(b.name));
  const targets: PlacementTarget[] = [];
  const unscheduled: UnscheduledGroup[] = [];

  for (const group of work.groups) {
    const matchLabels = effectiveMatchLabels(group.destinationSelectors);
    const matching = sorted.filter((d) => destinationMatches(d, matchLabels));
    let chosen: DestinationCandidate[];
    if (work.replicas === 'all') {
      chosen = matching;
    } else {
      // Keep the Destination chosen before while it still matches.
      const kept = existing.find(
        (p) =>
          p.groupId === group.id && !p.misplaced && matching.some((d) => d.name === p.destination),
      );
      const pick = kept
        ? matching.find((d) => d.name === kept.destination)
        : matching[
            stableHash(`${work.namespace}/${work.name}/${group.id}`) % Math.max(matching.length, 1)
          ];
      chosen = pick ? [pick] : [];
    }
    if (chosen.length === 0) {
      unscheduled.push({ groupId: group.id, destinationSelectors: group.destinationSelectors });
    }
    for (const d of chosen) {
      // One placement per (group, Destination): reuse the existing one's name, even when the
      // number of groups changed the default name or it was flagged misplaced. A second
      // placement over the same files would be "misplaced", and deleting it would remove
      // files still in use.
      const same = existing.find((p) => p.groupId === group.id && p.destination === d.name);
      targets.push({
        groupId: group.id,
        destination: d.name,
        placementName:
          same?.name ?? workPlacementName(work.name, group.id, d.name, work.groups.length),
      });
    }
  }

  const targeted = new Set(targets.map((t) => t.placementName));
  const misplaced = existing
    .filter((p) => !p.misplaced && !targeted.has(p.name))
    .map((p) => p.name)
    .sort();
  return { targets, misplaced, unscheduled };
}

/** The structured data of Kratix's "no Destinations can be selected for scheduling" log line. */
export function unschedulableLogData(selectors: SchedulingSelectors): {
  destinationSelectors: {
    promise?: { target: { matchLabels: Record<string, string> } }[];
    resource?: { target: { matchLabels: Record<string, string> } }[];
  };
} {
  const wrap = (list: DestinationSelector[]) =>
    list.map((s) => ({ target: { matchLabels: { ...(s.matchLabels ?? {}) } } }));
  const out: ReturnType<typeof unschedulableLogData>['destinationSelectors'] = {};
  if (selectors.promise.length > 0) out.promise = wrap(selectors.promise);
  if (selectors.resource.length > 0) out.resource = wrap(selectors.resource);
  return { destinationSelectors: out };
}

export const NO_DESTINATIONS_MESSAGE = 'no Destinations can be selected for scheduling';
