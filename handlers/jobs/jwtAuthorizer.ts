// TOKEN authorizer for the jobs API when `jobsAuth` is "jwt": validates an RS256 JWT from the
// Authorization header (signature against the issuer's JWKS, iss, aud, exp, nbf) and allows the two
// job routes of the stage. API Gateway caches the answer per token (authorizerResultTtlInSeconds),
// so the policy names both routes, not just the method that was called.
// The JWKS is fetched over node:https (handlers/lib/http.ts) and cached; an unknown `kid` refetches it (key rotation),
// at most once per minute.
import { createPublicKey, verify, type JsonWebKey, type KeyObject } from "crypto";
import type { APIGatewayAuthorizerResult, APIGatewayTokenAuthorizerEvent } from "aws-lambda";
import { intEnv, LoggerLike, requireEnv, SILENT } from "./common";
import { HandlerError } from "../lib/errors";
import { Logger } from "@aws-lambda-powertools/logger";
import { SERVICES } from "../../lib/contracts";
import { HttpRequest, httpRequest } from "../lib/http";

export interface JwtDeps {
  /** The JWKS's HTTP client; default handlers/lib/http.ts. */
  request?: HttpRequest;
  logger?: LoggerLike;
  now?: () => number;
  /** How long the JWKS read may take; default JWKS_TIMEOUT_MS. */
  jwksTimeoutMs?: number;
}

/** Seconds of clock skew tolerated on exp and nbf. */
export const CLOCK_SKEW_SECONDS = 60;
const REFETCH_MIN_MS = 60_000;
/** How long the JWKS read may take: a slow issuer fails the request, not the whole function timeout. */
const JWKS_TIMEOUT_MS = 5000;
/** Redirects the JWKS read follows. */
const JWKS_REDIRECTS = 3;

function b64urlJson(part: string): any {
  return JSON.parse(Buffer.from(part, "base64url").toString("utf8"));
}

/** The ARNs the token may invoke: POST /jobs and GET /jobs/* of the stage in `methodArn`. */
export function allowedResources(methodArn: string): string[] {
  // arn:aws:execute-api:<region>:<account>:<apiId>/<stage>/<METHOD>/<path...>
  const [prefix, stage] = methodArn.split("/");
  if (!prefix || !stage) throw new Error(`unexpected methodArn ${methodArn}`);
  return [`${prefix}/${stage}/POST/jobs`, `${prefix}/${stage}/GET/jobs/*`];
}

export class Unauthorized extends HandlerError {
  public readonly reason: string;
  constructor(reason: string) {
    // API Gateway answers 401 exactly when the authorizer fails with the message "Unauthorized".
    super("Unauthorized", "Unauthorized");
    this.reason = reason;
  }
}

export function makeHandler(deps: JwtDeps = {}) {
  const issuer = requireEnv("JWT_ISSUER");
  const audience = requireEnv("JWT_AUDIENCE");
  const jwksUrl = requireEnv("JWKS_URL");
  const cacheMs = intEnv("JWKS_CACHE_SECONDS", 0, 86400) * 1000;
  const request = deps.request ?? httpRequest;
  const logger = deps.logger ?? SILENT;
  const nowMs = deps.now ?? (() => Date.now());

  let keys = new Map<string, KeyObject>();
  let fetchedAt = -Infinity;

  async function loadKeys(): Promise<void> {
    // A JWKS carries no credentials: its redirects are followed (an issuer moving it, http to
    // https), never from https to http; a slow issuer fails the request rather than the function.
    const res = await request(jwksUrl, {
      redirects: JWKS_REDIRECTS,
      signal: AbortSignal.timeout(deps.jwksTimeoutMs ?? JWKS_TIMEOUT_MS),
    });
    if (!res.ok) throw new Error(`JWKS ${jwksUrl} answered ${res.status}`);
    const doc = await res.json();
    const next = new Map<string, KeyObject>();
    for (const jwk of (doc?.keys ?? []) as Array<JsonWebKey & { kid?: string; use?: string }>) {
      if (jwk.kty !== "RSA" || !jwk.kid || (jwk.use !== undefined && jwk.use !== "sig")) continue;
      next.set(jwk.kid, createPublicKey({ key: jwk, format: "jwk" }));
    }
    keys = next;
    fetchedAt = nowMs();
  }

  async function keyFor(kid: string): Promise<KeyObject> {
    if (nowMs() - fetchedAt > cacheMs) await loadKeys();
    if (!keys.has(kid) && nowMs() - fetchedAt >= REFETCH_MIN_MS) await loadKeys();
    const key = keys.get(kid);
    if (!key) throw new Unauthorized(`no key ${kid} in the JWKS`);
    return key;
  }

  async function claimsOf(token: string): Promise<Record<string, any>> {
    const parts = token.split(".");
    if (parts.length !== 3) throw new Unauthorized("not a JWS compact token");
    let header: any;
    let claims: any;
    try {
      header = b64urlJson(parts[0]);
      claims = b64urlJson(parts[1]);
    } catch {
      throw new Unauthorized("undecodable token");
    }
    if (header?.alg !== "RS256") throw new Unauthorized(`alg ${header?.alg} is not RS256`);
    if (typeof header.kid !== "string") throw new Unauthorized("token has no kid");
    const key = await keyFor(header.kid);
    const ok = verify(
      "RSA-SHA256",
      Buffer.from(`${parts[0]}.${parts[1]}`),
      key,
      Buffer.from(parts[2], "base64url"),
    );
    if (!ok) throw new Unauthorized("bad signature");
    const now = nowMs() / 1000;
    if (claims.iss !== issuer) throw new Unauthorized("wrong issuer");
    const aud = Array.isArray(claims.aud) ? claims.aud : [claims.aud];
    if (!aud.includes(audience)) throw new Unauthorized("wrong audience");
    if (typeof claims.exp !== "number" || claims.exp + CLOCK_SKEW_SECONDS < now)
      throw new Unauthorized("expired");
    if (typeof claims.nbf === "number" && claims.nbf - CLOCK_SKEW_SECONDS > now)
      throw new Unauthorized("not yet valid");
    if (typeof claims.sub !== "string" || claims.sub === "") throw new Unauthorized("no sub");
    return claims;
  }

  return async (
    event: APIGatewayTokenAuthorizerEvent,
    _context?: unknown,
  ): Promise<APIGatewayAuthorizerResult> => {
    const m = /^Bearer ([A-Za-z0-9_-]+\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]+)$/.exec(
      event.authorizationToken ?? "",
    );
    try {
      if (!m) throw new Unauthorized("no Bearer token");
      const claims = await claimsOf(m[1]);
      logger.info("token accepted", { sub: claims.sub });
      return {
        principalId: claims.sub,
        policyDocument: {
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Action: "execute-api:Invoke",
              Resource: allowedResources(event.methodArn),
            },
          ],
        },
        context: {
          sub: claims.sub,
          ...(typeof claims.scope === "string" ? { scope: claims.scope } : {}),
        },
      };
    } catch (e) {
      // Never log the token; the reason is enough to diagnose.
      if (e instanceof Unauthorized) logger.info("token rejected", { reason: e.reason });
      else logger.error("authorizer failure", { error: (e as Error).message });
      throw e instanceof Unauthorized ? e : new Error("Unauthorized");
    }
  };
}

/** The deployed function (components/jobs/jobsApi.ts): its clients and logger, built once per cold start. */
export function createJwtAuthorizer() {
  return makeHandler({ logger: new Logger({ serviceName: SERVICES.jobsJwt }) });
}
