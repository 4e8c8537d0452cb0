import { CONDITION, REASON, setCondition } from '../model/conditions';
import { destinationCheckFiles } from '../model/paths';
import type { Condition, Destination } from '../model/types';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, nowIso } from './deps';
import { stateStoreOf } from './scheduling';

export function createDestinationActivities(deps: ActivityDeps) {
  return {
    /**
     * A Destination is Ready when its state store can be reached and written. The result
     * goes on the Destination's status (and the state store's), never an exception, so a
     * broken store does not stop scheduling to the others.
     */
    async checkDestinationReady(input: {
      name: string;
    }): Promise<{ exists: boolean; ready: boolean; message: string }> {
      return guarded(async () => {
        const key = { kind: 'Destination', name: input.name };
        const destination = await deps.store.get<Destination>(key);
        if (!destination) return { exists: false, ready: false, message: 'deleted' };
        let ready = true;
        let message = 'State store is ready';
        let storeKey: { kind: string; name: string } | undefined;
        try {
          const { store, secret } = await stateStoreOf(deps, destination);
          storeKey = { kind: store.kind, name: store.metadata.name };
          const writer = deps.stateStores.forStore(store, secret);
          await writer.validatePermissions();
          await writer.update({
            message: `Update from: ${input.name} (Destination check documents)`,
            writeFiles: destinationCheckFiles(destination, store),
          });
        } catch (err) {
          ready = false;
          message = err instanceof Error ? err.message : String(err);
        }
        const condition: Condition = {
          type: CONDITION.ready,
          status: ready ? 'True' : 'False',
          reason: ready ? REASON.stateStoreReady : REASON.stateStoreWriteFailed,
          message,
        };
        const now = nowIso(deps);
        await deps.store.updateStatus(key, {
          ...(destination.status ?? {}),
          conditions: setCondition(
            destination.status?.conditions as Condition[] | undefined,
            condition,
            now,
          ),
        });
        if (storeKey) {
          const store = await deps.store.get(storeKey);
          if (store) {
            await deps.store.updateStatus(storeKey, {
              ...(store.status ?? {}),
              status: ready ? 'Ready' : 'NotReady',
              conditions: setCondition(
                store.status?.conditions as Condition[] | undefined,
                condition,
                now,
              ),
            });
          }
        }
        const log = activityLogger(deps, { destination: input.name });
        if (ready) log.info('Destination ready');
        else log.warn({ reason: message }, 'Destination not ready');
        return { exists: true, ready, message };
      });
    },
  };
}
