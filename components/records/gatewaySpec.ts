// Pure description of the records gateway: its routes, where each goes on the records API, and the
// integration request parameters that put the upstream key on the X-API-Key header.
import { UPSTREAM_KEY_CONTEXT } from "../../lib/contracts";
import {
  checkPath,
  parseRoute,
  pathParameters,
  Route,
  STAGE_DEFAULTS,
  ThrottleLimits,
} from "../apigw/spec";

/** The RecordsGateway component's defaults (the stack's config table states the same values from here). */
export const GATEWAY_DEFAULTS = {
  ...STAGE_DEFAULTS,
  throttle: { rateLimit: 300, burstLimit: 600 } as ThrottleLimits,
  authorizerCacheSeconds: 300,
  secretCacheSeconds: 300,
  consumers: {} as Record<string, string>,
  extraRoutes: [] as string[],
};

/** Routes every gateway proxies. */
export const RECORDS_GATEWAY_ROUTES: Route[] = [
  { method: "POST", path: "/records" },
  { method: "POST", path: "/verify/record" },
];

/** The records API serves gateway path P at <endpoint>/api/v1P. */
export const UPSTREAM_PREFIX = "/api/v1";

/** The header the records API reads its key from (and consumers send their gateway key in). */
export const API_KEY_HEADER = "X-API-Key";

/** The standard routes plus the listed extra ones ("POST /records/batch"), without duplicates. */
export function gatewayRoutes(extra: string[] = []): Route[] {
  const routes = [...RECORDS_GATEWAY_ROUTES];
  extra.forEach((text, i) => {
    const r = parseRoute(`extraRoutes[${i}]`, text);
    if (routes.some((x) => x.method === r.method && x.path === r.path)) {
      throw new Error(`extraRoutes[${i}]: ${text} is already a route of the gateway`);
    }
    routes.push(r);
  });
  return routes;
}

/** The upstream URL of a route; path parameters stay as {name} for API Gateway to fill. */
export function upstreamUrl(apiEndpoint: string, route: Route): string {
  checkPath("route path", route.path);
  return `${apiEndpoint}${UPSTREAM_PREFIX}${route.path}`;
}

/** Method request parameters: the route's path parameters, required. */
export function methodRequestParameters(route: Route): Record<string, boolean> {
  return Object.fromEntries(
    pathParameters(route.path).map((p) => [`method.request.path.${p}`, true]),
  );
}

/**
 * Integration request parameters: the upstream key from the authorizer's context onto X-API-Key
 * (this replaces the X-API-Key header the consumer sent, which carries their gateway key), and the
 * path parameters.
 */
export function integrationRequestParameters(route: Route): Record<string, string> {
  return {
    [`integration.request.header.${API_KEY_HEADER}`]: `context.authorizer.${UPSTREAM_KEY_CONTEXT}`,
    ...Object.fromEntries(
      pathParameters(route.path).map((p) => [
        `integration.request.path.${p}`,
        `method.request.path.${p}`,
      ]),
    ),
  };
}

export interface GatewayAuthorizerSpec {
  readonly type: "REQUEST";
  readonly identitySource: string;
  readonly authorizerResultTtlInSeconds: number;
}

/** The gateway's REQUEST authorizer: cached per consumer key. */
export function gatewayAuthorizerSpec(resultTtlSeconds: number): GatewayAuthorizerSpec {
  return {
    type: "REQUEST",
    identitySource: "method.request.header.x-api-key",
    authorizerResultTtlInSeconds: resultTtlSeconds,
  };
}

export interface GatewayIntegrationSpec {
  readonly route: Route;
  readonly type: "HTTP_PROXY";
  readonly integrationHttpMethod: string;
  readonly uri: string;
  readonly requestParameters: Record<string, string>;
}

export function gatewayIntegrations(
  apiEndpoint: string,
  routes: Route[],
): GatewayIntegrationSpec[] {
  return routes.map((route) => ({
    route,
    type: "HTTP_PROXY",
    integrationHttpMethod: route.method,
    uri: upstreamUrl(apiEndpoint, route),
    requestParameters: integrationRequestParameters(route),
  }));
}

/** Everything a deployment of the gateway snapshots; its hash is the redeploy trigger. */
export function gatewayDeploymentSpec(
  apiEndpoint: string,
  routes: Route[],
  authorizerTtl: number,
  authorizerUri: string,
) {
  return {
    methods: routes.map((r) => ({
      route: r,
      authorization: "CUSTOM",
      apiKeyRequired: true,
      requestParameters: methodRequestParameters(r),
    })),
    integrations: gatewayIntegrations(apiEndpoint, routes),
    authorizer: { ...gatewayAuthorizerSpec(authorizerTtl), uri: authorizerUri },
  };
}
