/**
 * Aggregation routes: one request fans out to several upstreams in parallel.
 * - each branch has its own timeout and its own answer; `{sub}` in a branch path is the
 *   caller's verified subject (URL-encoded);
 * - the caller's Authorization and the gateway's identity headers go to every branch,
 *   so each service still checks the token itself;
 * - what arrived is returned under the branch's name; what did not is `null` with an
 *   explicit entry in `errors` (status, code, detail); all failing is a 502.
 */
import { Type } from '@portico/config';
import { type Context, upstreamHeaders } from '../../context.ts';
import { errors } from '../../errors.ts';
import { defineTerminal } from '../../policy.ts';
import { Duration, ms } from '../../schema.ts';
import { describe, instanceFault, type Upstream } from '../../upstream/upstream.ts';

interface BranchError {
  status: number;
  code: string;
  detail: string;
}

export const aggregate = defineTerminal({
  name: 'aggregate',
  route: {
    aggregate: Type.Optional(
      Type.Object(
        {
          branches: Type.Record(
            Type.String(),
            Type.Object(
              {
                upstream: Type.String(),
                path: Type.String({ pattern: '^/' }),
                timeout: Type.Optional(Duration()),
              },
              { additionalProperties: false },
            ),
          ),
        },
        { additionalProperties: false },
      ),
    ),
  },
  check({ aggregate: options }, at, file) {
    return Object.entries(options?.branches ?? {})
      .filter(([, def]) => !file.upstreams[def.upstream])
      .map(
        ([branch, def]) =>
          `${at}.aggregate.branches.${branch}.upstream "${def.upstream}" is not in upstreams`,
      );
  },
  create({ aggregate: options }, _route, gateway) {
    if (!options) return undefined;
    const defaultTimeout = ms(gateway.defaults.timeout as string | number | undefined, 10_000);
    const branches = Object.entries(options.branches).map(([name, def]) => ({
      name,
      upstream: gateway.upstreams.get(def.upstream)!,
      path: def.path,
      timeout: ms(def.timeout, defaultTimeout),
    }));
    return async (ctx) => {
      ctx.upstream = 'aggregate';
      const outcomes = await Promise.all(branches.map((branch) => callBranch(ctx, branch)));
      const data: Record<string, unknown> = {};
      const failed: Record<string, BranchError> = {};
      branches.forEach((branch, i) => {
        const outcome = outcomes[i]!;
        if ('error' in outcome) {
          data[branch.name] = null;
          failed[branch.name] = outcome.error;
        } else data[branch.name] = outcome.value;
      });
      const failures = Object.keys(failed).length;
      if (failures === branches.length) {
        throw errors.AGGREGATE_FAILED('No part of this aggregate could be fetched', {
          extensions: { errors: failed },
        });
      }
      const body = Buffer.from(
        JSON.stringify({ ...data, ...(failures > 0 ? { errors: failed } : {}), request_id: ctx.id }),
      );
      ctx.reply = {
        status: 200,
        headers: {
          'content-type': 'application/json; charset=utf-8',
          'content-length': String(body.length),
          'cache-control': 'private, no-store',
        },
        body,
      };
    };
  },
});

async function callBranch(
  ctx: Context,
  branch: { name: string; upstream: Upstream; path: string; timeout: number },
): Promise<{ value: unknown } | { error: BranchError }> {
  const path = branch.path.replace(/\{(\w+)\}/g, (_, key: string) =>
    encodeURIComponent(key === 'sub' ? (ctx.auth?.sub ?? '') : String(ctx.auth?.payload[key] ?? '')),
  );
  const instance = branch.upstream.pick();
  if (!instance) {
    return { error: { status: 503, code: 'CIRCUIT_OPEN', detail: `${branch.upstream.name} is unavailable` } };
  }
  const signal = AbortSignal.timeout(branch.timeout);
  try {
    const response = await instance.pool.request({
      method: 'GET',
      path,
      headers: { ...(upstreamHeaders(ctx) as Record<string, string>), accept: 'application/json' },
      signal,
    });
    const text = await response.body.text();
    if (instanceFault(response.statusCode, response.headers)) instance.breaker.failure();
    else instance.breaker.success();
    let value: unknown;
    try {
      value = JSON.parse(text);
    } catch {
      value = text;
    }
    if (response.statusCode !== 200) {
      const problem = (value && typeof value === 'object' ? value : {}) as { code?: string; detail?: string };
      return {
        error: {
          status: response.statusCode,
          code: problem.code ?? 'UPSTREAM_ERROR',
          detail: problem.detail ?? `${branch.upstream.name} answered ${response.statusCode}`,
        },
      };
    }
    return { value };
  } catch (err) {
    instance.breaker.failure();
    if (signal.aborted) {
      return {
        error: {
          status: 504,
          code: 'UPSTREAM_TIMEOUT',
          detail: `${branch.upstream.name} did not answer within ${branch.timeout} ms`,
        },
      };
    }
    return {
      error: {
        status: 502,
        code: 'UPSTREAM_ERROR',
        detail: `${branch.upstream.name} could not be reached (${describe(err)})`,
      },
    };
  }
}
