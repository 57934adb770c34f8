// Switchyard: reads the stack's config, composes the components, exports what users need.
// First, before anything loads @pulumi/pulumi: npm's arborist, which it loads and this program never
// uses, is loaded only if something uses it (lib/lazyArborist.ts).
import "./lib/lazyArborist";
import { loadConfig } from "./config";
import { EventHub } from "./components/events/eventHub";
import { RecordsForwarder } from "./components/records/recordsForwarder";
import { VerificationWorkflow } from "./components/records/verificationWorkflow";
import { WEBHOOK_REQUEST_PATHS } from "./components/records/verificationSpec";
// tenant change publishing, tenant ingress, record ingestion
import { ChangePublisher } from "./components/tenants/changePublisher";
import { EventIngress } from "./components/tenants/eventIngress";
import { RecordIngestion } from "./components/records/recordIngestion";
import { Monitoring } from "./components/ops/monitoring";
import { WebhookReceiver } from "./components/webhooks/webhookReceiver";
import { eventSource, SERVICES } from "./lib/contracts";
// jobs API and records gateway
import { ApiGatewayAccountLogging } from "./components/apigw/accountLogging";
import { JobsApi } from "./components/jobs/jobsApi";
import { RecordsGateway } from "./components/records/recordsGateway";
import { OutboundWebhooks } from "./components/webhooks/outboundWebhooks";
import { SchemaRegistry } from "./components/events/schemaRegistry";
import { stackContracts, WebhookProvider } from "./lib/eventSchemas";

const cfg = loadConfig();

export const hub = new EventHub(cfg.hubName, {
  archiveRetentionDays: cfg.archiveRetentionDays,
  dlqRetentionSeconds: cfg.dlqRetentionSeconds,
  logRetentionDays: cfg.logRetentionDays,
  publisherAccountIds: cfg.publisherAccountIds,
  publisherOrganizationId: cfg.publisherOrganizationId,
  schemaDiscovery: cfg.schemaDiscovery,
  debugRoute: cfg.debugRoute,
  protect: cfg.protect,
});

// --- event contracts: the schema of each event on the hub, the same ones the publisher enforces ---
export const eventContracts = new SchemaRegistry(`${cfg.hubName}-contracts`, {
  contracts: stackContracts({
    webhookProviders: Object.keys(cfg.webhooks.providers) as WebhookProvider[],
    tenants: cfg.tenancy.tenants,
  }),
  protect: cfg.protect,
});

export const forwarder = new RecordsForwarder(`${cfg.hubName}-forwarder`, {
  hub,
  apiEndpoint: cfg.records.apiEndpoint,
  apiKey: cfg.records.apiKey,
  rateLimitPerSecond: cfg.records.rateLimitPerSecond,
  sources: cfg.records.sources,
  detailTypes: cfg.records.detailTypes,
});

// --- record verification workflow (ingest, wait for anchoring, verify, notify) ---
export const verification = new VerificationWorkflow(`${cfg.hubName}-verify`, {
  hub,
  apiEndpoint: forwarder.apiEndpoint,
  connectionArn: forwarder.connectionArn,
  connectionSecretArn: forwarder.connectionSecretArn,
  ...cfg.verification,
  // requests delivered to these receivers start it too, carrying the delivery's correlation id
  webhookRequests: Object.fromEntries(
    cfg.verification.webhookProviders.map((p) => [
      p,
      { source: eventSource(p), recordPath: WEBHOOK_REQUEST_PATHS[p] },
    ]),
  ),
});

// --- tenant change publishing, tenant ingress, record ingestion ---
export const tenantChanges = new ChangePublisher(`${cfg.hubName}-changes`, {
  hub,
  tenants: cfg.tenancy.tenants,
  maximumRetryAttempts: cfg.tenancy.streamMaxRetryAttempts,
  maximumRecordAgeInSeconds: cfg.tenancy.streamMaxRecordAgeSeconds,
  protect: cfg.protect,
  clientInit: cfg.lambdaClientInit,
});
export const tenantIngress = new EventIngress(`${cfg.hubName}-ingress`, {
  hub,
  tenants: cfg.tenancy.tenants,
  dataTableName: tenantChanges.tableName,
  dataTableArn: tenantChanges.tableArn,
  // The bus limit the change publisher publishes under: every accepted write must fit one change event.
  maxChangeEventBytes: tenantChanges.maxEventBytes,
  rejectedRetentionSeconds: cfg.dlqRetentionSeconds,
  protect: cfg.protect,
  clientInit: cfg.lambdaClientInit,
});
export const recordIngestion = new RecordIngestion(`${cfg.hubName}-ingest`, {
  hub,
  apiEndpoint: cfg.records.apiEndpoint,
  apiKey: cfg.records.apiKey,
  prefix: cfg.tenancy.ingestionPrefix,
  streamSource: cfg.tenancy.recordsStreamSource,
  maximumRetryAttempts: cfg.tenancy.streamMaxRetryAttempts,
  maximumRecordAgeInSeconds: cfg.tenancy.streamMaxRecordAgeSeconds,
  protect: cfg.protect,
  clientInit: cfg.lambdaClientInit,
});

// --- webhook receivers (one Function URL per enabled provider) ---
export const webhooks =
  Object.keys(cfg.webhooks.providers).length > 0
    ? new WebhookReceiver(`${cfg.hubName}-webhooks`, {
        hub,
        ...cfg.webhooks,
        logRetentionDays: cfg.logRetentionDays,
        protect: cfg.protect,
        clientInit: cfg.lambdaClientInit,
      })
    : undefined;

// --- asynchronous jobs API and the records gateway with usage plans ---
// API Gateway writes access logs only once the account's CloudWatch role is set (one stack per
// account and region declares it: switchyard:apiGatewayAccountLogging).
export const apiGatewayLogging = cfg.apis.accountLogging
  ? new ApiGatewayAccountLogging(`${cfg.hubName}-apigw-logs`)
  : undefined;
const apiStageDependsOn = apiGatewayLogging ? [apiGatewayLogging.account] : [];
export const jobs = new JobsApi(`${cfg.hubName}-jobs`, {
  busArn: hub.busArn,
  logRetentionDays: cfg.logRetentionDays,
  ...cfg.apis.jobs,
  xrayTracing: cfg.apis.xrayTracing,
  metrics: cfg.apis.metrics,
  protect: cfg.protect,
  stageDependsOn: apiStageDependsOn,
  clientInit: cfg.lambdaClientInit,
});
export const recordsGateway = new RecordsGateway(`${cfg.hubName}-records-gw`, {
  apiEndpoint: cfg.records.apiEndpoint,
  apiKey: cfg.records.apiKey,
  logRetentionDays: cfg.logRetentionDays,
  ...cfg.apis.gateway,
  xrayTracing: cfg.apis.xrayTracing,
  metrics: cfg.apis.metrics,
  stageDependsOn: apiStageDependsOn,
  clientInit: cfg.lambdaClientInit,
});

// --- outbound webhooks: hub events POSTed, signed per Standard Webhooks, to subscribers ---
export const outbound =
  cfg.outbound.subscriptions.length > 0
    ? new OutboundWebhooks(`${cfg.hubName}-outbound`, {
        hub,
        subscriptions: cfg.outbound.subscriptions,
        retryScheduleSeconds: cfg.outbound.retryScheduleSeconds,
        requestTimeoutSeconds: cfg.outbound.requestTimeoutSeconds,
        disableAfterSeconds: cfg.outbound.disableAfterSeconds,
        attemptLogTtlDays: cfg.outbound.attemptLogTtlDays,
        ...(cfg.outbound.local
          ? { allowHttp: true, localTimeScale: cfg.outbound.local.speed }
          : {}),
        logRetentionDays: cfg.logRetentionDays,
        protect: cfg.protect,
        clientInit: cfg.lambdaClientInit,
      })
    : undefined;
// where each subscription's signing secret is (Secrets Manager), its queues and the attempt log
export const outboundSecretArns = outbound ? outbound.secretArns : {};
export const outboundSecretSources = outbound ? outbound.secretSources : {};
export const outboundQueueUrls = outbound ? outbound.queueUrls : {};
export const outboundDlqUrls = outbound ? outbound.dlqUrls : {};
export const outboundAttemptTableName = outbound ? outbound.tableName : undefined;

// --- alarms on every DLQ, function, workflow and route, and one dashboard ---
// Declared after the other components: it reads their functions, queues and the hub's routes.
export const monitoring = new Monitoring(`${cfg.hubName}-ops`, {
  functions: {
    "tenant-changes": { function: tenantChanges.fn, streamFed: true },
    "tenant-ingress": { function: tenantIngress.fn, asyncInvoked: true },
    "ingest-s3": { function: recordIngestion.s3Fn, asyncInvoked: true },
    ...(recordIngestion.streamFn
      ? { "ingest-stream": { function: recordIngestion.streamFn, streamFed: true } }
      : {}),
    // one receiver function per enabled webhook provider
    ...Object.fromEntries(
      Object.entries(webhooks?.functions ?? {}).map(([p, f]) => [`webhook-${p}`, f!]),
    ),
    // publishes what the receivers stored, fed by their table's stream
    ...(webhooks ? { "webhook-relay": { function: webhooks.relay, streamFed: true } } : {}),
    // the jobs API's functions (processing and error handler are invoked asynchronously)
    "jobs-submit": jobs.submitFn,
    "jobs-get": jobs.getFn,
    "jobs-process": { function: jobs.processFn.function, asyncInvoked: true },
    "jobs-failed": { function: jobs.errorFn.function, asyncInvoked: true },
    ...(jobs.authorizerFn ? { "jobs-jwt": jobs.authorizerFn } : {}),
    "records-gateway-authorizer": recordsGateway.authorizerFn,
    ...(outbound ? { "outbound-dispatcher": outbound.dispatcher } : {}),
  },
  // 5xx rate and p99 latency of both REST APIs
  restApis: {
    jobs: { apiName: jobs.api.name, stage: jobs.stage.stageName },
    "records-gateway": { apiName: recordsGateway.api.name, stage: recordsGateway.stage.stageName },
  },
  // Every queue the program declares has a tile: the hub DLQ alarms on any message; the tenant
  // ingress's rejected-events queue holds refused writes kept for inspection (a tile, no alarm).
  queues: {
    hub: hub.dlq,
    "tenant-rejected": { queue: tenantIngress.rejectedQueue, kind: "plain" },
  },
  stateMachines: { verify: verification.stateMachine },
  // Every route of the hub, the outbound subscriptions' among them (OutboundWebhooks declares its
  // routes on the hub, as out-<subscription>): one pair of alarms and one tile per rule.
  rules: { ...hub.routes },
  // Each outbound subscription: failed attempts, oldest waiting message, DLQ depth, disabled endpoint.
  outbound: outbound?.monitored ?? [],
  outboundThresholds: { retryScheduleSeconds: cfg.outbound.retryScheduleSeconds },
  // The receivers' business metrics (handlers/lib/telemetry.ts), by their Powertools service name.
  webhooks: webhooks ? { receivers: { service: SERVICES.webhooks } } : {},
  // The tenant change publisher's EMF publishing metrics: a tile, no alarm of its own (a record it
  // cannot publish is retried by the stream mapping, then lands in the hub DLQ, which alarms).
  publishers: { "tenant-changes": SERVICES.changePublisher },
  alarmEmail: cfg.monitoring.alarmEmail,
  thresholds: {
    lambdaErrors: cfg.monitoring.lambdaErrors,
    api5xxRatePercent: cfg.monitoring.api5xxRatePercent,
    apiLatencyP99Ms: cfg.monitoring.apiLatencyP99Ms,
    webhookRejectionsPerMinute: cfg.monitoring.webhookRejectionsPerMinute,
    asyncEventAgeSeconds: cfg.monitoring.asyncEventAgeSeconds,
  },
});

export const busName = hub.busName;
export const busArn = hub.busArn;
export const archiveName = hub.archiveName;
export const dlqUrl = hub.dlqUrl;
export const dlqArn = hub.dlqArn;
// operator tools (npm run ops): what a DLQ redrive delivered; the debug route's log group (tail)
export const redriveLedgerTableName = hub.redriveLedgerName;
export const debugLogGroupName = hub.debugLogGroupName;
// browse the event contracts in the EventBridge console or download code bindings
export const schemaRegistryName = eventContracts.registryName;
export const routeRuleArns = Object.fromEntries(
  Object.entries(hub.routes).map(([n, r]) => [n, r.rule.arn]),
);
export const recordsConnectionArn = forwarder.connectionArn;
export const recordsConnectionSecretArn = forwarder.connectionSecretArn;
export const recordsDestinationArn = forwarder.destinationArn;
// start executions directly with StartExecution; subscribe to outcomes on the topic
export const verificationStateMachineArn = verification.stateMachineArn;
export const verificationTopicArn = verification.topicArn;
// where tenant data, keys, billing and refusals live; where to drop records
export const tenantDataTableName = tenantChanges.tableName;
export const tenantAccessTableName = tenantIngress.accessTableName;
export const tenantRejectedQueueUrl = tenantIngress.rejectedQueueUrl;
export const ingestionBucketName = recordIngestion.bucketName;
export const ingestionPrefix = recordIngestion.prefix;
export const recordsApiKeySecretArn = recordIngestion.apiKeySecretArn;
// subscribe to alarms; open the dashboard
export const alarmTopicArn = monitoring.alarmTopicArn;
export const dashboardUrl = monitoring.dashboardUrl;
// register each URL with its provider (see README, "Webhooks")
export const webhookUrls = webhooks ? webhooks.webhookUrls : {};
// call the jobs API (sign with jobsCallerRoleArn, see README "Jobs API"); the records
// gateway's URL, usage plans and consumer key ids (key values: aws apigateway get-api-key --include-value)
export const jobsApiUrl = jobs.invokeUrl;
export const jobsCallerRoleArn = jobs.callerRoleArn;
export const jobsApiKeyIds = jobs.apiKeyIds;
export const jobsTableName = jobs.tableName;
export const recordsGatewayUrl = recordsGateway.invokeUrl;
export const recordsGatewayUsagePlanIds = recordsGateway.usagePlanIds;
export const recordsGatewayKeyIds = recordsGateway.apiKeyIds;
