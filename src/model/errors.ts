/**
 * One error type for invalid input, used everywhere a user's file or object is refused.
 * The message always says where (file, object, field) and what (expected, got).
 */
export interface InvalidInputDetails {
  file?: string;
  /** e.g. `Promise "mongodb"` */
  object?: string;
  /** Dotted field path, e.g. `spec.api.spec.versions[0]` */
  field?: string;
  expected: string;
  got?: string;
}

export class InvalidInputError extends Error {
  override readonly name = 'InvalidInputError';
  constructor(readonly details: InvalidInputDetails) {
    super(formatInvalidInput(details));
  }
}

export function formatInvalidInput(d: InvalidInputDetails): string {
  const where = [d.file, d.object, d.field].filter((p) => p !== undefined && p !== '').join(': ');
  const what =
    d.got === undefined ? `expected ${d.expected}` : `expected ${d.expected}, got ${d.got}`;
  return where ? `${where}: ${what}` : what;
}

export function describeObject(kind: string | undefined, name: string | undefined): string {
  return `${kind ?? '<no kind>'} "${name ?? '<no name>'}"`;
}
