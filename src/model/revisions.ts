import { LABELS, LATEST_VERSION } from './labels';
import { PLATFORM_API_VERSION, DEFAULT_NAMESPACE } from './types';
import type { KratixPromise, PromiseRevision, ResourceBinding } from './types';
import { toDnsLabel } from './validate';

/** PromiseRevision and ResourceBinding rules (behaviour §2; Kratix docs: Promise Revisions). */

/** Kratix's words when someone deletes the latest PromiseRevision. */
export const LATEST_REVISION_DELETE_REFUSED = 'can not delete the latest PromiseRevision';

export function revisionName(promiseName: string, version: string): string {
  return toDnsLabel(`${promiseName}-${version}`);
}

/** The revision snapshot of a Promise at a version; `latest` marks the most recently applied. */
export function buildPromiseRevision(
  promise: KratixPromise,
  version: string,
  latest: boolean,
): PromiseRevision {
  const promiseName = promise.metadata.name;
  const labels: Record<string, string> = { [LABELS.promiseName]: promiseName };
  if (latest) labels[LABELS.latestRevision] = 'true';
  return {
    apiVersion: PLATFORM_API_VERSION,
    kind: 'PromiseRevision',
    metadata: { name: revisionName(promiseName, version), labels },
    spec: { promiseRef: { name: promiseName }, promiseSpec: promise.spec ?? {}, version },
  };
}

export function isLatestRevision(revision: PromiseRevision): boolean {
  return revision.metadata.labels?.[LABELS.latestRevision] === 'true';
}

/** ResourceBinding name for a resource request: one binding per request. */
export function resourceBindingName(promiseName: string, resourceName: string): string {
  return toDnsLabel(`${resourceName}-${promiseName}`);
}

export function buildResourceBinding(
  promiseName: string,
  resource: { name: string; namespace?: string },
  version = LATEST_VERSION,
): ResourceBinding {
  const namespace = resource.namespace ?? DEFAULT_NAMESPACE;
  return {
    apiVersion: PLATFORM_API_VERSION,
    kind: 'ResourceBinding',
    metadata: {
      name: resourceBindingName(promiseName, resource.name),
      namespace,
      labels: {
        [LABELS.promiseName]: promiseName,
        [LABELS.resourceName]: resource.name,
      },
    },
    spec: {
      promiseRef: { name: promiseName },
      resourceRef: { name: resource.name, namespace },
      version,
    },
  };
}

/** A floating binding follows the latest revision; any other version is a pin. */
export function isFloating(binding: ResourceBinding | undefined): boolean {
  const v = binding?.spec?.version ?? LATEST_VERSION;
  return v === LATEST_VERSION || v === '';
}

/** The version a binding asks for: the latest revision's when floating, else its pin. */
export function desiredVersion(binding: ResourceBinding, latestVersion: string): string {
  return isFloating(binding) ? latestVersion : binding.spec!.version;
}

/** Does an update to `version` (now latest) re-run the resource behind this binding? */
export function bindingFollows(binding: ResourceBinding | undefined, version: string): boolean {
  return isFloating(binding) || binding?.spec?.version === version;
}
