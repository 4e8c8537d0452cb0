import type { KubeConfig, KubernetesObject } from '@kubernetes/client-node';
import { ListWatch, Watch } from '@kubernetes/client-node';
import type { Logger } from 'pino';
import type { ResourceType } from '../platform/kubernetes/resource-types';
import { collectionPath } from '../platform/kubernetes/resource-types';
import type { KubeList, KubeObject } from '../platform/kubernetes/object-api';
import { ObjectApi, toKubeApiError } from '../platform/kubernetes/object-api';

const MIN_BACKOFF_MS = 500;
const MAX_BACKOFF_MS = 30_000;

/**
 * client-node's ListWatch (list, then watch from the list's resourceVersion; a 410 Gone
 * relists) kept alive: any other error (connection lost, the server restarted, 429 while
 * a new CRD's storage initialises, 404 before the CRD exists) restarts it after a backoff
 * that grows to 30 s and resets once a watch connects.
 */
export class Informer {
  private readonly listWatch: ListWatch<KubernetesObject>;
  private backoff = MIN_BACKOFF_MS;
  private retry?: NodeJS.Timeout;
  private stopped = false;
  private synced = false;
  private syncWaiters: (() => void)[] = [];

  constructor(
    kubeConfig: KubeConfig,
    readonly type: ResourceType,
    onChange: (object: KubeObject, deleted: boolean) => void,
    private readonly logger: Logger,
  ) {
    const api = new ObjectApi(kubeConfig);
    const list = async (): Promise<{ items: KubernetesObject[]; metadata?: object }> => {
      // Paged, so a large fleet does not need one huge response.
      const items: KubeObject[] = [];
      let token: string | undefined;
      let metadata: KubeList['metadata'];
      do {
        const page = await api.list(type, undefined, { limit: 500, continue: token });
        items.push(...page.items.map((i) => ({ ...i, kind: type.kind })));
        metadata = page.metadata;
        token = page.metadata?.continue || undefined;
      } while (token);
      return { items: items as KubernetesObject[], metadata };
    };
    this.listWatch = new ListWatch(
      collectionPath(type),
      new Watch(kubeConfig),
      list as never,
      false,
    );
    const changed = (deleted: boolean) => (o: KubernetesObject) =>
      onChange({ ...(o as KubeObject), kind: type.kind }, deleted);
    this.listWatch.on('add', changed(false));
    this.listWatch.on('update', changed(false));
    this.listWatch.on('delete', changed(true));
    this.listWatch.on('connect', () => {
      this.backoff = MIN_BACKOFF_MS;
    });
    this.listWatch.on('error', (err: unknown) => this.restart(err));
  }

  async start(): Promise<void> {
    this.stopped = false;
    await this.startOnce();
  }

  /** Resolves once the first list has been delivered. */
  hasSynced(): Promise<void> {
    if (this.synced) return Promise.resolve();
    return new Promise((resolve) => this.syncWaiters.push(resolve));
  }

  /** Objects as last seen (the informer's cache). */
  list(): KubeObject[] {
    return this.listWatch.list() as KubeObject[];
  }

  get(name: string, namespace?: string): KubeObject | undefined {
    return this.listWatch.get(name, namespace) as KubeObject | undefined;
  }

  async stop(): Promise<void> {
    this.stopped = true;
    if (this.retry) clearTimeout(this.retry);
    await this.listWatch.stop();
  }

  private async startOnce(): Promise<void> {
    try {
      await this.listWatch.start();
      // A failed list is reported through 'error' (and restarted), not thrown.
      if (!this.synced && this.listWatch.latestResourceVersion() !== '') {
        this.synced = true;
        this.syncWaiters.splice(0).forEach((r) => r());
      }
    } catch (err) {
      this.restart(err);
    }
  }

  private restart(err: unknown): void {
    if (this.stopped) return;
    const e = toKubeApiError(err) as { code?: number; message?: string };
    const delay = this.backoff;
    this.backoff = Math.min(this.backoff * 2, MAX_BACKOFF_MS);
    this.logger.debug(
      { kind: this.type.kind, code: e.code, err: e.message, retryInMs: delay },
      'watch ended; restarting',
    );
    if (this.retry) clearTimeout(this.retry);
    this.retry = setTimeout(() => {
      this.retry = undefined;
      void this.startOnce();
    }, delay);
  }
}
