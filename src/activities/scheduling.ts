import { CONDITION, REASON, setCondition } from '../model/conditions';
import { LABELS } from '../model/labels';
import { filepathMode } from '../model/paths';
import { aggregatedFile, mergeBatch, placementFiles } from './placement-files';
import type {
  DestinationCandidate,
  ExistingPlacement,
  PlacementTarget,
  SchedulableWork,
  UnscheduledGroup,
} from '../model/placement';
import { NO_DESTINATIONS_MESSAGE, unschedulableLogData } from '../model/placement';
import type {
  Condition,
  Destination,
  Secret,
  StateStore,
  Work,
  WorkPlacement,
} from '../model/types';
import { PLATFORM_API_VERSION, SYSTEM_NAMESPACE } from '../model/types';
import { listAll } from '../platform/store';
import type { UpdateBatch } from '../statestores/writer';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound, nowIso } from './deps';
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
    labelSelector: { [LABELS.work]: work.name },
  });
  return all.filter((p) => p.spec?.workNamespace === work.namespace);
}

/** The state store behind a Destination and the Secret it refers to. */
export async function stateStoreOf(
  deps: ActivityDeps,
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

function withCondition<T extends { status?: Record<string, unknown> }>(
  obj: T,
  condition: Condition,
  now: string,
): Record<string, unknown> {
  return {
    ...(obj.status ?? {}),
    conditions: setCondition(obj.status?.conditions as Condition[] | undefined, condition, now),
  };
}

export function createSchedulingActivities(deps: ActivityDeps) {
  return {
    async loadSchedulingContext(ref: WorkRef): Promise<SchedulingContext | undefined> {
      return guarded(async () => {
        const work = await deps.store.get<Work>({ kind: 'Work', ...ref });
        if (!work?.spec) return undefined;
        const destinations = await listAll<Destination>(deps.store, 'Destination');
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
      });
    },

    /**
     * Writes each targeted workload group to its Destination's state store (one update per
     * store) and records the WorkPlacements. Files first, then records: a retry after a
     * crash rewrites identical bytes, which the writers skip.
     */
    async writeWorkPlacements(input: {
      work: WorkRef;
      targets: PlacementTarget[];
    }): Promise<{ written: number; changed: number }> {
      return guarded(async () => {
        const work = await deps.store.get<Work>({ kind: 'Work', ...input.work });
        if (!work?.spec) throw notFound(`Work "${input.work.namespace}/${input.work.name}"`);
        const log = activityLogger(deps, { work: input.work.name, promise: work.spec.promiseName });
        type Pending = { target: PlacementTarget; paths: string[]; digest: string };
        type StoreEntry = {
          store: StateStore;
          secret?: Secret;
          items: Pending[];
          batch: UpdateBatch;
          aggregated: Map<
            string,
            { destination: Destination; overrides: Map<string, string[] | null> }
          >;
        };
        const byStore = new Map<string, StoreEntry>();
        for (const target of input.targets) {
          const destination = await deps.store.get<Destination>({
            kind: 'Destination',
            name: target.destination,
          });
          if (!destination) throw notFound(`Destination "${target.destination}"`);
          const group = work.spec.workloadGroups.find((g) => g.id === target.groupId);
          if (!group)
            throw notFound(`workload group ${target.groupId} of Work "${input.work.name}"`);
          const { store, secret } = await stateStoreOf(deps, destination);
          const key = `${store.kind}/${store.metadata.name}`;
          const entry: StoreEntry = byStore.get(key) ?? {
            store,
            secret,
            items: [],
            batch: { message: '' },
            aggregated: new Map(),
          };
          const previous = await deps.store.get<WorkPlacement>({
            kind: 'WorkPlacement',
            name: target.placementName,
            namespace: SYSTEM_NAMESPACE,
          });
          const files = placementFiles(
            destination,
            store,
            work,
            group,
            target.placementName,
            previous,
          );
          mergeBatch(entry.batch, files.batch);
          if (filepathMode(destination) === 'aggregatedYAML') {
            const agg = entry.aggregated.get(destination.metadata.name) ?? {
              destination,
              overrides: new Map(),
            };
            agg.overrides.set(
              target.placementName,
              group.workloads.map((w) => w.content),
            );
            entry.aggregated.set(destination.metadata.name, agg);
          }
          entry.items.push({ target, paths: files.paths, digest: group.digest });
          byStore.set(key, entry);
        }
        for (const entry of byStore.values()) {
          for (const { destination, overrides } of entry.aggregated.values()) {
            mergeBatch(entry.batch, {
              message: '',
              writeFiles: [await aggregatedFile(deps, destination, entry.store, overrides)],
            });
          }
        }
        let changed = 0;
        for (const entry of byStore.values()) {
          entry.batch.message = `Update from: ${entry.items.map((i) => i.target.placementName).join(', ')}`;
          const writer = deps.stateStores.forStore(entry.store, entry.secret);
          const result = await writer.update(entry.batch);
          if (result.changed) changed++;
          log.info(
            {
              stateStore: `${entry.store.kind}/${entry.store.metadata.name}`,
              placements: entry.items.length,
              changed: result.changed,
              revision: result.revision,
            },
            result.changed ? 'state store updated' : 'state store already up to date',
          );
        }
        const now = nowIso(deps);
        for (const entry of byStore.values()) {
          for (const item of entry.items) {
            const labels: Record<string, string> = {
              [LABELS.work]: input.work.name,
              [LABELS.targetDestinationName]: item.target.destination,
              [LABELS.promiseName]: work.spec.promiseName,
            };
            if (work.spec.resourceName) labels[LABELS.resourceName] = work.spec.resourceName;
            const placement: WorkPlacement = {
              apiVersion: PLATFORM_API_VERSION,
              kind: 'WorkPlacement',
              metadata: { name: item.target.placementName, namespace: SYSTEM_NAMESPACE, labels },
              spec: {
                targetDestinationName: item.target.destination,
                workName: input.work.name,
                workNamespace: input.work.namespace,
                workloadGroupId: item.target.groupId,
                promiseName: work.spec.promiseName,
                resourceName: work.spec.resourceName,
                digest: item.digest,
                paths: item.paths,
              },
            };
            const { object } = await deps.store.apply(placement);
            await deps.store.updateStatus(
              { kind: 'WorkPlacement', name: object.metadata.name, namespace: SYSTEM_NAMESPACE },
              withCondition(
                object,
                {
                  type: CONDITION.ready,
                  status: 'True',
                  reason: REASON.stateStoreReady,
                  message: `Written to ${entry.store.kind} "${entry.store.metadata.name}"`,
                },
                now,
              ),
            );
          }
        }
        const current = await deps.store.get<Work>({ kind: 'Work', ...input.work });
        if (current) {
          await deps.store.updateStatus(
            { kind: 'Work', ...input.work },
            withCondition(
              current,
              {
                type: CONDITION.scheduled,
                status: 'True',
                reason: REASON.scheduled,
                message: `Scheduled to ${[...new Set(input.targets.map((t) => t.destination))].join(', ')}`,
              },
              now,
            ),
          );
        }
        return { written: input.targets.length, changed };
      });
    },

    /** Misplaced placements keep their files and are not updated any more (seed 000). */
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
        const current = await deps.store.get<Work>({ kind: 'Work', ...input.work });
        if (current) {
          await deps.store.updateStatus(
            { kind: 'Work', ...input.work },
            withCondition(
              current,
              {
                type: CONDITION.scheduled,
                status: 'False',
                reason: REASON.unscheduled,
                message: NO_DESTINATIONS_MESSAGE,
              },
              nowIso(deps),
            ),
          );
        }
      });
    },

    /** Deletes WorkPlacements and their files ("Delete from: <placement>"). */
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
            const batch: UpdateBatch = {
              message: `Delete from: ${name}`,
              deletePaths: placement.spec.paths,
            };
            if (filepathMode(destination) === 'aggregatedYAML') {
              // Its share of the aggregated file goes; the other placements' stay.
              batch.writeFiles = [
                await aggregatedFile(deps, destination, store, new Map([[name, null]])),
              ];
            }
            await deps.stateStores.forStore(store, secret).update(batch);
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
