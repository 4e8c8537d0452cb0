import type { Secret } from '../model/types';

/**
 * Reads one key of a Kubernetes-style Secret. `stringData` wins over `data` (as the
 * API server merges them), `data` is base64. Empty strings count as absent.
 */
export function secretValue(secret: Secret | undefined, key: string): string | undefined {
  if (!secret) return undefined;
  const plain = secret.stringData?.[key];
  if (plain !== undefined && plain !== '') return plain;
  const encoded = secret.data?.[key];
  if (encoded === undefined || encoded === '') return undefined;
  const decoded = Buffer.from(encoded, 'base64').toString('utf8');
  return decoded === '' ? undefined : decoded;
}

/** `true`/`yes`/`1` (any case) — for boolean-ish secret keys such as `insecureSkipTLSVerify`. */
export function secretFlag(secret: Secret | undefined, key: string): boolean {
  const v = secretValue(secret, key)?.trim().toLowerCase();
  return v === 'true' || v === 'yes' || v === '1';
}

/** Escapes `s` for use inside a RegExp. */
function escapeRegExp(s: string): string {
  return s.replace(/[.*+?^${}()|[\]\\]/g, '\\$&');
}

/**
 * Removes secrets from text that may reach logs or users: every given secret value (and its
 * URL-encoded and base64 forms) and any `user:password@` userinfo in URLs.
 */
export function scrub(text: string, secrets: (string | undefined)[]): string {
  let out = text.replace(/([a-z][a-z0-9+.-]*:\/\/)[^/@\s]+@/gi, '$1***@');
  for (const s of secrets) {
    if (!s || s.length < 3) continue;
    for (const form of new Set([s, encodeURIComponent(s), Buffer.from(s).toString('base64')])) {
      out = out.replace(new RegExp(escapeRegExp(form), 'g'), '***');
    }
  }
  return out;
}
