// Pure builders of the tenant components' event patterns.
import { INGRESS_SOURCE, OPERATIONS } from "../../lib/tenantRules";

/**
 * Tenant ingress events: source `switchyard.input`, a detail type ending in `.POST`, `.PUT`,
 * `.PATCH` or `.DELETE`, and a detail naming the tenant, the schema and the API key.
 *
 * `payload` is deliberately not in the pattern: EventBridge's `exists` (like every comparison
 * operator) only matches leaf values, and the payload is a JSON object, so
 * `"payload": [{"exists": true}]` would drop every real ingress event. The handler answers a
 * missing or non-object payload with 400 on the rejected-events queue instead, so it is not lost.
 */
export function ingressEventPattern(): Record<string, unknown> {
  return {
    source: [INGRESS_SOURCE],
    "detail-type": OPERATIONS.map((op) => ({ suffix: `.${op}` })),
    detail: {
      tenant: [{ exists: true }],
      rootSchema: [{ exists: true }],
      api_key: [{ exists: true }],
    },
  };
}
