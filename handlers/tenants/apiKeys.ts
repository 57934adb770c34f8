// Tenant API keys: stored only as SHA-256 hashes in the tenant access table, one item per key:
//   { pk: "apikey#<sha256 hex>", keyHash, tenant, permissions: ["backend_calls"], revoked, label? }
// the billing counters beside them: { pk: "billing#<tenant>#<YYYY-MM>", tokens, requests }, and one
// marker per applied ingress event, written in the same transaction as the write and its billing:
//   { pk: "event#<event id>", tenant, rootSchema, operation, id, status, appliedAt, expiresAt }.
import { createHash, timingSafeEqual } from "crypto";
import { BACKEND_CALLS } from "../../lib/tenantRules";

export const KEY_PREFIX = "apikey#";
export const BILLING_PREFIX = "billing#";
export const EVENT_PREFIX = "event#";
/** The access table's TTL attribute (epoch seconds): event markers expire, keys and billing do not. */
export const EVENT_MARKER_TTL_ATTRIBUTE = "expiresAt";
/**
 * How long an applied event's marker is kept: well past the last redelivery of an event, which the
 * hub target's retries (at most 24 h) and Lambda's asynchronous retries (6 h) bound.
 */
export const EVENT_MARKER_TTL_SECONDS = 7 * 86400;

/** Hex SHA-256 of a key, the only form in which keys are stored. */
export function hashApiKey(key: string): string {
  return createHash("sha256").update(key, "utf8").digest("hex");
}

/** Partition key of a key's item. */
export function keyItemPk(keyHash: string): string {
  return `${KEY_PREFIX}${keyHash}`;
}

/** Partition key of the marker of an applied ingress event. */
export function eventMarkerPk(eventId: string): string {
  return `${EVENT_PREFIX}${eventId}`;
}

/** Partition key of a tenant's billing counter for a month (UTC, YYYY-MM). */
export function billingItemPk(tenant: string, period: string): string {
  return `${BILLING_PREFIX}${tenant}#${period}`;
}

/** The billing period of an instant: its UTC month. */
export function billingPeriod(at: Date): string {
  return at.toISOString().slice(0, 7);
}

/** Compares two hex digests in time independent of where they differ. */
export function digestsEqual(a: string, b: string): boolean {
  const x = Buffer.from(a, "hex");
  const y = Buffer.from(b, "hex");
  if (x.length !== 32 || y.length !== 32) return false;
  return timingSafeEqual(x, y);
}

export type KeyVerdict =
  | { ok: true }
  | {
      ok: false;
      code: "unknown-key" | "revoked-key" | "other-tenant-key" | "missing-permission";
      reason: string;
    };

/**
 * Whether the key item found under the presented key's hash lets `tenant` write: it must exist,
 * hold that same hash, not be revoked, belong to the tenant and carry `backend_calls`.
 */
export function verifyKey(
  item: Record<string, unknown> | undefined,
  presentedHash: string,
  tenant: string,
): KeyVerdict {
  if (!item || typeof item.keyHash !== "string" || !digestsEqual(item.keyHash, presentedHash)) {
    return { ok: false, code: "unknown-key", reason: "unknown api key" };
  }
  if (item.revoked === true)
    return { ok: false, code: "revoked-key", reason: "api key is revoked" };
  if (item.tenant !== tenant) {
    return { ok: false, code: "other-tenant-key", reason: "api key belongs to another tenant" };
  }
  const perms = item.permissions instanceof Set ? [...item.permissions] : item.permissions;
  if (!Array.isArray(perms) || !perms.includes(BACKEND_CALLS)) {
    return {
      ok: false,
      code: "missing-permission",
      reason: `api key lacks the ${BACKEND_CALLS} permission`,
    };
  }
  return { ok: true };
}
