import type { KubeConfig, V1Lease } from '@kubernetes/client-node';
import { CoordinationV1Api, V1MicroTime } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import { isConflict, isNotFound, toKubeApiError } from '../platform/kubernetes/object-api';

export interface LeaderElectionOptions {
  kubeConfig: KubeConfig;
  namespace: string;
  name: string;
  identity: string;
  /** A leader that has not renewed for this long may be replaced. */
  leaseDurationSeconds?: number;
  renewEveryMs?: number;
  logger: Logger;
}

/**
 * One leader among bridges, through a coordination.k8s.io Lease as client-go's leader
 * election does: take the Lease when it is free or expired, renew it while leading, and
 * give up leadership (onLost) when a renewal cannot be made in time. Every write carries
 * the Lease's resourceVersion, so two candidates never both win.
 */
export class LeaderElector {
  private readonly api: CoordinationV1Api;
  private readonly duration: number;
  private readonly renewEveryMs: number;
  private timer?: NodeJS.Timeout;
  private leading = false;
  private lastRenew = 0;
  private stopped = false;

  constructor(private readonly options: LeaderElectionOptions) {
    this.api = options.kubeConfig.makeApiClient(CoordinationV1Api);
    this.duration = options.leaseDurationSeconds ?? 15;
    this.renewEveryMs = options.renewEveryMs ?? 2_000;
  }

  get isLeader(): boolean {
    return this.leading;
  }

  /** Resolves once this candidate leads; `onLost` runs if leadership is lost later. */
  async run(onLost: () => void): Promise<void> {
    for (;;) {
      if (this.stopped) throw new Error('leader election stopped');
      if (await this.tryAcquireOrRenew()) break;
      await sleep(this.renewEveryMs);
    }
    this.leading = true;
    this.lastRenew = Date.now();
    this.options.logger.info({ lease: this.options.name }, 'leading');
    const tick = async () => {
      if (this.stopped) return;
      const ok = await this.tryAcquireOrRenew();
      if (ok) this.lastRenew = Date.now();
      if (!ok && Date.now() - this.lastRenew > (this.duration * 1000 * 2) / 3) {
        this.leading = false;
        this.options.logger.warn({ lease: this.options.name }, 'leadership lost');
        onLost();
        return;
      }
      this.timer = setTimeout(() => void tick(), this.renewEveryMs);
    };
    this.timer = setTimeout(() => void tick(), this.renewEveryMs);
  }

  /** Stops renewing and frees the Lease so another bridge can lead at once. */
  async stop(): Promise<void> {
    this.stopped = true;
    if (this.timer) clearTimeout(this.timer);
    if (!this.leading) return;
    this.leading = false;
    const lease = await this.read().catch(() => undefined);
    if (lease?.spec?.holderIdentity !== this.options.identity) return;
    lease.spec.holderIdentity = undefined;
    lease.spec.renewTime = undefined;
    await this.api
      .replaceNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
        body: lease,
      })
      .catch(() => undefined);
  }

  private async read(): Promise<V1Lease | undefined> {
    try {
      return await this.api.readNamespacedLease({
        name: this.options.name,
        namespace: this.options.namespace,
      });
    } catch (err) {
      if (isNotFound(toKubeApiError(err))) return undefined;
      throw toKubeApiError(err);
    }
  }

  private async tryAcquireOrRenew(): Promise<boolean> {
    const { name, namespace, identity } = this.options;
    // Leases hold microsecond times; V1MicroTime serialises as the API server expects.
    const now = new V1MicroTime();
    try {
      const lease = await this.read();
      if (!lease) {
        await this.api.createNamespacedLease({
          namespace,
          body: {
            metadata: { name, namespace },
            spec: {
              holderIdentity: identity,
              leaseDurationSeconds: this.duration,
              acquireTime: now,
              renewTime: now,
              leaseTransitions: 0,
            },
          },
        });
        return true;
      }
      const spec = lease.spec ?? {};
      const holder = spec.holderIdentity;
      const renewed = spec.renewTime ? new Date(spec.renewTime as unknown as string).getTime() : 0;
      const expired = renewed + (spec.leaseDurationSeconds ?? this.duration) * 1000 < now.getTime();
      if (holder && holder !== identity && !expired) return false;
      const taking = holder !== identity;
      lease.spec = {
        ...spec,
        holderIdentity: identity,
        leaseDurationSeconds: this.duration,
        renewTime: now,
        ...(taking ? { acquireTime: now, leaseTransitions: (spec.leaseTransitions ?? 0) + 1 } : {}),
      };
      await this.api.replaceNamespacedLease({ name, namespace, body: lease });
      return true;
    } catch (err) {
      const e = toKubeApiError(err);
      if (!isConflict(e)) {
        this.options.logger.debug({ err: (e as Error).message }, 'lease not renewed');
      }
      return false;
    }
  }
}

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));
