import { createHash } from 'node:crypto';
import type { Workload } from './types';

/**
 * Content hashes. Uses node:crypto, so workflow code must not import this file;
 * activities compute hashes and hand the results to workflows.
 */

/** JSON with sorted keys, so equal objects hash equally whatever their key order. */
export function canonicalJson(value: unknown): string {
  return JSON.stringify(sortKeys(value));
}

function sortKeys(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(sortKeys);
  if (value !== null && typeof value === 'object') {
    const out: Record<string, unknown> = {};
    for (const key of Object.keys(value).sort()) {
      const v = (value as Record<string, unknown>)[key];
      if (v !== undefined) out[key] = sortKeys(v);
    }
    return out;
  }
  return value;
}

export function sha256(text: string): string {
  return createHash('sha256').update(text).digest('hex');
}

/** Hash of a Promise (or any object) spec: an update is a change of this hash. */
export function specHash(spec: unknown): string {
  return sha256(canonicalJson(spec ?? {}));
}

/** Kratix's workload-group id: first 5 hex chars of md5 of the directory (`.` → `5058f`). */
export function workloadGroupId(directory: string): string {
  return createHash('md5').update(directory).digest('hex').slice(0, 5);
}

export function workloadsDigest(workloads: Workload[]): string {
  const sorted = [...workloads].sort((a, b) => a.filepath.localeCompare(b.filepath));
  return sha256(canonicalJson(sorted));
}
