import { describe, expect, it } from 'vitest';
import { outputSummary, scrubSecrets, secretValuesOf } from '../../src/pipelines/failure-output';
import { PipelineFailedError } from '../../src/pipelines/runner';
import type { KratixObject, Pipeline } from '../../src/model/types';

describe('a failed pipeline explains itself', () => {
  it('ends the message with the last lines of the container output', () => {
    const tail = [
      'configuring mongo-v3',
      '',
      'execute-pipeline: unsupported majorVersion "3" (supported: 4, 5, 6)',
    ];
    const err = new PipelineFailedError(
      'instance-configure',
      'create-instance',
      'exited with code 1',
      tail.join('\n'),
    );
    expect(err.message).toBe(
      'pipeline "instance-configure" container "create-instance" failed: exited with code 1: ' +
        'configuring mongo-v3 | execute-pipeline: unsupported majorVersion "3" (supported: 4, 5, 6)',
    );
    expect(new PipelineFailedError('p', 'c', 'exited with code 2').message).toBe(
      'pipeline "p" container "c" failed: exited with code 2',
    );
  });

  it('bounds what it quotes: the last three lines, each and all clipped', () => {
    const lines = Array.from({ length: 50 }, (_, i) => `line ${i} ${'x'.repeat(400)}`);
    const summary = outputSummary(lines.join('\n'));
    // The end is kept: the last line, whole up to its own bound; earlier ones cut at the front.
    expect(summary.length).toBeLessThanOrEqual(600);
    expect(summary.endsWith(`line 49 ${'x'.repeat(231)}…`)).toBe(true);
    expect(summary).toContain('line 48');
    expect(summary).not.toContain('line 46');
    expect(outputSummary('one\ntwo\nthree\nfour')).toBe('two | three | four');
  });

  it('scrubs credentials, and the values of the Secrets the pipeline was given', () => {
    const output = [
      'connecting to https://admin:s3cr3t-pw@db.example:5432/app',
      'DB_PASSWORD=hunter2hunter2 token: abc.def.ghi',
      'Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.payload',
      'using key AKIAABCDEFGHIJKLMNOP',
      'the value is very-private-value',
    ].join('\n');
    const scrubbed = scrubSecrets(output, ['very-private-value']);
    for (const secret of [
      's3cr3t-pw',
      'hunter2hunter2',
      'abc.def.ghi',
      'eyJhbGciOiJIUzI1NiJ9',
      'AKIAABCDEFGHIJKLMNOP',
      'very-private-value',
    ]) {
      expect(scrubbed).not.toContain(secret);
    }
    expect(scrubbed).toContain('https://***@db.example');
    const err = new PipelineFailedError('p', 'c', 'exited with code 1', output).withSecretsMasked([
      'very-private-value',
    ]);
    expect(err.message).toContain('the value is ***');
    expect(err.logTail).not.toContain('very-private-value');
    expect(JSON.stringify(err)).not.toContain('very-private-value');
  });

  it('finds the values of every Secret a pipeline refers to', async () => {
    const pipeline = {
      apiVersion: 'platform.kratix.io/v1alpha1',
      kind: 'Pipeline',
      metadata: { name: 'p' },
      spec: {
        containers: [
          {
            name: 'c',
            image: 'x',
            env: [{ name: 'A', valueFrom: { secretKeyRef: { name: 'one', key: 'k' } } }],
            envFrom: [{ secretRef: { name: 'two' } }],
          },
        ],
        volumes: [{ name: 'v', secret: { secretName: 'three' } }],
      },
    } as Pipeline;
    const secrets: Record<string, object> = {
      one: { data: { k: Buffer.from('first-secret').toString('base64') } },
      two: { stringData: { t: 'second-secret' } },
      three: {
        stringData: { pem: '-----BEGIN KEY-----\nMIIBOgIBAAJBAKj34GkxFhD9\n-----END KEY-----' },
      },
    };
    const read = async (key: { name: string; namespace: string }) =>
      key.namespace === 'team-a'
        ? ({ kind: 'Secret', metadata: { name: key.name }, ...secrets[key.name] } as KratixObject)
        : undefined;
    const values = await secretValuesOf(pipeline, 'team-a', read);
    expect(values).toEqual(
      expect.arrayContaining(['first-secret', 'second-secret', 'MIIBOgIBAAJBAKj34GkxFhD9']),
    );
    expect(await secretValuesOf(pipeline, 'elsewhere', read)).toEqual([]);
  });
});
