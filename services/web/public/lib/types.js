// @ts-check
/**
 * Types only: the API answers the console's own views show. The gateway's are read from its
 * published contract (../api/schema.generated.d.ts), so a field renamed or removed there fails
 * tsc where a view reads it. A product has one shape everywhere on the page, live changes
 * included: the BFF maps the GraphQL subscription's product to the REST one
 * (src/api/live-product.ts).
 */
/** @import { Api } from '../api/client.js' */
/** @import { operations } from '../api/schema.generated.js' */
/** @import { MethodResponse } from '../vendor/openapi-fetch.js' */

/**
 * @typedef {MethodResponse<Api, 'get', '/api/v1/products/{id}'>['data']} Product `GET /api/v1/products/{id}`
 * @typedef {MethodResponse<Api, 'get', '/api/v1/products'>} ProductPage
 * @typedef {MethodResponse<Api, 'get', '/api/v1/categories'>['data'][number]} Category
 * @typedef {MethodResponse<Api, 'get', '/api/v1/products/{id}/actions'>} ProductActions
 * @typedef {ProductActions['actions'][number]} Action a hypermedia action on a product
 *
 * The body of a product create (`price` may be text: the API names it when it is no amount).
 * @typedef {operations['postProducts']['requestBody']['content']['application/json']} ProductBody
 *
 * @typedef {MethodResponse<Api, 'get', '/api/v1/cart'>} Cart
 * @typedef {Cart['data']['items'][number]} CartItem
 *
 * @typedef {MethodResponse<Api, 'get', '/api/v1/orders/{id}'>['data']} Order
 * @typedef {MethodResponse<Api, 'get', '/api/v1/orders'>} OrderPage
 * @typedef {MethodResponse<Api, 'get', '/api/v1/payments'>['data'][number]} PaymentIntent
 *
 * @typedef {MethodResponse<Api, 'get', '/api/v1/dashboard'>} Dashboard
 *
 * The console's own `GET /api/session` (src/auth), not the gateway's.
 * @typedef {object} SessionUser
 * @property {string} sub
 * @property {string} [name]
 * @property {string} [username]
 * @property {string[]} [roles]
 * @property {string[]} [amr]
 *
 * @typedef {object} Session
 * @property {boolean} authenticated
 * @property {SessionUser | null} user
 * @property {string | null} csrf_token
 */

export {};
