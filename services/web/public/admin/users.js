// @ts-check
/** @import { Kit, User, UserDetail } from './kit.js' */
import { adminOnly, adminTabs } from './tabs.js';

/**
 * @param {Kit} kit
 * @param {URLSearchParams} params
 */
export async function usersView(kit, params) {
  const { h, render, flash, flashError, api } = kit;
  if (adminOnly(kit, 'Users')) return;
  const q = params.get('q') ?? '';
  /** @type {{ data: { data: User[], total: number } }} */
  const { data } = await api('GET', `/api/v1/identity/users?${new URLSearchParams({ q, limit: '50' })}`);
  const search = h(
    'form',
    { method: 'get', action: '/admin/users', role: 'search' },
    h('label', { for: 'user-q' }, 'Search users'),
    h('input', { id: 'user-q', name: 'q', type: 'search', value: q }),
    h('button', { type: 'submit' }, 'Search'),
  );
  const rows = data.data.map((u) => {
    const status = h(
      'td',
      {},
      u.disabled ? 'Disabled' : u.email_verified || !u.email ? 'Active' : 'Unconfirmed',
    );
    const toggle = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          toggle.disabled = true;
          try {
            await api(
              'POST',
              `/api/v1/identity/users/${encodeURIComponent(u.id)}/${u.disabled ? 'enable' : 'disable'}`,
            );
            await usersView(kit, params);
            flash(`${u.username} was ${u.disabled ? 'enabled' : 'disabled'}.`);
          } catch (err) {
            flashError(err);
            toggle.disabled = false;
          }
        },
      },
      u.disabled ? `Enable ${u.username}` : `Disable ${u.username}`,
    );
    const resetMfa = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          resetMfa.disabled = true;
          try {
            await api('DELETE', `/api/v1/identity/users/${encodeURIComponent(u.id)}/mfa`);
            flash(
              `${u.username} signs in with the password alone until they turn two-step sign-in on again.`,
            );
          } catch (err) {
            flashError(err);
          } finally {
            resetMfa.disabled = false;
          }
        },
      },
      `Reset two-step sign-in of ${u.username}`,
    );
    return h(
      'tr',
      {},
      h('td', {}, h('a', { href: `/admin/users/${encodeURIComponent(u.id)}` }, u.username)),
      h('td', {}, u.name),
      h('td', {}, u.email ?? ''),
      h('td', {}, u.roles.join(', ')),
      status,
      h('td', {}, toggle, ' ', resetMfa),
    );
  });
  render(
    'Users',
    adminTabs(kit),
    search,
    h('p', {}, `${data.total} user(s)`),
    h(
      'table',
      {},
      h(
        'thead',
        {},
        h(
          'tr',
          {},
          ['Username', 'Name', 'Email', 'Roles', 'Status', ''].map((t) => h('th', { scope: 'col' }, t)),
        ),
      ),
      h('tbody', {}, rows),
    ),
  );
}

/** One account: its roles to change, its sessions and grants, each with a button that ends it. */
/**
 * @param {Kit} kit
 * @param {string} id
 */
export async function userView(kit, id) {
  const { h, render, flash, flashError, describe, api, ApiError, dateTime } = kit;
  if (adminOnly(kit, 'User')) return;
  const base = `/api/v1/identity/users/${encodeURIComponent(id)}`;
  /** @type {{ data: UserDetail }} */
  const { data } = await api('GET', base);
  const u = data.data;
  /** @param {string} message */
  const again = async (message) => {
    await userView(kit, id);
    flash(message);
  };
  /**
   * @param {string} text
   * @param {string} label
   * @param {string} path
   * @param {string} done
   */
  const endButton = (text, label, path, done) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'aria-label': label,
        onclick: async () => {
          button.disabled = true;
          try {
            await api('DELETE', `${base}/${path}`);
            await again(done);
          } catch (err) {
            flashError(err);
            button.disabled = false;
          }
        },
      },
      text,
    );
    return button;
  };
  /**
   * @param {string} caption
   * @param {string[]} heads
   * @param {HTMLTableRowElement[]} rows
   * @param {string} empty
   */
  const table = (caption, heads, rows, empty) =>
    rows.length === 0
      ? h('p', {}, empty)
      : h(
          'table',
          {},
          h('caption', {}, caption),
          h(
            'thead',
            {},
            h(
              'tr',
              {},
              heads.map((t) => h('th', { scope: 'col' }, t)),
            ),
          ),
          h('tbody', {}, rows),
        );
  const mfa = data.mfa;
  const rolesError = h('div', { role: 'alert' });
  const rolesForm = h(
    'form',
    {
      class: 'stack',
      novalidate: true,
      'aria-label': `Roles of ${u.username}`,
      onsubmit: async (/** @type {SubmitEvent} */ e) => {
        e.preventDefault();
        rolesError.replaceChildren();
        const roles = String(new FormData(rolesForm).get('roles'))
          .split(/[\s,]+/)
          .filter(Boolean);
        try {
          await api('PUT', `${base}/roles`, { body: { roles } });
          await again(
            `${u.username} has the roles ${roles.join(', ') || '(none)'} from their next token refresh.`,
          );
        } catch (err) {
          if (err instanceof ApiError && err.problem.code === 'INSUFFICIENT_USER_AUTHENTICATION')
            flashError(err);
          else rolesError.replaceChildren(h('p', { class: 'flash-error' }, describe(err)));
        }
      },
    },
    h('label', { for: 'u-roles' }, 'Roles (space-separated)'),
    h('input', { id: 'u-roles', name: 'roles', value: u.roles.join(' ') }),
    rolesError,
    h('button', { type: 'submit' }, 'Save roles'),
  );
  render(
    `User ${u.username}`,
    adminTabs(kit),
    h('p', {}, h('a', { href: '/admin/users' }, 'All users')),
    h(
      'dl',
      { class: 'facts' },
      h('dt', {}, 'Name'),
      h('dd', {}, u.name),
      h('dt', {}, 'Email'),
      h('dd', {}, u.email ?? ''),
      h('dt', {}, 'Roles'),
      h('dd', {}, u.roles.join(', ')),
      h('dt', {}, 'Status'),
      h('dd', {}, u.disabled ? 'Disabled' : 'Active'),
      h('dt', {}, 'Two-step sign-in'),
      h(
        'dd',
        {},
        mfa.totp || mfa.passkeys
          ? `On (${mfa.totp ? `authenticator, ${mfa.recovery_codes_left} recovery codes left` : 'no authenticator'}; ${mfa.passkeys} passkey(s))`
          : 'Off',
      ),
    ),
    rolesForm,
    h('h2', {}, 'Sessions'),
    table(
      `Browser sessions of ${u.username}`,
      ['Started', 'Expires', ''],
      data.sessions.map((s) =>
        h(
          'tr',
          {},
          h('td', {}, dateTime(s.created_at)),
          h('td', {}, s.expires_at ? dateTime(s.expires_at) : 'With the browser'),
          h(
            'td',
            {},
            endButton(
              'End',
              `End the session started ${dateTime(s.created_at)}`,
              `sessions/${encodeURIComponent(s.id)}`,
              `The session was ended: ${u.username} signs in again on that browser.`,
            ),
          ),
        ),
      ),
      'No live sessions.',
    ),
    h('h2', {}, 'Grants'),
    table(
      `What ${u.username} let each client do`,
      ['Client', 'Scopes', 'Granted', 'Expires', ''],
      data.grants.map((g) => {
        const client = g.client_name
          ? `${g.client_name} (${g.client_id})`
          : (g.client_id ?? 'A removed client');
        return h(
          'tr',
          {},
          h('td', {}, client),
          h('td', {}, g.scopes.join(' ')),
          h('td', {}, dateTime(g.created_at)),
          h('td', {}, g.expires_at ? dateTime(g.expires_at) : 'Never'),
          h(
            'td',
            {},
            endButton(
              'Revoke',
              `Revoke the grant to ${client} of ${dateTime(g.created_at)}`,
              `grants/${encodeURIComponent(g.id)}`,
              `The grant to ${client} was revoked: its refresh tokens stop now, its access tokens within seconds.`,
            ),
          ),
        );
      }),
      'No live grants.',
    ),
  );
}
