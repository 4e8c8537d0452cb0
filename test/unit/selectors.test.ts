import { describe, it, expect } from 'vitest';
import { InvalidInputError } from '../../src/model/errors';
import {
  formatLabelSelector,
  formatLabels,
  matchesLabelSelector,
  matchesMatchLabels,
  parseLabelSelector,
} from '../../src/model/selectors';

describe('parseLabelSelector', () => {
  it('reads every operator of the Kubernetes string syntax', () => {
    expect(parseLabelSelector('a=b,c==d,e!=f,g,!h,i in (x, y),j notin (z),k>1,l<10')).toEqual([
      { key: 'a', operator: 'Equals', values: ['b'] },
      { key: 'c', operator: 'Equals', values: ['d'] },
      { key: 'e', operator: 'NotEquals', values: ['f'] },
      { key: 'g', operator: 'Exists', values: [] },
      { key: 'h', operator: 'DoesNotExist', values: [] },
      { key: 'i', operator: 'In', values: ['x', 'y'] },
      { key: 'j', operator: 'NotIn', values: ['z'] },
      { key: 'k', operator: 'GreaterThan', values: ['1'] },
      { key: 'l', operator: 'LessThan', values: ['10'] },
    ]);
  });

  it('reads an empty selector as selecting everything', () => {
    expect(parseLabelSelector('')).toEqual([]);
    expect(parseLabelSelector('   ')).toEqual([]);
  });

  it('ignores whitespace around tokens', () => {
    expect(parseLabelSelector('  env = dev ,  tier in(a,b) ')).toEqual([
      { key: 'env', operator: 'Equals', values: ['dev'] },
      { key: 'tier', operator: 'In', values: ['a', 'b'] },
    ]);
  });

  it('accepts prefixed keys such as kratix.io/promise-name', () => {
    expect(parseLabelSelector('kratix.io/promise-name=mongodb')).toEqual([
      { key: 'kratix.io/promise-name', operator: 'Equals', values: ['mongodb'] },
    ]);
  });

  it('reads a missing value after = as the empty value, as Kubernetes does', () => {
    expect(parseLabelSelector('a=,b!=')).toEqual([
      { key: 'a', operator: 'Equals', values: [''] },
      { key: 'b', operator: 'NotEquals', values: [''] },
    ]);
  });

  it('accepts the words in and notin as values', () => {
    expect(parseLabelSelector('a=in,b in (notin)')).toEqual([
      { key: 'a', operator: 'Equals', values: ['in'] },
      { key: 'b', operator: 'In', values: ['notin'] },
    ]);
  });

  it.each([
    ['a=b,', 'a label key'],
    ['a b', 'after key'],
    ['a in x', "'('"],
    ['a in (x', "',' or ')'"],
    ['a in (x y)', "',' or ')'"],
    ['=b', 'a label key'],
    ['!', 'a label key'],
    ['!a=b', "',' or end of selector"],
    ['a=b=c', "',' or end of selector"],
    ['a>x', 'an integer'],
    ['-a=b', 'a label key'],
    ['a=b c', "',' or end of selector"],
    [`a=${'x'.repeat(64)}`, 'a label value'],
    ['Bad_Prefix/a=b', 'a label key'],
    ['in=b', 'a label key'],
  ])('refuses %j with an InvalidInputError on labelSelector', (text, expected) => {
    let error: unknown;
    try {
      parseLabelSelector(text);
    } catch (err) {
      error = err;
    }
    expect(error).toBeInstanceOf(InvalidInputError);
    const details = (error as InvalidInputError).details;
    expect(details.field).toBe('labelSelector');
    expect(details.expected).toContain(expected);
    expect(details.got).toContain(JSON.stringify(text));
  });

  it('says where the bad token is', () => {
    expect(() => parseLabelSelector('a=b,c d')).toThrow(
      /labelSelector: expected .* after key "c", got "d" at column 7 of "a=b,c d"/,
    );
  });
});

describe('matchesLabelSelector', () => {
  const labels = { env: 'prod', tier: 'db', size: '12' };

  it.each([
    ['env=prod', true],
    ['env==prod', true],
    ['env=dev', false],
    ['env!=dev', true],
    ['env!=prod', false],
    ['missing!=x', true],
    ['env', true],
    ['missing', false],
    ['!missing', true],
    ['!env', false],
    ['env in (dev, prod)', true],
    ['env in (dev)', false],
    ['missing in (dev)', false],
    ['env notin (dev)', true],
    ['env notin (prod)', false],
    ['missing notin (prod)', true],
    ['size>10', true],
    ['size>12', false],
    ['size<13', true],
    ['env>1', false],
    ['missing<1', false],
    ['env=prod,tier=db', true],
    ['env=prod,tier=web', false],
    ['', true],
  ])('%j on env=prod,tier=db,size=12 is %s', (selector, expected) => {
    expect(matchesLabelSelector(labels, selector)).toBe(expected);
  });

  it('treats a map as matchLabels equality', () => {
    expect(matchesLabelSelector(labels, { env: 'prod' })).toBe(true);
    expect(matchesLabelSelector(labels, { env: 'prod', tier: 'web' })).toBe(false);
    expect(matchesLabelSelector(labels, {})).toBe(true);
  });

  it('takes already-parsed requirements', () => {
    const requirements = parseLabelSelector('tier in (db),!missing');
    expect(matchesLabelSelector(labels, requirements)).toBe(true);
    expect(matchesLabelSelector({ tier: 'web' }, requirements)).toBe(false);
  });

  it('treats missing labels as no labels', () => {
    expect(matchesLabelSelector(undefined, '!env')).toBe(true);
    expect(matchesLabelSelector(undefined, 'env')).toBe(false);
    expect(matchesLabelSelector(undefined, '')).toBe(true);
  });

  it('never matches keys inherited from Object.prototype', () => {
    expect(matchesLabelSelector({}, 'constructor')).toBe(false);
    expect(matchesLabelSelector({}, '!toString')).toBe(true);
  });

  it('throws InvalidInputError for a malformed selector string', () => {
    expect(() => matchesLabelSelector(labels, 'env in prod')).toThrow(InvalidInputError);
  });
});

describe('matchesMatchLabels', () => {
  it('needs every key to be present with the same value', () => {
    expect(matchesMatchLabels({ a: '1', b: '2' }, { a: '1' })).toBe(true);
    expect(matchesMatchLabels({ a: '1', b: '2' }, { a: '1', b: '3' })).toBe(false);
    expect(matchesMatchLabels({ a: '1' }, { c: '' })).toBe(false);
  });

  it('matches everything when matchLabels is empty or undefined', () => {
    expect(matchesMatchLabels({ a: '1' }, {})).toBe(true);
    expect(matchesMatchLabels({ a: '1' }, undefined)).toBe(true);
    expect(matchesMatchLabels(undefined, undefined)).toBe(true);
  });

  it('does not match anything when labels are missing but matchLabels are not', () => {
    expect(matchesMatchLabels(undefined, { a: '1' })).toBe(false);
  });
});

describe('formatLabels', () => {
  it('prints labels as key=value sorted by key', () => {
    expect(formatLabels({ z: '1', a: '2', 'kratix.io/x': 'y' })).toBe('a=2,kratix.io/x=y,z=1');
  });

  it('prints <none> when there are no labels', () => {
    expect(formatLabels({})).toBe('<none>');
    expect(formatLabels(undefined)).toBe('<none>');
  });
});

describe('formatLabelSelector', () => {
  it('writes requirements back in a form parseLabelSelector reads identically', () => {
    const text = 'a=b,c!=d,e,!f,g in (x,y),h notin (z),i>1,j<2';
    const requirements = parseLabelSelector(text);
    expect(formatLabelSelector(requirements)).toBe(text);
    expect(parseLabelSelector(formatLabelSelector(requirements))).toEqual(requirements);
  });

  it('writes a matchLabels map as equality requirements', () => {
    expect(formatLabelSelector({ env: 'dev', tier: 'db' })).toBe('env=dev,tier=db');
  });
});
