/**
 * Times form posts to one page from a client in its own process. A client in the server's
 * process shares its event loop: work the server starts after writing an answer then runs
 * before the client reads it, and the timing shows that work rather than the answer.
 */
import { type ChildProcess, fork } from 'node:child_process';
import { fileURLToPath } from 'node:url';

export interface FormTimer {
  /** Milliseconds from sending `fields` (with the page's CSRF token) to the whole answer read. */
  post(fields: Record<string, string>): Promise<{ ms: number; status: number }>;
  close(): Promise<void>;
}

export type TimerReply = { ready: true } | { ms: number; status: number } | { error: string };

const CHILD = fileURLToPath(new URL('./form-timer-child.ts', import.meta.url));

export async function startFormTimer(page: URL): Promise<FormTimer> {
  // No inherited flags: the test runner's would make the child a test file of its own.
  const child = fork(CHILD, [page.href], { execArgv: [], stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  await reply(child);
  return {
    async post(fields) {
      child.send(fields);
      const answer = await reply(child);
      if (!('ms' in answer)) throw new Error('form timer: no timing in its reply');
      return answer;
    },
    async close() {
      if (child.exitCode !== null || child.signalCode !== null) return;
      const exited = new Promise((resolve) => child.once('exit', resolve));
      child.disconnect();
      await exited;
    },
  };
}

function reply(child: ChildProcess): Promise<TimerReply> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: TimerReply) => {
      child.off('exit', onExit);
      if ('error' in message) reject(new Error(`form timer: ${message.error}`));
      else resolve(message);
    };
    const onExit = (code: number | null) => {
      child.off('message', onMessage);
      reject(new Error(`form timer exited (${code}) before answering`));
    };
    child.once('message', onMessage);
    child.once('exit', onExit);
  });
}
