/**
 * The one short block `npm start` prints: where to go, how to sign in, and the rest.
 */
export interface DemoLogin {
  username: string;
  password: string;
  roles: string[];
}

export interface BannerInput {
  ms: number;
  dataDir: string;
  urls: Record<string, string>;
  /** Each service's operator listener (/metrics, detailed /health; the gateway's /usage). */
  operators?: Record<string, string>;
  /** Passwords, on the start that created the accounts; afterwards only where they are kept. */
  logins: DemoLogin[];
  loginsFile?: string;
  /** Recent traces are kept in process, at /traces on the operator ports (docs/observability.md). */
  traces?: boolean;
}

export function banner({
  ms,
  dataDir,
  urls,
  operators = {},
  logins,
  loginsFile,
  traces = false,
}: BannerInput): string {
  const lines = [`Portico is ready in ${ms} ms (embedded defaults, data in ${dataDir}/)`, ''];
  const row = (label: string, value: string | undefined, note = '') =>
    value && lines.push(`  ${label.padEnd(10)}${value}${note ? `   ${note}` : ''}`);
  row('console', urls.web, '← start here');
  row('gateway', urls.gateway, '(every API below, one front door)');
  row('GraphiQL', urls.gateway && `${urls.gateway}/graphql`);
  row('API docs', urls.catalog && `${urls.catalog}/docs`, '(each service serves /docs and /openapi.json)');
  if (logins.length > 0) {
    logins.forEach((l, i) => {
      row(i === 0 ? 'sign in' : '', `${l.username.padEnd(7)}${l.password}`, `(${l.roles.join(', ')})`);
    });
    if (loginsFile) row('', `shown on this first start only; kept in ${loginsFile} (mode 0600)`);
  } else if (loginsFile) {
    row('sign in', `alice (customer) or admin: passwords in ${loginsFile}`);
  }
  row('tokens', 'npm run -s token -- --user alice', '(an access token for curl)');
  const others = ['identity', 'users', 'catalog', 'orders', 'payments']
    .filter((name) => urls[name])
    .map((name) => `${name} :${new URL(urls[name]!).port}`);
  lines.push('', `  services  ${others.join(' · ')}`);
  if (operators.gateway) {
    const ports = ['identity', 'users', 'catalog', 'orders', 'payments', 'web']
      .filter((name) => operators[name])
      .map((name) => `${name} :${new URL(operators[name]!).port}`);
    const each = traces ? '/metrics · /health · /traces' : '/metrics · /health';
    lines.push(
      `  operator  ${operators.gateway}${each} · /usage   (gateway; local only, never routed)`,
      `            ${ports.join(' · ')}   (each: ${each})`,
    );
  }
  lines.push('', 'Ctrl-C stops everything.', '');
  return lines.join('\n');
}
