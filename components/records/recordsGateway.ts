import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { declareResources, declareStage, declareUsagePlans, outputRecord } from "../apigw/restApi";
import {
  checkTierThrottles,
  parseConsumers,
  parseThrottle,
  parseTier,
  redeployHash,
  routeSlug,
  ThrottleLimits,
  UsageTier,
} from "../apigw/spec";
import { ClientInit, SwitchyardFunction } from "../lambda";
import { checkHttpsUrl, checkIntRange, checkName } from "../validate";
import {
  GATEWAY_DEFAULTS,
  gatewayAuthorizerSpec,
  gatewayDeploymentSpec,
  gatewayIntegrations,
  gatewayRoutes,
  methodRequestParameters,
} from "./gatewaySpec";

export interface RecordsGatewayArgs {
  /** Root URL of the records API, https, no trailing slash. Required. */
  readonly apiEndpoint: string;
  /** The records API key (a secret), injected as X-API-Key on every upstream request. Required. */
  readonly apiKey: pulumi.Input<string>;
  /** Usage plan tiers by name. Required, at least one. */
  readonly tiers: Record<string, UsageTier>;
  /** Consumer name to tier name; each consumer gets an API key on its tier's plan. Default none. */
  readonly consumers?: Record<string, string>;
  /** Extra routes proxied to the records API, "<METHOD> /path" (upstream /api/v1/path). Default none. */
  readonly extraRoutes?: string[];
  /** Days the authorizer's and the access log's log groups keep events. Required. */
  readonly logRetentionDays: number;
  /** Where the functions build their AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** Stage name. Default "v1". */
  readonly stageName?: string;
  /** Stage-wide throttle (protects the records API). Default 300 req/s, burst 600. */
  readonly throttle?: ThrottleLimits;
  /** X-Ray tracing on the stage. Default true. */
  readonly xrayTracing?: boolean;
  /** Detailed CloudWatch metrics per method. Default true. */
  readonly metrics?: boolean;
  /** Seconds API Gateway caches the authorizer's answer per consumer key, 0-3600. Default 300. */
  readonly authorizerCacheSeconds?: number;
  /** Seconds the authorizer caches the secret, 0-3600. Default 300. */
  readonly secretCacheSeconds?: number;
  /**
   * Resources the stage waits for: the account's API Gateway CloudWatch role (a stage with access
   * logs fails to deploy without it). Default none.
   */
  readonly stageDependsOn?: pulumi.Resource[];
}

export { GATEWAY_DEFAULTS } from "./gatewaySpec";
/**
 * An API Gateway REST API in front of the records API for internal consumers. Consumers call it with
 * their own API Gateway keys, each on a usage plan tier (throttle, quota, per-method throttles).
 * A REQUEST authorizer reads the records API key from Secrets Manager and the integration puts it
 * on the upstream X-API-Key header, replacing the consumer's: neither key crosses over.
 */
export class RecordsGateway extends pulumi.ComponentResource {
  public readonly secret: aws.secretsmanager.Secret;
  public readonly secretVersion: aws.secretsmanager.SecretVersion;
  public readonly authorizerFn: SwitchyardFunction;
  public readonly api: aws.apigateway.RestApi;
  public readonly authorizer: aws.apigateway.Authorizer;
  public readonly authorizerPermission: aws.lambda.Permission;
  public readonly methods: Record<string, aws.apigateway.Method> = {};
  public readonly integrations: Record<string, aws.apigateway.Integration> = {};
  public readonly deployment: aws.apigateway.Deployment;
  public readonly stage: aws.apigateway.Stage;
  public readonly accessLogs: aws.cloudwatch.LogGroup;
  public readonly methodSettings: aws.apigateway.MethodSettings;
  public readonly usagePlans: Record<string, aws.apigateway.UsagePlan>;
  public readonly apiKeys: Record<string, aws.apigateway.ApiKey>;
  public readonly usagePlanKeys: Record<string, aws.apigateway.UsagePlanKey>;

  public readonly invokeUrl: pulumi.Output<string>;
  public readonly usagePlanIds: pulumi.Output<Record<string, string>>;
  /** Consumer name to API key id (never the key value). */
  public readonly apiKeyIds: pulumi.Output<Record<string, string>>;
  public readonly redeployHash: pulumi.Output<string>;

  constructor(name: string, args: RecordsGatewayArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:records:RecordsGateway", name, {}, opts);
    checkName("RecordsGateway name", name, 30);
    const a = { ...GATEWAY_DEFAULTS, ...args };
    checkHttpsUrl("apiEndpoint", a.apiEndpoint);
    if (!/^[A-Za-z0-9_]{1,64}$/.test(a.stageName)) {
      throw new Error(
        `stageName must be 1-64 letters, digits or underscores, got ${JSON.stringify(a.stageName)}`,
      );
    }
    parseThrottle("throttle", a.throttle);
    checkIntRange("authorizerCacheSeconds", a.authorizerCacheSeconds, 0, 3600);
    checkIntRange("secretCacheSeconds", a.secretCacheSeconds, 0, 3600);
    if (Object.keys(a.tiers).length === 0)
      throw new Error("tiers must define at least one usage plan tier");
    for (const [n, t] of Object.entries(a.tiers)) parseTier(n, t);
    parseConsumers(a.consumers, Object.keys(a.tiers));
    const routes = gatewayRoutes(a.extraRoutes);
    checkTierThrottles(a.tiers, routes);

    this.secret = new aws.secretsmanager.Secret(
      `${name}-upstream-key`,
      { description: `Records API key the gateway ${name} sends upstream as X-API-Key` },
      { parent: this },
    );
    this.secretVersion = new aws.secretsmanager.SecretVersion(
      `${name}-upstream-key`,
      { secretId: this.secret.id, secretString: pulumi.secret(a.apiKey) },
      { parent: this },
    );

    this.authorizerFn = new SwitchyardFunction(
      `${name}-upstream-key`,
      {
        logRetentionDays: a.logRetentionDays,
        clientInit: a.clientInit,
        description: "Hands the records API key to the records gateway's integrations",
        environment: {
          UPSTREAM_KEY_SECRET_ARN: this.secret.arn,
          SECRET_CACHE_SECONDS: String(a.secretCacheSeconds),
        },
        grants: [{ actions: ["secretsmanager:GetSecretValue"], resources: [this.secret.arn] }],
        handler: {
          module: "handlers/records/upstreamKeyAuthorizer",
          factory: "createUpstreamKeyAuthorizer",
        },
      },
      // The function reads the secret's current version from its first call on.
      { parent: this, dependsOn: [this.secretVersion] },
    );

    this.api = new aws.apigateway.RestApi(
      name,
      {
        description: `Switchyard records gateway to ${a.apiEndpoint}`,
        endpointConfiguration: { types: "REGIONAL" },
        apiKeySource: "HEADER",
      },
      { parent: this },
    );
    const api = this.api;

    // The consumer's key is the cache key: an answer is reused for that consumer only.
    const authorizerSpec = gatewayAuthorizerSpec(a.authorizerCacheSeconds);
    this.authorizer = new aws.apigateway.Authorizer(
      `${name}-upstream-key`,
      {
        restApi: api.id,
        name: "upstream-key",
        authorizerUri: this.authorizerFn.function.invokeArn,
        ...authorizerSpec,
      },
      { parent: this },
    );
    this.authorizerPermission = new aws.lambda.Permission(
      `${name}-upstream-key`,
      {
        action: "lambda:InvokeFunction",
        function: this.authorizerFn.function.name,
        principal: "apigateway.amazonaws.com",
        sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${this.authorizer.id}`,
      },
      { parent: this },
    );

    const resourceIds = declareResources(
      name,
      api,
      routes.map((r) => r.path),
      this,
    );
    const deps: pulumi.Resource[] = [this.authorizerPermission];
    for (const spec of gatewayIntegrations(a.apiEndpoint, routes)) {
      const slug = routeSlug(spec.route);
      const method = new aws.apigateway.Method(
        `${name}-${slug}`,
        {
          restApi: api.id,
          resourceId: resourceIds[spec.route.path],
          httpMethod: spec.route.method,
          authorization: "CUSTOM",
          authorizerId: this.authorizer.id,
          apiKeyRequired: true,
          requestParameters: methodRequestParameters(spec.route),
        },
        { parent: this },
      );
      const integration = new aws.apigateway.Integration(
        `${name}-${slug}`,
        {
          restApi: api.id,
          resourceId: resourceIds[spec.route.path],
          httpMethod: method.httpMethod,
          type: spec.type,
          integrationHttpMethod: spec.integrationHttpMethod,
          uri: spec.uri,
          requestParameters: spec.requestParameters,
          timeoutMilliseconds: 29000,
        },
        { parent: this },
      );
      this.methods[slug] = method;
      this.integrations[slug] = integration;
      deps.push(method, integration);
    }

    this.redeployHash = this.authorizerFn.function.invokeArn.apply((authorizerUri) =>
      redeployHash(
        gatewayDeploymentSpec(a.apiEndpoint, routes, a.authorizerCacheSeconds, authorizerUri),
      ),
    );

    const declared = declareStage(
      name,
      {
        api,
        stageName: a.stageName,
        redeployHash: this.redeployHash,
        dependsOn: deps,
        logRetentionDays: a.logRetentionDays,
        xrayTracing: a.xrayTracing,
        metrics: a.metrics,
        throttle: a.throttle,
        stageDependsOn: a.stageDependsOn,
      },
      this,
    );
    this.deployment = declared.deployment;
    this.stage = declared.stage;
    this.accessLogs = declared.accessLogs;
    this.methodSettings = declared.methodSettings;
    this.invokeUrl = this.stage.invokeUrl;

    const plans = declareUsagePlans(name, api, this.stage, a.tiers, a.consumers, this);
    this.usagePlans = plans.plans;
    this.apiKeys = plans.keys;
    this.usagePlanKeys = plans.planKeys;
    this.usagePlanIds = outputRecord(
      Object.fromEntries(Object.entries(plans.plans).map(([t, p]) => [t, p.id])),
    );
    this.apiKeyIds = outputRecord(
      Object.fromEntries(Object.entries(plans.keys).map(([c, k]) => [c, k.id])),
    );

    this.registerOutputs({
      invokeUrl: this.invokeUrl,
      usagePlanIds: this.usagePlanIds,
      apiKeyIds: this.apiKeyIds,
    });
  }
}
