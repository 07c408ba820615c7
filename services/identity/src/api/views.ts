/**
 * The identity service's pages: plain, accessible HTML that works without JavaScript.
 * Every field has a label, errors are announced (role="alert") and take the focus
 * target, and every value is escaped.
 */
import { escapeHtml, htmlPage } from '@portico/http';

const STYLE = `body{font-family:system-ui,sans-serif;max-width:28rem;margin:3rem auto;padding:0 1rem;line-height:1.5;color:#1a1a1a}
label{display:block;margin-top:1rem;font-weight:600}input{font:inherit;width:100%;padding:.5rem;margin-top:.25rem;box-sizing:border-box;border:1px solid #555;border-radius:4px}
button{font:inherit;margin-top:1.25rem;padding:.5rem 1rem;border-radius:4px;border:1px solid #1a4d8f;background:#1a4d8f;color:#fff;cursor:pointer}
button.secondary{background:#fff;color:#1a4d8f}:focus-visible{outline:3px solid #f5a623;outline-offset:2px}
.error{border-left:4px solid #b00020;padding:.5rem 1rem;background:#fdecee}ul{padding-left:1.25rem}`;

/** The scripts a page with a passkey button loads (served by passkey-scripts.ts). */
export const PASSKEY_SCRIPTS = ['/passkeys/webauthn.js', '/passkeys/passkeys.js'];

/** JSON for a `<script type="application/json">` block: no `<` to close it early. */
export function jsonBlock(id: string, value: unknown): string {
  return `<script type="application/json" id="${escapeHtml(id)}">${JSON.stringify(value).replaceAll('<', '\\u003c')}</script>`;
}

export function page(title: string, body: string, scripts: string[] = []): string {
  return htmlPage({ title, style: STYLE, body: `<main>\n${body}\n</main>`, scripts });
}

export interface LoginView {
  uid: string;
  clientName: string;
  username?: string;
  error?: string;
  /** Offer self-service sign-up. */
  signup?: boolean;
  /** Offer a password reset by mail. */
  reset?: boolean;
}

export function loginPage(view: LoginView): string {
  const error = view.error
    ? `<p class="error" role="alert" id="login-error">${escapeHtml(view.error)}</p>`
    : '';
  const described = view.error ? ' aria-describedby="login-error"' : '';
  return page(
    'Sign in',
    `<h1>Sign in</h1>
<p>to continue to <strong>${escapeHtml(view.clientName)}</strong></p>
${error}
<form method="post" action="/interaction/${escapeHtml(view.uid)}/login">
<label for="username">Username</label>
<input id="username" name="username" type="text" autocomplete="username" autocapitalize="none" spellcheck="false" required maxlength="64" value="${escapeHtml(view.username)}"${described}${view.username ? '' : ' autofocus'}>
<label for="password">Password</label>
<input id="password" name="password" type="password" autocomplete="current-password" required maxlength="1024"${described}${view.username ? ' autofocus' : ''}>
<button type="submit">Sign in</button>
</form>
<form id="passkey-form" method="post" action="/interaction/${escapeHtml(view.uid)}/passkey" data-options="/interaction/${escapeHtml(view.uid)}/passkey/options" hidden>
<input type="hidden" name="response">
<p class="error" role="alert" id="passkey-error" hidden></p>
<button type="button" id="passkey-sign-in" class="secondary">Use a passkey</button>
</form>
<form method="post" action="/interaction/${escapeHtml(view.uid)}/abort">
<button type="submit" class="secondary">Cancel</button>
</form>
${accountLinks(view)}`,
    PASSKEY_SCRIPTS,
  );
}

export interface SecondFactorView {
  uid: string;
  clientName: string;
  error?: string;
  /** The account has an authenticator app (a code form); default true. */
  totp?: boolean;
  /** The account has passkeys (a passkey button). */
  passkey?: boolean;
}

export function secondFactorPage(view: SecondFactorView): string {
  const error = view.error
    ? `<p class="error" role="alert" id="code-error">${escapeHtml(view.error)}</p>`
    : '';
  const uid = escapeHtml(view.uid);
  const totp =
    view.totp === false
      ? ''
      : `<form method="post" action="/interaction/${uid}/second-factor">
<label for="code">Code from your authenticator app</label>
<input id="code" name="code" type="text" autocomplete="one-time-code" autocapitalize="none" spellcheck="false" required maxlength="64" aria-describedby="code-hint${view.error ? ' code-error' : ''}" autofocus>
<small id="code-hint">Six digits; or one of your recovery codes (each works once).</small>
<button type="submit">Continue</button>
</form>`;
  const passkey = view.passkey
    ? `<form id="passkey-form" method="post" action="/interaction/${uid}/passkey" data-options="/interaction/${uid}/passkey/options" hidden>
<input type="hidden" name="response">
<p class="error" role="alert" id="passkey-error" hidden></p>
<button type="button" id="passkey-sign-in"${view.totp === false ? '' : ' class="secondary"'}>Use a passkey</button>
</form>
<noscript><p>Using a passkey needs JavaScript.</p></noscript>`
    : '';
  return page(
    'Two-step sign-in',
    `<h1>Two-step sign-in</h1>
<p>to continue to <strong>${escapeHtml(view.clientName)}</strong></p>
${error}
${totp}
${passkey}
<form method="post" action="/interaction/${uid}/abort">
<button type="submit" class="secondary">Cancel</button>
</form>`,
    view.passkey ? PASSKEY_SCRIPTS : [],
  );
}

function accountLinks(view: LoginView): string {
  const links = [
    view.reset ? '<a href="/account/reset">Forgot your password?</a>' : '',
    view.signup ? '<a href="/account/signup">Create an account</a>' : '',
  ].filter(Boolean);
  return links.length ? `<p>${links.join(' · ')}</p>` : '';
}

export interface ConsentView {
  uid: string;
  clientName: string;
  username: string;
  scopes: Array<{ name: string; description: string }>;
}

const SCOPE_TEXT: Record<string, string> = {
  openid: 'Sign you in with your Portico account',
  profile: 'Your name, username and roles',
  email: 'Your email address',
  offline_access: 'Stay signed in (access while you are away)',
};

export function describeScope(scope: string): string {
  return SCOPE_TEXT[scope] ?? `Portico API: ${scope}`;
}

export function consentPage(view: ConsentView): string {
  const items = view.scopes
    .map(
      (s) => `<li><strong>${escapeHtml(s.description)}</strong> <small>(${escapeHtml(s.name)})</small></li>`,
    )
    .join('\n');
  return page(
    'Allow access',
    `<h1>Allow access?</h1>
<p>You are signed in as <strong>${escapeHtml(view.username)}</strong>.
<strong>${escapeHtml(view.clientName)}</strong> asks to:</p>
<ul>
${items}
</ul>
<form method="post" action="/interaction/${escapeHtml(view.uid)}/confirm">
<button type="submit" autofocus>Allow</button>
</form>
<form method="post" action="/interaction/${escapeHtml(view.uid)}/abort">
<button type="submit" class="secondary">Deny</button>
</form>`,
  );
}

export function errorPage(error: string, description?: string): string {
  return page(
    'Something went wrong',
    `<h1>Something went wrong</h1>
<p class="error" role="alert"><strong>${escapeHtml(error)}</strong>${description ? `: ${escapeHtml(description)}` : ''}</p>
<p>Go back to the application and start again.</p>`,
  );
}

/** `form` is oidc-provider's hidden form (id "op.logoutForm") carrying the xsrf token. */
export function logoutPage(form: string): string {
  return page(
    'Sign out',
    `<h1>Sign out of Portico?</h1>
${form}
<button type="submit" form="op.logoutForm" name="logout" value="yes" autofocus>Yes, sign me out</button>
<button type="submit" form="op.logoutForm" class="secondary">No, stay signed in</button>`,
  );
}

export function logoutSuccessPage(clientName?: string): string {
  return page(
    'Signed out',
    `<h1>Signed out</h1>
<p>You have signed out${clientName ? ` of ${escapeHtml(clientName)}` : ''}.</p>`,
  );
}
