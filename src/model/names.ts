/**
 * Kubernetes' rules for names and labels, and the rules for the other strings that later
 * become keys (Git branches, S3 buckets). Each check returns what was expected and what was
 * got, or undefined when the text is fine, so apply, `promiseflow label` and the pipeline
 * runner refuse the same things in the same words. Pure.
 */

export interface Refusal {
  expected: string;
  got: string;
}

/** Kubernetes object names (DNS-1123 subdomains). */
export const MAX_NAME_LENGTH = 253;
/** Label values and label-key names; also names that Promiseflow copies into labels. */
export const MAX_LABEL_LENGTH = 63;

const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const DNS_LABEL = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?$/;
const LABEL_NAME = /^[A-Za-z0-9]([-A-Za-z0-9_.]*[A-Za-z0-9])?$/;

const SUBDOMAIN_RULE = `at most ${MAX_NAME_LENGTH} lower-case letters, digits, "-" and ".", starting and ending with a letter or digit`;
const LABEL_CHARS = `letters, digits, "-", "_" and ".", starting and ending with a letter or digit`;

export function isDnsSubdomain(text: string): boolean {
  return text.length <= MAX_NAME_LENGTH && DNS_SUBDOMAIN.test(text);
}

export function isDnsLabel(text: string): boolean {
  return text.length <= MAX_LABEL_LENGTH && DNS_LABEL.test(text);
}

/** The text as it reads after "got": long texts are cut, and their length is given. */
export function shownText(text: string, limit?: number): string {
  if (text === '') return 'empty string';
  const clipped = text.length > 80 ? `${text.slice(0, 60)}…` : text;
  return limit !== undefined && text.length > limit
    ? `${clipped} (${text.length} characters)`
    : clipped;
}

/**
 * An object name: a DNS-1123 subdomain of at most 253 characters, or at most 63 when
 * `label` names the label the name is copied into (Kubernetes refuses longer label values).
 */
export function nameRefusal(name: string, label?: string): Refusal | undefined {
  if (!isDnsSubdomain(name)) {
    return { expected: `a DNS-1123 subdomain (${SUBDOMAIN_RULE})`, got: shownText(name, 253) };
  }
  if (label !== undefined && name.length > MAX_LABEL_LENGTH) {
    return {
      expected: `at most ${MAX_LABEL_LENGTH} characters (the name becomes the value of label ${label})`,
      got: shownText(name, MAX_LABEL_LENGTH),
    };
  }
  return undefined;
}

/** Namespaces and container names: DNS-1123 labels. */
export function dnsLabelRefusal(name: string): Refusal | undefined {
  if (isDnsLabel(name)) return undefined;
  return {
    expected: `a DNS-1123 label (at most ${MAX_LABEL_LENGTH} lower-case letters, digits and "-", starting and ending with a letter or digit)`,
    got: shownText(name, MAX_LABEL_LENGTH),
  };
}

/** `[prefix/]name` as Kubernetes checks label (and annotation) keys. */
export function labelKeyRefusal(key: string): Refusal | undefined {
  const parts = key.split('/');
  const got = shownText(key, MAX_NAME_LENGTH + 1 + MAX_LABEL_LENGTH);
  if (parts.length > 2) {
    return { expected: 'a label key with at most one "/" ([prefix/]name)', got };
  }
  const [prefix, name] = parts.length === 2 ? parts : [undefined, parts[0]];
  if (prefix !== undefined && !isDnsSubdomain(prefix)) {
    return { expected: `a label key whose prefix is a DNS subdomain (${SUBDOMAIN_RULE})`, got };
  }
  if (name === undefined || name === '' || !LABEL_NAME.test(name)) {
    return { expected: `a label key: [prefix/]name, the name made of ${LABEL_CHARS}`, got };
  }
  if (name.length > MAX_LABEL_LENGTH) {
    return {
      expected: `a label key whose name (after any "/") has at most ${MAX_LABEL_LENGTH} characters`,
      got,
    };
  }
  return undefined;
}

export function labelValueRefusal(value: string): Refusal | undefined {
  if (value === '' || (value.length <= MAX_LABEL_LENGTH && LABEL_NAME.test(value))) {
    return undefined;
  }
  return {
    expected: `a label value: empty, or at most ${MAX_LABEL_LENGTH} ${LABEL_CHARS}`,
    got: shownText(value, MAX_LABEL_LENGTH),
  };
}

// `git check-ref-format --branch` rules; a branch git refuses fails every push later.
// eslint-disable-next-line no-control-regex -- control characters are what is refused
const REF_FORBIDDEN = /[\x00-\x20\x7f~^:?*[\\]/;

export function gitBranchRefusal(branch: string): Refusal | undefined {
  const bad =
    branch === '' ||
    branch === '@' ||
    REF_FORBIDDEN.test(branch) ||
    branch.includes('..') ||
    branch.includes('@{') ||
    branch.startsWith('-') ||
    branch.endsWith('.') ||
    branch.split('/').some((part) => part === '' || part.startsWith('.') || part.endsWith('.lock'));
  if (!bad) return undefined;
  return {
    expected:
      'a Git branch name (no spaces, "..", "~", "^", ":", "?", "*", "[", "\\", "@{", empty or dot-leading parts, nor ".lock" endings)',
    got: shownText(branch),
  };
}

// S3 bucket naming rules (what MinIO and AWS accept for new buckets).
const BUCKET = /^[a-z0-9][a-z0-9.-]{1,61}[a-z0-9]$/;

export function bucketNameRefusal(name: string): Refusal | undefined {
  const ok = BUCKET.test(name) && !name.includes('..') && !/^\d+\.\d+\.\d+\.\d+$/.test(name);
  if (ok) return undefined;
  return {
    expected:
      'an S3 bucket name (3 to 63 lower-case letters, digits, "-" and ".", starting and ending with a letter or digit)',
    got: shownText(name, 63),
  };
}
