/**
 * Two validators: bodies are checked strictly (a string where a number belongs is
 * an error, never coerced, and unknown fields are reported, never silently dropped);
 * query strings, params and headers are text on the wire, so they are coerced.
 */
import { Ajv, type Options } from 'ajv';
import addFormatsModule from 'ajv-formats';
import type { FastifySchemaCompiler } from 'fastify';

const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(options: Options): Ajv {
  const ajv = new Ajv({ strict: false, allErrors: false, ...options });
  addFormats(ajv);
  ajv.addKeyword('example');
  return ajv;
}

export function validatorCompiler(): FastifySchemaCompiler<object> {
  const body = makeAjv({ coerceTypes: false, removeAdditional: false, useDefaults: false });
  const text = makeAjv({ coerceTypes: 'array', removeAdditional: false, useDefaults: true });
  return ({ schema, httpPart }) => (httpPart === 'body' ? body : text).compile(schema) as never;
}
