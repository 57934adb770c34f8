// The whole Pulumi program (index.ts) evaluated for a stack under the shared mocks, as the tests
// evaluate it: the stack's committed Pulumi.<stack>.yaml config plus TEST_SECRETS, the values the
// tests sign and authenticate with. The evaluation itself is local/evaluate.ts.
import { PROVIDER_MODULES } from "../handlers/webhooks/providers";
import * as evaluate from "../local/evaluate";

export { stackConfig } from "../local/evaluate";
export type { Program } from "../local/evaluate";

/** The secrets a user sets with `pulumi config set --secret` (test values). */
export const TEST_SECRETS: Record<string, string> = {
  "switchyard:recordsApiKey": "test-records-api-key",
  // every webhook provider's signing secret: the valid example its module declares
  ...Object.fromEntries(
    PROVIDER_MODULES.map((m) => [`switchyard:${m.secret.key}`, m.secret.example]),
  ),
};

/**
 * Loads index.ts for `stack` with TEST_SECRETS; `overrides` replace or (with undefined) remove
 * keys. Without overrides the stack's evaluation is shared between callers (local/evaluate.ts).
 */
export function evaluateProgram(
  stack: string,
  overrides: Record<string, string | undefined> = {},
): Promise<evaluate.Program> {
  return evaluate.evaluateProgram(stack, overrides, TEST_SECRETS);
}
