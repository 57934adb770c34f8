// The whole Pulumi program (index.ts) evaluated for a stack under the shared mocks, as the tests
// evaluate it: the stack's committed Pulumi.<stack>.yaml config plus TEST_SECRETS, the values the
// tests sign and authenticate with. The evaluation itself is local/evaluate.ts.
import * as evaluate from "../local/evaluate";

export { stackConfig } from "../local/evaluate";
export type { Program } from "../local/evaluate";

/** The secrets a user sets with `pulumi config set --secret` (test values). */
export const TEST_SECRETS: Record<string, string> = {
  "switchyard:recordsApiKey": "test-records-api-key",
  // webhook signing secrets of the providers the stack files enable
  "switchyard:githubWebhookSecret": "test-github-webhook-secret",
  "switchyard:stripeWebhookSecret": "whsec_test_stripe_webhook_secret",
  "switchyard:twilioAuthToken": "test-twilio-auth-token",
  "switchyard:standardWebhookSecret": "whsec_dGVzdC1zdGFuZGFyZC13ZWJob29rLXNlY3JldA==",
  "switchyard:hmacWebhookSecret": "test-hmac-webhook-secret",
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
