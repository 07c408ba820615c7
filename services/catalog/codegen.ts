/**
 * GraphQL Code Generator's configuration: the resolver types (src/graphql/types.generated.ts)
 * come from the SDL, so resolvers that drift from schema.graphql stop compiling. After editing
 * the SDL: `npm run codegen -w services/catalog`; test/graphql-schema.test.ts fails while the
 * file is stale. The plugins are imported here, not looked up by name, so this workspace's
 * manifest names what generates its code.
 */
import * as add from '@graphql-codegen/add';
import type { CodegenConfig } from '@graphql-codegen/cli';
import * as typescript from '@graphql-codegen/typescript';
import * as typescriptResolvers from '@graphql-codegen/typescript-resolvers';

type Plugin = Awaited<ReturnType<NonNullable<CodegenConfig['pluginLoader']>>>;

const plugins: Record<string, Plugin> = {
  '@graphql-codegen/add': add,
  '@graphql-codegen/typescript': typescript,
  '@graphql-codegen/typescript-resolvers': typescriptResolvers,
};

const config: CodegenConfig = {
  overwrite: true,
  schema: 'schema.graphql',
  pluginLoader: async (name: string) => {
    const plugin = plugins[name];
    if (plugin) return plugin;
    throw Object.assign(new Error(`no plugin ${name}`), { code: 'MODULE_NOT_FOUND' });
  },
  generates: {
    'src/graphql/types.generated.ts': {
      plugins: [
        {
          add: {
            content: '// Generated from schema.graphql by GraphQL Code Generator (codegen.ts): do not edit.',
          },
        },
        'typescript',
        'typescript-resolvers',
      ],
      config: {
        useTypeImports: true,
        enumsAsTypes: true,
        // Resolvers may answer a nullable field with undefined (a store's "not found").
        maybeValue: 'T | null | undefined',
        contextType: './context.ts#GraphQLContext',
        mapperTypeSuffix: 'Model',
        mappers: {
          Product: '../domain/products.ts#Product',
          Category: '../domain/categories.ts#Category',
          ProductConnection: './models.ts#Connection',
          ProductEdge: './models.ts#Edge',
          PageInfo: './models.ts#PageInfo',
          FieldError: './models.ts#FieldErrorOut',
          ProductPayload: './models.ts#Payload',
          DeletePayload: './models.ts#Payload',
        },
      },
    },
  },
};

export default config;
