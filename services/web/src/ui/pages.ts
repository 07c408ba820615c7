/** Server-rendered pages for the few steps that happen outside the console's script. */
import { escapeHtml, htmlPage } from '@portico/http';

function page(title: string, body: string): string {
  return htmlPage({
    title,
    stylesheet: '/assets/app.css',
    body: `<header class="top"><a class="brand" href="/">Portico</a></header>
<main id="main" class="narrow">
<h1>${escapeHtml(title)}</h1>
${body}
</main>`,
  });
}

export function messagePage(
  title: string,
  message: string,
  link = { href: '/', label: 'Back to the console' },
) {
  return page(
    title,
    `<p role="alert">${escapeHtml(message)}</p>
<p><a class="button" href="${escapeHtml(link.href)}">${escapeHtml(link.label)}</a></p>`,
  );
}

export function logoutPage(csrf: string, name: string | undefined): string {
  return page(
    'Sign out',
    `<p>${name ? `Signed in as ${escapeHtml(name)}. ` : ''}Sign out of the Portico console?</p>
<form method="post" action="/logout">
<input type="hidden" name="csrf" value="${escapeHtml(csrf)}">
<button type="submit" autofocus>Sign out</button>
<a class="button secondary" href="/">Stay signed in</a>
</form>`,
  );
}
