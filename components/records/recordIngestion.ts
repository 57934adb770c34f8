import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { tlsOnlyBucketPolicy } from "../bucketPolicy";
import { EventHub } from "../events/eventHub";
import { ClientInit, SwitchyardFunction } from "../lambda";
import { checkHttpsUrl, checkIntRange, checkName } from "../validate";
import {
  streamReadGrants,
  StreamMappingSettings,
  streamMappingArgs,
  validateStreamSettings,
} from "../tenants/streamMapping";
import {
  RECORD_INGESTION_DEFAULTS,
  RecordStreamSource,
  resolveStreamSource,
} from "./ingestionSpec";
import { RECORDS_PATH } from "./recordPayload";

export interface RecordIngestionArgs extends StreamMappingSettings {
  /** The hub: its DLQ receives what could not be ingested. */
  readonly hub: EventHub;
  /** Root URL of the records API, https, no trailing slash. Required. */
  readonly apiEndpoint: string;
  /** The records API key (a secret): stored in a secret of this component. Or give `apiKeySecretArn`. */
  readonly apiKey?: pulumi.Input<string>;
  /** ARN of an existing secret whose SecretString is the records API key. Or give `apiKey`. */
  readonly apiKeySecretArn?: pulumi.Input<string>;
  /** Objects created under this key prefix are ingested. Default "incoming/". */
  readonly prefix?: string;
  /** Largest object read at once, bytes. Default 52428800 (50 MiB). */
  readonly maxObjectBytes?: number;
  /** A DynamoDB table whose stream is forwarded as records. Default none. */
  readonly streamSource?: RecordStreamSource;
  /** Timeout of the S3 function, 1-900 seconds. Default 300. */
  readonly timeout?: number;
  /** Days the functions' logs are kept. Default the hub's `logRetentionDays`. */
  readonly logRetentionDays?: number;
  /** Where the functions build their AWS SDK clients: `on-first-use` (default) or `at-init` (handlers/lib/lazy.ts). */
  readonly clientInit?: ClientInit;
  /** Removal protection on the bucket (and no force-destroy). Default false. */
  readonly protect?: boolean;
}

export { RECORD_INGESTION_DEFAULTS, resolveStreamSource, TABLE_ARN } from "./ingestionSpec";
export type { RecordStreamSource } from "./ingestionSpec";
/**
 * Record ingestion from outside the bus. S3: an ingestion bucket (SSE, public access blocked,
 * TLS only) whose objects created under `prefix` (JSON: one record or an array) are read by a
 * function that sends each record to the records API with its idempotency key, retrying 429 and
 * 5xx, and reports what it could not ingest to the hub's DLQ with the object key. DynamoDB: when
 * `streamSource` is set, the table's changes become records (`upsert`, or `delete` for removed
 * items) through an event source mapping with partial batch responses and the hub's DLQ.
 */
export class RecordIngestion extends pulumi.ComponentResource {
  public readonly bucket: aws.s3.Bucket;
  public readonly secret?: aws.secretsmanager.Secret;
  public readonly secretVersion?: aws.secretsmanager.SecretVersion;
  public readonly s3Fn: SwitchyardFunction;
  public readonly s3Permission: aws.lambda.Permission;
  public readonly notification: aws.s3.BucketNotification;
  public readonly s3InvokeConfig: aws.lambda.FunctionEventInvokeConfig;
  public readonly streamFn?: SwitchyardFunction;
  public readonly streamMapping?: aws.lambda.EventSourceMapping;
  public readonly bucketName: pulumi.Output<string>;
  public readonly bucketArn: pulumi.Output<string>;
  public readonly apiKeySecretArn: pulumi.Output<string>;
  public readonly prefix: string;

  constructor(name: string, args: RecordIngestionArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:records:RecordIngestion", name, {}, opts);
    checkName("RecordIngestion name", name, 40);
    const a = { ...RECORD_INGESTION_DEFAULTS, ...args };
    checkHttpsUrl("apiEndpoint", a.apiEndpoint);
    if ((a.apiKey === undefined) === (a.apiKeySecretArn === undefined)) {
      throw new Error(
        "give exactly one of apiKey (a secret is created for it) and apiKeySecretArn (an existing secret)",
      );
    }
    // S3 keys may not hold control characters, which is what this range names.
    // eslint-disable-next-line no-control-regex
    if (a.prefix.startsWith("/") || a.prefix.length > 512 || /[\u0000-\u001f]/.test(a.prefix)) {
      throw new Error(
        `prefix must be an S3 key prefix (no leading "/", at most 512 characters), got ${JSON.stringify(a.prefix)}`,
      );
    }
    checkIntRange("maxObjectBytes", a.maxObjectBytes, 1, 1073741824);
    checkIntRange("timeout", a.timeout, 1, 900);
    const source = a.streamSource ? resolveStreamSource(a.streamSource) : undefined;
    const stream = validateStreamSettings("", a);
    const hub = a.hub;
    this.prefix = a.prefix;
    const recordsUrl = `${a.apiEndpoint}${RECORDS_PATH}`;
    const logRetentionDays = a.logRetentionDays ?? hub.logRetentionDays;

    this.bucket = new aws.s3.Bucket(
      `${name}-bucket`,
      // Bucket names are lowercase: the prefix is too (at most 37 characters), S3 adds a suffix.
      { bucketPrefix: `${name.toLowerCase().slice(0, 36)}-`, forceDestroy: !a.protect },
      { parent: this, protect: a.protect },
    );
    this.bucketName = this.bucket.bucket;
    this.bucketArn = this.bucket.arn;
    const encryption = new aws.s3.BucketServerSideEncryptionConfiguration(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        rules: [{ applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" } }],
      },
      { parent: this },
    );
    const publicAccess = new aws.s3.BucketPublicAccessBlock(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        blockPublicAcls: true,
        blockPublicPolicy: true,
        ignorePublicAcls: true,
        restrictPublicBuckets: true,
      },
      { parent: this },
    );
    new aws.s3.BucketOwnershipControls(
      `${name}-bucket`,
      { bucket: this.bucket.id, rule: { objectOwnership: "BucketOwnerEnforced" } },
      { parent: this },
    );
    new aws.s3.BucketPolicy(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        policy: tlsOnlyBucketPolicy(this.bucket.arn),
      },
      { parent: this, dependsOn: [publicAccess] },
    );

    const secretDeps: pulumi.Resource[] = [];
    if (a.apiKey !== undefined) {
      this.secret = new aws.secretsmanager.Secret(
        `${name}-records-api-key`,
        { description: `Records API key the record ingestion ${name} sends as X-API-Key` },
        { parent: this },
      );
      this.secretVersion = new aws.secretsmanager.SecretVersion(
        `${name}-records-api-key`,
        { secretId: this.secret.id, secretString: pulumi.secret(a.apiKey) },
        { parent: this },
      );
      secretDeps.push(this.secretVersion);
      this.apiKeySecretArn = this.secret.arn;
    } else {
      this.apiKeySecretArn = pulumi.output(a.apiKeySecretArn!);
    }

    const maxObjectBytes = a.maxObjectBytes;
    this.s3Fn = new SwitchyardFunction(
      `${name}-s3`,
      {
        description: `Sends records of objects under s3://<${name}-bucket>/${a.prefix} to the records API`,
        logRetentionDays,
        clientInit: a.clientInit,
        timeout: a.timeout,
        memorySize: 512,
        environment: {
          RECORDS_API_URL: recordsUrl,
          RECORDS_API_KEY_SECRET_ARN: this.apiKeySecretArn,
          FAILURE_QUEUE_URL: hub.dlqUrl,
          MAX_OBJECT_BYTES: String(maxObjectBytes),
        },
        grants: [
          {
            actions: ["s3:GetObject", "s3:GetObjectVersion"],
            resources: [pulumi.interpolate`${this.bucket.arn}/${a.prefix}*`],
          },
          { actions: ["secretsmanager:GetSecretValue"], resources: [this.apiKeySecretArn] },
          // Failure reports, and the asynchronous invocation's on-failure destination.
          { actions: ["sqs:SendMessage"], resources: [hub.dlqArn] },
        ],
        handler: { module: "handlers/records/s3Ingestion", factory: "createS3Ingestion" },
      },
      { parent: this, dependsOn: secretDeps },
    );

    const identity = aws.getCallerIdentityOutput({}, { parent: this });
    // Only this bucket, in this account, may invoke the function.
    this.s3Permission = new aws.lambda.Permission(
      `${name}-s3`,
      {
        action: "lambda:InvokeFunction",
        function: this.s3Fn.function.name,
        principal: "s3.amazonaws.com",
        sourceArn: this.bucket.arn,
        sourceAccount: identity.accountId,
      },
      { parent: this },
    );
    // S3 tests the destination when the notification is put: the permission must exist first.
    this.notification = new aws.s3.BucketNotification(
      `${name}-bucket`,
      {
        bucket: this.bucket.id,
        lambdaFunctions: [
          {
            id: "ingest-records",
            lambdaFunctionArn: this.s3Fn.function.arn,
            events: ["s3:ObjectCreated:*"],
            filterPrefix: a.prefix === "" ? undefined : a.prefix,
          },
        ],
      },
      { parent: this, dependsOn: [this.s3Permission, encryption] },
    );
    this.s3InvokeConfig = new aws.lambda.FunctionEventInvokeConfig(
      `${name}-s3`,
      {
        functionName: this.s3Fn.function.name,
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: hub.dlqArn } },
      },
      { parent: this, dependsOn: [this.s3Fn.policy] },
    );

    if (source) {
      this.streamFn = new SwitchyardFunction(
        `${name}-stream`,
        {
          description: `Sends changes of ${source.tableArn.split("/")[1]} to the records API`,
          logRetentionDays,
          clientInit: a.clientInit,
          timeout: 60,
          environment: {
            RECORDS_API_URL: recordsUrl,
            RECORDS_API_KEY_SECRET_ARN: this.apiKeySecretArn,
            SOURCE_TENANT_ATTRIBUTE: source.tenantAttribute,
            SOURCE_ID_ATTRIBUTE: source.idAttribute,
            SOURCE_VERSION_ATTRIBUTE: source.versionAttribute,
            SOURCE_COLLECTION: source.collection,
          },
          grants: [
            ...streamReadGrants(source.streamArn),
            { actions: ["secretsmanager:GetSecretValue"], resources: [this.apiKeySecretArn] },
            // The mapping's on-failure destination is sent to with the function's role.
            { actions: ["sqs:SendMessage"], resources: [hub.dlqArn] },
          ],
          handler: { module: "handlers/records/streamIngestion", factory: "createStreamIngestion" },
        },
        { parent: this, dependsOn: secretDeps },
      );
      this.streamMapping = new aws.lambda.EventSourceMapping(
        `${name}-stream`,
        streamMappingArgs(source.streamArn, this.streamFn.function.arn, hub.dlqArn, stream),
        { parent: this, dependsOn: [this.streamFn.policy] },
      );
    }

    this.registerOutputs({
      bucketName: this.bucketName,
      bucketArn: this.bucketArn,
      apiKeySecretArn: this.apiKeySecretArn,
      s3FunctionArn: this.s3Fn.function.arn,
      streamFunctionArn: this.streamFn?.function.arn,
    });
  }
}
