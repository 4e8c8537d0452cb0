import { describe, expect, it } from 'vitest';
import { commitMessage, listedMessages } from '../../src/statestores/commit-message';

describe('Git state-store commit messages', () => {
  it('keeps a lone batch message as it is (Kratix\'s "Update from: <placement>")', () => {
    expect(commitMessage(['Update from: mongodb-db-1-configure.worker-1'])).toBe(
      'Update from: mongodb-db-1-configure.worker-1',
    );
    expect(listedMessages('Update from: mongodb-db-1-configure.worker-1')).toEqual([
      'Update from: mongodb-db-1-configure.worker-1',
    ]);
  });

  it('counts the batches of a grouped commit in its subject and lists each in its body', () => {
    const messages = ['Update from: a.worker-1', 'Delete from: b.worker-1', 'Update from: c.dev'];
    const message = commitMessage(messages);
    expect(message.split('\n')[0]).toBe('Update from: 3 placements');
    expect(listedMessages(message)).toEqual(messages);
    // As `git log --format=%B` prints it, with a trailing newline.
    expect(listedMessages(`${message}\n`)).toEqual(messages);
  });

  it('reads a hand-written message with a body as the one message it is', () => {
    expect(listedMessages('Fix worker-1 by hand\n\nreverted a bad file')).toEqual([
      'Fix worker-1 by hand',
    ]);
  });
});
