/**
 * The provider, rebuilt in place when its signing keys change, so a rotation needs no restart.
 * oidc-provider builds its keystore once, in its constructor, and cannot change it; a new
 * instance with the same configuration, adapter and cookie keys is the same provider with
 * other keys: what it keeps between requests is in the adapter's storage or in cookies sealed
 * with the cookie keys, so a flow begun on one instance ends on the next, and a request already
 * in an old instance finishes there.
 *
 * The Fastify hook calls `handle`, always the current instance's. The rest of the service holds
 * `provider`, a stand-in that forwards to the current instance and replays on each new one the
 * listeners (`on`) and middleware (`use`) added through it.
 *
 * Every `reloadSeconds` (and when a pending key's `signs_from` comes) the key file is read
 * again: a key another replica or `rotate-keys.ts` added is published here too, and every
 * replica starts signing with it at the same `signs_from`.
 */
import type { IncomingMessage, ServerResponse } from 'node:http';
import type Provider from 'oidc-provider';
import type { IdentityConfig } from '../config.ts';
import { type ProviderKeys, readKeys } from './keys.ts';
import { createProvider, type ProviderDeps } from './provider.ts';

export interface LiveProvider {
  /** Stands for whichever instance is current. */
  provider: Provider;
  handle(req: IncomingMessage, res: ServerResponse): void;
  /** The keys the current instance was built with: the first signs, all are published. */
  keys(): ProviderKeys;
  /** Reads the key file now; true when the provider was rebuilt. */
  reload(): boolean;
  close(): void;
}

type Listener = (...args: never[]) => void;
type Middleware = Parameters<Provider['use']>[0];

/** A method of the instance (bound to it); not a model class a getter hands out. */
function isMethod(target: object, prop: PropertyKey): boolean {
  for (let o: object | null = target; o; o = Object.getPrototypeOf(o)) {
    const found = Object.getOwnPropertyDescriptor(o, prop);
    if (found) return typeof found.value === 'function';
  }
  return false;
}

const signature = (keys: ProviderKeys) => keys.jwks.keys.map((k) => k.kid).join(' ');

export function liveProvider(
  config: IdentityConfig,
  deps: ProviderDeps & { onError(err: unknown): void; onRebuild(keys: ProviderKeys): void },
): LiveProvider {
  const listeners: [string, Listener][] = [];
  const middleware: Middleware[] = [];
  let keys = deps.keys;
  let current = createProvider(config, deps);
  // Koa fixes an app's middleware when `callback()` is called: made at the first request after a change.
  let handle: ReturnType<Provider['callback']> | undefined;

  const provider = new Proxy({} as Provider, {
    get(_target, prop) {
      if (prop === 'on')
        return (event: string, listener: Listener) => {
          listeners.push([event, listener]);
          current.on(event, listener);
          return provider;
        };
      if (prop === 'use')
        return (fn: Middleware) => {
          middleware.push(fn);
          current.use(fn);
          handle = undefined;
        };
      const value = Reflect.get(current, prop, current) as unknown;
      return isMethod(current, prop) ? (value as (...args: unknown[]) => unknown).bind(current) : value;
    },
  });

  function rebuild(next: ProviderKeys) {
    const built = createProvider(config, { ...deps, keys: next });
    for (const [event, listener] of listeners) built.on(event, listener);
    for (const fn of middleware) built.use(fn);
    current = built;
    handle = undefined;
    keys = next;
    deps.onRebuild(next);
  }

  let activation: NodeJS.Timeout | undefined;
  function reload(): boolean {
    if (!config.keysFile) return false;
    let read: ReturnType<typeof readKeys>;
    try {
      read = readKeys(config.keysFile);
    } catch (err) {
      // A mounted secret being replaced can be read half-way: keep the keys we have, try again later.
      deps.onError(err);
      return false;
    }
    // Cookie keys also seal client secrets and second factors (sealed-secrets.ts), which keep the
    // ones they started with: only the signing keys follow the file.
    const next = { jwks: read.jwks, cookieKeys: deps.keys.cookieKeys };
    const { nextChange } = read;
    clearTimeout(activation);
    if (nextChange !== null)
      activation = setTimeout(reload, Math.min(nextChange - Date.now() + 50, 2 ** 31 - 1)).unref();
    if (signature(next) === signature(keys)) return false;
    rebuild(next);
    return true;
  }
  // Keys in memory only (no file) never change.
  const poll = config.keysFile
    ? setInterval(reload, config.keyRotation.reloadSeconds * 1000).unref()
    : undefined;
  reload();

  return {
    provider,
    handle: (req, res) => {
      handle ??= current.callback();
      handle(req, res);
    },
    keys: () => keys,
    reload,
    close() {
      clearInterval(poll);
      clearTimeout(activation);
    },
  };
}
