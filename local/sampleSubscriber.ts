// The local run's sample subscriber of outbound webhooks: a small HTTP receiver on a local port that
// verifies every delivery's Standard Webhooks signature with the `standardwebhooks` package (an
// implementation independent of the dispatcher's signer), keeps what it received, and serves an
// endpoint that fails (503) until it is told to recover. The local run declares subscriptions to
// it through `switchyard:outboundSubscriptions`, as a user would (localOutboundConfig), for the
// local evaluation only: the stack files never point at this machine.
//
// `standardwebhooks` stays a devDependency: the local run is a development tool installed by
// `npm ci` (as aws-local-stepfunctions and js-yaml are), and `dependencies` is what the deployed
// program needs.
import * as http from "http";
import { Webhook } from "standardwebhooks";
import { readRequestBody } from "./httpEvents";
import { NAMESPACE } from "../config/kinds";
import { outboundSecretKey, SubscriptionSpec } from "../components/webhooks/outboundSpec";

/** The source of the events the local subscriptions select (put them on the bus to try them). */
export const SAMPLE_SOURCE = "switchyard.sample";

/**
 * Host names the function sandboxes of the local run resolve without DNS, as an /etc/hosts would
 * (local/lambdaRunner.js). A name that resolves to the instance metadata service is what a
 * server-side request forgery through a subscription looks like: a literal private address is
 * already refused when the config is read (preview), so only a name shows the check the dispatcher
 * makes on every delivery, and the local run cannot otherwise make a name resolve to one.
 */
export const SANDBOX_HOSTS: Readonly<Record<string, string>> = {
  "metadata.switchyard.internal": "169.254.169.254",
};

export interface LocalSubscription {
  readonly name: string;
  /** A path of the sample subscriber, or (`url`) an address elsewhere. */
  readonly path?: string;
  readonly url?: string;
  /** The detail type (source SAMPLE_SOURCE) it selects. */
  readonly detailType: string;
  /** What its endpoint does, as the banner says. */
  readonly about: string;
}

export const LOCAL_SUBSCRIPTIONS: readonly LocalSubscription[] = [
  {
    name: "sample",
    path: "/sample",
    detailType: "SamplePing",
    about: "verifies each delivery with standardwebhooks, answers 204",
  },
  {
    name: "flaky",
    path: "/flaky",
    detailType: "FlakyPing",
    about: "answers 503 until POST <subscriber>/flaky/recover (POST /flaky/fail breaks it again)",
  },
  {
    name: "internal",
    url: "http://metadata.switchyard.internal/latest/meta-data/",
    detailType: "InternalPing",
    about:
      "its host resolves to 169.254.169.254 (the instance metadata service): the dispatcher refuses every attempt",
  },
];

/** The endpoint a local subscription posts to. */
export function localSubscriptionUrl(s: LocalSubscription, subscriberUrl: string): string {
  return s.url ?? `${subscriberUrl}${s.path}`;
}

/**
 * `switchyard:outboundSubscriptions` for the local run: the stack's own subscriptions, then the
 * local ones (a name the stack already uses is left to the stack's).
 */
export function localOutboundConfig(
  config: Record<string, string>,
  subscriberUrl: string,
): Record<string, string> {
  const key = `${NAMESPACE}:outboundSubscriptions`;
  const own = JSON.parse(config[key] ?? "[]") as SubscriptionSpec[];
  const taken = new Set(Array.isArray(own) ? own.map((s) => s.name) : []);
  const local: SubscriptionSpec[] = LOCAL_SUBSCRIPTIONS.filter((s) => !taken.has(s.name)).map(
    (s) => ({
      name: s.name,
      url: localSubscriptionUrl(s, subscriberUrl),
      events: { source: [SAMPLE_SOURCE], "detail-type": [s.detailType] },
    }),
  );
  return { [key]: JSON.stringify([...(Array.isArray(own) ? own : []), ...local]) };
}

/** The config key of each local subscription's signing secret. */
export const localSubscriptionSecretKeys = () =>
  LOCAL_SUBSCRIPTIONS.map((s) => ({ subscription: s.name, key: outboundSecretKey(s.name) }));

/** One request the sample subscriber answered. */
export interface ReceivedDelivery {
  at: string;
  subscription: string;
  webhookId?: string;
  webhookTimestamp?: string;
  webhookSignature?: string;
  /** Whether standardwebhooks verified its signature and timestamp. */
  verified: boolean;
  /** Why it did not verify. */
  error?: string;
  /** What the subscriber answered. */
  status: number;
  /** The payload's `type` (the event's detail type), once verified. */
  type?: string;
  body: string;
}

/** Deliveries kept for GET /received. */
const KEPT = 1000;

export class SampleSubscriber {
  public readonly received: ReceivedDelivery[] = [];
  /** Whether the flaky endpoint fails (503). */
  public failing = true;
  private readonly secrets = new Map<string, string>();
  // The handler's promise goes to the server's guard (guardServer), which answers its failures.
  public readonly server = http.createServer((req, res) => this.handle(req, res));

  /** The signing secret of a subscription served here (known once the program is evaluated). */
  setSecret(subscription: string, secret: string): void {
    this.secrets.set(subscription, secret);
  }

  private async handle(req: http.IncomingMessage, res: http.ServerResponse): Promise<void> {
    const body = await readRequestBody(req);
    const send = (status: number, out?: unknown) => {
      // Already answered by the guard (a body over the limit): nothing more to say.
      if (res.headersSent) return;
      res.writeHead(status, out === undefined ? {} : { "content-type": "application/json" });
      res.end(out === undefined ? undefined : JSON.stringify(out, null, 2));
    };
    const path = (req.url ?? "/").split("?")[0];
    if (req.method === "GET" && path === "/received") {
      const of = new URL(req.url ?? "/", "http://local").searchParams.get("subscription");
      return send(200, of ? this.received.filter((r) => r.subscription === of) : this.received);
    }
    if (req.method === "GET" && path === "/")
      return send(200, { failing: this.failing, received: this.received.length });
    if (req.method === "POST" && (path === "/flaky/recover" || path === "/flaky/fail")) {
      this.failing = path === "/flaky/fail";
      return send(200, { failing: this.failing });
    }
    const sub = LOCAL_SUBSCRIPTIONS.find((s) => s.path !== undefined && s.path === path);
    if (!sub) return send(404, { message: `no endpoint ${path}: POST /sample or /flaky` });
    if (req.method !== "POST") return send(405, { message: "deliveries are POSTed" });
    const secret = this.secrets.get(sub.name);
    if (!secret) return send(503, { message: `no signing secret for ${sub.name} yet` });
    const header = (n: string) => {
      const v = req.headers[n];
      return Array.isArray(v) ? v.join(" ") : v;
    };
    const record: ReceivedDelivery = {
      at: new Date().toISOString(),
      subscription: sub.name,
      webhookId: header("webhook-id"),
      webhookTimestamp: header("webhook-timestamp"),
      webhookSignature: header("webhook-signature"),
      verified: false,
      status: 0,
      body: body.toString("utf8"),
    };
    const keep = (status: number, out?: unknown) => {
      record.status = status;
      this.received.push(record);
      if (this.received.length > KEPT) this.received.splice(0, this.received.length - KEPT);
      send(status, out);
    };
    try {
      const payload = new Webhook(secret).verify(body.toString("utf8"), {
        "webhook-id": record.webhookId ?? "",
        "webhook-timestamp": record.webhookTimestamp ?? "",
        "webhook-signature": record.webhookSignature ?? "",
      }) as { type?: string };
      record.verified = true;
      record.type = payload?.type;
    } catch (e) {
      record.error = (e as Error).message;
      return keep(401, { message: `signature not verified: ${record.error}` });
    }
    if (sub.name === "flaky" && this.failing)
      return keep(503, { message: "failing on purpose: POST /flaky/recover to recover" });
    keep(204);
  }
}
