/**
 * The activities that carry out scheduling decisions (model/placement, model/work-placement):
 * the scheduling context, placement writes, misplaced flags, deletes. ~380 lines: the load and
 * report helpers of the placement write sit beside it.
 */
import { CONDITION, REASON } from '../model/conditions';
import { isBeingDeleted } from '../model/objects';
import { LABELS, labelValue } from '../model/labels';
import { filepathMode } from '../model/paths';
import { aggregatedFile } from './placement-files';
import type {
  DestinationCandidate,
  ExistingPlacement,
  PlacementTarget,
  SchedulableWork,
  UnscheduledGroup,
} from '../model/placement';
import { NO_DESTINATIONS_MESSAGE, unschedulableLogData } from '../model/placement';
import type { Destination, Secret, StateStore, Work, WorkPlacement } from '../model/types';
import type { PlacementProblem, StoreWritePlan } from '../model/work-placement';
import { planPlacementWrites } from '../model/work-placement';
import { InvalidInputError } from '../model/errors';
import { StateStoreError } from '../statestores/writer';
import { ApplicationFailure } from '@temporalio/activity';
import { SYSTEM_NAMESPACE } from '../model/types';
import { listAll } from '../platform/store';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound } from './deps';
import { recordEvent, writeStatus } from './status';
import type { WorkRef } from './works';

export interface SchedulingContext {
  work: SchedulableWork;
  destinations: DestinationCandidate[];
  placements: ExistingPlacement[];
}

export async function placementsOfWork(
  deps: ActivityDeps,
  work: WorkRef,
): Promise<WorkPlacement[]> {
  const all = await listAll<WorkPlacement>(deps.store, 'WorkPlacement', {
    labelSelector: { [LABELS.work]: labelValue(work.name) },
  });
  return all.filter(
    (p) => p.spec?.workNamespace === work.namespace && p.spec.workName === work.name,
  );
}

/** The state store behind a Destination and the Secret it refers to. */
export async function stateStoreOf(
  deps: Pick<ActivityDeps, 'store'>,
  destination: Destination,
): Promise<{ store: StateStore; secret?: Secret }> {
  const ref = destination.spec?.stateStoreRef;
  if (!ref) throw notFound(`spec.stateStoreRef of Destination "${destination.metadata.name}"`);
  const store = await deps.store.get<StateStore>({ kind: ref.kind, name: ref.name });
  if (!store?.spec)
    throw notFound(
      `${ref.kind} "${ref.name}" (used by Destination "${destination.metadata.name}")`,
    );
  const secretRef = store.spec.secretRef;
  let secret: Secret | undefined;
  if (secretRef) {
    secret = await deps.store.get<Secret>({
      kind: 'Secret',
      name: secretRef.name,
      namespace: secretRef.namespace ?? 'default',
    });
    if (!secret)
      throw notFound(
        `Secret "${secretRef.namespace ?? 'default'}/${secretRef.name}" (secretRef of ${ref.kind} "${ref.name}")`,
      );
  }
  return { store, secret };
}

/** A Work, the Destinations it may go to and its placements, as the scheduler sees them. */
export async function readSchedulingContext(
  deps: ActivityDeps,
  ref: WorkRef,
): Promise<SchedulingContext | undefined> {
  const work = await deps.store.get<Work>({ kind: 'Work', ...ref });
  if (!work?.spec) return undefined;
  const destinations = (await listAll<Destination>(deps.store, 'Destination')).filter(
    (d) => !isBeingDeleted(d),
  );
  const placements = await placementsOfWork(deps, ref);
  return {
    work: {
      name: ref.name,
      namespace: ref.namespace,
      replicas: work.spec.replicas,
      groups: work.spec.workloadGroups.map((g) => ({
        id: g.id,
        directory: g.directory,
        destinationSelectors: g.destinationSelectors,
      })),
    },
    destinations: destinations.map((d) => ({
      name: d.metadata.name,
      labels: d.metadata.labels ?? {},
      strictMatchLabels: d.spec?.strictMatchLabels === true,
    })),
    placements: placements.map((p) => ({
      name: p.metadata.name,
      destination: p.spec?.targetDestinationName ?? '',
      groupId: p.spec?.workloadGroupId ?? '',
      misplaced: p.metadata.labels?.[LABELS.misplaced] === 'true',
    })),
  };
}

export function createSchedulingActivities(deps: ActivityDeps) {
  return {
    async loadSchedulingContext(ref: WorkRef): Promise<SchedulingContext | undefined> {
      return guarded(() => readSchedulingContext(deps, ref));
    },

    /**
     * Writes each targeted workload group to its Destination's state store (one update per
     * store, from the pure plan of model/work-placement) and records the WorkPlacements.
     * Files first, then records: a retry after a crash rewrites identical bytes, which the
     * writers skip; an aggregatedYAML file is derived from the records, so there they come
     * first. A Destination that cannot be written (no state store, bad credentials) fails
     * alone: the others are written, and its Work says which failed and why.
     */
    async writeWorkPlacements(input: {
      work: WorkRef;
      targets: PlacementTarget[];
    }): Promise<{ written: number; changed: number; failed: string[] }> {
      return guarded(async () => {
        const work = await deps.store.get<Work>({ kind: 'Work', ...input.work });
        if (!work?.spec) throw notFound(`Work "${input.work.namespace}/${input.work.name}"`);
        const log = activityLogger(deps, { work: input.work.name, promise: work.spec.promiseName });
        const loaded = await loadTargets(deps, input.targets);
        const plan = planPlacementWrites({
          work,
          workRef: input.work,
          targets: input.targets,
          destination: (name) => loaded.destinations.get(name),
          stateStore: (d) => loaded.stores.get(d.metadata.name) ?? { problem: 'no state store' },
          previous: (name) => loaded.previous.get(name),
        });
        const problems = [...plan.problems];
        let changed = 0;
        for (const write of plan.stores) {
          const { store, secret } = loaded.writers.get(write.store)!;
          try {
            if (write.aggregated.length > 0) await recordPlacements(deps, write, store, false);
            const result = await deps.stateStores.forStore(store, secret).update({
              message: write.message,
              ...write.changes,
              writeFiles: [
                ...(write.changes.writeFiles ?? []),
                ...write.aggregated.map((d) => aggregatedFile(deps, d, store)),
              ],
            });
            if (result.changed) changed++;
            log.info(
              {
                stateStore: write.store,
                placements: write.placements.length,
                changed: result.changed,
                revision: result.revision,
              },
              result.changed ? 'state store updated' : 'state store already up to date',
            );
            await recordPlacements(deps, write, store, true);
          } catch (err) {
            if (isRetryable(err)) throw err; // Temporal retries; done writes are found done
            const message = err instanceof Error ? err.message : String(err);
            for (const p of write.placements) {
              problems.push({
                placementName: p.metadata.name,
                destination: p.spec!.targetDestinationName,
                message,
              });
            }
          }
        }
        return reportWrites(deps, input, work, problems, changed);
      });
    },

    /** Misplaced placements keep their files and are not updated any more (Kratix docs: Updates, misplaced workloads). */
    async markWorkPlacementsMisplaced(input: { names: string[] }): Promise<void> {
      return guarded(async () => {
        for (const name of input.names) {
          const key = { kind: 'WorkPlacement', name, namespace: SYSTEM_NAMESPACE };
          await deps.store.patchLabels(key, {
            [LABELS.misplaced]: 'true',
            [LABELS.misscheduled]: 'true',
          });
          activityLogger(deps, { workPlacement: name }).warn(
            'WorkPlacement misplaced: its Destination is no longer targeted; files left in place',
          );
        }
      });
    },

    /** Logs Kratix's exact line, so `grep "no Destinations can be selected for scheduling"` finds it. */
    async reportUnscheduled(input: { work: WorkRef; groups: UnscheduledGroup[] }): Promise<void> {
      return guarded(async () => {
        const log = activityLogger(deps, { work: input.work.name });
        for (const g of input.groups)
          log.info(unschedulableLogData(g.destinationSelectors), NO_DESTINATIONS_MESSAGE);
        await writeStatus(deps, { kind: 'Work', ...input.work }, [
          {
            type: CONDITION.scheduled,
            status: 'False',
            reason: REASON.unscheduled,
            message: NO_DESTINATIONS_MESSAGE,
          },
        ]);
      });
    },

    /**
     * Deletes WorkPlacements and their files ("Delete from: <placement>"). In aggregatedYAML
     * mode the record goes first, then the file is written again from the rest.
     */
    async deleteWorkPlacements(input: { names: string[] }): Promise<{ deleted: string[] }> {
      return guarded(async () => {
        const deleted: string[] = [];
        for (const name of input.names) {
          const key = { kind: 'WorkPlacement', name, namespace: SYSTEM_NAMESPACE };
          const placement = await deps.store.get<WorkPlacement>(key);
          if (!placement?.spec) continue;
          const destination = await deps.store.get<Destination>({
            kind: 'Destination',
            name: placement.spec.targetDestinationName,
          });
          if (destination) {
            const { store, secret } = await stateStoreOf(deps, destination);
            const aggregated = filepathMode(destination) === 'aggregatedYAML';
            if (aggregated) await deps.store.delete(key);
            await deps.stateStores.forStore(store, secret).update({
              message: `Delete from: ${name}`,
              deletePaths: placement.spec.paths,
              writeFiles: aggregated ? [aggregatedFile(deps, destination, store)] : [],
            });
          }
          await deps.store.delete(key);
          deleted.push(name);
          activityLogger(deps, { workPlacement: name }).info(
            'WorkPlacement deleted with its files',
          );
        }
        return { deleted };
      });
    },

    async listWorks(input: {
      cursor?: string;
      pageSize: number;
    }): Promise<{ works: WorkRef[]; cursor?: string }> {
      return guarded(async () => {
        const page = await deps.store.list<Work>('Work', {
          limit: input.pageSize,
          continue: input.cursor,
        });
        return {
          works: page.items.map((w) => ({
            name: w.metadata.name,
            namespace: w.metadata.namespace ?? '',
          })),
          cursor: page.continue,
        };
      });
    },
  };
}

interface LoadedTargets {
  destinations: Map<string, Destination>;
  /** By Destination name: its state store, or why it has none to write to. */
  stores: Map<string, { store: StateStore } | { problem: string }>;
  /** By `<kind>/<name>` of a state store: what its writer needs. */
  writers: Map<string, { store: StateStore; secret?: Secret }>;
  previous: Map<string, WorkPlacement>;
}

/** Everything the plan reads: each target's Destination, state store and last placement. */
async function loadTargets(deps: ActivityDeps, targets: PlacementTarget[]): Promise<LoadedTargets> {
  const loaded: LoadedTargets = {
    destinations: new Map(),
    stores: new Map(),
    writers: new Map(),
    previous: new Map(),
  };
  for (const t of targets) {
    if (!loaded.destinations.has(t.destination)) {
      const d = await deps.store.get<Destination>({ kind: 'Destination', name: t.destination });
      if (d) {
        loaded.destinations.set(t.destination, d);
        try {
          const found = await stateStoreOf(deps, d);
          loaded.stores.set(t.destination, { store: found.store });
          loaded.writers.set(`${found.store.kind}/${found.store.metadata.name}`, found);
        } catch (err) {
          if (isRetryable(err)) throw err;
          loaded.stores.set(t.destination, { problem: (err as Error).message });
        }
      }
    }
    const previous = await deps.store.get<WorkPlacement>({
      kind: 'WorkPlacement',
      name: t.placementName,
      namespace: SYSTEM_NAMESPACE,
    });
    if (previous) loaded.previous.set(t.placementName, previous);
  }
  return loaded;
}

/** Stores a write's WorkPlacements; `written` also marks them Ready. */
async function recordPlacements(
  deps: ActivityDeps,
  write: StoreWritePlan,
  store: StateStore,
  written: boolean,
): Promise<void> {
  for (const placement of write.placements) {
    await deps.store.apply(placement);
    if (!written) continue;
    await writeStatus(
      deps,
      { kind: 'WorkPlacement', name: placement.metadata.name, namespace: SYSTEM_NAMESPACE },
      [
        {
          type: CONDITION.ready,
          status: 'True',
          reason: REASON.stateStoreReady,
          message: `Written to ${store.kind} "${store.metadata.name}"`,
        },
      ],
    );
  }
}

/**
 * The Work's Scheduled condition and the outcome. A resource's Work goes to one
 * Destination, so its failure is the resource's (non-retryable, named); a Promise's Work
 * goes to every match, and one Destination that cannot be written must not stop the rest.
 */
async function reportWrites(
  deps: ActivityDeps,
  input: { work: WorkRef; targets: PlacementTarget[] },
  work: Work,
  problems: PlacementProblem[],
  changed: number,
): Promise<{ written: number; changed: number; failed: string[] }> {
  const failed = problems.map((p) => `${p.destination}: ${p.message}`);
  const written = input.targets.length - problems.length;
  for (const p of problems) {
    await recordEvent(
      deps,
      { kind: 'Destination', name: p.destination },
      { type: 'Warning', reason: 'WriteFailed', message: `${p.placementName}: ${p.message}` },
    );
  }
  const destinations = [...new Set(input.targets.map((t) => t.destination))];
  await writeStatus(deps, { kind: 'Work', ...input.work }, [
    problems.length === 0
      ? {
          type: CONDITION.scheduled,
          status: 'True',
          reason: REASON.scheduled,
          message: `Scheduled to ${destinations.join(', ')}`,
        }
      : {
          type: CONDITION.scheduled,
          status: 'False',
          reason: REASON.stateStoreWriteFailed,
          message: `not written to ${failed.join('; ')}`,
        },
  ]);
  if (problems.length > 0 && (work.spec?.replicas === 'one' || written === 0)) {
    throw new InvalidInputError({
      object: `Work "${input.work.name}"`,
      expected: 'a Destination whose state store can be written',
      got: failed.join('; '),
    });
  }
  return { written, changed, failed };
}

/** Bad input fails now; anything else (I/O) is retried by Temporal. */
function isRetryable(err: unknown): boolean {
  if (err instanceof InvalidInputError) return false;
  if (err instanceof StateStoreError) return err.retryable;
  if (err instanceof ApplicationFailure) return !err.nonRetryable;
  return true;
}
