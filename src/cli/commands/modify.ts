import type { Command } from 'commander';
import { InvalidInputError } from '../../model/errors';
import { out, withClient } from '../context';
import { waitAndReport } from '../wait';
import { namespaceOptions, namespaceScope, type NamespaceFlags } from './namespaces';

export function registerModify(program: Command): void {
  const del = program
    .command('delete')
    .description(
      'delete objects by name or label selector (WorkPlacements: with their state-store files)',
    )
    .argument('<kind>')
    .argument('[name]')
    .option('-l, --selector <selector>', 'label selector')
    .option('--wait', 'wait for the workflows started to finish');
  namespaceOptions(del, 'only there (default: every namespace; a name in several is refused)');
  del.action(
    async (
      kind: string,
      name: string | undefined,
      opts: NamespaceFlags & { selector?: string; wait?: boolean },
    ) => {
      if (!name && !opts.selector)
        throw new InvalidInputError({ field: 'NAME', expected: 'a name or -l SELECTOR' });
      const { namespace } = namespaceScope(opts);
      await withClient(program, async (client) => {
        const { deleted, workflows } = await client.delete(kind, {
          name,
          labelSelector: opts.selector,
          namespace,
        });
        for (const d of deleted) out(`${kind} "${d}" deleted`);
        if (deleted.length === 0) process.stderr.write(`No ${kind} found.\n`);
        if (opts.wait && !(await waitAndReport(client, workflows))) process.exitCode = 1;
      });
    },
  );

  const label = program
    .command('label')
    .description(
      'set (k=v) or remove (k-) labels; labelling a Destination reschedules waiting work',
    )
    .argument('<kind>')
    .argument('<name>')
    .argument('<labels...>')
    .option('--wait', 'wait for the workflows started to finish');
  namespaceOptions(label, 'where the object is (needed when the name is in several)', false);
  label.action(
    async (
      kind: string,
      name: string,
      labels: string[],
      opts: NamespaceFlags & { wait?: boolean },
    ) => {
      const { namespace } = namespaceScope(opts);
      await withClient(program, async (client) => {
        const { workflow } = await client.label(kind, name, labels, namespace);
        out(`${kind}/${name} labeled`);
        if (opts.wait && workflow && !(await waitAndReport(client, [workflow])))
          process.exitCode = 1;
      });
    },
  );

  const retry = program
    .command('retry')
    .description(
      'start a new update of a Promise whose last one failed or was aborted (retry promise NAME), ' +
        "or re-run one resource request's reconcile (retry KIND NAME [-n NS])",
    )
    .argument('<kind>', 'promise, or a Promise API kind (e.g. mongodbs)')
    .argument('<name>')
    .option('--wait', 'wait for the workflow started to finish');
  namespaceOptions(retry, 'of the resource request (needed when the name is in several)', false);
  retry.action(async (kind: string, name: string, opts: NamespaceFlags & { wait?: boolean }) => {
    const { namespace } = namespaceScope(opts);
    await withClient(program, async (client) => {
      const isPromise = (await client.resolveKind(kind)).kind === 'Promise';
      const { workflow, reason } = isPromise
        ? await client.retryPromise(name)
        : { workflow: await client.retryResource(kind, name, namespace) };
      const why = reason ? ` (${reason})` : '';
      out(`${workflow.label}: retry started${why} [workflow ${workflow.handle.workflowId}]`);
      if (opts.wait && !(await waitAndReport(client, [workflow]))) process.exitCode = 1;
    });
  });
}
