import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { JOB_TTL_ATTRIBUTE as TTL_ATTRIBUTE } from "../../lib/contracts";
import { declareResources, declareStage, declareUsagePlans, outputRecord } from "../apigw/restApi";
import {
  parseConsumerList,
  parseThrottle,
  parseTier,
  redeployHash,
  routeSlug,
  ThrottleLimits,
  UsageTier,
} from "../apigw/spec";
import { ClientInit, SwitchyardFunction } from "../lambda";
import { checkHttpsUrl, checkIntRange, checkName } from "../validate";
import { SUBMIT_MODEL_NAME, submitModelSchema } from "./jobSchema";
import {
  callerPolicy,
  callerTrustPolicy,
  integrationSourceArn,
  JOBS_AUTH_MODES,
  JOBS_DEFAULTS,
  JOBS_ROUTES,
  jobsDeploymentSpec,
  jobsMethods,
  JobsAuth,
  JWT_RESULT_TTL_SECONDS,
} from "./jobsSpec";

export interface JwtSettings {
  /** The `iss` every token must carry. */
  readonly issuer: string;
  /** A value the token's `aud` must contain. */
  readonly audience: string;
  /** https URL of the issuer's JWKS. */
  readonly jwksUrl: string;
  /** Seconds API Gateway caches the authorizer's answer per token, 0-3600. Default 300. */
  readonly resultTtlSeconds?: number;
}

export interface JobsApiArgs {
  /** ARN of the EventHub bus: the error handler's on-failure destination. Required. */
  readonly busArn: pulumi.Input<string>;
  /** Days the functions' and the access log's log groups keep events. Required. */
  readonly logRetentionDays: number;
  /** Where the functions build their AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** "iam" (default), "apiKey" (usage plan + keys) or "jwt" (Lambda token authorizer). */
  readonly auth?: JobsAuth;
  /** "iam": IAM principals that may assume the caller role. Default: this account's root. */
  readonly callerPrincipals?: string[];
  /** "jwt": issuer, audience, JWKS URL. Required when auth is "jwt". */
  readonly jwt?: JwtSettings;
  /** "apiKey": the usage plan's throttle and quota. Default 50 req/s, burst 100, no quota. */
  readonly apiKeyTier?: UsageTier;
  /** "apiKey": consumers, each gets a key on the plan. Default ["default"]. */
  readonly apiKeyConsumers?: string[];
  /** Stage name. Default "v1". */
  readonly stageName?: string;
  /** Stage-wide throttle. Default 100 req/s, burst 200. */
  readonly throttle?: ThrottleLimits;
  /** X-Ray tracing on the stage. Default true. */
  readonly xrayTracing?: boolean;
  /** Detailed CloudWatch metrics per method. Default true. */
  readonly metrics?: boolean;
  /** Days a job (and its Idempotency-Key) is kept, 1-365 (DynamoDB TTL). Default 7. */
  readonly jobTtlDays?: number;
  /** Point-in-time recovery on the jobs table. Default false. */
  readonly pointInTimeRecovery?: boolean;
  /** Removal protection on the jobs table. Default false. */
  readonly protect?: boolean;
  /** Lambda's retries of a failed processing attempt, 0-2. Default 2. */
  readonly processorRetryAttempts?: number;
  /** Seconds a job may wait in Lambda's async queue, 60-21600. Default 3600. */
  readonly processorMaxEventAgeSeconds?: number;
  /** Processing function timeout in seconds, 1-900. Default 60. */
  readonly processorTimeoutSeconds?: number;
  /** Requests per 5 minutes per IP before AWS WAF blocks (10-2000000000); no WAF when unset. */
  readonly wafRateLimit?: number;
  /**
   * Resources the stage waits for: the account's API Gateway CloudWatch role (a stage with access
   * logs fails to deploy without it). Default none.
   */
  readonly stageDependsOn?: pulumi.Resource[];
}

export { JOBS_DEFAULTS, JWT_RESULT_TTL_SECONDS } from "./jobsSpec";
/** Retries of the error handler itself before its record goes to the bus. */
export const ERROR_HANDLER_RETRY_ATTEMPTS = 2;

export function validateJobsArgs(name: string, args: JobsApiArgs): void {
  checkName("JobsApi name", name, 30);
  const a = { ...JOBS_DEFAULTS, ...args };
  if (!(JOBS_AUTH_MODES as readonly string[]).includes(a.auth)) {
    throw new Error(
      `auth must be one of ${JOBS_AUTH_MODES.join(", ")}, got ${JSON.stringify(a.auth)}`,
    );
  }
  if (!/^[A-Za-z0-9_]{1,64}$/.test(a.stageName)) {
    throw new Error(
      `stageName must be 1-64 letters, digits or underscores, got ${JSON.stringify(a.stageName)}`,
    );
  }
  parseThrottle("throttle", a.throttle);
  checkIntRange("jobTtlDays", a.jobTtlDays, 1, 365);
  checkIntRange("processorRetryAttempts", a.processorRetryAttempts, 0, 2);
  checkIntRange("processorMaxEventAgeSeconds", a.processorMaxEventAgeSeconds, 60, 21600);
  checkIntRange("processorTimeoutSeconds", a.processorTimeoutSeconds, 1, 900);
  if (a.wafRateLimit !== undefined) checkIntRange("wafRateLimit", a.wafRateLimit, 10, 2000000000);
  for (const p of a.callerPrincipals ?? []) {
    if (!/^arn:aws[a-z-]*:iam::\d{12}:(root|role\/.+|user\/.+)$/.test(p)) {
      throw new Error(
        `callerPrincipals: ${JSON.stringify(p)} must be an IAM role, user or account root ARN`,
      );
    }
  }
  if (a.callerPrincipals && a.auth !== "iam")
    throw new Error(`callerPrincipals only apply when auth is "iam", got auth "${a.auth}"`);
  if (a.auth === "jwt") {
    if (!a.jwt) throw new Error('auth "jwt" needs jwt: { issuer, audience, jwksUrl }');
    if (!a.jwt.issuer) throw new Error("jwt.issuer must be set (the iss every token carries)");
    if (!a.jwt.audience)
      throw new Error("jwt.audience must be set (a value the token's aud must contain)");
    checkHttpsUrl("jwt.jwksUrl", a.jwt.jwksUrl);
    checkIntRange(
      "jwt.resultTtlSeconds",
      a.jwt.resultTtlSeconds ?? JWT_RESULT_TTL_SECONDS,
      0,
      3600,
    );
  } else if (a.jwt) {
    throw new Error(`jwt settings only apply when auth is "jwt", got auth "${a.auth}"`);
  }
  if (a.auth === "apiKey") {
    parseTier("apiKeyTier", a.apiKeyTier);
    parseConsumerList(a.apiKeyConsumers);
  }
}

/**
 * An asynchronous jobs API: POST /jobs stores a job and starts its processing, GET /jobs/{jobId}
 * returns it. Processing failures go, after Lambda's retries, to an error handler that records them;
 * the error handler's own failures go to the EventHub bus (archived, replayable). IAM auth by
 * default, with a caller role; API keys or a JWT authorizer per stack; optional WAF rate limiting.
 */
export class JobsApi extends pulumi.ComponentResource {
  public readonly table: aws.dynamodb.Table;
  public readonly submitFn: SwitchyardFunction;
  public readonly getFn: SwitchyardFunction;
  public readonly processFn: SwitchyardFunction;
  public readonly errorFn: SwitchyardFunction;
  public readonly authorizerFn?: SwitchyardFunction;
  public readonly processInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
  public readonly errorInvokeConfig: aws.lambda.FunctionEventInvokeConfig;
  public readonly api: aws.apigateway.RestApi;
  public readonly model: aws.apigateway.Model;
  public readonly validator: aws.apigateway.RequestValidator;
  public readonly authorizer?: aws.apigateway.Authorizer;
  public readonly methods: Record<string, aws.apigateway.Method> = {};
  public readonly integrations: Record<string, aws.apigateway.Integration> = {};
  public readonly permissions: Record<string, aws.lambda.Permission> = {};
  public readonly deployment: aws.apigateway.Deployment;
  public readonly stage: aws.apigateway.Stage;
  public readonly accessLogs: aws.cloudwatch.LogGroup;
  public readonly methodSettings: aws.apigateway.MethodSettings;
  public readonly callerRole?: aws.iam.Role;
  public readonly callerPolicy?: aws.iam.RolePolicy;
  public readonly usagePlan?: aws.apigateway.UsagePlan;
  public readonly apiKeys: Record<string, aws.apigateway.ApiKey> = {};
  public readonly webAcl?: aws.wafv2.WebAcl;
  public readonly webAclAssociation?: aws.wafv2.WebAclAssociation;

  public readonly invokeUrl: pulumi.Output<string>;
  public readonly tableName: pulumi.Output<string>;
  public readonly callerRoleArn?: pulumi.Output<string>;
  public readonly apiKeyIds?: pulumi.Output<Record<string, string>>;
  public readonly redeployHash: pulumi.Output<string>;

  constructor(name: string, args: JobsApiArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:jobs:JobsApi", name, {}, opts);
    validateJobsArgs(name, args);
    const a = { ...JOBS_DEFAULTS, ...args };
    const ttlSeconds = a.jobTtlDays * 86400;

    this.table = new aws.dynamodb.Table(
      `${name}-jobs`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        ttl: { attributeName: TTL_ATTRIBUTE, enabled: true },
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: a.pointInTimeRecovery },
        deletionProtectionEnabled: a.protect,
      },
      { parent: this, protect: a.protect },
    );
    this.tableName = this.table.name;
    const tableArn = this.table.arn;

    const fnDefaults = { logRetentionDays: a.logRetentionDays, clientInit: a.clientInit };
    const tableEnv = { JOBS_TABLE: this.table.name, JOBS_TTL_SECONDS: String(ttlSeconds) };

    this.errorFn = new SwitchyardFunction(
      `${name}-failed`,
      {
        ...fnDefaults,
        description: "Records a job as FAILED after its processing exhausted Lambda's retries",
        environment: tableEnv,
        grants: [
          { actions: ["dynamodb:UpdateItem"], resources: [tableArn] },
          // Lambda delivers this function's own failure records to the bus with its role.
          { actions: ["events:PutEvents"], resources: [a.busArn] },
        ],
        handler: { module: "handlers/jobs/errorHandler", factory: "createErrorHandler" },
      },
      { parent: this },
    );

    this.processFn = new SwitchyardFunction(
      `${name}-process`,
      {
        ...fnDefaults,
        description: "Runs a job and records its result",
        timeout: a.processorTimeoutSeconds,
        environment: { JOBS_TABLE: this.table.name },
        grants: [
          { actions: ["dynamodb:GetItem", "dynamodb:UpdateItem"], resources: [tableArn] },
          // Lambda delivers failure records to the on-failure destination with this role.
          { actions: ["lambda:InvokeFunction"], resources: [this.errorFn.function.arn] },
        ],
        handler: { module: "handlers/jobs/process", factory: "createProcess" },
      },
      { parent: this },
    );

    // The destination's permission must exist before Lambda accepts the destination.
    this.processInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-process`,
      {
        functionName: this.processFn.function.name,
        maximumRetryAttempts: a.processorRetryAttempts,
        maximumEventAgeInSeconds: a.processorMaxEventAgeSeconds,
        destinationConfig: { onFailure: { destination: this.errorFn.function.arn } },
      },
      { parent: this, dependsOn: [this.processFn.policy] },
    );
    this.errorInvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-failed`,
      {
        functionName: this.errorFn.function.name,
        maximumRetryAttempts: ERROR_HANDLER_RETRY_ATTEMPTS,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: a.busArn } },
      },
      { parent: this, dependsOn: [this.errorFn.policy] },
    );

    this.submitFn = new SwitchyardFunction(
      `${name}-submit`,
      {
        ...fnDefaults,
        description: "POST /jobs: stores a job and starts its processing",
        environment: { ...tableEnv, PROCESSOR_FUNCTION: this.processFn.function.arn },
        grants: [
          {
            actions: ["dynamodb:PutItem", "dynamodb:GetItem", "dynamodb:DeleteItem"],
            resources: [tableArn],
          },
          { actions: ["lambda:InvokeFunction"], resources: [this.processFn.function.arn] },
        ],
        handler: { module: "handlers/jobs/submit", factory: "createSubmit" },
      },
      { parent: this },
    );

    this.getFn = new SwitchyardFunction(
      `${name}-get`,
      {
        ...fnDefaults,
        description: "GET /jobs/{jobId}: returns a job",
        environment: { JOBS_TABLE: this.table.name },
        grants: [{ actions: ["dynamodb:GetItem"], resources: [tableArn] }],
        handler: { module: "handlers/jobs/get", factory: "createGet" },
      },
      { parent: this },
    );

    this.api = new aws.apigateway.RestApi(
      name,
      {
        description: "Switchyard asynchronous jobs API",
        endpointConfiguration: { types: "REGIONAL" },
        apiKeySource: "HEADER",
      },
      { parent: this },
    );
    const api = this.api;

    const modelSchema = submitModelSchema();
    this.model = new aws.apigateway.Model(
      `${name}-submit-job`,
      {
        restApi: api.id,
        name: SUBMIT_MODEL_NAME,
        contentType: "application/json",
        description: "POST /jobs body",
        schema: modelSchema,
      },
      { parent: this },
    );
    this.validator = new aws.apigateway.RequestValidator(
      `${name}-body`,
      {
        restApi: api.id,
        name: "body-and-parameters",
        validateRequestBody: true,
        validateRequestParameters: true,
      },
      { parent: this },
    );

    let authorizerSpec: Record<string, unknown> | undefined;
    if (a.auth === "jwt") {
      const jwt = a.jwt!;
      const ttl = jwt.resultTtlSeconds ?? JWT_RESULT_TTL_SECONDS;
      this.authorizerFn = new SwitchyardFunction(
        `${name}-jwt`,
        {
          ...fnDefaults,
          description: "Validates JWTs for the jobs API",
          environment: {
            JWT_ISSUER: jwt.issuer,
            JWT_AUDIENCE: jwt.audience,
            JWKS_URL: jwt.jwksUrl,
            JWKS_CACHE_SECONDS: "3600",
          },
          grants: [],
          handler: { module: "handlers/jobs/jwtAuthorizer", factory: "createJwtAuthorizer" },
        },
        { parent: this },
      );
      authorizerSpec = {
        type: "TOKEN",
        identitySource: "method.request.header.Authorization",
        identityValidationExpression: "^Bearer [-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+\\.[-0-9A-Za-z_]+$",
        authorizerResultTtlInSeconds: ttl,
      };
      this.authorizer = new aws.apigateway.Authorizer(
        `${name}-jwt`,
        {
          restApi: api.id,
          name: "jwt",
          authorizerUri: this.authorizerFn.function.invokeArn,
          type: "TOKEN",
          identitySource: "method.request.header.Authorization",
          identityValidationExpression: authorizerSpec.identityValidationExpression as string,
          authorizerResultTtlInSeconds: ttl,
        },
        { parent: this },
      );
      this.permissions.authorizer = new aws.lambda.Permission(
        `${name}-jwt`,
        {
          action: "lambda:InvokeFunction",
          function: this.authorizerFn.function.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: pulumi.interpolate`${api.executionArn}/authorizers/${this.authorizer.id}`,
        },
        { parent: this },
      );
    }

    const resourceIds = declareResources(
      name,
      api,
      JOBS_ROUTES.map((r) => r.path),
      this,
    );
    const fns = { submit: this.submitFn, get: this.getFn };
    const methodSpecs = jobsMethods(a.auth);
    const deps: pulumi.Resource[] = [
      this.model,
      this.validator,
      ...(this.authorizer ? [this.authorizer, this.permissions.authorizer] : []),
    ];
    for (const spec of methodSpecs) {
      const slug = routeSlug(spec.route);
      const fn = fns[spec.fn].function;
      const permission = new aws.lambda.Permission(
        `${name}-${slug}`,
        {
          action: "lambda:InvokeFunction",
          function: fn.name,
          principal: "apigateway.amazonaws.com",
          sourceArn: api.executionArn.apply((arn) => integrationSourceArn(arn, spec.route)),
        },
        { parent: this },
      );
      const method = new aws.apigateway.Method(
        `${name}-${slug}`,
        {
          restApi: api.id,
          resourceId: resourceIds[spec.route.path],
          httpMethod: spec.route.method,
          authorization: spec.authorization,
          authorizerId: this.authorizer?.id,
          apiKeyRequired: spec.apiKeyRequired,
          requestParameters: spec.requestParameters,
          requestValidatorId: spec.validateBody ? this.validator.id : undefined,
          requestModels: spec.requestModels,
        },
        { parent: this, dependsOn: [this.model] },
      );
      // The integration (what callers reach) is declared after the permission to invoke.
      const integration = new aws.apigateway.Integration(
        `${name}-${slug}`,
        {
          restApi: api.id,
          resourceId: resourceIds[spec.route.path],
          httpMethod: method.httpMethod,
          type: "AWS_PROXY",
          integrationHttpMethod: "POST",
          uri: fn.invokeArn,
        },
        { parent: this, dependsOn: [permission] },
      );
      this.methods[slug] = method;
      this.integrations[slug] = integration;
      this.permissions[slug] = permission;
      deps.push(method, integration);
    }

    this.redeployHash = pulumi
      .all([
        this.submitFn.function.invokeArn,
        this.getFn.function.invokeArn,
        this.authorizerFn?.function.invokeArn ?? "",
      ])
      .apply(([submitUri, getUri, authorizerUri]) =>
        redeployHash(
          jobsDeploymentSpec({
            auth: a.auth,
            modelSchema,
            submitUri,
            getUri,
            authorizer: authorizerSpec ? { ...authorizerSpec, uri: authorizerUri } : undefined,
          }),
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

    if (a.auth === "iam") {
      const identity = aws.getCallerIdentityOutput({}, { parent: this });
      const principals = a.callerPrincipals ?? [];
      this.callerRole = new aws.iam.Role(
        `${name}-caller`,
        {
          description: `Callers of the jobs API ${name}: POST /jobs and GET /jobs/{jobId} only`,
          assumeRolePolicy: pulumi.jsonStringify(
            identity.accountId.apply((account) =>
              callerTrustPolicy(
                principals.length > 0 ? principals : [`arn:aws:iam::${account}:root`],
              ),
            ),
          ),
        },
        { parent: this },
      );
      this.callerPolicy = new aws.iam.RolePolicy(
        `${name}-caller`,
        {
          role: this.callerRole.name,
          policy: pulumi.jsonStringify(
            api.executionArn.apply((arn) => callerPolicy(arn, a.stageName)),
          ),
        },
        { parent: this },
      );
      this.callerRoleArn = this.callerRole.arn;
    }

    if (a.auth === "apiKey") {
      const consumers = Object.fromEntries(a.apiKeyConsumers.map((c) => [c, "jobs"]));
      const plans = declareUsagePlans(
        name,
        api,
        this.stage,
        { jobs: a.apiKeyTier },
        consumers,
        this,
      );
      this.usagePlan = plans.plans.jobs;
      Object.assign(this.apiKeys, plans.keys);
      this.apiKeyIds = outputRecord(
        Object.fromEntries(Object.entries(plans.keys).map(([c, k]) => [c, k.id])),
      );
    }

    if (a.wafRateLimit !== undefined) {
      const metricName = `${name}-rate-limit`;
      this.webAcl = new aws.wafv2.WebAcl(
        `${name}-waf`,
        {
          description: `Rate limit of the jobs API ${name}`,
          scope: "REGIONAL",
          defaultAction: { allow: {} },
          rules: [
            {
              name: "rate-limit-per-ip",
              priority: 0,
              action: { block: {} },
              statement: {
                rateBasedStatement: {
                  limit: a.wafRateLimit,
                  aggregateKeyType: "IP",
                  evaluationWindowSec: 300,
                },
              },
              visibilityConfig: {
                cloudwatchMetricsEnabled: true,
                metricName,
                sampledRequestsEnabled: true,
              },
            },
          ],
          visibilityConfig: {
            cloudwatchMetricsEnabled: true,
            metricName: `${name}-waf`,
            sampledRequestsEnabled: true,
          },
        },
        { parent: this },
      );
      this.webAclAssociation = new aws.wafv2.WebAclAssociation(
        `${name}-waf`,
        { resourceArn: this.stage.arn, webAclArn: this.webAcl.arn },
        { parent: this },
      );
    }

    this.registerOutputs({
      invokeUrl: this.invokeUrl,
      tableName: this.tableName,
      callerRoleArn: this.callerRoleArn,
      apiKeyIds: this.apiKeyIds,
    });
  }
}
