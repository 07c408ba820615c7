export { checkPreconditions, etagFor, isFresh, notModified } from './conditional.ts';
export { DEPENDENCY_FAILURE_HEADER, dependencyFailure, isTransportError } from './dependency.ts';
export { sendProblem, toProblemError } from './errors.ts';
export type { CheckResult, HealthCheck } from './health.ts';
export { escapeHtml, type HtmlPage, htmlPage } from './html.ts';
export { repeatedHeaderProblem, repeatedSingleHeader } from './message-framing.ts';
export {
  completeDocument,
  describeSecuritySchemes,
  type OpenApiDocument,
  operationIdFor,
  PROBLEM_COMPONENT,
  PROBLEM_TYPE,
  type SecuritySchemes,
  servedDocument,
} from './openapi.ts';
export type { Operator, OperatorAnswer, OperatorHandler } from './operator.ts';
export { REQUEST_ID_HEADER, requestIdFrom } from './request-id.ts';
export { runService, type ServiceConfig, type ServiceModule } from './run.ts';
export { ProblemSchema } from './schemas.ts';
export { inlineScriptHashes } from './script-hashes.ts';
export {
  type CspDirectives,
  DOCS_HEADERS,
  inlineScriptPageHeaders,
  type PageOptions,
  pageHeaders,
  RESOURCE_HEADERS,
  securityHeaders,
} from './security-headers.ts';
export { createServer, type Server, type ServerOptions } from './server.ts';
export {
  type Answer,
  type Answers,
  type Call,
  createServiceClient,
  type ServiceClient,
  type ServiceClientOptions,
} from './service-client.ts';
export { clientAddress, type TrustProxy, trustedProxies } from './trusted-proxies.ts';
