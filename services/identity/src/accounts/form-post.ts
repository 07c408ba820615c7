/**
 * How every account form post runs: CSRF first, then `act`, whose page answers 200; a problem
 * it throws (a 4xx) re-renders the form through `render` with the problem's message, stable code
 * and status, and the fields named in `keep` filled in again. Anything else is rethrown.
 */
import { isProblemError } from '@portico/problem';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formField, html } from '../api/forms.ts';
import type { FormGuard } from './csrf.ts';
import type { FormState } from './views.ts';

export interface FormPostOptions {
  /** Fields given back to the form after a refusal, each cut at `max`. */
  keep?: readonly string[];
  max?: number;
  /** The page `act` returns runs scripts (the passkey pages). */
  scripts?: boolean;
}

export type FormPost = (
  request: FastifyRequest,
  reply: FastifyReply,
  render: (state: FormState) => string | Promise<string>,
  act: () => Promise<string>,
) => Promise<FastifyReply>;

export function formPost(guard: FormGuard, options: FormPostOptions = {}): FormPost {
  const keep = options.keep ?? ['username'];
  const max = options.max ?? 64;
  return async (request, reply, render, act) => {
    const body = request.body;
    try {
      guard.check(request, formField(body, 'csrf'));
      return html(reply, 200, await act(), { scripts: options.scripts ?? false });
    } catch (err) {
      if (!isProblemError(err) || err.status >= 500) throw err;
      reply.headers(err.headers);
      const state: FormState = {
        csrf: guard.token(request, reply),
        error: { message: err.message, code: err.code },
        values: Object.fromEntries(keep.map((k) => [k, formField(body, k, max)])),
      };
      return html(reply, err.status, await render(state));
    }
  };
}

/**
 * A form and its post at one path: GET renders `form` with a fresh CSRF token, POST runs `act`
 * through `post`, a refusal rendering `form` again.
 */
export function formRoutes(
  server: FastifyInstance,
  guard: FormGuard,
  post: FormPost,
  path: string,
  form: (state: FormState) => string,
  act: (request: FastifyRequest, reply: FastifyReply) => Promise<string>,
): void {
  const hide = { schema: { hide: true } };
  server.get(path, hide, async (request, reply) =>
    html(reply, 200, form({ csrf: guard.token(request, reply) })),
  );
  server.post(path, hide, async (request, reply) => post(request, reply, form, () => act(request, reply)));
}
