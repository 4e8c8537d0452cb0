/**
 * The message of a Git state-store commit. A push carries one commit for every batch
 * written in that round: one batch keeps its own message (Kratix's "Update from:
 * <placement>"); several get a subject counting them and a body listing each batch's
 * message on its own line, so `git log` still says which placements a commit wrote.
 */
export function commitMessage(messages: string[]): string {
  if (messages.length === 1) return messages[0]!;
  return `Update from: ${messages.length} placements\n\n${messages.join('\n')}`;
}

/** The batch messages a commit message lists (the inverse of commitMessage). */
export function listedMessages(message: string): string[] {
  const [subject = '', ...rest] = message.trimEnd().split('\n');
  const body = rest.filter((l) => l !== '');
  return /^Update from: \d+ placements$/.test(subject) && body.length > 0 ? body : [subject];
}
