/**
 * Reloads of the gateway file: on SIGHUP, when the file changes (when watched), or when asked
 * (`reload(definition)`, tests). A file that is refused leaves the previous one serving; one
 * that is applied is swapped in, and the old runtime closes once its requests are done.
 */
import { watch } from 'node:fs';
import { basename, dirname } from 'node:path';
import type { FastifyBaseLogger } from 'fastify';
import type { GatewayFile } from './config.ts';
import type { GatewayMetrics } from './metrics.ts';
import type { Runtime } from './runtime.ts';
import { describe } from './upstream/upstream.ts';

export interface ReloadOptions {
  source: string | GatewayFile;
  watch: boolean;
  /** Reads, checks and compiles a gateway file; throws when it is refused. */
  load(source: string | GatewayFile): Promise<Runtime>;
  /** Puts `next` in service and returns the runtime it replaces. */
  swap(next: Runtime): Runtime;
  metrics: GatewayMetrics;
  log: FastifyBaseLogger;
}

export function reloader(options: ReloadOptions) {
  const { metrics, log } = options;
  let count = 0;
  let lastError: string | undefined;
  let closed = false;

  // One at a time, in the order asked: loading is asynchronous (plugins are imported), and a
  // slower earlier load must not be swapped in over a later one.
  let chain: Promise<unknown> = Promise.resolve();
  function reload(source: string | GatewayFile = options.source): Promise<boolean> {
    const next = chain.then(() => apply(source));
    chain = next;
    return next;
  }

  async function apply(source: string | GatewayFile): Promise<boolean> {
    if (closed) return false;
    let next: Runtime;
    try {
      next = await options.load(source);
    } catch (err) {
      lastError = (err as Error).message;
      metrics.reload('refused');
      log.error({ err: lastError }, 'gateway file refused; the previous one keeps serving');
      return false;
    }
    if (closed) {
      void next.close();
      return false;
    }
    const old = options.swap(next);
    count++;
    lastError = undefined;
    metrics.reload('applied');
    log.info({ routes: next.routes.length }, 'gateway file reloaded');
    old
      .close()
      .catch((err) => log.warn({ err: describe(err) }, 'closing the previous upstream pools failed'));
    return true;
  }

  const onHangup = () => void reload();
  process.on('SIGHUP', onHangup);
  let watcher: ReturnType<typeof watch> | undefined;
  let pending: NodeJS.Timeout | undefined;
  if (options.watch && typeof options.source === 'string') {
    const file = options.source;
    // Editors replace files rather than write them: watch the directory, filter by name.
    watcher = watch(dirname(file), (_event, name) => {
      if (name !== basename(file)) return;
      clearTimeout(pending);
      pending = setTimeout(() => void reload(), 50);
    });
    watcher.unref();
  }

  return {
    reload,
    state: () => ({ count, lastError }),
    close() {
      closed = true;
      clearTimeout(pending);
      process.off('SIGHUP', onHangup);
      watcher?.close();
    },
  };
}
