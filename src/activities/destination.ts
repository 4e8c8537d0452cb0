import { CONDITION, REASON } from '../model/conditions';
import { isBeingDeleted } from '../model/objects';
import { destinationCheckFiles } from '../model/paths';
import type { Condition, Destination } from '../model/types';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded } from './deps';
import { conditionsOf, recordEvent, writeStatus } from './status';
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
        if (isBeingDeleted(destination))
          return { exists: false, ready: false, message: 'deleting' };
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
        const wasReady = conditionsOf(destination).find((c) => c.type === CONDITION.ready);
        await writeStatus(deps, key, [condition]);
        if (storeKey) {
          await writeStatus(deps, storeKey, [condition], { status: ready ? 'Ready' : 'NotReady' });
        }
        if (wasReady?.status !== condition.status || wasReady.message !== message) {
          await recordEvent(deps, key, {
            type: ready ? 'Normal' : 'Warning',
            reason: ready ? 'Ready' : 'NotReady',
            message,
          });
        }
        const log = activityLogger(deps, { destination: input.name });
        if (ready) log.info('Destination ready');
        else log.warn({ reason: message }, 'Destination not ready');
        return { exists: true, ready, message };
      });
    },

    /** The end of a Destination's deletion: its placements were flagged misplaced by now. */
    async deleteDestinationObject(input: { name: string }): Promise<{ deleted: boolean }> {
      return guarded(async () => {
        const deleted = await deps.store.delete({ kind: 'Destination', name: input.name });
        activityLogger(deps, { destination: input.name }).info('Destination deleted');
        return { deleted };
      });
    },
  };
}
