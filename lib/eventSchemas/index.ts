// Switchyard's event contracts: a JSON Schema (draft-04) for each event it puts on the hub, the
// single source of both the EventBridge schema registry the program declares
// (components/events/schemaRegistry.ts) and the check the shared publisher runs on every entry
// before PutEvents (handlers/lib/publisher.ts). Dependency-free. How to evolve a contract:
// docs/event-contracts.md.
import type { Tenants } from "../tenantRules";
import type { EventContract } from "./contract";
import { JOB_FAILURE_UNRECORDED } from "./jobs";
import { OUTBOUND_ATTEMPT_EXHAUSTED, OUTBOUND_ENDPOINT_DISABLED } from "./outbound";
import { RECORD_EVENTS, VERIFICATION_REQUEST } from "./records";
import { tenantChangeContract, tenantChangeContracts } from "./tenants";
import { webhookContract, WEBHOOK_PROVIDERS, WebhookProvider } from "./webhooks";
import { DEFAULT_CHANGE_SOURCE } from "../tenantRules";

export * from "./contract";
export { RECORDS_SOURCE, RECORD_DETAIL_TYPES, VERIFICATION_DETAIL_TYPE } from "./records";
export { WEBHOOK_PROVIDERS, webhookContract } from "./webhooks";
export type { WebhookProvider } from "./webhooks";
export { tenantChangeContract, tenantChangeContracts, tenantChangeSources } from "./tenants";
export { LAMBDA_DESTINATION_SOURCE, LAMBDA_FAILURE_DETAIL_TYPE } from "./jobs";

/**
 * Every contract whose events are the same on every stack: record events and verification
 * requests, each webhook provider's deliveries, tenant changes under the default source, the
 * outbound dispatcher's operational events and unrecorded job failures. What a publisher checks
 * against unless its caller names more (the change publisher adds its rules' own sources).
 */
export const SWITCHYARD_CONTRACTS: readonly EventContract[] = [
  ...RECORD_EVENTS,
  VERIFICATION_REQUEST,
  ...WEBHOOK_PROVIDERS.map(webhookContract),
  tenantChangeContract(DEFAULT_CHANGE_SOURCE),
  OUTBOUND_ATTEMPT_EXHAUSTED,
  OUTBOUND_ENDPOINT_DISABLED,
  JOB_FAILURE_UNRECORDED,
];

/**
 * What the tenant change publisher checks against: every stack's contracts plus a tenant change
 * contract for each source the tenants' rules name besides the default.
 */
export function contractsWithTenantSources(tenants: Tenants): EventContract[] {
  return [
    ...SWITCHYARD_CONTRACTS,
    ...tenantChangeContracts(tenants).filter((c) => c.source !== DEFAULT_CHANGE_SOURCE),
  ];
}

export interface StackContractArgs {
  /** The webhook providers the stack receives from. */
  readonly webhookProviders: readonly WebhookProvider[];
  /** The stack's tenants, whose rules may name their own change sources. */
  readonly tenants: Tenants;
}

/**
 * The contracts of one stack's events, in registry order: those of every stack, with webhook
 * deliveries only of the enabled providers, and a tenant change contract per rule source.
 */
export function stackContracts(a: StackContractArgs): EventContract[] {
  return [
    ...RECORD_EVENTS,
    VERIFICATION_REQUEST,
    ...WEBHOOK_PROVIDERS.filter((p) => a.webhookProviders.includes(p)).map(webhookContract),
    ...tenantChangeContracts(a.tenants),
    OUTBOUND_ATTEMPT_EXHAUSTED,
    OUTBOUND_ENDPOINT_DISABLED,
    JOB_FAILURE_UNRECORDED,
  ];
}
