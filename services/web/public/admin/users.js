// @ts-check
/** @import { Kit } from './kit.js' */
import { data } from '../api/client.js';
import { showRefusal } from './refusal.js';
import { adminOnly, adminTabs } from './tabs.js';

/**
 * @param {Kit} kit
 * @param {URLSearchParams} params
 */
export async function usersView(kit, params) {
  const { h, render, table, flash, flashError } = kit;
  if (adminOnly(kit, 'Users')) return;
  const api = kit.gateway;
  const q = params.get('q') ?? '';
  const found = await data(api.GET('/api/v1/identity/users', { params: { query: { q, limit: 50 } } }));
  const search = h(
    'form',
    { method: 'get', action: '/admin/users', role: 'search' },
    h('label', { for: 'user-q' }, 'Search users'),
    h('input', { id: 'user-q', name: 'q', type: 'search', value: q }),
    h('button', { type: 'submit' }, 'Search'),
  );
  const rows = found.data.map((u) => {
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
            const path = { params: { path: { id: u.id } } };
            if (u.disabled) await api.POST('/api/v1/identity/users/{id}/enable', path);
            else await api.POST('/api/v1/identity/users/{id}/disable', path);
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
            await api.DELETE('/api/v1/identity/users/{id}/mfa', { params: { path: { id: u.id } } });
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
    h('p', {}, `${found.total} user(s)`),
    table(['Username', 'Name', 'Email', 'Roles', 'Status', ''], rows),
  );
}

/** One account: its roles to change, its sessions and grants, each with a button that ends it. */
/**
 * @param {Kit} kit
 * @param {string} id
 */
export async function userView(kit, id) {
  const { h, render, table, flash, flashError, dateTime } = kit;
  if (adminOnly(kit, 'User')) return;
  const api = kit.gateway;
  const account = { params: { path: { id } } };
  const detail = await data(api.GET('/api/v1/identity/users/{id}', account));
  const u = detail.data;
  /** @param {string} message */
  const again = async (message) => {
    await userView(kit, id);
    flash(message);
  };
  /**
   * @param {string} text
   * @param {string} label
   * @param {() => Promise<unknown>} end
   * @param {string} done
   */
  const endButton = (text, label, end, done) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        'aria-label': label,
        onclick: async () => {
          button.disabled = true;
          try {
            await end();
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
  const listed = (caption, heads, rows, empty) =>
    rows.length === 0 ? h('p', {}, empty) : table(heads, rows, { caption });
  const mfa = detail.mfa;
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
          await api.PUT('/api/v1/identity/users/{id}/roles', { ...account, body: { roles } });
          await again(
            `${u.username} has the roles ${roles.join(', ') || '(none)'} from their next token refresh.`,
          );
        } catch (err) {
          showRefusal(kit, rolesError, err);
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
    listed(
      `Browser sessions of ${u.username}`,
      ['Started', 'Expires', ''],
      detail.sessions.map((s) =>
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
              () =>
                api.DELETE('/api/v1/identity/users/{id}/sessions/{session}', {
                  params: { path: { id, session: s.id } },
                }),
              `The session was ended: ${u.username} signs in again on that browser.`,
            ),
          ),
        ),
      ),
      'No live sessions.',
    ),
    h('h2', {}, 'Grants'),
    listed(
      `What ${u.username} let each client do`,
      ['Client', 'Scopes', 'Granted', 'Expires', ''],
      detail.grants.map((g) => {
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
              () =>
                api.DELETE('/api/v1/identity/users/{id}/grants/{grant}', {
                  params: { path: { id, grant: g.id } },
                }),
              `The grant to ${client} was revoked: its refresh tokens stop now, its access tokens within seconds.`,
            ),
          ),
        );
      }),
      'No live grants.',
    ),
  );
}
