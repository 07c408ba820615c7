// @ts-check
/**
 * The Portico console: plain JavaScript modules, no build step, type-checked by tsc
 * (`// @ts-check`). Everything goes through the console's own origin: `/api/*` (the BFF adds
 * the access token), `/events/products` (live changes), `/login` and `/logout`.
 *
 * routes.js    every console path, once (the server serves the page at each)
 * router.js    the view for each path, and navigation without reloads
 * views/*.js   one module per page (admin/*.js: identity administration)
 * lib/*.js     what the views share: DOM, the typed gateway client, errors, formats, session, live changes
 */
import { connectLive } from './lib/live.js';
import { startRouter } from './router.js';
import { loadSession } from './views/banner.js';

await loadSession();
connectLive();
await startRouter();
