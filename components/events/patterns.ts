// Pure builders for event patterns used by the hub and its routes.

/** Matches every event on a bus: EventBridge rejects an empty pattern, and every event has a source. */
export const MATCH_ALL: Record<string, unknown> = { source: [{ prefix: "" }] };

/**
 * Adds the filter that keeps a live rule from re-firing on events replayed from the archive:
 * replayed events carry a `replay-name` field, live ones do not.
 */
export function withoutReplays(pattern: Record<string, unknown>): Record<string, unknown> {
  if ("replay-name" in pattern) return pattern;
  return { ...pattern, "replay-name": [{ exists: false }] };
}

/** Whether a rule with this pattern sees replayed events (its pattern is not `withoutReplays`'). */
export function acceptsReplays(pattern: Record<string, unknown>): boolean {
  return (
    JSON.stringify(pattern["replay-name"]) !==
    JSON.stringify(withoutReplays({ source: [] })["replay-name"])
  );
}
