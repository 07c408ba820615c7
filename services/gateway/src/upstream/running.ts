/**
 * Deadlines on the gateway's running time, for judging an upstream by its silence.
 *
 * While the gateway's event loop is blocked, or the machine does not schedule the process,
 * answers pile up unread in its sockets; when it runs again, timers fire before that turn reads
 * any I/O. A wall-clock deadline then blames the upstream for the gateway's own absence. Here a
 * deadline is made of steps of at most `step` ms, each credited at most its own length (a step
 * that fires late credits only what it was set for: the lateness is the gateway's), and it
 * expires one turn after its last step (setImmediate runs after that turn's I/O), so an answer
 * that did arrive is read before it is judged. Under a starved loop it expires later in wall
 * time, never sooner.
 */

/** The deadline passed: the answer did not come in time the gateway was running. */
export class NoAnswerError extends Error {
  code = 'PORTICO_NO_ANSWER';
}

/** The step for judging `ms` of silence: a quarter of it, within 25–250 ms. */
export function stepFor(ms: number): number {
  return Math.max(25, Math.min(250, ms / 4));
}

/** What a step of at most `step` ms credits when `elapsed` ms passed since the last one. */
export function credit(elapsed: number, step: number): number {
  return Math.min(elapsed, step);
}

export interface RunningDeadline {
  /** Aborted, with a NoAnswerError, once the gateway has run `ms` and read its I/O once more. */
  signal: AbortSignal;
  /** Stops the steps (the operation ended first). */
  clear(): void;
}

export function runningDeadline(ms: number): RunningDeadline {
  const step = stepFor(ms);
  const controller = new AbortController();
  let left = ms;
  let wait = Math.min(step, left);
  let armed = performance.now();
  let timer: NodeJS.Timeout | undefined;
  let immediate: NodeJS.Immediate | undefined;
  const expire = () => {
    controller.abort(new NoAnswerError(`no answer within ${ms} ms of the gateway's running time`));
  };
  const tick = () => {
    const now = performance.now();
    left -= credit(now - armed, wait);
    if (left > 0) {
      armed = now;
      wait = Math.min(step, left);
      timer = setTimeout(tick, wait).unref();
      return;
    }
    immediate = setImmediate(expire).unref();
  };
  timer = setTimeout(tick, wait).unref();
  return {
    signal: controller.signal,
    clear() {
      clearTimeout(timer);
      if (immediate) clearImmediate(immediate);
    },
  };
}
