import type { Command } from 'commander';
import { InvalidInputError } from '../../model/errors';

/** `-n/--namespace` and `-A/--all-namespaces`, as kubectl spells them, on every verb. */
export interface NamespaceFlags {
  namespace?: string;
  allNamespaces?: boolean;
}

export function namespaceOptions(command: Command, help: string, all = true): Command {
  command.option('-n, --namespace <namespace>', `Kubernetes namespace: ${help}`);
  if (all) command.option('-A, --all-namespaces', 'every namespace (with a NAMESPACE column)');
  return command;
}

/** Without either flag: every namespace (one platform holds few), a name in several refused. */
export function namespaceScope(flags: NamespaceFlags): { namespace?: string; all: boolean } {
  if (flags.namespace !== undefined && flags.allNamespaces) {
    throw new InvalidInputError({
      field: '-n/-A',
      expected: 'a namespace or --all-namespaces, not both',
      got: `-n ${flags.namespace} -A`,
    });
  }
  return { namespace: flags.namespace, all: flags.allNamespaces === true };
}
