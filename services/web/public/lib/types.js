// @ts-check
/**
 * Types only: the API answers the console's own views show, as the REST APIs serialise
 * them (snake_case). A product has this one shape everywhere on the page, live changes
 * included: the BFF maps the GraphQL subscription's product to it (src/api/live-product.ts).
 */

/**
 * @typedef {object} Product `GET /api/v1/products/{id}` (services/catalog/src/api/serialize.ts)
 * @property {string} id
 * @property {string} name
 * @property {string} description
 * @property {number} price
 * @property {string} currency
 * @property {string} category_id
 * @property {boolean} in_stock
 * @property {string} created_at
 * @property {string} updated_at
 *
 * @typedef {{ id: string, name: string }} Category
 *
 * @typedef {{ previous?: string | null, next?: string | null }} PageLinks
 *
 * @typedef {object} ProductPage
 * @property {Product[]} data
 * @property {{ page: number, per_page: number, total: number }} pagination
 * @property {PageLinks} links
 *
 * A hypermedia action on a product (`GET /api/v1/products/{id}/actions`).
 * @typedef {object} Action
 * @property {string} name
 * @property {string} method
 * @property {string} href
 * @property {Record<string, unknown>} [body]
 *
 * @typedef {{ data: Product, actions: Action[] }} ProductActions
 *
 * The body of a product create or update (`price` stays text when it is not a number, for
 * the API to name it).
 * @typedef {Partial<Omit<Product, 'price'>> & { price?: number | string }} ProductBody
 *
 * @typedef {object} CartItem
 * @property {string} product_id
 * @property {string} name
 * @property {number} unit_price
 * @property {string} currency
 * @property {number} quantity
 * @property {number} line_total
 * @property {{ self: string }} links
 *
 * @typedef {object} Cart `GET /api/v1/cart` (services/orders/src/api/serialize.ts)
 * @property {{ items: CartItem[], subtotal: number, currency: string | null }} data
 * @property {{ checkout: string }} links
 *
 * @typedef {{ name: string, unit_price: number, quantity: number, line_total: number }} OrderItem
 *
 * @typedef {object} Order
 * @property {string} id
 * @property {string} status
 * @property {string} currency
 * @property {number} total
 * @property {OrderItem[]} items
 * @property {string} created_at
 * @property {{ self: string, pay?: string, cancel?: string }} links
 *
 * @typedef {{ data: Order[], links: PageLinks }} OrderPage
 *
 * @typedef {object} PaymentIntent
 * @property {string} status
 * @property {{ last4: string }} [card]
 * @property {{ confirm?: string }} [links]
 *
 * @typedef {{ name?: string, display_name?: string, email?: string }} Profile
 *
 * @typedef {object} Dashboard `GET /api/v1/dashboard`
 * @property {Part<Profile>} [user_profile]
 * @property {Part<Order[]>} [recent_orders]
 * @property {Part<Product[]>} [recommendations]
 * @property {Record<string, unknown>} [errors]
 *
 * @typedef {object} SessionUser
 * @property {string} sub
 * @property {string} [name]
 * @property {string} [username]
 * @property {string[]} [roles]
 * @property {string[]} [amr]
 *
 * @typedef {object} Session `GET /api/session`
 * @property {boolean} authenticated
 * @property {SessionUser | null} user
 * @property {string | null} csrf_token
 */

/**
 * A part of the dashboard: its value, the value in `data`, or missing when its service failed.
 * @template T
 * @typedef {T | { data: T } | null | undefined} Part
 */

export {};
