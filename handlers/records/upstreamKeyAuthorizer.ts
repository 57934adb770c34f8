// REQUEST authorizer of the records gateway. It does not judge the consumer: API Gateway checks the
// consumer's own API key against the usage plans (apiKeyRequired). Its one job is to hand the
// records API key to the integration, which maps `context.authorizer.upstreamKey` onto the upstream
// X-API-Key header. That mapping replaces whatever X-API-Key the consumer sent (their gateway key),
// so the consumer's key never reaches the records API and the records key never reaches a consumer.
// Why an authorizer and not a stage variable: stage variables are readable by anyone with
// apigateway:GET on the API and appear in the stage's configuration; the authorizer reads the key
// from Secrets Manager (its role may read that one secret), caches it with a TTL, and API Gateway
// caches the authorizer's answer per consumer key.
// Never log the key, the consumer's key, or the returned context.
import type { APIGatewayAuthorizerResult, APIGatewayRequestAuthorizerEvent } from "aws-lambda";
import { makeSecretReader } from "../lib/secrets";
import { requireEnv } from "../lib/env";
import { SERVICES, UPSTREAM_KEY_CONTEXT } from "../../lib/contracts";
import { Logger } from "@aws-lambda-powertools/logger";
import { lazySecretsManager } from "../lib/lazy";

import type { LoggerLike as SharedLogger } from "../lib/logger";

/** What this handler logs with: the shared logger's info and error. */
export type LoggerLike = Pick<SharedLogger, "info" | "error">;

export interface UpstreamKeyDeps {
  /** A SecretsManagerClient (or anything with its `send`). */
  secrets: { send(command: any): Promise<any> };
  logger?: LoggerLike;
  now?: () => number;
}

/** The ARN pattern the answer allows: every method of the stage (the answer is cached per key). */
export function stageResource(methodArn: string): string {
  const [prefix, stage] = methodArn.split("/");
  if (!prefix || !stage) throw new Error(`unexpected methodArn ${methodArn}`);
  return `${prefix}/${stage}/*`;
}

export function makeHandler(deps: UpstreamKeyDeps) {
  const secretArn = requireEnv("UPSTREAM_KEY_SECRET_ARN");
  const ttlSeconds = Number(requireEnv("SECRET_CACHE_SECONDS"));
  if (!Number.isInteger(ttlSeconds) || ttlSeconds < 0 || ttlSeconds > 3600) {
    throw new Error(
      `SECRET_CACHE_SECONDS must be a whole number from 0 to 3600, got "${process.env.SECRET_CACHE_SECONDS}"`,
    );
  }
  // TTL cache; a failed refresh (throttling, 5xx) falls back to the last value read.
  const secrets = makeSecretReader({
    client: deps.secrets,
    ttlMs: ttlSeconds * 1000,
    now: deps.now,
  });
  const logger = deps.logger;

  return async (
    event: APIGatewayRequestAuthorizerEvent,
    _context?: unknown,
  ): Promise<APIGatewayAuthorizerResult> => {
    let upstreamKey: string;
    try {
      upstreamKey = await secrets.get(secretArn);
    } catch (e) {
      logger?.error("cannot read the upstream key", { error: (e as Error).name });
      // API Gateway answers 500 to the consumer; the request does not reach the records API.
      // eslint-disable-next-line preserve-caught-error -- the cause is logged by name above, never returned
      throw new Error("upstream key unavailable");
    }
    logger?.info("upstream key attached", { methodArn: event.methodArn });
    return {
      // The consumer is identified by its API key id in the access log; the authorizer runs before
      // API Gateway has matched that key, so it names no consumer.
      principalId: "records-gateway-consumer",
      policyDocument: {
        Version: "2012-10-17",
        Statement: [
          {
            Effect: "Allow",
            Action: "execute-api:Invoke",
            Resource: stageResource(event.methodArn),
          },
        ],
      },
      context: { [UPSTREAM_KEY_CONTEXT]: upstreamKey },
    };
  };
}

/** The deployed function (components/records/recordsGateway.ts): its clients and logger, built once per cold start. */
export function createUpstreamKeyAuthorizer() {
  return makeHandler({
    secrets: lazySecretsManager(),
    logger: new Logger({ serviceName: SERVICES.recordsGatewayAuthorizer }),
  });
}
