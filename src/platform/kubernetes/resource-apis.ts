import type { KubeConfig } from '@kubernetes/client-node';
import { ApiextensionsV1Api } from '@kubernetes/client-node';
import { InvalidInputError } from '../../model/errors';
import type { KratixObject } from '../../model/types';
import { isConflict, isNotFound, KubeApiError, toKubeApiError, typedModel } from './object-api';

const CONFLICT_RETRIES = 10;
const ESTABLISH_TIMEOUT_MS = 60_000;

/**
 * Promise APIs served as CRDs: installed (or updated) and waited for until Established, so
 * a request applied right after is accepted; refused definitions are bad input naming the
 * API server's reason (a kind taken by another CRD, an invalid schema, a removed version
 * that still stores objects).
 */
export class ResourceApis {
  private readonly crds: ApiextensionsV1Api;

  constructor(kubeConfig: KubeConfig) {
    this.crds = kubeConfig.makeApiClient(ApiextensionsV1Api);
  }

  async ensure(crd: KratixObject): Promise<void> {
    const name = crd.metadata.name;
    const where = { object: `CustomResourceDefinition "${name}"`, field: 'spec.api' };
    for (let attempt = 1; ; attempt++) {
      try {
        const existing = await this.read(name);
        if (!existing) {
          await this.crds.createCustomResourceDefinition({ body: typedModel(crd) });
        } else {
          const body = {
            ...crd,
            metadata: {
              ...crd.metadata,
              labels: { ...(existing.metadata?.labels ?? {}), ...(crd.metadata.labels ?? {}) },
              resourceVersion: existing.metadata?.resourceVersion,
            },
          };
          await this.crds.replaceCustomResourceDefinition({ name, body: typedModel(body) });
        }
        break;
      } catch (err) {
        const e = toKubeApiError(err);
        if (isConflict(e) && attempt < CONFLICT_RETRIES) continue;
        if (e instanceof KubeApiError && (e.code === 422 || e.code === 400)) {
          throw new InvalidInputError({
            ...where,
            expected: 'a CustomResourceDefinition the API server accepts',
            got: e.message,
          });
        }
        throw e;
      }
    }
    await this.waitEstablished(name, where);
  }

  async remove(name: string): Promise<void> {
    try {
      await this.crds.deleteCustomResourceDefinition({ name });
    } catch (err) {
      const e = toKubeApiError(err);
      if (!isNotFound(e)) throw e;
    }
  }

  private async read(name: string) {
    try {
      return await this.crds.readCustomResourceDefinition({ name });
    } catch (err) {
      const e = toKubeApiError(err);
      if (isNotFound(e)) return undefined;
      throw e;
    }
  }

  private async waitEstablished(name: string, where: { object: string; field: string }) {
    const deadline = Date.now() + ESTABLISH_TIMEOUT_MS;
    for (;;) {
      const crd = await this.read(name);
      const conditions = crd?.status?.conditions ?? [];
      const names = conditions.find((c) => c.type === 'NamesAccepted');
      if (names?.status === 'False') {
        throw new InvalidInputError({
          ...where,
          expected: 'API names no other CRD uses',
          got: names.message ?? names.reason ?? 'names not accepted',
        });
      }
      if (conditions.some((c) => c.type === 'Established' && c.status === 'True')) return;
      if (Date.now() > deadline) {
        throw new Error(`CustomResourceDefinition "${name}" not established after 60 s`);
      }
      await new Promise((r) => setTimeout(r, 200));
    }
  }
}
