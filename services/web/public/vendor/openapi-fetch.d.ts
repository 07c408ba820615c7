// The types of /assets/vendor/openapi-fetch.js, the openapi-fetch package's own module, which the
// console serves from node_modules (src/ui/static.ts): its scripts import it by that path.
export * from 'openapi-fetch';
export { default } from 'openapi-fetch';
