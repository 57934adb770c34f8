// Local API Gateway (REST): each declared RestApi is served on its own port, every declared Stage of
// it under its name (`/<stage>/...`), from the declared Resources, Methods, Integrations,
// Authorizers, Models, RequestValidators, MethodSettings, UsagePlans and ApiKeys.
// It enforces what API Gateway enforces before an integration runs: unknown routes (403 Missing
// Authentication Token), API keys (403), usage-plan throttles and quotas and the stage's method
// throttling (429, local/apiThrottles.ts), IAM auth with a
// real SigV4 check plus the caller role's execute-api:Invoke policy, Lambda authorizers (with their
// result cache), and body validation against the model (400). Integrations: AWS_PROXY to the
// local Lambda, HTTP and HTTP_PROXY with request parameter mappings.
import * as http from "http";
import { createHash, randomUUID } from "crypto";
import { LOCAL_CALLER_CREDENTIALS, verifySigV4 } from "./sigv4";
import { Recorded, ACCOUNT, REGION } from "./mocks";
import { validate, JsonSchema } from "../handlers/jobs/schema";
import { HttpError, readRequestBody, writeLambdaResponse } from "./httpEvents";
import { ApiThrottles, Metered, ThrottleLimit } from "./apiThrottles";
import { unsecret } from "./services/context";

export { LOCAL_CALLER_CREDENTIALS };

interface Route {
  path: string;
  segments: string[];
  methods: Map<string, { method: Recorded; integration?: Recorded }>;
}

/** A usage plan, with the per-method throttles it lists for each stage of this API. */
interface Plan {
  id: string;
  throttle: ThrottleLimit;
  quota?: { limit: number; period: string };
  /** Stage name to its per-method throttles, keyed "/path/METHOD". */
  stages: Map<string, Map<string, ThrottleLimit>>;
}

/** A declared stage: its variables and its method throttling (MethodSettings). */
interface Stage {
  name: string;
  variables: Record<string, string>;
  /** `*\/*`: every method's own limit, unless it has an override. */
  defaultThrottle?: ThrottleLimit;
  /** Overrides by method path, normalized by methodPathKey. */
  methodThrottles: Map<string, ThrottleLimit>;
}

export interface ApiDeps {
  invokeLambda(nameOrArn: string, event: unknown): Promise<any>;
  rewriteUrl(url: string): string;
  log(line: string): void;
  /** Buckets and quota counters shared by every API of the run (a plan may span several). */
  throttles?: ApiThrottles;
}

/**
 * A MethodSettings method path ("records/POST", "~1records/POST" with the slashes escaped, "GET"
 * or "~1/GET" for the root resource) or a route's resource path and method, in one form.
 */
export function methodPathKey(pathAndMethod: string): string {
  return pathAndMethod.replace(/~1/g, "/").replace(/^\/+/, "");
}

/** The limits a MethodSettings `settings` block sets; unset ones are -1 in API Gateway. */
function settingsThrottle(settings: any): ThrottleLimit | undefined {
  if (settings?.throttlingRateLimit === undefined && settings?.throttlingBurstLimit === undefined)
    return undefined;
  return { rate: settings.throttlingRateLimit ?? -1, burst: settings.throttlingBurstLimit };
}

/**
 * API Gateway's default gateway responses for throttling (THROTTLED) and quotas (QUOTA_EXCEEDED):
 * 429 with `{"message":"Too Many Requests"}` or `{"message":"Limit Exceeded"}` and the
 * x-amzn-ErrorType header (AWS: "Gateway response types for API Gateway" and the knowledge-center
 * article "api-gateway-429-limit"; the header as recorded from a throttled API Gateway answer).
 */
export const THROTTLED = {
  status: 429,
  message: "Too Many Requests",
  type: "TooManyRequestsException",
};
export const QUOTA_EXCEEDED = {
  status: 429,
  message: "Limit Exceeded",
  type: "LimitExceededException",
};

function wildcardMatch(pattern: string, value: string): boolean {
  const re = new RegExp(
    `^${pattern
      .split("*")
      .map((p) => p.replace(/[.+?^${}()|[\]\\]/g, "\\$&"))
      .join(".*")}$`,
  );
  return re.test(value);
}

/** A path parameter's value; malformed percent-encoding is the client's error (400), as in API Gateway. */
function decodePathSegment(segment: string): string {
  try {
    return decodeURIComponent(segment);
  } catch {
    throw new HttpError(400, `malformed percent-encoding in the path segment "${segment}"`);
  }
}

/** The request's URL, on the host it was sent to; an unusable Host header is the client's error. */
function requestUrl(req: http.IncomingMessage): URL {
  try {
    return new URL(req.url ?? "/", `http://${req.headers.host ?? "127.0.0.1"}`);
  } catch {
    throw new HttpError(400, "the request URL or its Host header cannot be parsed");
  }
}

/** The function ARN inside a Lambda integration or authorizer URI. */
function functionFromUri(uri: string): string {
  const m = uri.match(/functions\/(arn:aws:lambda:[^/]+)\/invocations/);
  return m ? m[1] : uri;
}

export class LocalRestApi {
  private readonly routes: Route[] = [];
  private readonly keys = new Map<string, { id: string; name: string; plans: Plan[] }>();
  private readonly throttles: ApiThrottles;
  private readonly authCache = new Map<string, { expires: number; result: any }>();
  private readonly stages = new Map<string, Stage>();
  /** The first declared stage (what the printed URL points at). */
  public readonly stageName: string;
  public readonly executionArn: string;
  public readonly apiKeys: Record<string, string> = {};

  constructor(
    public readonly api: Recorded,
    private readonly all: Recorded[],
    private readonly deps: ApiDeps,
  ) {
    const apiId = `${api.name}-id`;
    const mine = (type: string) => all.filter((r) => r.type === type && r.inputs.restApi === apiId);
    this.throttles = deps.throttles ?? new ApiThrottles();
    const declaredStages = mine("aws:apigateway/stage:Stage");
    const settings = mine("aws:apigateway/methodSettings:MethodSettings");
    const stageInputs: Record<string, any>[] = declaredStages.length
      ? declaredStages.map((st) => st.inputs)
      : [{ stageName: "local" }];
    for (const st of stageInputs) {
      const name: string = st.stageName;
      const stage: Stage = {
        name,
        variables: st.variables ?? {},
        methodThrottles: new Map(),
      };
      for (const m of settings.filter((x) => x.inputs.stageName === name)) {
        const limit = settingsThrottle(m.inputs.settings);
        if (!limit) continue;
        if (m.inputs.methodPath === "*/*") stage.defaultThrottle = limit;
        else stage.methodThrottles.set(methodPathKey(m.inputs.methodPath), limit);
      }
      this.stages.set(name, stage);
    }
    this.stageName = [...this.stages.keys()][0];
    this.executionArn = `arn:aws:execute-api:${REGION}:${ACCOUNT}:${api.name}`;

    // Resource tree: ids to full paths.
    const resources = mine("aws:apigateway/resource:Resource");
    const pathOf = new Map<string, string>([["root0000", "/"]]);
    const resolve = (id: string): string => {
      if (pathOf.has(id)) return pathOf.get(id)!;
      const r = resources.find((x) => `${x.name}-id` === id);
      if (!r) return "/";
      const parent = resolve(r.inputs.parentId);
      const p = `${parent === "/" ? "" : parent}/${r.inputs.pathPart}`;
      pathOf.set(id, p);
      return p;
    };
    for (const r of resources) resolve(`${r.name}-id`);
    const integrations = mine("aws:apigateway/integration:Integration");
    for (const m of mine("aws:apigateway/method:Method")) {
      const p = resolve(m.inputs.resourceId);
      let route = this.routes.find((r) => r.path === p);
      if (!route) {
        route = { path: p, segments: p.split("/").filter(Boolean), methods: new Map() };
        this.routes.push(route);
      }
      const integration = integrations.find(
        (i) =>
          i.inputs.resourceId === m.inputs.resourceId &&
          i.inputs.httpMethod === m.inputs.httpMethod,
      );
      route.methods.set(m.inputs.httpMethod, { method: m, integration });
    }
    // Literal segments win over {param} and {proxy+}, as API Gateway matches.
    this.routes.sort(
      (a, b) =>
        b.segments.filter((s) => !s.startsWith("{")).length -
        a.segments.filter((s) => !s.startsWith("{")).length,
    );

    // Usage plans that list a stage of this API, and keys on them.
    const plans: Plan[] = [];
    for (const p of all.filter((r) => r.type === "aws:apigateway/usagePlan:UsagePlan")) {
      const stages = new Map<string, Map<string, ThrottleLimit>>();
      for (const s of p.inputs.apiStages ?? []) {
        if (s.apiId !== apiId || !this.stages.has(s.stage)) continue;
        const methodThrottles = new Map<string, ThrottleLimit>();
        for (const t of s.throttles ?? [])
          methodThrottles.set(t.path, { rate: t.rateLimit, burst: t.burstLimit });
        stages.set(s.stage, methodThrottles);
      }
      if (stages.size === 0) continue;
      plans.push({
        id: `${p.name}-id`,
        throttle: {
          rate: p.inputs.throttleSettings?.rateLimit,
          burst: p.inputs.throttleSettings?.burstLimit,
        },
        quota: p.inputs.quotaSettings
          ? { limit: p.inputs.quotaSettings.limit, period: p.inputs.quotaSettings.period }
          : undefined,
        stages,
      });
    }
    for (const k of all.filter((r) => r.type === "aws:apigateway/apiKey:ApiKey")) {
      const keyPlans = all
        .filter(
          (r) =>
            r.type === "aws:apigateway/usagePlanKey:UsagePlanKey" &&
            r.inputs.keyId === `${k.name}-id`,
        )
        .map((upk) => plans.find((p) => p.id === upk.inputs.usagePlanId))
        .filter((p): p is Plan => Boolean(p));
      if (keyPlans.length === 0) continue;
      // A declared value (a secret input) is the key; else local values are derived, stable per
      // name, and printed at start.
      const value =
        unsecret<string | undefined>(k.inputs.value) ??
        `local-${createHash("sha256").update(k.name).digest("hex").slice(0, 32)}`;
      this.keys.set(value, { id: `${k.name}-id`, name: k.inputs.name ?? k.name, plans: keyPlans });
      this.apiKeys[k.inputs.name ?? k.name] = value;
    }
  }

  private match(path: string): { route: Route; params: Record<string, string> } | undefined {
    const segs = path.split("/").filter(Boolean);
    for (const route of this.routes) {
      const params: Record<string, string> = {};
      let ok = true;
      for (let i = 0; i < route.segments.length; i++) {
        const s = route.segments[i];
        if (s.endsWith("+}")) {
          params[s.slice(1, -2)] = segs.slice(i).join("/");
          return segs.length > i ? { route, params } : undefined;
        }
        if (i >= segs.length) {
          ok = false;
          break;
        }
        if (s.startsWith("{")) params[s.slice(1, -1)] = decodePathSegment(segs[i]);
        else if (s !== segs[i]) {
          ok = false;
          break;
        }
      }
      if (ok && route.segments.length === segs.length) return { route, params };
    }
    return undefined;
  }

  /**
   * SigV4 check of a request, as API Gateway does for AWS_IAM methods (local/sigv4.ts: the
   * canonical request from the request as received and the hash of the body actually received);
   * returns the caller's access key, or undefined when the request is unsigned or refused.
   */
  private verifySigV4(req: http.IncomingMessage, body: Buffer): string | undefined {
    const verdict = verifySigV4(
      { method: req.method ?? "GET", url: req.url ?? "/", rawHeaders: req.rawHeaders, body },
      {
        secretFor: (id) =>
          id === LOCAL_CALLER_CREDENTIALS.accessKeyId
            ? LOCAL_CALLER_CREDENTIALS.secretAccessKey
            : undefined,
        service: "execute-api",
      },
    );
    return verdict?.ok ? verdict.accessKeyId : undefined;
  }

  /** Whether the caller role's policy allows execute-api:Invoke on the method ARN. */
  private iamAllows(methodArn: string): boolean {
    const policies = this.all.filter(
      (r) => r.type === "aws:iam/rolePolicy:RolePolicy" && /caller/.test(r.name),
    );
    for (const p of policies) {
      const doc = JSON.parse(p.inputs.policy);
      for (const s of [doc.Statement].flat()) {
        const actions = [s.Action].flat();
        const resources = [s.Resource].flat();
        if (
          s.Effect === "Allow" &&
          actions.some((a: string) => wildcardMatch(a, "execute-api:Invoke")) &&
          resources.some((r: string) => wildcardMatch(r, methodArn))
        )
          return true;
      }
    }
    return false;
  }

  async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    const url = requestUrl(req);
    const json = (status: number, message: string, { type }: { type?: string } = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        ...(type ? { "x-amzn-errortype": type } : {}),
      });
      res.end(JSON.stringify({ message }));
    };
    // The first path segment names the stage.
    const stageName = url.pathname.split("/")[1] ?? "";
    const stage = this.stages.get(stageName);
    if (!stage)
      return json(403, "Missing Authentication Token", {
        type: "MissingAuthenticationTokenException",
      });
    const prefix = `/${stageName}`;
    const path = url.pathname.slice(prefix.length) || "/";
    const found = this.match(path);
    const entry = found?.route.methods.get(req.method!) ?? found?.route.methods.get("ANY");
    if (!found || !entry)
      return json(403, "Missing Authentication Token", {
        type: "MissingAuthenticationTokenException",
      });
    const { method, integration } = entry;
    const requestId = randomUUID();
    const methodArn = `${this.executionArn}/${stageName}/${req.method}${path}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;

    // API key, then throttling in API Gateway's order: the key's usage plan (plan-wide, then the
    // method's throttle on this stage), the stage's method throttling; then the plan's quota.
    let apiKey: { id: string; name: string; plans: Plan[] } | undefined;
    let plan: Plan | undefined;
    if (method.inputs.apiKeyRequired) {
      apiKey = this.keys.get(String(req.headers["x-api-key"] ?? ""));
      // A key may sit on one plan per stage; a key on no plan of this stage is refused.
      plan = apiKey?.plans.find((p) => p.stages.has(stageName));
      if (!apiKey || !plan) return json(403, "Forbidden", { type: "ForbiddenException" });
    }
    const operation = `${found.route.path}/${req.method}`;
    const metered: Metered[] = [];
    if (apiKey && plan) {
      metered.push({ key: `plan ${plan.id} key ${apiKey.id}`, limit: plan.throttle });
      const perMethod = plan.stages.get(stageName)!.get(operation);
      if (perMethod)
        metered.push({
          key: `plan ${plan.id} key ${apiKey.id} ${this.api.name}/${stageName}${operation}`,
          limit: perMethod,
        });
    }
    const stageLimit =
      stage.methodThrottles.get(methodPathKey(operation)) ??
      stage.methodThrottles.get(methodPathKey(`${found.route.path}/ANY`)) ??
      stage.defaultThrottle;
    if (stageLimit)
      metered.push({ key: `stage ${this.api.name}/${stageName}${operation}`, limit: stageLimit });
    const empty = this.throttles.take(metered);
    if (empty) {
      this.deps.log(`api ${this.api.name}: ${req.method} ${path} throttled (${empty})`);
      return json(THROTTLED.status, THROTTLED.message, { type: THROTTLED.type });
    }
    if (
      apiKey &&
      plan?.quota &&
      !this.throttles.count(`plan ${plan.id} key ${apiKey.id}`, plan.quota)
    ) {
      this.deps.log(`api ${this.api.name}: ${req.method} ${path} over the quota of ${plan.id}`);
      return json(QUOTA_EXCEEDED.status, QUOTA_EXCEEDED.message, { type: QUOTA_EXCEEDED.type });
    }

    // Authorization.
    let authorizerContext: Record<string, unknown> | undefined;
    let principal: string | undefined;
    const authType = method.inputs.authorization ?? "NONE";
    if (authType === "AWS_IAM") {
      principal = this.verifySigV4(req, body);
      if (!principal)
        return json(
          403,
          "The request signature we calculated does not match the signature you provided.",
          { type: "InvalidSignatureException" },
        );
      if (!this.iamAllows(methodArn))
        return json(
          403,
          `User: ${principal} is not authorized to perform: execute-api:Invoke on resource: ${methodArn}`,
          { type: "AccessDeniedException" },
        );
    } else if (authType === "CUSTOM") {
      const authorizer = this.all.find(
        (r) =>
          r.type === "aws:apigateway/authorizer:Authorizer" &&
          `${r.name}-id` === method.inputs.authorizerId,
      );
      if (!authorizer) return json(500, "Internal server error");
      const a = authorizer.inputs;
      const sources = String(a.identitySource ?? "method.request.header.Authorization")
        .split(",")
        .map((s) => s.trim());
      const identity = sources
        .map((s) => headers[s.replace(/^method\.request\.header\./, "").toLowerCase()] ?? "")
        .join(",");
      if (a.type !== "REQUEST" && !identity)
        return json(401, "Unauthorized", { type: "UnauthorizedException" });
      if (
        a.identityValidationExpression &&
        !new RegExp(a.identityValidationExpression).test(identity)
      )
        return json(401, "Unauthorized", { type: "UnauthorizedException" });
      const cacheKey = `${a.name}:${identity}`;
      const ttl = (a.authorizerResultTtlInSeconds ?? 300) * 1000;
      let result = ttl > 0 ? this.authCache.get(cacheKey) : undefined;
      if (!result || result.expires < Date.now()) {
        const event =
          a.type === "REQUEST"
            ? {
                type: "REQUEST",
                methodArn,
                resource: found.route.path,
                path,
                httpMethod: req.method,
                headers,
                queryStringParameters: Object.fromEntries(url.searchParams),
                pathParameters: found.params,
                stageVariables: stage.variables,
                requestContext: {
                  accountId: ACCOUNT,
                  apiId: `${this.api.name}-id`,
                  stage: stageName,
                  requestId,
                  identity: {
                    apiKey: req.headers["x-api-key"],
                    sourceIp: req.socket.remoteAddress,
                  },
                },
              }
            : { type: "TOKEN", authorizationToken: identity, methodArn };
        try {
          const out = await this.deps.invokeLambda(functionFromUri(a.authorizerUri), event);
          result = { expires: Date.now() + ttl, result: out };
          if (ttl > 0) this.authCache.set(cacheKey, result);
        } catch (e) {
          const msg = (e as Error).message;
          if (msg === "Unauthorized")
            return json(401, "Unauthorized", { type: "UnauthorizedException" });
          this.deps.log(`  authorizer ${a.name} failed: ${msg}`);
          return json(500, "Internal server error", { type: "AuthorizerConfigurationException" });
        }
      }
      const out = result.result;
      const statements = [out?.policyDocument?.Statement ?? []].flat();
      const allowed =
        statements.some(
          (s: any) =>
            s.Effect === "Allow" &&
            [s.Resource].flat().some((r: string) => wildcardMatch(r, methodArn)),
        ) &&
        !statements.some(
          (s: any) =>
            s.Effect === "Deny" &&
            [s.Resource].flat().some((r: string) => wildcardMatch(r, methodArn)),
        );
      if (!allowed)
        return json(403, "User is not authorized to access this resource with an explicit deny", {
          type: "AccessDeniedException",
        });
      principal = out.principalId;
      authorizerContext = { ...(out.context ?? {}), principalId: out.principalId };
    }

    // Body validation against the method's model.
    const validator = this.all.find(
      (r) =>
        r.type === "aws:apigateway/requestValidator:RequestValidator" &&
        `${r.name}-id` === method.inputs.requestValidatorId,
    );
    if (validator?.inputs.validateRequestBody && method.inputs.requestModels) {
      const modelName = method.inputs.requestModels["application/json"];
      const model = this.all.find(
        (r) =>
          r.type === "aws:apigateway/model:Model" &&
          r.inputs.name === modelName &&
          r.inputs.restApi === `${this.api.name}-id`,
      );
      if (model) {
        let parsed: unknown;
        try {
          parsed = JSON.parse(body.toString("utf8"));
        } catch {
          return json(400, "Invalid request body", { type: "BadRequestException" });
        }
        const errors = validate(JSON.parse(model.inputs.schema) as JsonSchema, parsed);
        if (errors.length)
          return json(400, "Invalid request body", { type: "BadRequestException" });
      }
    }
    if (validator?.inputs.validateRequestParameters) {
      for (const [param, required] of Object.entries<boolean>(
        method.inputs.requestParameters ?? {},
      )) {
        const h = param.match(/^method\.request\.header\.(.+)$/);
        if (required && h && !headers[h[1].toLowerCase()]) {
          return json(400, `Missing required request parameters: [${h[1]}]`, {
            type: "BadRequestException",
          });
        }
      }
    }

    if (!integration) return json(500, "Internal server error");
    const i = integration.inputs;
    const text = body.toString("utf8");
    this.deps.log(
      `api ${this.api.name}: ${req.method} ${path}${apiKey ? ` (key ${apiKey.name})` : ""}${principal ? ` (${principal})` : ""}`,
    );
    if (i.type === "AWS_PROXY") {
      const multi: Record<string, string[]> = {};
      for (const [k, v] of Object.entries(headers)) multi[k] = [v];
      const query = url.searchParams.size ? Object.fromEntries(url.searchParams) : null;
      const event = {
        resource: found.route.path,
        path,
        httpMethod: req.method,
        headers,
        multiValueHeaders: multi,
        queryStringParameters: query,
        multiValueQueryStringParameters: query
          ? Object.fromEntries(
              [...url.searchParams.keys()].map((k) => [k, url.searchParams.getAll(k)]),
            )
          : null,
        pathParameters: Object.keys(found.params).length ? found.params : null,
        stageVariables: Object.keys(stage.variables).length ? stage.variables : null,
        requestContext: {
          accountId: ACCOUNT,
          apiId: `${this.api.name}-id`,
          resourcePath: found.route.path,
          httpMethod: req.method,
          path: `${prefix}${path}`,
          stage: stageName,
          requestId,
          requestTimeEpoch: Date.now(),
          protocol: `HTTP/${req.httpVersion}`,
          identity: {
            sourceIp: req.socket.remoteAddress?.replace(/^::ffff:/, ""),
            userAgent: headers["user-agent"],
            apiKey: apiKey ? req.headers["x-api-key"] : undefined,
            apiKeyId: apiKey?.id,
            userArn: principal,
            caller: principal,
          },
          authorizer: authorizerContext,
        },
        body: text.length ? text : null,
        isBase64Encoded: false,
      };
      try {
        const out = await this.deps.invokeLambda(functionFromUri(i.uri), event);
        if (!out || typeof out !== "object" || !("statusCode" in out))
          return json(502, "Internal server error");
        return writeLambdaResponse(res, out, { "x-amzn-requestid": requestId });
      } catch (e) {
        this.deps.log(`  integration error: ${(e as Error).message}`);
        return json(502, "Internal server error");
      }
    }
    if (i.type === "HTTP" || i.type === "HTTP_PROXY") {
      const out: Record<string, string> = {};
      if (i.type === "HTTP_PROXY") {
        for (const [k, v] of Object.entries(headers))
          if (!["host", "content-length", "connection"].includes(k)) out[k] = v;
      } else if (headers["content-type"]) out["content-type"] = headers["content-type"];
      // Request parameter mappings win over what the client sent, as in API Gateway.
      for (const [dest, src] of Object.entries<string>(i.requestParameters ?? {})) {
        const h = dest.match(/^integration\.request\.header\.(.+)$/);
        if (!h) continue;
        let value: unknown;
        if (src.startsWith("context.authorizer."))
          value = authorizerContext?.[src.slice("context.authorizer.".length)];
        else if (src.startsWith("stageVariables."))
          value = stage.variables[src.slice("stageVariables.".length)];
        else if (src.startsWith("method.request.header."))
          value = headers[src.slice("method.request.header.".length).toLowerCase()];
        else if (/^'.*'$/.test(src)) value = src.slice(1, -1);
        for (const k of Object.keys(out)) if (k.toLowerCase() === h[1].toLowerCase()) delete out[k];
        if (value !== undefined) out[h[1]] = String(value);
      }
      let target = i.uri as string;
      for (const [k, v] of Object.entries(found.params))
        target = target.replace(`{${k}}`, encodeURIComponent(v));
      try {
        const up = await fetch(this.deps.rewriteUrl(target), {
          method: i.integrationHttpMethod ?? req.method,
          headers: out,
          body: text.length ? text : undefined,
          signal: AbortSignal.timeout((i.timeoutMilliseconds ?? 29000) as number),
        });
        const upBody = Buffer.from(await up.arrayBuffer());
        res.writeHead(up.status, {
          "content-type": up.headers.get("content-type") ?? "application/json",
          "x-amzn-requestid": requestId,
        });
        res.end(upBody);
        return;
      } catch (e) {
        this.deps.log(`  integration error: ${(e as Error).message}`);
        return json(504, "Endpoint request timed out");
      }
    }
    return json(500, `integration type ${i.type} is not served locally`);
  }
}
