/**
 * A route's pipeline: its policies in priority order (registry.ts has the table), higher
 * first, then its terminal. A policy whose options a route does not set is left out of that
 * route's chain, so it costs nothing. Each policy is built from its own keys only, each
 * falling back to the file's `defaults:`, and sees its route through a `RouteView`.
 */
import type { GatewayFile, RouteDef } from './config.ts';
import type { Context, Policy, RouteView, Terminal } from './context.ts';
import { type AnyPolicy, type AnyTerminal, type GatewayServices, optionsFor } from './policy.ts';
import { policies, terminals } from './registry.ts';

/** Built-ins and plugins, higher priority first; a tie keeps the built-in ahead. */
export function ordered(plugins: readonly AnyPolicy[]): AnyPolicy[] {
  return [...policies, ...plugins].sort((a, b) => b.priority - a.priority);
}

export function buildPipeline(
  def: RouteDef,
  route: RouteView,
  file: GatewayFile,
  chain: readonly AnyPolicy[],
  gateway: GatewayServices,
): Terminal {
  let terminal: Terminal | undefined;
  for (const candidate of terminals as readonly AnyTerminal[]) {
    terminal = candidate.create(optionsFor(candidate, def, file.defaults), route, gateway);
    if (terminal) break;
  }
  // loadGatewayFile has checked that every route has an upstream or an aggregate.
  return compose(build(chain, def, route, file, gateway), terminal!);
}

/** A WebSocket route's pipeline for upgrades: the policies that take upgrades, then `terminal`. */
export function buildUpgrade(
  def: RouteDef,
  route: RouteView,
  file: GatewayFile,
  chain: readonly AnyPolicy[],
  gateway: GatewayServices,
  terminal: Terminal,
): Terminal {
  const policies = chain.filter((policy) => policy.upgrades === true);
  return compose(build(policies, def, route, file, gateway), terminal);
}

function build(
  chain: readonly AnyPolicy[],
  def: RouteDef,
  route: RouteView,
  file: GatewayFile,
  gateway: GatewayServices,
): Policy[] {
  const built: Policy[] = [];
  for (const policy of chain) {
    const made = policy.create(
      optionsFor(policy, def, file.defaults),
      route,
      gateway,
      fileOptions(policy, file),
    );
    if (made) built.push(made);
  }
  return built;
}

function fileOptions(definition: AnyPolicy, file: GatewayFile): Record<string, unknown> {
  const options: Record<string, unknown> = {};
  for (const key in definition.file ?? {}) options[key] = (file as Record<string, unknown>)[key];
  return options;
}

function compose(policies: Policy[], terminal: Terminal): Terminal {
  return policies.reduceRight<Terminal>(
    (next, policy) => (ctx: Context) => policy(ctx, () => next(ctx)),
    terminal,
  );
}
