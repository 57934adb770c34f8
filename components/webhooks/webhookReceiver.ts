import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "../bucketPolicy";
import { ClientInit, Grant, SwitchyardFunction } from "../lambda";
import { checkIntRange, checkName } from "../validate";
import { HmacSignedContent } from "../../handlers/webhooks/providers/hmac";
import {
  isProvider,
  Provider,
  providerModule,
  PROVIDERS,
  SCHEME_PROVIDERS,
  URL_SIGNING_PROVIDERS,
} from "../../handlers/webhooks/providers";
import { parseCidr } from "../../handlers/webhooks/sourceIp";
import { RECEIVER_ENV as ENV, RELAY_ENV } from "../../lib/contracts";
import { streamMappingArgs, streamReadGrants } from "../tenants/streamMapping";
import { minimumIdempotencyTtl, RELAY_STREAM_SETTINGS, WEBHOOK_DEFAULTS } from "./receiverSpec";

export interface WebhookProviderArgs {
  /**
   * The signing secret: GitHub webhook secret, Stripe endpoint secret (whsec_...), Twilio auth
   * token, Standard Webhooks secret (whsec_<base64>) or the generic HMAC key. Required.
   */
  readonly secret: pulumi.Input<string>;
  /** The secret being rotated out, still accepted until removed. Default none. */
  readonly previousSecret?: pulumi.Input<string>;
  /**
   * The public https URL the sender signs, without query, when it is not the Function URL (a
   * custom domain in front). Only for a provider whose signature covers the URL (its module's
   * `publicUrl`: twilio). Default the Function URL.
   */
  readonly publicUrl?: string;
  /**
   * CIDR blocks deliveries must come from (the provider's published sender ranges), checked
   * against the Function URL's source IP before anything else; others get 403. Default any address.
   */
  readonly allowedCidrs?: string[];
  /**
   * hmac only: what the signature covers. `headers` (default): X-Webhook-Id, X-Webhook-Timestamp,
   * X-Webhook-Event, X-Correlation-Id and the body. `body`: the body only, for senders that cannot
   * sign more; no header is then trusted (handlers/webhooks/providers/hmac.ts says what that cannot stop).
   */
  readonly signedContent?: HmacSignedContent;
}

export interface WebhookReceiverArgs {
  /**
   * The hub (an EventHub): its bus receives the events; its DLQ takes, whole, a delivery the bus
   * refuses for good, and is the relay mapping's on-failure destination.
   */
  readonly hub: {
    readonly busArn: pulumi.Input<string>;
    readonly dlqArn: pulumi.Input<string>;
    readonly dlqUrl: pulumi.Input<string>;
  };
  /** The enabled providers and their secrets; at least one. */
  readonly providers: Partial<Record<Provider, WebhookProviderArgs>>;
  /** Accepted age (and clock skew) of a signed timestamp, 1-3600 s. Default 300. */
  readonly toleranceSeconds?: number;
  /** Largest event entry published (the bus limit), 1024-1048576 bytes. Default 262144. */
  readonly maxEntryBytes?: number;
  /** Store bodies over `maxEntryBytes` in S3 and publish a reference; false answers 413. Default true. */
  readonly payloadStorage?: boolean;
  /** Days stored bodies are kept, 1-3650. Default 30. */
  readonly payloadRetentionDays?: number;
  /** Seconds a delivery is remembered and its stored event kept (covers provider retries), 300-2592000. Default 259200 (3 days). */
  readonly idempotencyTtlSeconds?: number;
  /** Reserved concurrency of each provider's function, 1-1000. Default unreserved. */
  readonly reservedConcurrency?: number;
  /** Timeout of each function, 1-900 s (GitHub gives up after 10 s). Default 8. */
  readonly timeoutSeconds?: number;
  /** Memory of each function, 128-10240 MB. Default 256. */
  readonly memorySize?: number;
  /** Days the functions' log groups keep logs. Default 30. */
  readonly logRetentionDays?: number;
  /** Where the functions build their AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** Removal protection on the deliveries table and the payload bucket. Default false. */
  readonly protect?: boolean;
}

export { minimumIdempotencyTtl, WEBHOOK_DEFAULTS } from "./receiverSpec";
/** Statement ids of the two permissions an auth-type NONE Function URL needs. */
export const URL_PERMISSION_IDS = {
  invokeUrl: "AllowPublicFunctionUrl",
  invoke: "AllowInvokeViaFunctionUrl",
};

export function validateWebhookArgs(args: WebhookReceiverArgs): void {
  const a = { ...WEBHOOK_DEFAULTS, ...args };
  const names = Object.keys(a.providers ?? {});
  if (names.length === 0) {
    throw new Error(`providers must enable at least one of ${PROVIDERS.join(", ")}`);
  }
  for (const p of names) {
    if (!isProvider(p)) throw new Error(`providers: "${p}" is not one of ${PROVIDERS.join(", ")}`);
    const pa = a.providers[p]!;
    if (pa.secret === undefined) throw new Error(`providers.${p}.secret is required`);
    if (pa.allowedCidrs !== undefined) {
      if (pa.allowedCidrs.length === 0)
        throw new Error(
          `providers.${p}.allowedCidrs is empty: it would refuse every delivery (omit it to allow any address)`,
        );
      for (const c of pa.allowedCidrs) {
        try {
          parseCidr(c);
        } catch (e) {
          throw new Error(`providers.${p}.allowedCidrs: ${(e as Error).message}`, { cause: e });
        }
      }
    }
    if (pa.signedContent !== undefined) {
      // Only a provider whose module has several schemes can be told which one to run.
      const schemes = providerModule(p).schemes;
      if (!schemes)
        throw new Error(
          `providers.${p}.signedContent is only used by ${SCHEME_PROVIDERS.join(", ")} (the other schemes fix what they sign)`,
        );
      if (!(schemes.values as readonly string[]).includes(pa.signedContent)) {
        throw new Error(
          `providers.${p}.signedContent must be one of ${schemes.values.join(", ")}, got ${JSON.stringify(pa.signedContent)}`,
        );
      }
    }
    if (pa.publicUrl !== undefined) {
      // Only a provider whose signature covers the URL needs to know the URL signed.
      if (!providerModule(p).publicUrl) {
        const signers = URL_SIGNING_PROVIDERS.join(", ");
        throw new Error(
          URL_SIGNING_PROVIDERS.length === 1
            ? `providers.${p}.publicUrl is only used by ${signers} (its signature covers the URL)`
            : `providers.${p}.publicUrl is only used by ${signers} (their signatures cover the URL)`,
        );
      }
      let u: URL | undefined;
      try {
        u = new URL(pa.publicUrl);
      } catch {
        u = undefined;
      }
      if (!u || u.protocol !== "https:" || u.search || u.hash) {
        throw new Error(
          `providers.${p}.publicUrl must be an https:// URL without query or fragment, got ${JSON.stringify(pa.publicUrl)}`,
        );
      }
    }
  }
  checkIntRange("toleranceSeconds", a.toleranceSeconds, 1, 3600);
  checkIntRange("maxEntryBytes", a.maxEntryBytes, 1024, 1048576);
  checkIntRange("payloadRetentionDays", a.payloadRetentionDays, 1, 3650);
  checkIntRange("idempotencyTtlSeconds", a.idempotencyTtlSeconds, 300, 2592000);
  const minTtl = minimumIdempotencyTtl(a.toleranceSeconds);
  if (a.idempotencyTtlSeconds < minTtl) {
    throw new Error(
      `idempotencyTtlSeconds (${a.idempotencyTtlSeconds}) must be at least twice toleranceSeconds (${a.toleranceSeconds}), ${minTtl} or more: a delivery signed up to toleranceSeconds ahead stays acceptable for twice that, and must be remembered as long`,
    );
  }
  if (a.reservedConcurrency !== undefined)
    checkIntRange("reservedConcurrency", a.reservedConcurrency, 1, 1000);
  checkIntRange("timeoutSeconds", a.timeoutSeconds, 1, 900);
  checkIntRange("memorySize", a.memorySize, 128, 10240);
}

/** The value stored in each provider's secret: the current secret and, during a rotation, the previous. */
export function signingSecretValue(
  current: pulumi.Input<string>,
  previous?: pulumi.Input<string>,
): pulumi.Output<string> {
  return pulumi.secret(
    pulumi
      .all([current, previous])
      .apply(([c, p]) => JSON.stringify(p ? { current: c, previous: p } : { current: c })),
  );
}

/**
 * Public HTTPS endpoints (Lambda Function URLs, auth type NONE, protected by the signature check in
 * the handler) that turn third-party webhooks into events on the hub's bus: one function and URL
 * per provider, each with its own secret, sharing a deliveries table and a payload bucket. A
 * receiver accepts a delivery by storing it in the table (its idempotency record and its event, one
 * conditional write); the relay publishes it from the table's stream, with retries and the hub's
 * DLQ behind it.
 */
export class WebhookReceiver extends pulumi.ComponentResource {
  public readonly table: aws.dynamodb.Table;
  public readonly bucket?: aws.s3.Bucket;
  public readonly secrets: Partial<Record<Provider, aws.secretsmanager.Secret>> = {};
  public readonly secretVersions: Partial<Record<Provider, aws.secretsmanager.SecretVersion>> = {};
  public readonly functions: Partial<Record<Provider, SwitchyardFunction>> = {};
  public readonly urls: Partial<Record<Provider, aws.lambda.FunctionUrl>> = {};
  public readonly permissions: Partial<Record<Provider, aws.lambda.Permission[]>> = {};
  /** Publishes the stored deliveries to the bus. */
  public readonly relay: SwitchyardFunction;
  /** Feeds the relay from the deliveries table's stream. */
  public readonly relayMapping: aws.lambda.EventSourceMapping;
  /** The URL to register with each provider. */
  public readonly webhookUrls: pulumi.Output<Record<string, string>>;

  constructor(name: string, args: WebhookReceiverArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:webhooks:WebhookReceiver", name, {}, opts);
    checkName("WebhookReceiver name", name, 30);
    validateWebhookArgs(args);
    const a = { ...WEBHOOK_DEFAULTS, ...args };
    const stateful = { parent: this, protect: a.protect };

    // Accepted deliveries (handlers/webhooks/outbox.ts): each id's idempotency record and event,
    // forgotten after idempotencyTtlSeconds. The stream carries each new item to the relay.
    this.table = new aws.dynamodb.Table(
      `${name}-idempotency`,
      {
        billingMode: "PAY_PER_REQUEST",
        hashKey: "id",
        attributes: [{ name: "id", type: "S" }],
        ttl: { attributeName: "expiration", enabled: true },
        streamEnabled: true,
        streamViewType: "NEW_IMAGE",
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: a.protect,
      },
      stateful,
    );

    this.relay = new SwitchyardFunction(
      `${name}-relay`,
      {
        description: `Switchyard webhook relay (${name}): publishes stored deliveries to the bus`,
        handler: { module: "handlers/webhooks/relay", factory: "createRelay" },
        grants: [
          ...streamReadGrants(this.table.streamArn),
          { actions: ["events:PutEvents"], resources: [a.hub.busArn] },
          // Dead letters of refused deliveries, and the mapping's on-failure destination, which
          // Lambda sends to with the function's role.
          { actions: ["sqs:SendMessage"], resources: [a.hub.dlqArn] },
        ],
        environment: {
          [RELAY_ENV.eventBusArn]: a.hub.busArn,
          [RELAY_ENV.maxEntryBytes]: String(a.maxEntryBytes),
          [RELAY_ENV.deadLetterQueueUrl]: a.hub.dlqUrl,
        },
        timeout: RELAY_STREAM_SETTINGS.timeoutSeconds,
        logRetentionDays: a.logRetentionDays,
        clientInit: a.clientInit,
      },
      { parent: this },
    );
    // Lambda checks the role can read the stream when the mapping is created: policy first.
    this.relayMapping = new aws.lambda.EventSourceMapping(
      `${name}-relay`,
      streamMappingArgs(
        this.table.streamArn,
        this.relay.function.arn,
        a.hub.dlqArn,
        RELAY_STREAM_SETTINGS.mapping,
      ),
      { parent: this, dependsOn: [this.relay.policy] },
    );

    if (a.payloadStorage) {
      this.bucket = new aws.s3.Bucket(`${name}-payloads`, { forceDestroy: !a.protect }, stateful);
      const bucket = this.bucket;
      new aws.s3.BucketOwnershipControls(
        `${name}-payloads`,
        { bucket: bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
        { parent: this },
      );
      new aws.s3.BucketPublicAccessBlock(
        `${name}-payloads`,
        {
          bucket: bucket.id,
          blockPublicAcls: true,
          blockPublicPolicy: true,
          ignorePublicAcls: true,
          restrictPublicBuckets: true,
        },
        { parent: this },
      );
      new aws.s3.BucketServerSideEncryptionConfiguration(
        `${name}-payloads`,
        {
          bucket: bucket.id,
          rules: [
            {
              applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" },
              bucketKeyEnabled: true,
            },
          ],
        },
        { parent: this },
      );
      new aws.s3.BucketLifecycleConfiguration(
        `${name}-payloads`,
        {
          bucket: bucket.id,
          rules: [
            {
              id: "expire-payloads",
              status: "Enabled",
              filter: {},
              expiration: { days: a.payloadRetentionDays },
              abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
            },
          ],
        },
        { parent: this },
      );
      // Bodies are only ever read over TLS.
      new aws.s3.BucketPolicy(
        `${name}-payloads`,
        {
          bucket: bucket.id,
          policy: tlsOnlyBucketPolicy(bucket.arn),
        },
        { parent: this },
      );
    }

    const urls: Record<string, pulumi.Output<string>> = {};
    for (const provider of PROVIDERS) {
      const pa = a.providers[provider];
      if (!pa) continue;
      const base = `${name}-${provider}`;
      const schemes = providerModule(provider).schemes;

      const secret = new aws.secretsmanager.Secret(
        base,
        {
          description: `Signing secret of the ${provider} webhook receiver ${name}: {"current","previous"}`,
        },
        { parent: this },
      );
      const version = new aws.secretsmanager.SecretVersion(
        base,
        { secretId: secret.id, secretString: signingSecretValue(pa.secret, pa.previousSecret) },
        { parent: this },
      );
      this.secrets[provider] = secret;
      this.secretVersions[provider] = version;

      const prefix = `${provider}/`;
      const grants: Grant[] = [
        { actions: ["secretsmanager:GetSecretValue"], resources: [secret.arn] },
        // Accepting a delivery is one conditional PutItem; the relay publishes it.
        { actions: ["dynamodb:PutItem"], resources: [this.table.arn] },
      ];
      if (this.bucket)
        grants.push({
          actions: ["s3:PutObject"],
          resources: [pulumi.interpolate`${this.bucket.arn}/${prefix}*`],
        });

      // Named by the receiver's own ENV table: readReceiverConfig reads exactly these.
      const environment: Record<string, pulumi.Input<string>> = {
        [ENV.provider]: provider,
        [ENV.secretArn]: secret.arn,
        [ENV.idempotencyTable]: this.table.name,
        [ENV.idempotencyTtlSeconds]: String(a.idempotencyTtlSeconds),
        [ENV.maxEntryBytes]: String(a.maxEntryBytes),
        [ENV.toleranceSeconds]: String(a.toleranceSeconds),
        [ENV.payloadPrefix]: prefix,
        ...(this.bucket ? { [ENV.payloadBucket]: this.bucket.bucket } : {}),
        ...(pa.publicUrl ? { [ENV.publicUrl]: pa.publicUrl } : {}),
        ...(pa.allowedCidrs ? { [ENV.allowedCidrs]: pa.allowedCidrs.join(",") } : {}),
        ...(schemes ? { [ENV.hmacSignedContent]: pa.signedContent ?? schemes.values[0] } : {}),
      };

      const fn = new SwitchyardFunction(
        base,
        {
          description: `Switchyard ${provider} webhook receiver (${name})`,
          handler: { module: "handlers/webhooks/receiver", factory: "createReceiver" },
          grants,
          environment,
          timeout: a.timeoutSeconds,
          memorySize: a.memorySize,
          reservedConcurrency: a.reservedConcurrency,
          logRetentionDays: a.logRetentionDays,
          clientInit: a.clientInit,
        },
        { parent: this },
      );
      this.functions[provider] = fn;

      // Auth type NONE: anyone may call the URL; the handler's signature check is the gate.
      const invokeUrl = new aws.lambda.Permission(
        `${base}-url`,
        {
          function: fn.function.name,
          statementId: URL_PERMISSION_IDS.invokeUrl,
          action: "lambda:InvokeFunctionUrl",
          principal: "*",
          functionUrlAuthType: "NONE",
        },
        { parent: this },
      );
      const invoke = new aws.lambda.Permission(
        `${base}-invoke`,
        {
          function: fn.function.name,
          statementId: URL_PERMISSION_IDS.invoke,
          action: "lambda:InvokeFunction",
          principal: "*",
          invokedViaFunctionUrl: true,
        },
        { parent: this },
      );
      this.permissions[provider] = [invokeUrl, invoke];

      // The URL goes live only once it may be invoked and its secret holds a value.
      const url = new aws.lambda.FunctionUrl(
        base,
        { functionName: fn.function.name, authorizationType: "NONE", invokeMode: "BUFFERED" },
        { parent: this, dependsOn: [invokeUrl, invoke, version] },
      );
      this.urls[provider] = url;
      // The function answers on /<provider> only; the Function URL ends with "/".
      urls[provider] = pa.publicUrl
        ? pulumi.output(pa.publicUrl)
        : pulumi.interpolate`${url.functionUrl}${provider}`;
    }
    this.webhookUrls = pulumi.output(urls) as pulumi.Output<Record<string, string>>;

    this.registerOutputs({
      webhookUrls: this.webhookUrls,
      tableName: this.table.name,
      relayFunctionName: this.relay.function.name,
      bucketName: this.bucket?.bucket,
    });
  }
}
