// The EventHub's defaults and the CloudWatch retention values it accepts: pure, so the stack's
// config table (config/keys.ts) and its docs state the same values as the component.

// CloudWatch Logs accepts only these retention values.
export const LOG_RETENTION_DAYS = [
  1, 3, 5, 7, 14, 30, 60, 90, 120, 150, 180, 365, 400, 545, 731, 1096, 1827, 2192, 2557, 2922, 3288,
  3653,
];

export const HUB_DEFAULTS = {
  archiveRetentionDays: 30,
  dlqRetentionSeconds: 1209600,
  logRetentionDays: 30,
  publisherAccountIds: [] as string[],
  schemaDiscovery: false,
  debugRoute: false,
  protect: false,
};
