import path from 'node:path';
import { describe, expect, it } from 'vitest';
import YAML from 'yaml';
import { InvalidInputError } from '../../src/model/errors';
import { lookupImage, parseImageTable } from '../../src/pipelines/image-table';

const FILE = '/tables/images.yaml';
const MONGO = 'ghcr.io/syntasso/kratix-marketplace/mongodb-configure-pipeline';

function table(yaml: string) {
  return parseImageTable(YAML.parse(yaml), FILE);
}

describe('parseImageTable', () => {
  it('resolves programs against the table file and defaults args to []', () => {
    const t = table(`
images:
  ${MONGO}:v0.1.0:
    program: mongodb/pipelines/v0.1.0/execute-pipeline
  busybox:
    program: /usr/local/bin/fake-busybox
    args: [--verbose, run]
`);
    expect(t.file).toBe(FILE);
    expect(t.images[`${MONGO}:v0.1.0`]).toEqual({
      program: path.resolve('/tables/mongodb/pipelines/v0.1.0/execute-pipeline'),
      args: [],
    });
    expect(t.images['busybox']).toEqual({
      program: '/usr/local/bin/fake-busybox',
      args: ['--verbose', 'run'],
    });
  });

  it('refuses a table without images, naming the file and field', () => {
    expect(() => table('foo: bar')).toThrow(InvalidInputError);
    expect(() => table('foo: bar')).toThrow(/\/tables\/images\.yaml: images: expected a mapping/);
  });

  it('refuses an entry without program, or with non-string args', () => {
    expect(() => table('images:\n  a:\n    args: [x]')).toThrow(/images\["a"\]\.program/);
    expect(() => table('images:\n  a:\n    program: p\n    args: [1]')).toThrow(
      /images\["a"\]\.args: expected a list of strings/,
    );
  });
});

describe('lookupImage', () => {
  const t = table(`
images:
  ${MONGO}:v0.1.0: { program: v1 }
  ${MONGO}:v0.2.0: { program: v2 }
  plain: { program: plain }
  tagged:latest: { program: tagged }
  registry.local:5000/team/tool: { program: tool }
`);
  const programOf = (image: string) => {
    const entry = lookupImage(t, image);
    return entry?.program ? path.basename(entry.program) : undefined;
  };

  it('finds exact references', () => {
    expect(programOf(`${MONGO}:v0.1.0`)).toBe('v1');
    expect(programOf(`${MONGO}:v0.2.0`)).toBe('v2');
  });

  it('treats a tag-less reference and :latest as the same image, both ways', () => {
    expect(programOf('plain:latest')).toBe('plain');
    expect(programOf('tagged')).toBe('tagged');
    expect(programOf('registry.local:5000/team/tool:latest')).toBe('tool');
  });

  it('never falls back across versions', () => {
    expect(programOf(`${MONGO}:v0.3.0`)).toBeUndefined();
    expect(programOf(MONGO)).toBeUndefined();
    expect(programOf('plain:v1')).toBeUndefined();
    expect(programOf('tagged:v1')).toBeUndefined();
  });

  it('does not alias digests', () => {
    expect(programOf('plain@sha256:abc')).toBeUndefined();
  });

  it('is pure: the table is not modified', () => {
    const before = JSON.stringify(t);
    lookupImage(t, 'unknown');
    lookupImage(t, 'plain:latest');
    expect(JSON.stringify(t)).toBe(before);
  });
});
