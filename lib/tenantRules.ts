// Tenant settings and change-publishing rules: their types, validation, and the pure evaluation the
// ChangePublisher's handler runs for every changed item. No @pulumi/* imports: the handler
// (handlers/tenants/changePublisher.ts) imports this module at run time.

/** Operations of the tenant API, in the order the README lists them. */
export const OPERATIONS = ["POST", "PUT", "PATCH", "DELETE"] as const;
export type Operation = (typeof OPERATIONS)[number];

/** `source` of published change events when a rule names none. */
export const DEFAULT_CHANGE_SOURCE = "switchyard.output";
/** `source` of tenant ingress events; a rule may not publish with it (it would feed ingress). */
export const INGRESS_SOURCE = "switchyard.input";
/** Permission an API key needs to write through tenant event ingress. */
export const BACKEND_CALLS = "backend_calls";

/** Longest tenant id and schema name, in characters. */
export const MAX_NAME_LENGTH = 64;
/** Tenant ids and schema names: letters, digits, `_`, `.`, `-` (no `#`, the key separator). */
export const TENANT_ID = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_NAME_LENGTH - 1}}$`);
export const SCHEMA_NAME = new RegExp(`^[A-Za-z0-9][A-Za-z0-9_.-]{0,${MAX_NAME_LENGTH - 1}}$`);
/** Longest `source` and `detailType` a rule may set, in characters (they bound a change event's size). */
export const MAX_RULE_SOURCE_LENGTH = 256;
export const MAX_RULE_DETAIL_TYPE_LENGTH = 128;
/** An EventBridge bus ARN, of this account or another. */
export const BUS_ARN =
  /^arn:aws[a-z-]*:events:[a-z0-9-]+:\d{12}:event-bus\/[A-Za-z0-9._\-/]{1,256}$/;

/** One change-publishing rule of a tenant. */
export interface TenantRule {
  /** Bus the events go to; default this hub's bus. Another account's bus must allow this account. */
  readonly targetBusArn?: string;
  /** Event `source`; default `switchyard.output`. */
  readonly source?: string;
  /** Event `detail-type`; default `<schema>.<operation>` (for example `invoice.PUT`). */
  readonly detailType?: string;
  /** Operations that publish; default all four. */
  readonly operations?: Operation[];
  /** Schemas (`rootSchema`) that publish; default (or empty) all. */
  readonly schemaNames?: string[];
}

/** What one tenant may do. */
export interface TenantSettings {
  /** Whether `switchyard.input` events of this tenant become writes; default false. */
  readonly ingressEnabled?: boolean;
  /** Change-publishing rules, evaluated in order; every match publishes. Default none. */
  readonly rules?: TenantRule[];
}

/** Tenant id to settings: the `switchyard:tenants` config value. */
export type Tenants = Record<string, TenantSettings>;

/** A change of one item of the tenant data table, as the stream reports it. */
export interface ItemChange {
  readonly tenant: string;
  readonly rootSchema: string;
  readonly operation: Operation;
  /** The item (after the change; before it for DELETE). */
  readonly payload: Record<string, unknown>;
  /** Id of the stream record: the same for every redelivery of one change, so consumers can dedupe. */
  readonly changeId: string;
}

/** One event to publish: the bus it goes to and the PutEvents entry. */
export interface ChangeEvent {
  readonly busArn: string;
  readonly source: string;
  readonly detailType: string;
  readonly detail: {
    tenant: string;
    rootSchema: string;
    operation: Operation;
    payload: Record<string, unknown>;
    changeId: string;
  };
}

const RULE_FIELDS = ["targetBusArn", "source", "detailType", "operations", "schemaNames"];
const TENANT_FIELDS = ["ingressEnabled", "rules"];

function isObject(v: unknown): v is Record<string, unknown> {
  return typeof v === "object" && v !== null && !Array.isArray(v);
}

/**
 * Checks the `tenants` setting and returns it typed. Errors name the tenant, the rule index and the
 * field (without the config key, which the caller adds).
 */
export function validateTenants(value: unknown): Tenants {
  if (!isObject(value)) {
    throw new Error(`must be a JSON object of tenant id to settings, got ${JSON.stringify(value)}`);
  }
  for (const [tenant, settings] of Object.entries(value)) {
    if (!TENANT_ID.test(tenant)) {
      throw new Error(
        `tenant id "${tenant}" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit`,
      );
    }
    if (!isObject(settings))
      throw new Error(
        `tenant "${tenant}" must be an object like {"ingressEnabled":true,"rules":[]}`,
      );
    for (const k of Object.keys(settings)) {
      if (!TENANT_FIELDS.includes(k)) {
        throw new Error(
          `tenant "${tenant}" has unknown field "${k}" (allowed: ${TENANT_FIELDS.join(", ")})`,
        );
      }
    }
    if (settings.ingressEnabled !== undefined && typeof settings.ingressEnabled !== "boolean") {
      throw new Error(`tenant "${tenant}": ingressEnabled must be true or false`);
    }
    if (settings.rules === undefined) continue;
    if (!Array.isArray(settings.rules)) throw new Error(`tenant "${tenant}": rules must be a list`);
    settings.rules.forEach((rule: unknown, i: number) =>
      validateRule(`tenant "${tenant}" rule ${i}`, rule),
    );
  }
  return value as Tenants;
}

function validateRule(where: string, rule: unknown): void {
  if (!isObject(rule)) throw new Error(`${where} must be an object`);
  for (const k of Object.keys(rule)) {
    if (!RULE_FIELDS.includes(k))
      throw new Error(`${where} has unknown field "${k}" (allowed: ${RULE_FIELDS.join(", ")})`);
  }
  const { targetBusArn, source, detailType, operations, schemaNames } = rule;
  if (
    targetBusArn !== undefined &&
    (typeof targetBusArn !== "string" || !BUS_ARN.test(targetBusArn))
  ) {
    throw new Error(
      `${where}: targetBusArn must be an event bus ARN like arn:aws:events:eu-west-1:111122223333:event-bus/name, got ${JSON.stringify(targetBusArn)}`,
    );
  }
  if (source !== undefined) {
    if (
      typeof source !== "string" ||
      source.length < 1 ||
      source.length > MAX_RULE_SOURCE_LENGTH ||
      source.startsWith("aws.")
    ) {
      throw new Error(
        `${where}: source must be 1-${MAX_RULE_SOURCE_LENGTH} characters and not start with "aws.", got ${JSON.stringify(source)}`,
      );
    }
    if (source === INGRESS_SOURCE) {
      throw new Error(
        `${where}: source "${INGRESS_SOURCE}" is the ingress source; publishing changes with it would feed them back into ingress`,
      );
    }
  }
  if (
    detailType !== undefined &&
    (typeof detailType !== "string" ||
      detailType.length < 1 ||
      detailType.length > MAX_RULE_DETAIL_TYPE_LENGTH)
  ) {
    throw new Error(
      `${where}: detailType must be 1-${MAX_RULE_DETAIL_TYPE_LENGTH} characters, got ${JSON.stringify(detailType)}`,
    );
  }
  if (operations !== undefined) {
    if (
      !Array.isArray(operations) ||
      operations.length === 0 ||
      operations.some((o) => !(OPERATIONS as readonly unknown[]).includes(o)) ||
      new Set(operations).size !== operations.length
    ) {
      throw new Error(
        `${where}: operations must be a non-empty list of distinct ${OPERATIONS.join(", ")} (omit it for all), got ${JSON.stringify(operations)}`,
      );
    }
  }
  if (schemaNames !== undefined) {
    if (
      !Array.isArray(schemaNames) ||
      schemaNames.some((s) => typeof s !== "string" || !SCHEMA_NAME.test(s))
    ) {
      throw new Error(
        `${where}: schemaNames must be a list of schema names (letters, digits, "_", ".", "-"), got ${JSON.stringify(schemaNames)}`,
      );
    }
  }
}

/** Whether a rule publishes a change of `rootSchema` by `operation`. */
export function ruleMatches(rule: TenantRule, rootSchema: string, operation: Operation): boolean {
  const ops = rule.operations ?? OPERATIONS;
  if (!ops.includes(operation)) return false;
  const schemas = rule.schemaNames ?? [];
  return schemas.length === 0 || schemas.includes(rootSchema);
}

/** The rules that publish a change, in rule order (every match publishes, not just the first). */
export function matchingRules(
  rules: readonly TenantRule[],
  rootSchema: string,
  operation: Operation,
): TenantRule[] {
  return rules.filter((r) => ruleMatches(r, rootSchema, operation));
}

/** The events a change publishes under a tenant's rules, in rule order. */
export function changeEvents(
  rules: readonly TenantRule[],
  change: ItemChange,
  defaultBusArn: string,
): ChangeEvent[] {
  return matchingRules(rules, change.rootSchema, change.operation).map((rule) => ({
    busArn: rule.targetBusArn ?? defaultBusArn,
    source: rule.source ?? DEFAULT_CHANGE_SOURCE,
    detailType: rule.detailType ?? `${change.rootSchema}.${change.operation}`,
    detail: {
      tenant: change.tenant,
      rootSchema: change.rootSchema,
      operation: change.operation,
      payload: change.payload,
      changeId: change.changeId,
    },
  }));
}

/** Every bus a rule names explicitly, distinct, in first-seen order (for the PutEvents grant). */
export function ruleTargetBuses(tenants: Tenants): string[] {
  const out: string[] = [];
  for (const settings of Object.values(tenants)) {
    for (const rule of settings.rules ?? []) {
      if (rule.targetBusArn && !out.includes(rule.targetBusArn)) out.push(rule.targetBusArn);
    }
  }
  return out;
}

/** Tenants whose ingress is enabled. */
export function ingressTenants(tenants: Tenants): string[] {
  return Object.entries(tenants)
    .filter(([, s]) => s.ingressEnabled === true)
    .map(([t]) => t);
}
