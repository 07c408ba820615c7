/**
 * The device authorization grant's pages (RFC 8628 §3.3), in the look of the sign-in pages:
 * enter the code the device shows, confirm it is the same code, and the closing page.
 * `form` is oidc-provider's own form (ids `op.deviceInputForm` / `op.deviceConfirmForm`),
 * which carries the anti-forgery token; the buttons submit it by its id.
 */
import { escapeHtml } from '@portico/http';
import { page } from './views.ts';

export interface CodeInputView {
  form: string;
  /** What went wrong with the previous attempt, in words for the user. */
  error?: string;
}

export function codeInputPage(view: CodeInputView): string {
  const error = view.error
    ? `<p class="error" role="alert" id="code-error">${escapeHtml(view.error)}</p>`
    : '';
  // The library's input has no id: give it one so the label names it, and point it at the error.
  const form = view.form.replace(
    'name="user_code"',
    `id="user_code" name="user_code" spellcheck="false" autocapitalize="characters"${view.error ? ' aria-describedby="code-error"' : ''}`,
  );
  return page(
    'Connect a device',
    `<h1>Connect a device</h1>
<p>Enter the code your device or terminal shows.</p>
${error}
<label for="user_code">Code</label>
${form}
<button type="submit" form="op.deviceInputForm">Continue</button>`,
  );
}

export interface CodeConfirmView {
  form: string;
  clientName: string;
  userCode: string;
}

export function codeConfirmPage(view: CodeConfirmView): string {
  return page(
    'Confirm the code',
    `<h1>Is this the code on your device?</h1>
<p><strong>${escapeHtml(view.clientName)}</strong> asks to sign in with your Portico account.</p>
<p style="font-size:2rem;font-family:ui-monospace,monospace;letter-spacing:.1em" aria-label="Code ${escapeHtml(view.userCode.split('').join(' '))}">${escapeHtml(view.userCode)}</p>
<p>Continue only if you started this on a device you have and the code there is the same.</p>
${view.form}
<button type="submit" form="op.deviceConfirmForm" autofocus>Yes, continue</button>
<button type="submit" form="op.deviceConfirmForm" name="abort" value="yes" class="secondary">No, cancel</button>`,
  );
}

export function deviceSuccessPage(clientName?: string): string {
  return page(
    'Device connected',
    `<h1>Device connected</h1>
<p>${clientName ? `<strong>${escapeHtml(clientName)}</strong> is signed in.` : 'Your device is signed in.'} Go back to it; you can close this page.</p>`,
  );
}
