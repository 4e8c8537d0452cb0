/**
 * Kubernetes label selectors: the string syntax (`a=b,c!=d,e in (x,y),!f`) and matchLabels
 * maps. Pure and deterministic: Temporal workflow code imports this file.
 */
import { InvalidInputError } from './errors';

export type LabelOperator =
  'Equals' | 'NotEquals' | 'In' | 'NotIn' | 'Exists' | 'DoesNotExist' | 'GreaterThan' | 'LessThan';

export interface LabelRequirement {
  key: string;
  operator: LabelOperator;
  /** One value for Equals/NotEquals/GreaterThan/LessThan, one or more for In/NotIn, none otherwise. */
  values: string[];
}

export type LabelSelector = string | Record<string, string> | LabelRequirement[];

const FIELD = 'labelSelector';

// Characters that end an identifier, as in the Kubernetes lexer.
const SPECIAL = new Set(['!', '=', ',', '(', ')', '<', '>']);
const NAME = /^([A-Za-z0-9][-A-Za-z0-9_.]*)?[A-Za-z0-9]$/;
const DNS_SUBDOMAIN = /^[a-z0-9]([-a-z0-9]*[a-z0-9])?(\.[a-z0-9]([-a-z0-9]*[a-z0-9])?)*$/;
const INTEGER = /^[-+]?[0-9]+$/;

type TokenType = 'ident' | 'op' | 'end';
interface Token {
  type: TokenType;
  text: string;
  /** 1-based column, for error messages. */
  column: number;
}

function tokenize(text: string): Token[] {
  const tokens: Token[] = [];
  let i = 0;
  while (i < text.length) {
    const c = text.charAt(i);
    if (/\s/.test(c)) {
      i++;
      continue;
    }
    if (SPECIAL.has(c)) {
      const two = text.slice(i, i + 2);
      const op = two === '==' || two === '!=' ? two : c;
      tokens.push({ type: 'op', text: op, column: i + 1 });
      i += op.length;
      continue;
    }
    const start = i;
    while (i < text.length && !SPECIAL.has(text.charAt(i)) && !/\s/.test(text.charAt(i))) i++;
    tokens.push({ type: 'ident', text: text.slice(start, i), column: start + 1 });
  }
  tokens.push({ type: 'end', text: '', column: text.length + 1 });
  return tokens;
}

export function isValidLabelKey(key: string): boolean {
  const slash = key.indexOf('/');
  const prefix = slash === -1 ? undefined : key.slice(0, slash);
  const name = slash === -1 ? key : key.slice(slash + 1);
  if (prefix !== undefined && (prefix.length > 253 || !DNS_SUBDOMAIN.test(prefix))) return false;
  return name.length <= 63 && NAME.test(name);
}

export function isValidLabelValue(value: string): boolean {
  return value === '' || (value.length <= 63 && NAME.test(value));
}

class Parser {
  private pos = 0;
  constructor(
    private readonly text: string,
    private readonly tokens: Token[],
  ) {}

  parse(): LabelRequirement[] {
    const requirements: LabelRequirement[] = [];
    if (this.peek().type === 'end') return requirements;
    for (;;) {
      requirements.push(this.requirement());
      const next = this.next();
      if (next.type === 'end') return requirements;
      if (next.text !== ',') this.fail("',' or end of selector", next);
    }
  }

  private requirement(): LabelRequirement {
    const first = this.next();
    if (first.type === 'op' && first.text === '!') {
      return { key: this.key(), operator: 'DoesNotExist', values: [] };
    }
    this.pos--;
    const key = this.key();
    const op = this.peek();
    if (op.type === 'end' || op.text === ',') return { key, operator: 'Exists', values: [] };
    this.pos++;
    switch (op.text) {
      case '=':
      case '==':
        return { key, operator: 'Equals', values: [this.exactValue()] };
      case '!=':
        return { key, operator: 'NotEquals', values: [this.exactValue()] };
      case 'in':
        return { key, operator: 'In', values: this.valueSet() };
      case 'notin':
        return { key, operator: 'NotIn', values: this.valueSet() };
      case '>':
        return { key, operator: 'GreaterThan', values: [this.integer()] };
      case '<':
        return { key, operator: 'LessThan', values: [this.integer()] };
      default:
        return this.fail(`'=', '==', '!=', 'in', 'notin', '>', '<' or ',' after key "${key}"`, op);
    }
  }

  private key(): string {
    const tok = this.next();
    // `in`/`notin` are keywords where a key is expected, as in Kubernetes.
    if (tok.type !== 'ident' || tok.text === 'in' || tok.text === 'notin') {
      return this.fail('a label key', tok);
    }
    if (!isValidLabelKey(tok.text)) {
      return this.fail('a label key ([prefix/]name, name at most 63 alphanumerics, -, _, .)', tok);
    }
    return tok.text;
  }

  /** `a=` (nothing before `,` or the end) means the empty value, as in Kubernetes. */
  private exactValue(): string {
    const tok = this.peek();
    if (tok.type === 'end' || tok.text === ',') return '';
    this.pos++;
    return this.value(tok);
  }

  private value(tok: Token): string {
    if (tok.type !== 'ident') return this.fail('a label value', tok);
    if (!isValidLabelValue(tok.text)) {
      return this.fail('a label value (at most 63 alphanumerics, -, _, .)', tok);
    }
    return tok.text;
  }

  private valueSet(): string[] {
    const open = this.next();
    if (open.text !== '(' || open.type !== 'op') this.fail("'('", open);
    const values: string[] = [];
    for (;;) {
      // Empty entries (`()`, `(a,)`) stand for the empty value, as in Kubernetes.
      const tok = this.peek();
      if (tok.type === 'op' && (tok.text === ',' || tok.text === ')')) values.push('');
      else values.push(this.value(this.next()));
      const sep = this.next();
      if (sep.type === 'op' && sep.text === ')') break;
      if (sep.type !== 'op' || sep.text !== ',') this.fail("',' or ')'", sep);
    }
    return [...new Set(values)];
  }

  private integer(): string {
    const tok = this.next();
    if (tok.type !== 'ident' || !INTEGER.test(tok.text)) return this.fail('an integer', tok);
    return tok.text;
  }

  private peek(): Token {
    // The token list always ends with an 'end' token, and the parser never reads past it.
    return this.tokens[Math.min(this.pos, this.tokens.length - 1)] as Token;
  }

  private next(): Token {
    const tok = this.peek();
    this.pos++;
    return tok;
  }

  private fail(expected: string, tok: Token): never {
    const what = tok.type === 'end' ? 'end of selector' : `"${tok.text}"`;
    throw new InvalidInputError({
      field: FIELD,
      expected,
      got: `${what} at column ${tok.column} of "${this.text}"`,
    });
  }
}

/** Parses the Kubernetes label-selector string syntax. An empty string selects everything. */
export function parseLabelSelector(text: string): LabelRequirement[] {
  return new Parser(text, tokenize(text)).parse();
}

function has(labels: Record<string, string>, key: string): boolean {
  // Own properties only: a label called `constructor` must not match Object.prototype.
  return Object.hasOwn(labels, key);
}

export function matchesRequirement(
  labels: Record<string, string> | undefined,
  requirement: LabelRequirement,
): boolean {
  const l = labels ?? {};
  const present = has(l, requirement.key);
  const value = present ? l[requirement.key] : undefined;
  switch (requirement.operator) {
    case 'Equals':
    case 'In':
      return value !== undefined && requirement.values.includes(value);
    case 'NotEquals':
    case 'NotIn':
      return value === undefined || !requirement.values.includes(value);
    case 'Exists':
      return present;
    case 'DoesNotExist':
      return !present;
    case 'GreaterThan':
    case 'LessThan': {
      // Kubernetes: the label must exist and parse as an integer, else no match.
      if (value === undefined || !INTEGER.test(value)) return false;
      const bound = requirement.values[0];
      if (bound === undefined || !INTEGER.test(bound)) return false;
      const n = BigInt(value);
      const b = BigInt(bound);
      return requirement.operator === 'GreaterThan' ? n > b : n < b;
    }
  }
}

/** Every key of `matchLabels` present with the same value; empty or undefined matches all. */
export function matchesMatchLabels(
  labels: Record<string, string> | undefined,
  matchLabels: Record<string, string> | undefined,
): boolean {
  if (!matchLabels) return true;
  const l = labels ?? {};
  return Object.entries(matchLabels).every(([k, v]) => has(l, k) && l[k] === v);
}

/** A string is parsed (throws InvalidInputError), a map means matchLabels equality. */
export function matchesLabelSelector(
  labels: Record<string, string> | undefined,
  selector: LabelSelector,
): boolean {
  if (typeof selector === 'string') selector = parseLabelSelector(selector);
  if (!Array.isArray(selector)) return matchesMatchLabels(labels, selector);
  return selector.every((r) => matchesRequirement(labels, r));
}

/** Turns any selector form into requirements (a map becomes Equals requirements). */
export function toLabelRequirements(selector: LabelSelector): LabelRequirement[] {
  if (typeof selector === 'string') return parseLabelSelector(selector);
  if (Array.isArray(selector)) return selector;
  return Object.entries(selector).map(([key, value]) => ({
    key,
    operator: 'Equals',
    values: [value],
  }));
}

/** The string form of a selector, e.g. for the Kubernetes API's `labelSelector` parameter. */
export function formatLabelSelector(selector: LabelSelector): string {
  if (typeof selector === 'string') return selector;
  return toLabelRequirements(selector)
    .map((r) => {
      switch (r.operator) {
        case 'Equals':
          return `${r.key}=${r.values[0] ?? ''}`;
        case 'NotEquals':
          return `${r.key}!=${r.values[0] ?? ''}`;
        case 'In':
          return `${r.key} in (${r.values.join(',')})`;
        case 'NotIn':
          return `${r.key} notin (${r.values.join(',')})`;
        case 'Exists':
          return r.key;
        case 'DoesNotExist':
          return `!${r.key}`;
        case 'GreaterThan':
          return `${r.key}>${r.values[0] ?? ''}`;
        case 'LessThan':
          return `${r.key}<${r.values[0] ?? ''}`;
      }
    })
    .join(',');
}

/** `a=b,c=d` sorted by key, or `<none>`, as `kubectl get --show-labels` prints them. */
export function formatLabels(labels: Record<string, string> | undefined): string {
  const keys = Object.keys(labels ?? {}).sort();
  if (keys.length === 0) return '<none>';
  return keys.map((k) => `${k}=${labels?.[k] ?? ''}`).join(',');
}
