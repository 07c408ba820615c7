// @ts-check
/** @import { Client, Kit, WithSecret } from './kit.js' */
import { data } from '../api/client.js';
import { showRefusal } from './refusal.js';
import { adminOnly, adminTabs } from './tabs.js';

/** A secret the identity service shows once: on the page until the admin leaves it. */
/**
 * @param {Kit} kit
 * @param {string} clientId
 * @param {string} secret
 */
function secretNotice(kit, clientId, secret) {
  const { h } = kit;
  return h(
    'div',
    { class: 'flash-info', role: 'status' },
    h('p', {}, `The secret of ${clientId}. Copy it now: it is not shown again.`),
    h('pre', { class: 'secret' }, secret),
  );
}

/** The form that changes a client's name and redirect URIs; problems naming a field show beside it. */
/**
 * @param {Kit} kit
 * @param {Client} c
 */
function clientEditForm(kit, c) {
  const { h, handledForm, flash, navigate } = kit;
  const error = h('div', { role: 'alert' });
  const form = handledForm(
    {
      class: 'stack',
      novalidate: true,
      'aria-label': `Edit ${c.client_id}`,
    },
    async (f) => {
      error.replaceChildren();
      try {
        await kit.gateway.PATCH('/api/v1/identity/clients/{id}', {
          params: { path: { id: c.client_id } },
          body: {
            client_name: String(f.get('client_name')).trim(),
            redirect_uris: lines(f.get('redirect_uris')),
            post_logout_redirect_uris: lines(f.get('post_logout_redirect_uris')),
          },
        });
        await navigate('/admin/clients');
        flash(`${c.client_id} was changed.`);
      } catch (err) {
        showRefusal(kit, error, err);
      }
    },
    h('label', { for: 'e-name' }, 'Name'),
    h('input', {
      id: 'e-name',
      name: 'client_name',
      required: true,
      maxlength: '100',
      value: c.client_name ?? '',
    }),
    h('label', { for: 'e-redirects' }, 'Redirect URIs (one a line; https, or http on localhost)'),
    h(
      'textarea',
      { id: 'e-redirects', name: 'redirect_uris', rows: '2', required: true },
      c.redirect_uris.join('\n'),
    ),
    h('label', { for: 'e-logout' }, 'Post-logout redirect URIs (optional, one a line)'),
    h(
      'textarea',
      { id: 'e-logout', name: 'post_logout_redirect_uris', rows: '1' },
      c.post_logout_redirect_uris.join('\n'),
    ),
    error,
    h('button', { type: 'submit' }, 'Save changes'),
    ' ',
    h('a', { href: '/admin/clients' }, 'Cancel'),
  );
  return form;
}

/** Words a textarea holds, one a line (or space-separated). */
/** @param {FormDataEntryValue | null} value */
function lines(value) {
  return String(value ?? '')
    .split(/\s+/)
    .filter(Boolean);
}

/**
 * @param {Kit} kit
 * @param {URLSearchParams} params
 * @param {WithSecret} [shown] a secret made just now, shown once
 */
export async function clientsView(kit, params, shown) {
  const { h, handledForm, render, table, flash, flashError } = kit;
  if (adminOnly(kit, 'Clients')) return;
  const api = kit.gateway;
  const clients = (await data(api.GET('/api/v1/identity/clients'))).data;
  const editing = clients.find((c) => c.source === 'admin' && c.client_id === params?.get('edit'));
  const error = h('div', { role: 'alert' });
  const form = handledForm(
    {
      class: 'stack',
      novalidate: true,
    },
    async (f) => {
      const post = lines(f.get('post_logout_redirect_uris'));
      error.replaceChildren();
      try {
        const made = await data(
          api.POST('/api/v1/identity/clients', {
            body: {
              client_name: String(f.get('client_name')).trim(),
              type: f.get('type') === 'public' ? 'public' : 'confidential',
              redirect_uris: lines(f.get('redirect_uris')),
              ...(post.length ? { post_logout_redirect_uris: post } : {}),
              scope: String(f.get('scope')).trim(),
            },
          }),
        );
        await clientsView(kit, params, made.client_secret ? made : undefined);
        flash(`Client ${made.data.client_id} was made.`);
      } catch (err) {
        showRefusal(kit, error, err);
      }
    },
    h('label', { for: 'c-name' }, 'Name'),
    h('input', { id: 'c-name', name: 'client_name', required: true, maxlength: '100' }),
    h('label', { for: 'c-type' }, 'Type'),
    h(
      'select',
      { id: 'c-type', name: 'type' },
      h('option', { value: 'confidential' }, 'Confidential (a server, with a secret)'),
      h('option', { value: 'public' }, 'Public (a browser or native app, PKCE only)'),
    ),
    h('label', { for: 'c-redirects' }, 'Redirect URIs (one a line; https, or http on localhost)'),
    h('textarea', { id: 'c-redirects', name: 'redirect_uris', rows: '2', required: true }),
    h('label', { for: 'c-logout' }, 'Post-logout redirect URIs (optional, one a line)'),
    h('textarea', { id: 'c-logout', name: 'post_logout_redirect_uris', rows: '1' }),
    h('label', { for: 'c-scope' }, 'Scopes (space-separated)'),
    h('input', {
      id: 'c-scope',
      name: 'scope',
      required: true,
      value: 'openid profile email offline_access',
    }),
    error,
    h('button', { type: 'submit' }, 'Make client'),
  );
  /**
   * @param {() => Promise<{ data: Client } | WithSecret>} act
   * @param {string} label
   * @param {string} done
   */
  const action = (act, label, done) => {
    const button = h(
      'button',
      {
        type: 'button',
        class: 'secondary',
        onclick: async () => {
          button.disabled = true;
          try {
            const out = await act();
            // The page first, then the word that it is done: never "new secret" beside the old one.
            await clientsView(kit, params, 'client_secret' in out && out.client_secret ? out : undefined);
            flash(done);
          } catch (err) {
            flashError(err);
            button.disabled = false;
          }
        },
      },
      label,
    );
    return button;
  };
  const rows = clients.map((c) => {
    const id = { params: { path: { id: c.client_id } } };
    return h(
      'tr',
      {},
      h('td', {}, c.client_id),
      h('td', {}, c.client_name ?? ''),
      h('td', {}, c.type),
      h('td', {}, c.redirect_uris.join(' ')),
      h('td', {}, c.scope),
      h('td', {}, c.source === 'config' ? 'From config' : c.disabled ? 'Disabled' : 'Active'),
      h(
        'td',
        {},
        c.source === 'admin' && !c.disabled && c.type === 'confidential'
          ? action(
              () => data(api.POST('/api/v1/identity/clients/{id}/secret', id)),
              `New secret for ${c.client_id}`,
              `${c.client_id} has a new secret; the old one no longer works.`,
            )
          : null,
        ' ',
        c.source !== 'admin'
          ? null
          : c.disabled
            ? action(
                () => data(api.POST('/api/v1/identity/clients/{id}/enable', id)),
                `Enable ${c.client_id}`,
                `${c.client_id} was enabled.`,
              )
            : action(
                () => data(api.POST('/api/v1/identity/clients/{id}/disable', id)),
                `Disable ${c.client_id}`,
                `${c.client_id} was disabled.`,
              ),
        ' ',
        c.source === 'admin'
          ? h('a', { href: `/admin/clients?edit=${encodeURIComponent(c.client_id)}` }, `Edit ${c.client_id}`)
          : null,
      ),
    );
  });
  render(
    'Clients',
    adminTabs(kit),
    shown?.client_secret ? secretNotice(kit, shown.data.client_id, shown.client_secret) : null,
    table(['Client ID', 'Name', 'Type', 'Redirect URIs', 'Scopes', 'Status', ''], rows),
    ...(editing ? [h('h2', {}, `Edit ${editing.client_id}`), clientEditForm(kit, editing)] : []),
    h('h2', {}, 'New client'),
    form,
  );
}
