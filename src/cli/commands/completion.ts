import type { Command, Option } from 'commander';
import { InvalidInputError } from '../../model/errors';
import { out, withClient } from '../context';

/**
 * Shell completion: `promiseflow completion bash` prints a script whose function asks the
 * CLI itself (`promiseflow __complete -- WORDS…`) for candidates, so commands, flags,
 * kinds (each Promise's API included) and object names come from the live definitions
 * and the platform store, never from a list that can go stale.
 */
const BASH_SCRIPT = `# promiseflow completion for bash. Load it in this shell:
#   source <(promiseflow completion bash)
# or for every shell: promiseflow completion bash > ~/.local/share/bash-completion/completions/promiseflow
_promiseflow_complete() {
  local cur=\${COMP_WORDS[COMP_CWORD]}
  local IFS=$'\\n'
  local candidates
  candidates=$("\${COMP_WORDS[0]}" __complete -- "\${COMP_WORDS[@]:1:COMP_CWORD}" 2>/dev/null)
  COMPREPLY=($(compgen -W "$candidates" -- "$cur"))
}
complete -o default -F _promiseflow_complete promiseflow
`;

/** Commands whose first argument is a kind and second an object of that kind. */
const KIND_THEN_NAME = new Set(['get', 'describe', 'delete', 'label', 'retry']);
/** Commands whose argument is a Promise. */
const PROMISE_ARG = new Set(['status', 'pause', 'resume', 'abort']);
const OUTPUT_FORMATS = ['wide', 'name', 'yaml', 'json', 'jsonpath='];

export function registerCompletion(program: Command): void {
  program
    .command('completion')
    .description('print a shell completion script (bash): source <(promiseflow completion bash)')
    .argument('<shell>', 'bash')
    .action((shell: string) => {
      if (shell !== 'bash') {
        throw new InvalidInputError({ field: 'SHELL', expected: 'bash', got: shell });
      }
      process.stdout.write(BASH_SCRIPT);
    });

  program
    .command('__complete', { hidden: true })
    .argument('[words...]')
    .action(async (words: string[]) => {
      for (const c of await candidates(program, words)) out(c);
    });
}

function flagsOf(options: readonly Option[]): string[] {
  return options.flatMap((o) =>
    o.hidden ? [] : [o.long, o.short].filter((f): f is string => !!f),
  );
}

function takesValue(options: readonly Option[], word: string): boolean {
  return options.some((o) => (o.long === word || o.short === word) && (o.required || o.optional));
}

/** Candidates for the last word, given the words before it. */
export async function candidates(program: Command, words: string[]): Promise<string[]> {
  const current = words.at(-1) ?? '';
  const before = words.slice(0, -1);
  const visible = program.commands.filter((c) => !(c as unknown as { _hidden: boolean })._hidden);
  // Skip global options (and their values) to find the command.
  let i = 0;
  while (i < before.length && before[i]!.startsWith('-')) {
    i += takesValue(program.options, before[i]!) ? 2 : 1;
  }
  const command = visible.find((c) => c.name() === before[i]);
  if (!command) {
    if (current.startsWith('-')) return flagsOf(program.options);
    if (takesValue(program.options, before.at(-1) ?? '')) return [];
    return visible.map((c) => c.name());
  }
  const options = [...command.options, ...program.options];
  const previous = before.at(-1) ?? '';
  if (takesValue(options, previous)) {
    return previous === '-o' || previous === '--output' ? OUTPUT_FORMATS : [];
  }
  if (current.startsWith('-')) return flagsOf(command.options);
  // Positional arguments typed so far, options and their values left out.
  const positional: string[] = [];
  for (let j = i + 1; j < before.length; j++) {
    const w = before[j]!;
    if (w.startsWith('-')) {
      if (takesValue(options, w) && !w.includes('=')) j++;
    } else positional.push(w);
  }
  const name = command.name();
  if (name === 'completion') return positional.length === 0 ? ['bash'] : [];
  if (name === 'config') return positional.length === 0 ? ['view'] : [];
  if (!KIND_THEN_NAME.has(name) && !PROMISE_ARG.has(name)) return [];
  return withClient(
    program,
    async (client) => {
      if (PROMISE_ARG.has(name)) {
        return positional.length === 0 ? (await client.promises()).map((p) => p.metadata.name) : [];
      }
      if (positional.length === 0) return (await client.kinds()).map((k) => k.plural);
      if (positional.length === 1) {
        const { items } = await client.get(positional[0]!);
        return [...new Set(items.map((o) => o.metadata.name))];
      }
      return [];
    },
    { temporal: 'lazy' },
  ).catch(() => []);
}
