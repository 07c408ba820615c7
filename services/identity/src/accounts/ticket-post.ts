/**
 * The later steps of an account page that first asked who is there: the answer to that step
 * issues a ticket (a single-use secret for one account and purpose, 10 min, only its hash kept)
 * and every form after it carries the ticket in its `ticket` field instead of asking again.
 * A post runs `act` for the ticket's account while the ticket is unexpired and the account may
 * sign in; otherwise it is refused with 400 `LINK_INVALID`. Spending the ticket is `act`'s call.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import { formField } from '../api/forms.ts';
import type { AccountTokenService, TokenPurpose } from '../domain/account-tokens.ts';
import type { Account, AccountService } from '../domain/accounts.ts';
import { errors } from '../errors.ts';
import type { FormPost } from './form-post.ts';
import type { FormState } from './views.ts';

export const TICKET_TTL_SECONDS = 600;

export interface TicketForm {
  purpose: TokenPurpose;
  /** What the refusal says when the ticket is spent or expired, or its account disabled. */
  expired: string;
  /** The page again after a refusal; `account` is the ticket's, undefined once it is no good. */
  render(state: FormState, ticket: string, account: Account | undefined): string | Promise<string>;
  act(account: Account, ticket: string, request: FastifyRequest, reply: FastifyReply): Promise<string>;
}

/** The account a ticket was issued for, while it is unexpired and the account may sign in. */
export async function ticketHolder(
  deps: { tokens: AccountTokenService; accounts: AccountService },
  ticket: string,
  purpose: TokenPurpose,
): Promise<Account | undefined> {
  const accountId = await deps.tokens.peek(ticket, purpose);
  const account = accountId ? await deps.accounts.findById(accountId) : undefined;
  return account && !account.disabled ? account : undefined;
}

/** A form post at `path` under a ticket for `form.purpose`, run through `post`. */
export function ticketPost(
  server: FastifyInstance,
  deps: { tokens: AccountTokenService; accounts: AccountService },
  post: FormPost,
  path: string,
  form: TicketForm,
): void {
  server.post(path, { schema: { hide: true } }, async (request, reply) => {
    const ticket = formField(request.body, 'ticket', 200);
    // Looked up once: a refusal shows the page again for the account the post ran for.
    let found: Promise<Account | undefined> | undefined;
    const holder = () => {
      found ??= ticketHolder(deps, ticket, form.purpose);
      return found;
    };
    return post(
      request,
      reply,
      async (state) => form.render(state, ticket, await holder()),
      async () => {
        const account = await holder();
        if (!account) throw errors.LINK_INVALID(form.expired);
        return form.act(account, ticket, request, reply);
      },
    );
  });
}
