import { md5 } from '@noble/hashes/legacy';
import { sha256 as sha256Bytes } from '@noble/hashes/sha256';
import { bytesToHex, utf8ToBytes } from '@noble/hashes/utils';
import type { Workload } from './types';

/**
 * Content hashes, in plain JavaScript (no Node modules): the model stays pure, whoever
 * imports it.
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
  return bytesToHex(sha256Bytes(utf8ToBytes(text)));
}

/** Hash of a Promise (or any object) spec: an update is a change of this hash. */
export function specHash(spec: unknown): string {
  return sha256(canonicalJson(spec ?? {}));
}

/** Kratix's workload-group id: first 5 hex chars of md5 of the directory (`.` → `5058f`). */
export function workloadGroupId(directory: string): string {
  return bytesToHex(md5(utf8ToBytes(directory))).slice(0, 5);
}

/**
 * The digest covers `encoding` only when it is set, so text workloads hash as they always
 * have (recorded digests and histories stay valid) and a binary file never hashes like the
 * text of its base64.
 */
export function workloadsDigest(workloads: Workload[]): string {
  const sorted = [...workloads].sort((a, b) => a.filepath.localeCompare(b.filepath));
  return sha256(canonicalJson(sorted));
}

// ignoreBOM keeps a leading BOM in the text, so the bytes written are the bytes produced.
const strictUtf8 = new TextDecoder('utf-8', { fatal: true, ignoreBOM: true });

/** A file of pipeline output as a Workload: text when it is valid UTF-8, else base64. */
export function workloadFromBytes(filepath: string, bytes: Buffer): Workload {
  try {
    return { filepath, content: strictUtf8.decode(bytes) };
  } catch {
    return { filepath, content: bytes.toString('base64'), encoding: 'base64' };
  }
}

/** What a Workload stands for: its text, or its decoded bytes. */
export function workloadContent(workload: Workload): string | Buffer {
  return workload.encoding === 'base64'
    ? Buffer.from(workload.content, 'base64')
    : workload.content;
}
