/**
 * A minimal form-driving "browser" for the identity service's own pages: a cookie jar,
 * manual redirects, and the login / consent / logout forms filled in over HTTP. The
 * token CLI and the end-to-end tests use it to go through the real authorization code
 * flow without a real browser.
 */
export interface Credentials {
  username: string;
  password: string;
  /** For an account with two-step sign-in: the code (TOTP or recovery) to give when asked. */
  code?: () => string | Promise<string>;
}

export class FlowError extends Error {
  readonly status: number;
  readonly body: string;
  constructor(message: string, status: number, body: string) {
    super(message);
    this.name = 'FlowError';
    this.status = status;
    this.body = body;
  }
}

export interface Browser {
  /** GET or form-POST with the jar's cookies, redirects not followed. */
  request(url: URL | string, form?: Record<string, string>): Promise<Response>;
  /**
   * Follows the authorization request through login and consent until the provider
   * redirects to `redirectUri`; returns that callback URL (with `code` or `error`).
   */
  authorize(authorizationUrl: URL, redirectUri: string, credentials?: Credentials): Promise<URL>;
  /** Opens an end-session URL, confirms the sign-out, returns where the provider sends the user. */
  logout(endSessionUrl: URL): Promise<URL | undefined>;
  cookies(): Map<string, string>;
}

const MAX_STEPS = 12;

export function createBrowser(): Browser {
  const jar = new Map<string, string>();

  async function request(url: URL | string, form?: Record<string, string>): Promise<Response> {
    const headers: Record<string, string> = { accept: 'text/html' };
    if (jar.size > 0) headers.cookie = [...jar].map(([k, v]) => `${k}=${v}`).join('; ');
    const init: RequestInit = { headers, redirect: 'manual' };
    if (form) {
      init.method = 'POST';
      headers['content-type'] = 'application/x-www-form-urlencoded';
      init.body = new URLSearchParams(form).toString();
    }
    const response = await fetch(url, init);
    for (const line of response.headers.getSetCookie()) {
      const [pair = '', ...attributes] = line.split(';');
      const eq = pair.indexOf('=');
      const name = pair.slice(0, eq).trim();
      const value = pair.slice(eq + 1).trim();
      const expired = attributes.some(
        (a) => /^\s*max-age=0\s*$/i.test(a) || /^\s*expires=thu, 01 jan 1970/i.test(a),
      );
      if (!value || expired) jar.delete(name);
      else jar.set(name, value);
    }
    return response;
  }

  function formAction(html: string, base: URL, pattern: RegExp): URL | undefined {
    for (const match of html.matchAll(/<form[^>]*action="([^"]+)"/g)) {
      const action = match[1]!.replaceAll('&amp;', '&');
      if (pattern.test(action)) return new URL(action, base);
    }
    return undefined;
  }

  function hiddenInputs(html: string): Record<string, string> {
    const out: Record<string, string> = {};
    for (const match of html.matchAll(/<input[^>]*type="hidden"[^>]*>/g)) {
      const name = /name="([^"]+)"/.exec(match[0])?.[1];
      const value = /value="([^"]*)"/.exec(match[0])?.[1];
      if (name) out[name] = value ?? '';
    }
    return out;
  }

  function isCallback(location: URL, redirectUri: string): boolean {
    const target = new URL(redirectUri);
    return location.origin === target.origin && location.pathname === target.pathname;
  }

  return {
    request,
    cookies: () => new Map(jar),

    async authorize(authorizationUrl, redirectUri, credentials) {
      let response = await request(authorizationUrl);
      let url = authorizationUrl;
      for (let step = 0; step < MAX_STEPS; step++) {
        if (response.status >= 300 && response.status < 400) {
          const location = new URL(response.headers.get('location')!, url);
          if (isCallback(location, redirectUri)) return location;
          url = location;
          response = await request(url);
          continue;
        }
        const body = await response.text();
        if (response.status !== 200) {
          throw new FlowError(`${url.pathname} answered ${response.status}`, response.status, body);
        }
        const login = formAction(body, url, /\/login$/);
        const confirm = formAction(body, url, /\/confirm$/);
        const secondFactor = formAction(body, url, /\/second-factor$/);
        if (secondFactor) {
          if (!credentials?.code) throw new FlowError('the provider asks for a second factor', 200, body);
          url = secondFactor;
          response = await request(secondFactor, { code: await credentials.code() });
        } else if (login) {
          if (!credentials) throw new FlowError('the provider asks for a login', 200, body);
          url = login;
          response = await request(login, { username: credentials.username, password: credentials.password });
        } else if (confirm) {
          url = confirm;
          response = await request(confirm, {});
        } else {
          throw new FlowError(`unexpected page at ${url.pathname}`, 200, body);
        }
      }
      throw new FlowError('too many steps', 0, '');
    },

    async logout(endSessionUrl) {
      const page = await request(endSessionUrl);
      const body = await page.text();
      if (page.status !== 200) throw new FlowError(`end session answered ${page.status}`, page.status, body);
      const action = formAction(body, endSessionUrl, /\/session\/end\/confirm$/);
      if (!action) throw new FlowError('no logout form', 200, body);
      const confirmed = await request(action, { ...hiddenInputs(body), logout: 'yes' });
      const location = confirmed.headers.get('location');
      return location ? new URL(location, action) : undefined;
    },
  };
}
