// Outbound webhooks, locally: the sample subscriber (local/sampleSubscriber.ts) on the run's first
// port, the local subscriptions to it given to the program as `switchyard:outboundSubscriptions`
// with their signing secrets (local secrets, like the receivers'), and what the banner says of them.
import { NAMESPACE } from "../../config/kinds";
import { localSecret } from "../program";
import {
  localOutboundConfig,
  localSubscriptionSecretKeys,
  SampleSubscriber,
} from "../sampleSubscriber";
import { Runtime } from "./context";

/** The sample subscriber reads small JSON deliveries. */
const SUBSCRIBER_MAX_BODY_BYTES = 1024 * 1024;

export class SubscriberService {
  public readonly subscriber = new SampleSubscriber();
  public url = "";
  /** The local subscriptions' secret keys this run generated (written to .switchyard/secrets.json). */
  public readonly generatedSecrets: string[] = [];

  constructor(private readonly rt: Runtime) {}

  async start(): Promise<void> {
    this.url = await this.rt.listen(
      this.subscriber.server,
      "sample subscriber",
      SUBSCRIBER_MAX_BODY_BYTES,
      "plain",
    );
  }

  /**
   * What the local run adds to the stack's config (`config`: its file and the run's overrides):
   * the local subscriptions after the stack's own, and each one's signing secret unless given.
   */
  configOverrides(config: Record<string, string>): Record<string, string> {
    const out = localOutboundConfig(config, this.url);
    for (const { key } of localSubscriptionSecretKeys()) {
      if (config[`${NAMESPACE}:${key}`] !== undefined) continue;
      const s = localSecret(key);
      out[`${NAMESPACE}:${key}`] = s.value;
      if (s.generated) this.generatedSecrets.push(key);
    }
    return out;
  }

  /** Gives the subscriber the secrets the program was evaluated with. */
  useProgramSecrets(): void {
    for (const { subscription, key } of localSubscriptionSecretKeys()) {
      const secret = this.rt.program.config[`${NAMESPACE}:${key}`];
      if (secret !== undefined) this.subscriber.setSecret(subscription, secret);
    }
  }
}
