/** HTML that services render on the server: escaping, and the frame every Portico page has. */

/** Text for HTML content and attribute values: the five characters that can break out of either. */
export function escapeHtml(value: unknown): string {
  return String(value ?? '').replace(
    /[&<>"']/g,
    (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!,
  );
}

export interface HtmlPage {
  /** The page's name (text); the tab reads "<title> · Portico". */
  title: string;
  /** What goes in `<body>`, already HTML (its values escaped by the caller). */
  body: string;
  /** A stylesheet's URL, as a `<link>`: for pages whose CSP has `style-src 'self'`. */
  stylesheet?: string;
  /** CSS inlined in a `<style>`: for pages whose CSP allows inline styles. */
  style?: string;
  /** Scripts by URL, deferred, at the end of the body (none inline, so no hash to name in the CSP). */
  scripts?: string[];
}

/** A whole page: doctype, language, charset, viewport, title, the page's styles, its body and scripts. */
export function htmlPage(page: HtmlPage): string {
  const head = [
    '<meta charset="utf-8">',
    '<meta name="viewport" content="width=device-width, initial-scale=1">',
    `<title>${escapeHtml(page.title)} · Portico</title>`,
    page.stylesheet === undefined ? '' : `<link rel="stylesheet" href="${escapeHtml(page.stylesheet)}">`,
    page.style === undefined ? '' : `<style>${page.style}</style>`,
  ];
  const body = [
    page.body,
    ...(page.scripts ?? []).map((src) => `<script src="${escapeHtml(src)}" defer></script>`),
  ];
  return `<!doctype html>
<html lang="en">
<head>
${head.filter(Boolean).join('\n')}
</head>
<body>
${body.join('\n')}
</body>
</html>
`;
}
