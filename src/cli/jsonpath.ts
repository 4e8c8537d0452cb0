import { InvalidInputError } from '../model/errors';

/**
 * kubectl's `-o jsonpath=TEMPLATE`, the part scripts use: text with `{…}` expressions —
 * paths (`.a.b`, `['a.b']`, `[0]`, `[-1]`, `[1:3]`, `[*]`, `..name`, filters `[?(@.type=="Ready")]`
 * with == and !=), `{range …}…{end}`, and string literals (`{"\n"}`). Several results are
 * printed space-separated, as kubectl does.
 */
export function renderJsonPath(template: string, root: unknown): string {
  const nodes = parseTemplate(template);
  return renderNodes(nodes, root, root);
}

type Step =
  | { kind: 'field'; name: string }
  | { kind: 'index'; index: number }
  | { kind: 'slice'; start?: number; end?: number }
  | { kind: 'all' }
  | { kind: 'recursive'; name: string }
  | { kind: 'filter'; path: Step[]; op: '==' | '!=' | 'exists'; value?: unknown };

type Node =
  | { kind: 'text'; text: string }
  | { kind: 'path'; steps: Step[]; fromRoot: boolean }
  | { kind: 'range'; steps: Step[]; fromRoot: boolean; body: Node[] };

function fail(template: string, why: string): never {
  throw new InvalidInputError({
    field: '-o jsonpath',
    expected: `a kubectl JSONPath template (${why})`,
    got: template,
  });
}

function parseTemplate(template: string): Node[] {
  const root: Node[] = [];
  const stack: Node[][] = [root];
  let i = 0;
  while (i < template.length) {
    const open = template.indexOf('{', i);
    if (open === -1) {
      stack.at(-1)!.push({ kind: 'text', text: template.slice(i) });
      break;
    }
    if (open > i) stack.at(-1)!.push({ kind: 'text', text: template.slice(i, open) });
    const close = findClose(template, open);
    if (close === -1) fail(template, 'unclosed {');
    const expr = template.slice(open + 1, close).trim();
    i = close + 1;
    if (expr === 'end') {
      if (stack.length === 1) fail(template, '{end} without {range}');
      stack.pop();
    } else if (expr.startsWith('range ')) {
      const { steps, fromRoot } = parsePath(expr.slice(6).trim(), template);
      const node: Node = { kind: 'range', steps, fromRoot, body: [] };
      stack.at(-1)!.push(node);
      stack.push(node.body);
    } else if (/^"(?:[^"\\]|\\.)*"$/.test(expr)) {
      stack.at(-1)!.push({ kind: 'text', text: JSON.parse(expr) as string });
    } else {
      stack.at(-1)!.push({ kind: 'path', ...parsePath(expr, template) });
    }
  }
  if (stack.length > 1) fail(template, '{range} without {end}');
  return root;
}

/** The `}` closing the `{` at `open`, skipping quoted strings (`{"}"}`). */
function findClose(s: string, open: number): number {
  let quote: string | undefined;
  for (let i = open + 1; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '}') return i;
  }
  return -1;
}

function parsePath(expr: string, template: string): { steps: Step[]; fromRoot: boolean } {
  let s = expr;
  let fromRoot = false;
  if (s.startsWith('$')) {
    fromRoot = true;
    s = s.slice(1);
  } else if (s === '@') s = '';
  else if (s.startsWith('@')) s = s.slice(1);
  const steps: Step[] = [];
  let i = 0;
  while (i < s.length) {
    if (s.startsWith('..', i)) {
      const m = /^[A-Za-z0-9_-]+/.exec(s.slice(i + 2));
      if (!m) fail(template, `a name after ..`);
      steps.push({ kind: 'recursive', name: m[0] });
      i += 2 + m[0].length;
    } else if (s[i] === '.') {
      const m = /^[A-Za-z0-9_-]+|^\*/.exec(s.slice(i + 1));
      if (!m) {
        i++; // a lone `.` is the current object
        continue;
      }
      steps.push(m[0] === '*' ? { kind: 'all' } : { kind: 'field', name: m[0] });
      i += 1 + m[0].length;
    } else if (s[i] === '[') {
      const end = findBracketEnd(s, i);
      if (end === -1) fail(template, 'unclosed [');
      steps.push(parseBracket(s.slice(i + 1, end).trim(), template));
      i = end + 1;
    } else if (i === 0 && /[A-Za-z_]/.test(s[i]!)) {
      // `{metadata.name}`: kubectl reads a leading name as a field too.
      s = `.${s}`;
    } else {
      fail(template, `unexpected "${s[i]}"`);
    }
  }
  return { steps, fromRoot };
}

function findBracketEnd(s: string, open: number): number {
  let depth = 0;
  let quote: string | undefined;
  for (let i = open; i < s.length; i++) {
    const c = s[i]!;
    if (quote) {
      if (c === '\\') i++;
      else if (c === quote) quote = undefined;
    } else if (c === '"' || c === "'") quote = c;
    else if (c === '[' || c === '(') depth++;
    else if (c === ']' || c === ')') {
      depth--;
      if (depth === 0 && c === ']') return i;
    }
  }
  return -1;
}

function parseBracket(inner: string, template: string): Step {
  if (inner === '*') return { kind: 'all' };
  if (/^-?\d+$/.test(inner)) return { kind: 'index', index: Number(inner) };
  const slice = /^(-?\d*):(-?\d*)$/.exec(inner);
  if (slice) {
    return {
      kind: 'slice',
      ...(slice[1] ? { start: Number(slice[1]) } : {}),
      ...(slice[2] ? { end: Number(slice[2]) } : {}),
    };
  }
  const quoted = /^(['"])(.*)\1$/.exec(inner);
  if (quoted) return { kind: 'field', name: quoted[2]! };
  const filter = /^\?\((.*)\)$/.exec(inner);
  if (filter) {
    const cond = filter[1]!.trim();
    const cmp = /^(@[^=!<>\s]*)\s*(==|!=)\s*(.+)$/.exec(cond);
    if (cmp) {
      const literal = cmp[3]!.trim();
      let value: unknown;
      if (/^(['"]).*\1$/.test(literal)) value = literal.slice(1, -1);
      else if (/^-?\d+(\.\d+)?$/.test(literal)) value = Number(literal);
      else if (literal === 'true' || literal === 'false') value = literal === 'true';
      else fail(template, `a quoted string, number or boolean in the filter`);
      return {
        kind: 'filter',
        path: parsePath(cmp[1]!, template).steps,
        op: cmp[2] as '==' | '!=',
        value,
      };
    }
    if (/^@[^=!<>\s]*$/.test(cond)) {
      return { kind: 'filter', path: parsePath(cond, template).steps, op: 'exists' };
    }
  }
  return fail(template, `unsupported [${inner}]`);
}

function evaluate(steps: Step[], start: unknown): unknown[] {
  let current: unknown[] = [start];
  for (const step of steps) {
    const next: unknown[] = [];
    for (const value of current) {
      if (value === null || value === undefined) continue;
      switch (step.kind) {
        case 'field':
          if (typeof value === 'object' && !Array.isArray(value) && step.name in value) {
            next.push((value as Record<string, unknown>)[step.name]);
          }
          break;
        case 'index':
          if (Array.isArray(value)) {
            const v = value.at(step.index);
            if (v !== undefined) next.push(v);
          }
          break;
        case 'slice':
          if (Array.isArray(value)) next.push(...value.slice(step.start, step.end));
          break;
        case 'all':
          if (Array.isArray(value)) next.push(...value);
          else if (typeof value === 'object') next.push(...Object.values(value));
          break;
        case 'recursive':
          collect(value, step.name, next);
          break;
        case 'filter':
          if (Array.isArray(value)) {
            for (const item of value) {
              const found = evaluate(step.path, item);
              const keep =
                step.op === 'exists'
                  ? found.length > 0
                  : step.op === '=='
                    ? found.some((f) => f === step.value)
                    : !found.some((f) => f === step.value);
              if (keep) next.push(item);
            }
          }
          break;
      }
    }
    current = next;
  }
  return current;
}

function collect(value: unknown, name: string, out: unknown[]): void {
  if (value === null || typeof value !== 'object') return;
  if (!Array.isArray(value) && name in value) out.push((value as Record<string, unknown>)[name]);
  for (const child of Object.values(value)) collect(child, name, out);
}

function show(value: unknown): string {
  if (typeof value === 'string') return value;
  if (value === null || value === undefined) return '';
  if (typeof value === 'object') return JSON.stringify(value);
  return String(value);
}

function renderNodes(nodes: Node[], root: unknown, current: unknown): string {
  let out = '';
  for (const node of nodes) {
    if (node.kind === 'text') out += node.text;
    else if (node.kind === 'path') {
      out += evaluate(node.steps, node.fromRoot ? root : current)
        .map(show)
        .join(' ');
    } else {
      for (const item of evaluate(node.steps, node.fromRoot ? root : current)) {
        // `{range .items[*]}`: each element of the selected list.
        for (const element of Array.isArray(item) ? item : [item]) {
          out += renderNodes(node.body, root, element);
        }
      }
    }
  }
  return out;
}
