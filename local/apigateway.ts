// Local API Gateway (REST): each declared RestApi stage is served on its own port, from the declared
// Resources, Methods, Integrations, Authorizers, Models, RequestValidators, UsagePlans and ApiKeys.
// It enforces what API Gateway enforces before an integration runs: unknown routes (403 Missing
// Authentication Token), API keys (403), usage-plan throttles and quotas (429), IAM auth with a
// real SigV4 check plus the caller role's execute-api:Invoke policy, Lambda authorizers (with their
// result cache), and body validation against the model (400). Integrations: AWS_PROXY to the
// local Lambda, HTTP and HTTP_PROXY with request parameter mappings.
import * as http from "http";
import { createHash, randomUUID } from "crypto";
import { LOCAL_CALLER_CREDENTIALS, verifySigV4 } from "./sigv4";
import { Recorded, ACCOUNT, REGION } from "./mocks";
import { validate, JsonSchema } from "../handlers/jobs/schema";
import { HttpError, readRequestBody, writeLambdaResponse } from "./httpEvents";

export { LOCAL_CALLER_CREDENTIALS };

interface Route {
  path: string;
  segments: string[];
  methods: Map<string, { method: Recorded; integration?: Recorded }>;
}

interface Plan {
  id: string;
  rate?: number;
  burst?: number;
  quota?: { limit: number; period: string };
  methodThrottles: Map<string, { rate?: number; burst?: number }>;
}

interface Bucket {
  tokens: number;
  last: number;
}

export interface ApiDeps {
  invokeLambda(nameOrArn: string, event: unknown): Promise<any>;
  rewriteUrl(url: string): string;
  log(line: string): void;
}

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
  private readonly buckets = new Map<string, Bucket>();
  private readonly quotaUse = new Map<string, { count: number; period: string }>();
  private readonly authCache = new Map<string, { expires: number; result: any }>();
  public readonly stageName: string;
  public readonly executionArn: string;
  public readonly apiKeys: Record<string, string> = {};
  private readonly stageVariables: Record<string, string>;

  constructor(
    public readonly api: Recorded,
    private readonly all: Recorded[],
    private readonly deps: ApiDeps,
  ) {
    const apiId = `${api.name}-id`;
    const mine = (type: string) => all.filter((r) => r.type === type && r.inputs.restApi === apiId);
    const stage = mine("aws:apigateway/stage:Stage")[0];
    this.stageName = stage?.inputs.stageName ?? "local";
    this.stageVariables = stage?.inputs.variables ?? {};
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

    // Usage plans and keys.
    const plans: Plan[] = [];
    for (const p of all.filter((r) => r.type === "aws:apigateway/usagePlan:UsagePlan")) {
      const stageRef = (p.inputs.apiStages ?? []).find(
        (s: any) => s.apiId === apiId && s.stage === this.stageName,
      );
      if (!stageRef) continue;
      const methodThrottles = new Map<string, { rate?: number; burst?: number }>();
      for (const t of stageRef.throttles ?? [])
        methodThrottles.set(t.path, { rate: t.rateLimit, burst: t.burstLimit });
      plans.push({
        id: `${p.name}-id`,
        rate: p.inputs.throttleSettings?.rateLimit,
        burst: p.inputs.throttleSettings?.burstLimit,
        quota: p.inputs.quotaSettings
          ? { limit: p.inputs.quotaSettings.limit, period: p.inputs.quotaSettings.period }
          : undefined,
        methodThrottles,
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
      // Local key values are derived, stable per name, and printed at start.
      const value =
        k.inputs.value ?? `local-${createHash("sha256").update(k.name).digest("hex").slice(0, 32)}`;
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

  private take(key: string, rate?: number, burst?: number): boolean {
    if (rate === undefined) return true;
    const cap = Math.max(1, burst ?? rate);
    const now = Date.now();
    const b = this.buckets.get(key) ?? { tokens: cap, last: now };
    b.tokens = Math.min(cap, b.tokens + ((now - b.last) / 1000) * rate);
    b.last = now;
    this.buckets.set(key, b);
    if (b.tokens < 1) return false;
    b.tokens -= 1;
    return true;
  }

  private periodOf(period: string): string {
    const d = new Date();
    if (period === "DAY") return d.toISOString().slice(0, 10);
    if (period === "WEEK")
      return `${d.getUTCFullYear()}-w${Math.floor((d.getTime() / 86400000 + 4) / 7)}`;
    return d.toISOString().slice(0, 7);
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
    const json = (status: number, message: string, extra: Record<string, string> = {}) => {
      res.writeHead(status, {
        "content-type": "application/json",
        "x-amzn-errortype": extra.type ?? "",
        ...extra,
      });
      res.end(JSON.stringify({ message }));
    };
    const prefix = `/${this.stageName}`;
    if (!url.pathname.startsWith(prefix))
      return json(403, "Missing Authentication Token", {
        type: "MissingAuthenticationTokenException",
      });
    const path = url.pathname.slice(prefix.length) || "/";
    const found = this.match(path);
    const entry = found?.route.methods.get(req.method!) ?? found?.route.methods.get("ANY");
    if (!found || !entry)
      return json(403, "Missing Authentication Token", {
        type: "MissingAuthenticationTokenException",
      });
    const { method, integration } = entry;
    const requestId = randomUUID();
    const methodArn = `${this.executionArn}/${this.stageName}/${req.method}${path}`;
    const headers: Record<string, string> = {};
    for (const [k, v] of Object.entries(req.headers))
      if (v !== undefined) headers[k] = Array.isArray(v) ? v.join(",") : v;

    // API key and usage plan.
    let apiKey: { id: string; name: string; plans: Plan[] } | undefined;
    if (method.inputs.apiKeyRequired) {
      apiKey = this.keys.get(String(req.headers["x-api-key"] ?? ""));
      if (!apiKey) return json(403, "Forbidden", { type: "ForbiddenException" });
      const plan = apiKey.plans[0];
      const override = plan.methodThrottles.get(`${found.route.path}/${req.method}`);
      if (
        !this.take(
          `${apiKey.id}:${found.route.path}/${req.method}`,
          override?.rate ?? plan.rate,
          override?.burst ?? plan.burst,
        )
      ) {
        return json(429, "Too Many Requests", { type: "TooManyRequestsException" });
      }
      if (plan.quota) {
        const period = this.periodOf(plan.quota.period);
        const use = this.quotaUse.get(apiKey.id);
        const count = use && use.period === period ? use.count : 0;
        if (count >= plan.quota.limit)
          return json(429, "Limit Exceeded", { type: "LimitExceededException" });
        this.quotaUse.set(apiKey.id, { count: count + 1, period });
      }
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
                stageVariables: this.stageVariables,
                requestContext: {
                  accountId: ACCOUNT,
                  apiId: `${this.api.name}-id`,
                  stage: this.stageName,
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
        stageVariables: Object.keys(this.stageVariables).length ? this.stageVariables : null,
        requestContext: {
          accountId: ACCOUNT,
          apiId: `${this.api.name}-id`,
          resourcePath: found.route.path,
          httpMethod: req.method,
          path: `${prefix}${path}`,
          stage: this.stageName,
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
          value = this.stageVariables[src.slice("stageVariables.".length)];
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
