// Switchyard: reads the stack's config, composes the components, exports what users need.
import { loadConfig } from "./config";
import { EventHub } from "./components/events/eventHub";
import { RecordsForwarder } from "./components/records/recordsForwarder";

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

export const forwarder = new RecordsForwarder(`${cfg.hubName}-forwarder`, {
  hub,
  apiEndpoint: cfg.records.apiEndpoint,
  apiKey: cfg.records.apiKey,
  rateLimitPerSecond: cfg.records.rateLimitPerSecond,
  sources: cfg.records.sources,
  detailTypes: cfg.records.detailTypes,
});

export const busName = hub.busName;
export const busArn = hub.busArn;
export const archiveName = hub.archiveName;
export const dlqUrl = hub.dlqUrl;
export const dlqArn = hub.dlqArn;
export const routeRuleArns = Object.fromEntries(
  Object.entries(hub.routes).map(([n, r]) => [n, r.rule.arn]),
);
export const recordsConnectionArn = forwarder.connectionArn;
export const recordsConnectionSecretArn = forwarder.connectionSecretArn;
export const recordsDestinationArn = forwarder.destinationArn;
