/**
 * What of a failing container's output goes into its failure message: the last lines
 * (the pipeline's own error is usually there), bounded, with credentials scrubbed, since
 * the message travels to workflow history, the request's conditions, Events and the CLI.
 */
import type { KratixObject, Pipeline } from '../model/types';

const TAIL_LINES = 3;
const MAX_LINE_CHARS = 240;
const MAX_SUMMARY_CHARS = 600;
/** Shorter known values are left alone: masking "1" or "true" would garble every message. */
const MIN_SECRET_CHARS = 4;
/** Lines of multi-line values (a PEM body) are masked from this length on. */
const MIN_LINE_CHARS = 8;
export const REDACTED = '***';

const GENERIC_PATTERNS: [RegExp, string][] = [
  // PEM private keys, whole or cut off by the tail.
  [
    /-----BEGIN ([A-Z ]*)PRIVATE KEY-----[\s\S]*?(?:-----END [A-Z ]*PRIVATE KEY-----|$)/g,
    `-----BEGIN $1PRIVATE KEY----- ${REDACTED}`,
  ],
  // user:password@ in URLs.
  [/\b([a-z][a-z0-9+.-]*:\/\/)[^\s/@:]+:[^\s/@]+@/gi, `$1${REDACTED}@`],
  // Authorization headers.
  [/\b(bearer|basic)\s+[A-Za-z0-9._~+/=-]{8,}/gi, `$1 ${REDACTED}`],
  // password=…, "apiKey": "…", DB_TOKEN: …
  [
    /\b([a-z0-9_.-]*(?:password|passwd|secret|token|api[_-]?key|access[_-]?key|private[_-]?key|credentials?))(["']?\s*[:=]\s*["']?)[^\s"',;]+/gi,
    `$1$2${REDACTED}`,
  ],
  // AWS access key ids.
  [/\bA(?:KIA|SIA)[0-9A-Z]{16}\b/g, REDACTED],
];

/** Replaces known secret values, then anything that looks like a credential. */
export function scrubSecrets(text: string, knownValues: string[] = []): string {
  let out = text;
  const known = [...new Set(knownValues)]
    .filter((v) => v.length >= MIN_SECRET_CHARS)
    .sort((a, b) => b.length - a.length);
  for (const value of known) out = out.split(value).join(REDACTED);
  for (const [pattern, replacement] of GENERIC_PATTERNS) out = out.replace(pattern, replacement);
  return out;
}

/** The last non-blank lines of `output`, one line, bounded (the end is what is kept). */
export function outputSummary(output: string): string {
  const lines = output
    .split('\n')
    .map((l) => l.trim())
    .filter((l) => l !== '')
    .slice(-TAIL_LINES)
    .map((l) => (l.length > MAX_LINE_CHARS ? `${l.slice(0, MAX_LINE_CHARS - 1)}…` : l));
  const summary = lines.join(' | ');
  return summary.length > MAX_SUMMARY_CHARS
    ? `…${summary.slice(summary.length - MAX_SUMMARY_CHARS + 1)}`
    : summary;
}

/**
 * The values of every Secret a Pipeline refers to (envFrom, env valueFrom, volumes), read
 * from `namespace`; multi-line values (keys, certificates) also line by line, so a partial
 * echo is caught too.
 */
export async function secretValuesOf(
  pipeline: Pipeline,
  namespace: string,
  read: (key: {
    kind: string;
    name: string;
    namespace: string;
  }) => Promise<KratixObject | undefined>,
): Promise<string[]> {
  const names = new Set<string>();
  for (const c of pipeline.spec?.containers ?? []) {
    for (const from of c.envFrom ?? []) if (from.secretRef) names.add(from.secretRef.name);
    for (const e of c.env ?? []) {
      if (e.valueFrom?.secretKeyRef) names.add(e.valueFrom.secretKeyRef.name);
    }
  }
  for (const v of pipeline.spec?.volumes ?? []) if (v.secret) names.add(v.secret.secretName);
  const values: string[] = [];
  for (const name of names) {
    const secret = (await read({ kind: 'Secret', name, namespace })) as
      | (KratixObject & { data?: Record<string, unknown>; stringData?: Record<string, unknown> })
      | undefined;
    for (const [field, base64] of [
      ['data', true],
      ['stringData', false],
    ] as const) {
      for (const raw of Object.values(secret?.[field] ?? {})) {
        if (typeof raw !== 'string') continue;
        const value = base64 ? Buffer.from(raw, 'base64').toString('utf8') : raw;
        values.push(value.trim());
        const lines = value.split('\n').map((l) => l.trim());
        if (lines.length > 1) values.push(...lines.filter((l) => l.length >= MIN_LINE_CHARS));
      }
    }
  }
  return values.filter((v) => v.length >= MIN_SECRET_CHARS);
}
