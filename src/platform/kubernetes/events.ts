import type { KubeConfig } from '@kubernetes/client-node';
import { CoreV1Api } from '@kubernetes/client-node';
import { randomBytes } from 'node:crypto';
import type { ObjectKey, PlatformEvent, RecordedEvent } from '../store';
import { toKubeApiError } from './object-api';
import type { ResourceType } from './resource-types';
import { apiVersionOf } from './resource-types';

/** core/v1 Events about objects, written as controllers write them (`kubectl describe`). */
export class KubeEvents {
  private readonly core: CoreV1Api;

  constructor(
    kubeConfig: KubeConfig,
    private readonly component: string,
  ) {
    this.core = kubeConfig.makeApiClient(CoreV1Api);
  }

  /** Best effort: a lost event must never fail the work it describes. */
  async record(
    type: ResourceType,
    about: ObjectKey,
    uid: string | undefined,
    event: PlatformEvent,
  ): Promise<void> {
    const namespace = (type.namespaced && about.namespace) || 'default';
    const now = new Date().toISOString();
    const body = {
      apiVersion: 'v1',
      kind: 'Event',
      metadata: {
        name: `${about.name}.${randomBytes(8).toString('hex')}`.slice(-253),
        namespace,
      },
      involvedObject: {
        apiVersion: apiVersionOf(type),
        kind: type.kind,
        name: about.name,
        ...(type.namespaced ? { namespace: about.namespace } : {}),
        ...(uid ? { uid } : {}),
      },
      type: event.type,
      reason: event.reason,
      message: event.message.slice(0, 1024),
      source: { component: this.component },
      reportingComponent: this.component,
      firstTimestamp: now,
      lastTimestamp: now,
      count: 1,
    };
    await this.core
      .createNamespacedEvent({ namespace, body: body as never })
      .catch(() => undefined);
  }

  /** The Events whose involvedObject is this object, oldest first. */
  async list(type: ResourceType, about: ObjectKey): Promise<RecordedEvent[]> {
    const namespace = (type.namespaced && about.namespace) || 'default';
    const fieldSelector = [
      `involvedObject.kind=${type.kind}`,
      `involvedObject.name=${about.name}`,
      ...(type.namespaced ? [`involvedObject.namespace=${namespace}`] : []),
    ].join(',');
    const list = await this.core
      .listNamespacedEvent({ namespace, fieldSelector })
      .catch((err: unknown) => {
        throw toKubeApiError(err);
      });
    // Timestamps have whole seconds: the resourceVersion orders events of the same second.
    const order = (e: (typeof list.items)[number]) => Number(e.metadata.resourceVersion ?? 0);
    return [...list.items]
      .sort((a, b) => order(a) - order(b))
      .map((e) => ({
        type: e.type === 'Warning' ? ('Warning' as const) : ('Normal' as const),
        reason: e.reason ?? '',
        message: e.message ?? '',
        time: new Date(
          e.lastTimestamp ?? e.eventTime ?? e.firstTimestamp ?? e.metadata.creationTimestamp ?? 0,
        ).toISOString(),
        count: e.count ?? 1,
      }));
  }
}
