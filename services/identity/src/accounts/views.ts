/** The account pages: sign-up, email confirmation, password reset and change, second factors. */
import { escapeHtml } from '@portico/http';
import { jsonBlock, PASSKEY_SCRIPTS, page } from '../api/views.ts';

export interface FormState {
  csrf: string;
  error?: { message: string; code: string };
  values?: Record<string, string>;
}

function alert(state: FormState): string {
  return state.error
    ? `<p class="error" role="alert" id="form-error" data-code="${escapeHtml(state.error.code)}">${escapeHtml(state.error.message)}</p>`
    : '';
}

function field(
  state: FormState,
  name: string,
  label: string,
  attrs: string,
  options: { keep?: boolean; hint?: string } = {},
): string {
  const value = options.keep ? ` value="${escapeHtml(state.values?.[name] ?? '')}"` : '';
  const hint = options.hint ? `<small id="${name}-hint">${escapeHtml(options.hint)}</small>` : '';
  const described = [options.hint ? `${name}-hint` : '', state.error ? 'form-error' : '']
    .filter(Boolean)
    .join(' ');
  return `<label for="${name}">${escapeHtml(label)}</label>
<input id="${name}" name="${name}" ${attrs}${value}${described ? ` aria-describedby="${described}"` : ''}>
${hint}`;
}

/** The password a form sets, with the policy's length and what it refuses said up front. */
function newPasswordField(
  state: FormState,
  minLength: number,
  label: string,
  options: { autofocus?: boolean } = {},
) {
  const attrs = `type="password" autocomplete="new-password" required minlength="${minLength}" maxlength="1024"`;
  return field(state, 'password', label, options.autofocus ? `${attrs} autofocus` : attrs, {
    hint: `At least ${minLength} characters; not a commonly used password.`,
  });
}

/** An existing account's username, kept when the form comes back with an error. */
const usernameField = (state: FormState) =>
  field(
    state,
    'username',
    'Username',
    'type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" autofocus',
    { keep: true },
  );

const csrfField = (state: FormState) => `<input type="hidden" name="csrf" value="${escapeHtml(state.csrf)}">`;

/** A page of one form: its heading, the error if any, `intro`, then the form posting `fields` to `action`. */
function formPage(
  state: FormState,
  view: { title: string; heading?: string; action: string; intro?: string; after?: string },
  fields: string,
): string {
  return page(
    view.title,
    `<h1>${escapeHtml(view.heading ?? view.title)}</h1>
${alert(state)}
${view.intro ? `${view.intro}\n` : ''}<form method="post" action="${escapeHtml(view.action)}">
${csrfField(state)}
${fields}
</form>${view.after ? `\n${view.after}` : ''}`,
  );
}

/**
 * The form browser/passkeys.js fills and posts: the ceremony's answer in `response`, a
 * failure in `#passkey-error`, begun by the button; the ticket says which account it is for.
 */
function passkeyForm(
  state: FormState,
  ticket: string,
  action: string,
  button: { id: string; label: string },
) {
  return `<form id="passkey-form" method="post" action="${escapeHtml(action)}" hidden>
${csrfField(state)}
<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
<input type="hidden" name="response">
<p class="error" role="alert" id="passkey-error" hidden></p>
<button type="button" id="${button.id}" autofocus>${escapeHtml(button.label)}</button>
</form>`;
}

export function signupPage(state: FormState, minLength: number): string {
  return formPage(
    state,
    { title: 'Create an account', action: '/account/signup' },
    `${field(state, 'username', 'Username', 'type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required minlength="3" maxlength="64" autofocus', { keep: true })}
${field(state, 'name', 'Your name', 'type="text" autocomplete="name" maxlength="100"', { keep: true })}
${field(state, 'email', 'Email', 'type="email" autocomplete="email" required maxlength="254"', { keep: true, hint: 'We send a link to confirm it.' })}
${newPasswordField(state, minLength, 'Password')}
<button type="submit">Create account</button>`,
  );
}

export function messagePage(title: string, message: string, code?: string): string {
  return page(
    title,
    `<h1>${escapeHtml(title)}</h1>
<p role="status"${code ? ` data-code="${escapeHtml(code)}"` : ''}>${escapeHtml(message)}</p>`,
  );
}

export function verifyPage(state: FormState, token: string): string {
  return formPage(
    state,
    { title: 'Confirm your email', action: '/account/verify' },
    `<input type="hidden" name="token" value="${escapeHtml(token)}">
<button type="submit" autofocus>Confirm my email address</button>`,
  );
}

export function resetRequestPage(state: FormState): string {
  return formPage(
    state,
    {
      title: 'Reset your password',
      action: '/account/reset',
      intro: '<p>Enter the email address of your account; we send a link to choose a new password.</p>',
    },
    `${field(state, 'email', 'Email', 'type="email" autocomplete="email" required maxlength="254" autofocus', { keep: true })}
<button type="submit">Send the link</button>`,
  );
}

export function resetConfirmPage(
  state: FormState,
  token: string,
  username: string,
  minLength: number,
): string {
  return formPage(
    state,
    { title: 'Choose a new password', action: '/account/reset/confirm' },
    `<input type="hidden" name="token" value="${escapeHtml(token)}">
<input type="text" name="username" autocomplete="username" value="${escapeHtml(username)}" hidden readonly>
${newPasswordField(state, minLength, 'New password', { autofocus: true })}
<button type="submit">Set password</button>`,
  );
}

export function changePasswordPage(state: FormState, minLength: number): string {
  return formPage(
    state,
    {
      title: 'Change your password',
      action: '/account/password',
      after: '<p><a href="/account/reset">Forgot your password?</a></p>',
    },
    `${usernameField(state)}
${field(state, 'current', 'Current password', 'type="password" autocomplete="current-password" required maxlength="1024"')}
${newPasswordField(state, minLength, 'New password')}
${field(state, 'code', 'Two-step code', 'type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="64"', { hint: 'Only with two-step sign-in on: the code from your authenticator app, or a recovery code. An account whose second step is a passkey is asked for it next.' })}
<button type="submit">Change password</button>`,
  );
}

/** The new password, once the account's passkey has confirmed who is changing it. */
export function newPasswordPage(state: FormState, ticket: string, minLength: number): string {
  return formPage(
    state,
    { title: 'Change your password', heading: 'Choose your new password', action: '/account/password/new' },
    `<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
${newPasswordField(state, minLength, 'New password', { autofocus: true })}
<button type="submit">Change password</button>`,
  );
}

export function twoStepStartPage(state: FormState): string {
  return formPage(
    state,
    {
      title: 'Two-step sign-in',
      heading: 'Turn on two-step sign-in',
      action: '/account/two-step',
      intro:
        '<p>After your password, signing in will also ask for a code from an authenticator app on your phone. Confirm it is you first.</p>',
    },
    `${usernameField(state)}
${field(state, 'password', 'Password', 'type="password" autocomplete="current-password" required maxlength="1024"')}
<button type="submit">Continue</button>`,
  );
}

/** The QR code (`enrolment`, on the first showing) and the form for the first code. */
export function twoStepConfirmPage(
  state: FormState,
  ticket: string,
  enrolment?: { secret: string; qrSvg: string },
): string {
  const setup = enrolment
    ? `<p>Scan this QR code with your authenticator app:</p>
<figure role="img" aria-label="QR code of your two-step sign-in key">${enrolment.qrSvg}</figure>
<p>Or type this key into the app: <code id="totp-secret">${escapeHtml(enrolment.secret.replace(/(.{4})/g, '$1 ').trim())}</code></p>`
    : '';
  return formPage(
    state,
    {
      title: 'Two-step sign-in',
      heading: 'Scan and confirm',
      action: '/account/two-step/confirm',
      intro: setup,
    },
    `<input type="hidden" name="ticket" value="${escapeHtml(ticket)}">
${field(state, 'code', 'The six-digit code the app shows', 'type="text" inputmode="numeric" pattern="[0-9 ]{6,7}" autocomplete="one-time-code" required maxlength="7" autofocus')}
<button type="submit">Turn on</button>`,
  );
}

/** Recovery codes, shown this once. */
const recoveryCodeList = (
  codes: string[],
) => `<p role="status">Keep these recovery codes somewhere safe. Each one signs you in once if you lose your phone. They are shown only now.</p>
<ul id="recovery-codes">
${codes.map((c) => `<li><code>${escapeHtml(c)}</code></li>`).join('\n')}
</ul>`;

export function recoveryCodesPage(codes: string[]): string {
  return page('Recovery codes', `<h1>Two-step sign-in is on</h1>\n${recoveryCodeList(codes)}`);
}

/** Username, password and, when two-step sign-in is on, its code: who is changing the account. */
const reauthenticationFields = (state: FormState) =>
  `${usernameField(state)}
${field(state, 'password', 'Password', 'type="password" autocomplete="current-password" required maxlength="1024"')}
${field(state, 'code', 'Two-step code', 'type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" maxlength="64"', { hint: 'Only if two-step sign-in is on: the code from your app, or a recovery code.' })}`;

export function passkeyStartPage(state: FormState): string {
  return formPage(
    state,
    {
      title: 'Passkeys',
      heading: 'Add a passkey',
      action: '/account/passkeys',
      intro: `<p>A passkey signs you in with this device's screen lock or a security key, without a password. Confirm it is you first.</p>`,
    },
    `${reauthenticationFields(state)}
<button type="submit">Continue</button>`,
  );
}

/** The button that asks the browser for a new passkey; `options` for navigator.credentials.create. */
export function passkeyCreatePage(
  state: FormState,
  ticket: string,
  options: unknown,
  passkeys: Array<{ createdAt: string }>,
): string {
  const existing = passkeys.length
    ? `<p>This account has ${passkeys.length} passkey${passkeys.length === 1 ? '' : 's'} already.</p>`
    : '';
  return page(
    'Passkeys',
    `<h1>Create a passkey</h1>
${alert(state)}
${existing}
${jsonBlock('passkey-options', options)}
${passkeyForm(state, ticket, '/account/passkeys/register', { id: 'passkey-create', label: 'Create a passkey' })}
<noscript><p>Creating a passkey needs JavaScript and a browser that supports passkeys.</p></noscript>`,
    PASSKEY_SCRIPTS,
  );
}

export function passkeyAddedPage(total: number): string {
  return page(
    'Passkey added',
    `<h1>Passkey added</h1>
<p role="status" id="passkey-added">You can now sign in with this passkey instead of your password. This account has ${total} passkey${total === 1 ? '' : 's'}.</p>
<p><a href="/account/security">Your sign-in methods</a></p>`,
  );
}

/** An account with passkeys confirms with one of them before adding another; `options` for navigator.credentials.get. */
export function passkeyConfirmPage(
  state: FormState,
  ticket: string,
  options: unknown,
  purpose = { action: '/account/passkeys/confirm', why: 'Use one of its passkeys to add another.' },
): string {
  return page(
    'Passkeys',
    `<h1>Confirm with a passkey</h1>
${alert(state)}
<p>This account signs in with a passkey. ${escapeHtml(purpose.why)}</p>
${jsonBlock('passkey-options', options)}
${passkeyForm(state, ticket, purpose.action, { id: 'passkey-sign-in', label: 'Use a passkey' })}
<noscript><p>Using a passkey needs JavaScript.</p></noscript>`,
    PASSKEY_SCRIPTS,
  );
}

export function securityStartPage(state: FormState): string {
  return formPage(
    state,
    {
      title: 'Sign-in methods',
      heading: 'Your sign-in methods',
      action: '/account/security',
      intro:
        '<p>See and change your passkeys, your authenticator app and its recovery codes. Confirm it is you first.</p>',
    },
    `${reauthenticationFields(state)}
<button type="submit">Continue</button>`,
  );
}

export interface SecurityView {
  /** What the page's forms carry: the account it opened for, within a few minutes. */
  ticket: string;
  passkeys: Array<{
    id: string;
    name: string | null;
    deviceType: string;
    createdAt: string;
    lastUsedAt: string | null;
  }>;
  totp: boolean;
  recoveryCodesLeft: number;
  /** What the last change did. */
  done?: string;
  /** New recovery codes, shown this once. */
  recoveryCodes?: string[];
}

export const PASSKEY_NAME_MAX = 64;

const day = (iso: string | null) => (iso ? escapeHtml(iso.slice(0, 16).replace('T', ' ')) : 'never');

/** A passkey's row: unnamed ones go by their place in the list. */
function passkeyRow(p: SecurityView['passkeys'][number], i: number): string {
  const label = escapeHtml(p.name ?? `Passkey ${i + 1}`);
  const id = escapeHtml(p.id);
  return `<tr><th scope="row">${label}</th><td>${p.deviceType === 'singleDevice' ? 'On one device' : 'Synced'}</td><td>${day(p.createdAt)}</td><td>${day(p.lastUsedAt)}</td>
<td><input name="name:${id}" aria-label="New name for ${label}" maxlength="${PASSKEY_NAME_MAX}" value="${escapeHtml(p.name ?? '')}">
<button type="submit" class="secondary" formaction="/account/security/passkeys/rename" name="credential" value="${id}" aria-label="Rename ${label}">Rename</button></td>
<td><button type="submit" class="secondary" formaction="/account/security/passkeys/remove" name="credential" value="${id}" aria-label="Remove ${label}">Remove</button></td></tr>`;
}

/**
 * An account's second factors, each change a button of one form that asks for the password
 * again. The form's first button is disabled: Enter in the password field changes nothing.
 */
export function securityPage(state: FormState, view: SecurityView): string {
  const passkeys = view.passkeys.length
    ? `<table>
<thead><tr><th scope="col">Passkey</th><th scope="col">Kind</th><th scope="col">Added (UTC)</th><th scope="col">Last used (UTC)</th><th scope="col">Name</th><th scope="col">Remove</th></tr></thead>
<tbody>
${view.passkeys.map(passkeyRow).join('\n')}
</tbody>
</table>`
    : '<p>No passkeys.</p>';
  const app = view.totp
    ? `<p>On. ${view.recoveryCodesLeft} recovery code${view.recoveryCodesLeft === 1 ? '' : 's'} left.</p>
<button type="submit" class="secondary" formaction="/account/security/recovery-codes">New recovery codes</button>
<button type="submit" class="secondary" formaction="/account/security/two-step/off">Turn off two-step sign-in</button>`
    : view.passkeys.length
      ? // A passkey is the second step then: the password alone does not add an app beside it (two-step.ts).
        '<p>Off: your passkey is your second step.</p>'
      : '<p>Off. <a href="/account/two-step">Turn on two-step sign-in</a></p>';
  return page(
    'Sign-in methods',
    `<h1>Your sign-in methods</h1>
${alert(state)}
${view.done ? `<p role="status" id="security-done">${escapeHtml(view.done)}</p>` : ''}
${view.recoveryCodes ? `<h2>New recovery codes</h2>\n${recoveryCodeList(view.recoveryCodes)}` : ''}
<form method="post" action="/account/security">
<button type="submit" disabled hidden aria-hidden="true"></button>
${csrfField(state)}
<input type="hidden" name="ticket" value="${escapeHtml(view.ticket)}">
${field(state, 'password', 'Password', 'type="password" autocomplete="current-password" required maxlength="1024" autofocus', { hint: 'Each change asks for your password again.' })}
<h2>Passkeys</h2>
${passkeys}
<p><a href="/account/passkeys">Add a passkey</a></p>
<h2>Authenticator app</h2>
${app}
</form>`,
  );
}
