// Tenant change events: one per change of the tenant data table and matching tenant rule. The
// source is the rule's (`switchyard.output` by default) and the detail-type the rule's (by default
// `<rootSchema>.<operation>`), so there is one contract per source, for every detail-type.
import {
  DEFAULT_CHANGE_SOURCE,
  MAX_NAME_LENGTH,
  OPERATIONS,
  SCHEMA_NAME,
  TENANT_ID,
  Tenants,
} from "../tenantRules";
import type { EventContract } from "./contract";

export function tenantChangeContract(source: string): EventContract {
  return {
    source,
    typeName: "TenantChange",
    description:
      "An item of a tenant's data changed (written through tenant ingress or directly); detail-type is the tenant rule's.",
    publishedBy: "the tenant change publisher",
    detail: {
      type: "object",
      required: ["tenant", "rootSchema", "operation", "payload", "changeId"],
      additionalProperties: false,
      properties: {
        tenant: { type: "string", pattern: TENANT_ID.source, maxLength: MAX_NAME_LENGTH },
        rootSchema: { type: "string", pattern: SCHEMA_NAME.source, maxLength: MAX_NAME_LENGTH },
        operation: { type: "string", enum: [...OPERATIONS] },
        /** The item as the tenant sees it (after the change; before it for DELETE). */
        payload: { type: "object" },
        /** The stream record's id: the same on every redelivery of one change. */
        changeId: { type: "string" },
      },
    },
  };
}

/** Every source the tenants' rules publish changes under: the default one first, then each rule's. */
export function tenantChangeSources(tenants: Tenants): string[] {
  const sources = [DEFAULT_CHANGE_SOURCE];
  for (const settings of Object.values(tenants))
    for (const rule of settings.rules ?? [])
      if (rule.source !== undefined && !sources.includes(rule.source)) sources.push(rule.source);
  return sources;
}

/** The contracts of the tenants' change events, one per source. */
export function tenantChangeContracts(tenants: Tenants): EventContract[] {
  return tenantChangeSources(tenants).map(tenantChangeContract);
}
