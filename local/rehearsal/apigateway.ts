// API Gateway REST APIs: the API, its resources, methods, integrations, authorizers, validators and
// models, deployments and stages (with access logs and method settings), usage plans and API keys,
// and the account's CloudWatch role.
import {
  CreateApiKeyCommand,
  CreateAuthorizerCommand,
  CreateDeploymentCommand,
  CreateModelCommand,
  CreateRequestValidatorCommand,
  CreateResourceCommand,
  CreateRestApiCommand,
  CreateStageCommand,
  CreateUsagePlanCommand,
  CreateUsagePlanKeyCommand,
  GetResourcesCommand,
  PatchOperation,
  PutIntegrationCommand,
  PutMethodCommand,
  UpdateAccountCommand,
  UpdateStageCommand,
} from "@aws-sdk/client-api-gateway";
import { defined, nonEmpty, Step, TypeRehearsal } from "./step";

/** The mocks' root resource id of every REST API (local/mocks.ts): resolved per API. */
export const MOCK_ROOT_RESOURCE_ID = "root0000";

const rootKey = (restApiId: string) => `apigateway-root:${restApiId}`;

/** A resource's parent: the API's root, or a resource created earlier. */
function parentOf(s: Step): string {
  const parent = s.inputs.parentId as string;
  if (parent !== MOCK_ROOT_RESOURCE_ID) return parent;
  const root = s.memo.get(rootKey(s.inputs.restApi));
  if (!root) throw new Error(`no root resource known for REST API ${s.inputs.restApi}`);
  return root;
}

/** MethodSettings' settings as the stage's patch paths (`/<resource path>/<method>/<setting>`). */
const METHOD_SETTINGS: Array<[string, string]> = [
  ["metricsEnabled", "metrics/enabled"],
  ["loggingLevel", "logging/loglevel"],
  ["dataTraceEnabled", "logging/dataTrace"],
  ["throttlingBurstLimit", "throttling/burstLimit"],
  ["throttlingRateLimit", "throttling/rateLimit"],
  ["cachingEnabled", "caching/enabled"],
  ["cacheTtlInSeconds", "caching/ttlInSeconds"],
  ["cacheDataEncrypted", "caching/dataEncrypted"],
  ["requireAuthorizationForCacheControl", "caching/requireAuthorizationForCacheControl"],
  ["unauthorizedCacheControlHeaderStrategy", "caching/unauthorizedCacheControlHeaderStrategy"],
];

export const apigatewayRehearsals: Record<string, TypeRehearsal> = {
  "aws:apigateway/restApi:RestApi": {
    operations: ["CreateRestApi", "GetResources"],
    async apply(s) {
      const i = s.inputs;
      const types = i.endpointConfiguration?.types;
      const api = await s.send(
        "CreateRestApi",
        {
          name: "name",
          description: "description",
          apiKeySource: "apiKeySource",
          endpointConfiguration: "endpointConfiguration",
          types: "endpointConfiguration.types",
          binaryMediaTypes: "binaryMediaTypes",
          minimumCompressionSize: "minimumCompressionSize",
          policy: "policy",
        },
        () =>
          s.clients.apigateway.send(
            new CreateRestApiCommand(
              defined({
                name: s.name,
                description: i.description,
                apiKeySource: i.apiKeySource,
                endpointConfiguration: types
                  ? { types: Array.isArray(types) ? types : [types] }
                  : undefined,
                binaryMediaTypes: nonEmpty(i.binaryMediaTypes),
                minimumCompressionSize:
                  i.minimumCompressionSize === undefined
                    ? undefined
                    : Number(i.minimumCompressionSize),
                policy: i.policy,
                disableExecuteApiEndpoint: i.disableExecuteApiEndpoint,
              }),
            ),
          ),
      );
      const id = api.id!;
      const resources = await s.send("GetResources", { restApiId: "restApi" }, () =>
        s.clients.apigateway.send(new GetResourcesCommand({ restApiId: id })),
      );
      const root = resources.items?.find((r) => r.path === "/")?.id;
      if (root) s.memo.set(rootKey(id), root);
      return {
        outputs: {
          id,
          arn: `arn:aws:apigateway:${s.region}::/restapis/${id}`,
          executionArn: `arn:aws:execute-api:${s.region}:${s.account}:${id}`,
        },
      };
    },
  },

  "aws:apigateway/resource:Resource": {
    operations: ["CreateResource"],
    async apply(s) {
      const out = await s.send(
        "CreateResource",
        { restApiId: "restApi", parentId: "parentId", pathPart: "pathPart" },
        () =>
          s.clients.apigateway.send(
            new CreateResourceCommand({
              restApiId: s.inputs.restApi,
              parentId: parentOf(s),
              pathPart: s.inputs.pathPart,
            }),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/requestValidator:RequestValidator": {
    operations: ["CreateRequestValidator"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateRequestValidator",
        {
          restApiId: "restApi",
          name: "name",
          validateRequestBody: "validateRequestBody",
          validateRequestParameters: "validateRequestParameters",
        },
        () =>
          s.clients.apigateway.send(
            new CreateRequestValidatorCommand(
              defined({
                restApiId: i.restApi,
                name: s.name,
                validateRequestBody: i.validateRequestBody,
                validateRequestParameters: i.validateRequestParameters,
              }),
            ),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/model:Model": {
    operations: ["CreateModel"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateModel",
        {
          restApiId: "restApi",
          name: "name",
          contentType: "contentType",
          schema: "schema",
          description: "description",
        },
        () =>
          s.clients.apigateway.send(
            new CreateModelCommand(
              defined({
                restApiId: i.restApi,
                name: s.name,
                contentType: i.contentType,
                schema: i.schema,
                description: i.description,
              }),
            ),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/authorizer:Authorizer": {
    operations: ["CreateAuthorizer"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateAuthorizer",
        {
          restApiId: "restApi",
          name: "name",
          type: "type",
          authorizerUri: "authorizerUri",
          identitySource: "identitySource",
          authorizerResultTtlInSeconds: "authorizerResultTtlInSeconds",
          authorizerCredentials: "authorizerCredentials",
          providerARNs: "providerArns",
        },
        () =>
          s.clients.apigateway.send(
            new CreateAuthorizerCommand(
              defined({
                restApiId: i.restApi,
                name: s.name,
                type: i.type ?? "TOKEN",
                authorizerUri: i.authorizerUri,
                authorizerCredentials: i.authorizerCredentials,
                identitySource: i.identitySource,
                identityValidationExpression: i.identityValidationExpression,
                authorizerResultTtlInSeconds: i.authorizerResultTtlInSeconds,
                providerARNs: nonEmpty(i.providerArns),
              }),
            ),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/method:Method": {
    operations: ["PutMethod"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "PutMethod",
        {
          restApiId: "restApi",
          resourceId: "resourceId",
          httpMethod: "httpMethod",
          authorizationType: "authorization",
          authorizerId: "authorizerId",
          apiKeyRequired: "apiKeyRequired",
          requestModels: "requestModels",
          requestParameters: "requestParameters",
          requestValidatorId: "requestValidatorId",
        },
        () =>
          s.clients.apigateway.send(
            new PutMethodCommand(
              defined({
                restApiId: i.restApi,
                resourceId: i.resourceId,
                httpMethod: i.httpMethod,
                authorizationType: i.authorization,
                authorizerId: i.authorizerId,
                apiKeyRequired: i.apiKeyRequired,
                requestModels: nonEmpty(i.requestModels),
                requestParameters: nonEmpty(i.requestParameters),
                requestValidatorId: i.requestValidatorId,
                operationName: i.operationName,
                authorizationScopes: nonEmpty(i.authorizationScopes),
              }),
            ),
          ),
      );
      return { outputs: { id: `agm-${i.restApi}-${i.resourceId}-${i.httpMethod}` } };
    },
  },

  "aws:apigateway/integration:Integration": {
    operations: ["PutIntegration"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "PutIntegration",
        {
          restApiId: "restApi",
          resourceId: "resourceId",
          httpMethod: "httpMethod",
          type: "type",
          integrationHttpMethod: "integrationHttpMethod",
          uri: "uri",
          credentials: "credentials",
          requestParameters: "requestParameters",
          requestTemplates: "requestTemplates",
          timeoutInMillis: "timeoutMilliseconds",
        },
        () =>
          s.clients.apigateway.send(
            new PutIntegrationCommand(
              defined({
                restApiId: i.restApi,
                resourceId: i.resourceId,
                httpMethod: i.httpMethod,
                type: i.type,
                integrationHttpMethod: i.integrationHttpMethod,
                uri: i.uri,
                credentials: i.credentials,
                requestParameters: nonEmpty(i.requestParameters),
                requestTemplates: nonEmpty(i.requestTemplates),
                passthroughBehavior: i.passthroughBehavior,
                timeoutInMillis: i.timeoutMilliseconds,
                connectionType: i.connectionType,
                connectionId: i.connectionId,
                cacheKeyParameters: nonEmpty(i.cacheKeyParameters),
                cacheNamespace: i.cacheNamespace,
                contentHandling: i.contentHandling,
              }),
            ),
          ),
      );
      return { outputs: { id: `agi-${i.restApi}-${i.resourceId}-${i.httpMethod}` } };
    },
  },

  "aws:apigateway/deployment:Deployment": {
    operations: ["CreateDeployment"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateDeployment",
        { restApiId: "restApi", description: "description", variables: "variables" },
        () =>
          s.clients.apigateway.send(
            new CreateDeploymentCommand(
              defined({
                restApiId: i.restApi,
                description: i.description,
                variables: nonEmpty(i.variables),
              }),
            ),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/stage:Stage": {
    operations: ["CreateStage", "UpdateStage"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "CreateStage",
        {
          restApiId: "restApi",
          stageName: "stageName",
          deploymentId: "deployment",
          description: "description",
          variables: "variables",
          tracingEnabled: "xrayTracingEnabled",
          cacheClusterEnabled: "cacheClusterEnabled",
        },
        () =>
          s.clients.apigateway.send(
            new CreateStageCommand(
              defined({
                restApiId: i.restApi,
                stageName: i.stageName,
                deploymentId: i.deployment,
                description: i.description,
                variables: nonEmpty(i.variables),
                tracingEnabled: i.xrayTracingEnabled,
                cacheClusterEnabled: i.cacheClusterEnabled,
                cacheClusterSize: i.cacheClusterSize,
                documentationVersion: i.documentationVersion,
              }),
            ),
          ),
      );
      // The provider sets access logging with an update after creating the stage.
      const log = i.accessLogSettings;
      if (log)
        await s.send(
          "UpdateStage",
          {
            destinationArn: "accessLogSettings.destinationArn",
            format: "accessLogSettings.format",
          },
          () =>
            s.clients.apigateway.send(
              new UpdateStageCommand({
                restApiId: i.restApi,
                stageName: i.stageName,
                patchOperations: [
                  {
                    op: "replace",
                    path: "/accessLogSettings/destinationArn",
                    value: log.destinationArn,
                  },
                  { op: "replace", path: "/accessLogSettings/format", value: log.format },
                ],
              }),
            ),
        );
      return {
        outputs: {
          id: `ags-${i.restApi}-${i.stageName}`,
          arn: `arn:aws:apigateway:${s.region}::/restapis/${i.restApi}/stages/${i.stageName}`,
          invokeUrl: `https://${i.restApi}.execute-api.${s.region}.amazonaws.com/${i.stageName}`,
          executionArn: `arn:aws:execute-api:${s.region}:${s.account}:${i.restApi}/${i.stageName}`,
        },
      };
    },
  },

  "aws:apigateway/methodSettings:MethodSettings": {
    operations: ["UpdateStage"],
    async apply(s) {
      const i = s.inputs;
      const settings = i.settings ?? {};
      const inputsOf: Record<string, string> = { restApiId: "restApi", stageName: "stageName" };
      const patchOperations: PatchOperation[] = [];
      for (const [input, path] of METHOD_SETTINGS) {
        if (settings[input] === undefined) continue;
        patchOperations.push({
          op: "replace",
          path: `/${i.methodPath}/${path}`,
          value: String(settings[input]),
        });
        inputsOf[path.split("/")[1]] = `settings.${input}`;
      }
      await s.send("UpdateStage", inputsOf, () =>
        s.clients.apigateway.send(
          new UpdateStageCommand({ restApiId: i.restApi, stageName: i.stageName, patchOperations }),
        ),
      );
      return { outputs: { id: `${i.restApi}-${i.stageName}-${i.methodPath}` } };
    },
  },

  "aws:apigateway/usagePlan:UsagePlan": {
    operations: ["CreateUsagePlan"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateUsagePlan",
        {
          name: "name",
          description: "description",
          apiStages: "apiStages",
          apiId: "apiStages[].apiId",
          stage: "apiStages[].stage",
          quota: "quotaSettings",
          limit: "quotaSettings.limit",
          period: "quotaSettings.period",
          throttle: "throttleSettings",
          burstLimit: "throttleSettings.burstLimit",
          rateLimit: "throttleSettings.rateLimit",
        },
        () =>
          s.clients.apigateway.send(
            new CreateUsagePlanCommand(
              defined({
                name: s.name,
                description: i.description,
                apiStages: nonEmpty(
                  (i.apiStages ?? []).map((a: any) =>
                    defined({
                      apiId: a.apiId,
                      stage: a.stage,
                      throttle: nonEmpty(
                        Object.fromEntries(
                          (a.throttles ?? []).map((t: any) => [
                            t.path,
                            defined({ burstLimit: t.burstLimit, rateLimit: t.rateLimit }),
                          ]),
                        ),
                      ),
                    }),
                  ),
                ),
                quota: i.quotaSettings
                  ? defined({
                      limit: i.quotaSettings.limit,
                      offset: i.quotaSettings.offset,
                      period: i.quotaSettings.period,
                    })
                  : undefined,
                throttle: i.throttleSettings
                  ? defined({
                      burstLimit: i.throttleSettings.burstLimit,
                      rateLimit: i.throttleSettings.rateLimit,
                    })
                  : undefined,
              }),
            ),
          ),
      );
      return {
        outputs: { id: out.id, arn: `arn:aws:apigateway:${s.region}::/usageplans/${out.id}` },
      };
    },
  },

  "aws:apigateway/apiKey:ApiKey": {
    operations: ["CreateApiKey"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateApiKey",
        {
          name: "name",
          description: "description",
          enabled: "enabled",
          value: "value",
          customerId: "customerId",
        },
        () =>
          s.clients.apigateway.send(
            new CreateApiKeyCommand(
              defined({
                name: s.name,
                description: i.description,
                enabled: i.enabled,
                value: i.value,
                customerId: i.customerId,
              }),
            ),
          ),
      );
      return {
        outputs: {
          id: out.id,
          value: out.value,
          arn: `arn:aws:apigateway:${s.region}::/apikeys/${out.id}`,
        },
      };
    },
  },

  "aws:apigateway/usagePlanKey:UsagePlanKey": {
    operations: ["CreateUsagePlanKey"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateUsagePlanKey",
        { usagePlanId: "usagePlanId", keyId: "keyId", keyType: "keyType" },
        () =>
          s.clients.apigateway.send(
            new CreateUsagePlanKeyCommand({
              usagePlanId: i.usagePlanId,
              keyId: i.keyId,
              keyType: i.keyType,
            }),
          ),
      );
      return { outputs: { id: out.id } };
    },
  },

  "aws:apigateway/account:Account": {
    operations: ["UpdateAccount"],
    async apply(s) {
      await s.send("UpdateAccount", { cloudwatchRoleArn: "cloudwatchRoleArn" }, () =>
        s.clients.apigateway.send(
          new UpdateAccountCommand({
            patchOperations: [
              { op: "replace", path: "/cloudwatchRoleArn", value: s.inputs.cloudwatchRoleArn },
            ],
          }),
        ),
      );
      return { outputs: { id: "api-gateway-account" } };
    },
  },
};
