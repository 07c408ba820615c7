/**
 * The account pages, plain HTML forms that work without JavaScript (`/account/...`).
 * Every post is CSRF-checked (csrf.ts). A refused post re-renders its form with the
 * problem's message and stable code (`data-code`) and the problem's status.
 * Links from mail land on a page with a button: a mail scanner that fetches the link
 * does not spend it.
 */
import { isProblemError } from '@portico/problem';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { afterAnswer } from '../api/after-answer.ts';
import { formField, formPages, html } from '../api/forms.ts';
import type { IdentityConfig } from '../config.ts';
import type { AccountActions } from '../domain/self-service.ts';
import type { FormGuard } from './csrf.ts';
import { formPost, formRoutes } from './form-post.ts';
import {
  type FormState,
  messagePage,
  resetConfirmPage,
  resetRequestPage,
  signupPage,
  verifyPage,
} from './views.ts';

export interface AccountRouteDeps {
  actions: AccountActions;
  guard: FormGuard;
  config: IdentityConfig;
  /** Mail can be sent: without it there is no password reset by mail. */
  mail: boolean;
}

const HIDE = { schema: { hide: true } };

export async function accountRoutes(server: FastifyInstance, deps: AccountRouteDeps): Promise<void> {
  const { actions, guard, config } = deps;
  const min = config.accounts.minPasswordLength;
  await formPages(server);

  const post = formPost(guard, { keep: ['username', 'name', 'email'], max: 254 });

  const query = (request: FastifyRequest, name: string) => formField(request.query, name, 200);

  if (config.accounts.signup) {
    const signupForm = (state: FormState) => signupPage(state, min);
    formRoutes(server, guard, post, '/account/signup', signupForm, async (request, reply) => {
      const b = request.body;
      await actions.signUp(
        {
          username: formField(b, 'username', 64),
          email: formField(b, 'email', 254),
          name: formField(b, 'name', 100),
          password: formField(b, 'password'),
        },
        request.ip,
        afterAnswer(reply),
      );
      return messagePage(
        'Check your email',
        `We sent a link to ${formField(b, 'email', 254).trim()}. Open it to confirm your address, then sign in.`,
      );
    });
  }

  server.get('/account/verify', HIDE, async (request, reply) =>
    html(reply, 200, verifyPage({ csrf: guard.token(request, reply) }, query(request, 'token'))),
  );
  server.post('/account/verify', HIDE, async (request, reply) =>
    post(
      request,
      reply,
      (state) => verifyPage(state, formField(request.body, 'token', 200)),
      async () => {
        const account = await actions.verifyEmail(formField(request.body, 'token', 200));
        return messagePage(
          'Email confirmed',
          `Thank you, ${account.name}: ${account.email} is confirmed. You can sign in now.`,
        );
      },
    ),
  );

  if (!deps.mail) return;
  formRoutes(server, guard, post, '/account/reset', resetRequestPage, async (request, reply) => {
    actions.requestPasswordReset(formField(request.body, 'email', 254), request.ip, afterAnswer(reply));
    return messagePage(
      'Check your email',
      'If an account has that address, a link to choose a new password is on its way. It works once, for a short time.',
    );
  });

  server.get('/account/reset/confirm', HIDE, async (request, reply) => {
    const token = query(request, 'token');
    const csrf = guard.token(request, reply);
    try {
      const account = await actions.checkResetLink(token);
      return html(reply, 200, resetConfirmPage({ csrf }, token, account.username, min));
    } catch (err) {
      if (!isProblemError(err) || err.status >= 500) throw err;
      return html(reply, err.status, messagePage('Link expired', err.message, err.code));
    }
  });
  server.post('/account/reset/confirm', HIDE, async (request, reply) => {
    const token = formField(request.body, 'token', 200);
    return post(
      request,
      reply,
      (state) => resetConfirmPage(state, token, formField(request.body, 'username', 64), min),
      async () => {
        await actions.resetPassword(token, formField(request.body, 'password'), request.ip);
        return messagePage(
          'Password changed',
          'Your new password is set, and every device signed in with the old one is signed out.',
        );
      },
    );
  });
}
