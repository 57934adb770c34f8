// Pure description of the jobs API: its routes, how each method is authorized and validated, the
// caller role's policy, and the processing chain's defaults. The component declares exactly this,
// and the deployment's redeploy hash is computed from it.
import { executeApiPath, Route, STAGE_DEFAULTS, ThrottleLimits, UsageTier } from "../apigw/spec";
import { SUBMIT_MODEL_NAME } from "./jobSchema";

export const JOBS_AUTH_MODES = ["iam", "apiKey", "jwt"] as const;
export type JobsAuth = (typeof JOBS_AUTH_MODES)[number];

/** The JobsApi component's defaults (the stack's config table states the same values from here). */
export const JOBS_DEFAULTS = {
  auth: "iam" as JobsAuth,
  ...STAGE_DEFAULTS,
  throttle: { rateLimit: 100, burstLimit: 200 } as ThrottleLimits,
  jobTtlDays: 7,
  pointInTimeRecovery: false,
  protect: false,
  processorRetryAttempts: 2,
  processorMaxEventAgeSeconds: 3600,
  processorTimeoutSeconds: 60,
  apiKeyTier: { rateLimit: 50, burstLimit: 100 } as UsageTier,
  apiKeyConsumers: ["default"],
};

/** Seconds API Gateway caches the JWT authorizer's answer per token unless told otherwise. */
export const JWT_RESULT_TTL_SECONDS = 300;

export const SUBMIT_ROUTE: Route = { method: "POST", path: "/jobs" };
export const GET_ROUTE: Route = { method: "GET", path: "/jobs/{jobId}" };
export const JOBS_ROUTES: Route[] = [SUBMIT_ROUTE, GET_ROUTE];

export interface JobsMethodSpec {
  readonly route: Route;
  /** Which function the AWS_PROXY integration calls. */
  readonly fn: "submit" | "get";
  readonly authorization: "AWS_IAM" | "NONE" | "CUSTOM";
  readonly apiKeyRequired: boolean;
  /** Method request parameters (true = required). */
  readonly requestParameters: Record<string, boolean>;
  /** Validate the body against the model (and required parameters). */
  readonly validateBody: boolean;
  readonly requestModels?: Record<string, string>;
}

const AUTHORIZATION: Record<JobsAuth, JobsMethodSpec["authorization"]> = {
  iam: "AWS_IAM",
  apiKey: "NONE",
  jwt: "CUSTOM",
};

/** The two methods of the jobs API under an auth mode. */
export function jobsMethods(auth: JobsAuth): JobsMethodSpec[] {
  const common = { authorization: AUTHORIZATION[auth], apiKeyRequired: auth === "apiKey" };
  return [
    {
      route: SUBMIT_ROUTE,
      fn: "submit",
      ...common,
      requestParameters: { "method.request.header.Idempotency-Key": false },
      validateBody: true,
      requestModels: { "application/json": SUBMIT_MODEL_NAME },
    },
    {
      route: GET_ROUTE,
      fn: "get",
      ...common,
      requestParameters: { "method.request.path.jobId": true },
      validateBody: false,
    },
  ];
}

/** The ARNs a caller may invoke on a stage: exactly POST /jobs and GET /jobs/*. */
export function callerResources(executionArn: string, stageName: string): string[] {
  return JOBS_ROUTES.map((r) => `${executionArn}/${stageName}/${executeApiPath(r)}`);
}

/** The caller role's policy: one statement, execute-api:Invoke on the two routes of the stage. */
export function callerPolicy(executionArn: string, stageName: string) {
  return {
    Version: "2012-10-17",
    Statement: [
      {
        Sid: "InvokeJobsRoutes",
        Effect: "Allow",
        Action: "execute-api:Invoke",
        Resource: callerResources(executionArn, stageName),
      },
    ],
  };
}

/** The caller role's trust policy: the given principals (default: the account, via its IAM policies). */
export function callerTrustPolicy(principals: string[]) {
  return {
    Version: "2012-10-17",
    Statement: [{ Effect: "Allow", Principal: { AWS: principals }, Action: "sts:AssumeRole" }],
  };
}

/** The source ARN of the permission that lets API Gateway invoke a route's function (any stage). */
export function integrationSourceArn(executionArn: string, route: Route): string {
  return `${executionArn}/*/${executeApiPath(route)}`;
}

export interface JobsDeploymentInputs {
  readonly auth: JobsAuth;
  /** The POST /jobs model's schema text. */
  readonly modelSchema: string;
  readonly submitUri: string;
  readonly getUri: string;
  /** "jwt": the authorizer's settings and function URI. */
  readonly authorizer?: Record<string, unknown>;
}

/** Everything a deployment of the jobs API snapshots; its hash is the redeploy trigger. */
export function jobsDeploymentSpec(i: JobsDeploymentInputs) {
  return {
    methods: jobsMethods(i.auth),
    integrations: {
      submit: { type: "AWS_PROXY", integrationHttpMethod: "POST", uri: i.submitUri },
      get: { type: "AWS_PROXY", integrationHttpMethod: "POST", uri: i.getUri },
    },
    models: { [SUBMIT_MODEL_NAME]: { contentType: "application/json", schema: i.modelSchema } },
    validators: {
      "body-and-parameters": { validateRequestBody: true, validateRequestParameters: true },
    },
    authorizer: i.authorizer ?? null,
  };
}
