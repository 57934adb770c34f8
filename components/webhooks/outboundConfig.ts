// The stack's outbound subscriptions with their signing secrets: `switchyard:outboundSecret<Name>`
// (and `...Previous` during a rotation) when set, checked at preview; otherwise the component
// generates one in Secrets Manager. An error names the key and the command that fixes it.
import * as pulumi from "@pulumi/pulumi";
import { ConfigError, NAMESPACE } from "../../config/kinds";
import { PREVIOUS_SECRET_SUFFIX } from "../../config/keys";
import { checkSigningSecret, outboundSecretKey, SubscriptionSpec } from "./outboundSpec";
import type { OutboundSubscriptionArgs } from "./outboundWebhooks";

/** Each subscription with its configured secret (and previous one), when the stack sets them. */
export function outboundSubscriptionsWithSecrets(
  config: pulumi.Config,
  subscriptions: readonly SubscriptionSpec[],
  stack: string,
): OutboundSubscriptionArgs[] {
  return subscriptions.map((s) => {
    const key = outboundSecretKey(s.name);
    const previousKey = `${key}${PREVIOUS_SECRET_SUFFIX}`;
    for (const k of [key, previousKey]) {
      const raw = config.get(k);
      if (raw === undefined) continue;
      try {
        checkSigningSecret(raw);
      } catch (e) {
        throw new ConfigError(
          `${NAMESPACE}:${k} (the signing secret of outbound subscription "${s.name}") ${(e as Error).message}. Fix it with: pulumi config set --secret ${NAMESPACE}:${k} "whsec_$(openssl rand -base64 32)" --stack ${stack}, or remove it to have one generated in Secrets Manager`,
        );
      }
    }
    const secret = config.getSecret(key);
    const previousSecret = config.getSecret(previousKey);
    if (previousSecret !== undefined && secret === undefined)
      throw new ConfigError(
        `${NAMESPACE}:${previousKey} is set but ${NAMESPACE}:${key} is not: a rotation needs the new secret. Set it with: pulumi config set --secret ${NAMESPACE}:${key} "whsec_$(openssl rand -base64 32)" --stack ${stack}`,
      );
    return { ...s, ...(secret ? { secret } : {}), ...(previousSecret ? { previousSecret } : {}) };
  });
}
