/**
 * The activities of a rollout policy: settle the rollout an update runs with (the
 * RolloutPolicy selected for the Promise, or the one named, and the update's override),
 * and say where the rollout stands on the Promise (a condition, `status.rollout`, an event).
 */
import { CONDITION, REASON } from '../model/conditions';
import { InvalidInputError } from '../model/errors';
import type { ResolvedRollout, RolloutPolicy, RolloutSpec } from '../model/rollout';
import { ROLLOUT_KIND } from '../model/rollout';
import { resolveRollout, selectRolloutPolicy } from '../model/validate-rollout';
import type { Condition, KratixPromise } from '../model/types';
import type { ActivityDeps } from './deps';
import { activityLogger, guarded, notFound } from './deps';
import { recordEvent, writeStatus } from './status';

/** Where a rollout stands, as the Promise's `RolloutSucceeded` condition says it. */
export type RolloutState =
  'Progressing' | 'AwaitingApproval' | 'Complete' | 'Halted' | 'RollingBack' | 'RolledBack';

const CONDITION_OF: Record<RolloutState, Pick<Condition, 'status' | 'reason'>> = {
  Progressing: { status: 'Unknown', reason: REASON.rolloutProgressing },
  AwaitingApproval: { status: 'Unknown', reason: REASON.rolloutAwaitingApproval },
  Complete: { status: 'True', reason: REASON.rolloutComplete },
  Halted: { status: 'False', reason: REASON.rolloutHalted },
  RollingBack: { status: 'False', reason: REASON.rollingBack },
  RolledBack: { status: 'False', reason: REASON.rolledBack },
};

export function createRolloutActivities(deps: ActivityDeps) {
  return {
    async resolveUpdateRollout(input: {
      promiseName: string;
      concurrency: number;
      rolloutPolicy?: string;
      rollout?: RolloutSpec;
    }): Promise<ResolvedRollout> {
      return guarded(async () => {
        const promise = await deps.store.get<KratixPromise>({
          kind: 'Promise',
          name: input.promiseName,
        });
        if (!promise) throw notFound(`Promise "${input.promiseName}"`);
        const policies = (await deps.store.list<RolloutPolicy>(ROLLOUT_KIND)).items;
        let policy: RolloutPolicy | undefined;
        if (input.rolloutPolicy) {
          policy = policies.find((p) => p.metadata.name === input.rolloutPolicy);
          if (!policy) {
            throw new InvalidInputError({
              object: `update of Promise "${input.promiseName}"`,
              field: 'options.rolloutPolicy',
              expected: `an existing RolloutPolicy (${policies.map((p) => p.metadata.name).join(', ') || 'none stored'})`,
              got: input.rolloutPolicy,
            });
          }
        } else {
          policy = selectRolloutPolicy(policies, promise);
        }
        return resolveRollout({ concurrency: input.concurrency, policy, override: input.rollout });
      });
    },

    /**
     * The rollout's state on the Promise. `heldVersion` (a rollback) makes requests that
     * follow the latest version run at that version until the next update.
     */
    async recordRollout(input: {
      promiseName: string;
      state: RolloutState;
      message: string;
      batch?: number;
      heldVersion?: string;
    }): Promise<void> {
      return guarded(async () => {
        const c = CONDITION_OF[input.state];
        await writeStatus(
          deps,
          { kind: 'Promise', name: input.promiseName },
          [{ type: CONDITION.rolloutSucceeded, ...c, message: input.message }],
          (status) => {
            const before = (status.rollout ?? {}) as Record<string, unknown>;
            return {
              ...status,
              rollout: {
                state: input.state,
                message: input.message,
                ...(input.batch !== undefined ? { batch: input.batch } : {}),
                // Once held, a rollout stays held until the next update's snapshot clears it.
                ...((input.heldVersion ?? before.heldVersion)
                  ? { heldVersion: input.heldVersion ?? before.heldVersion }
                  : {}),
              },
            };
          },
        );
        if (input.state !== 'Progressing') {
          await recordEvent(
            deps,
            { kind: 'Promise', name: input.promiseName },
            {
              type: c.status === 'False' ? 'Warning' : 'Normal',
              reason: c.reason,
              message: input.message,
            },
          );
        }
        activityLogger(deps, { promise: input.promiseName }).info(
          { rollout: input.state, batch: input.batch },
          input.message,
        );
      });
    },
  };
}
