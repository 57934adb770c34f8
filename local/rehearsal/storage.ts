// S3 buckets and their configurations, DynamoDB tables (streams, TTL, point-in-time recovery),
// Secrets Manager secrets and their versions.
import {
  CreateTableCommand,
  DescribeTableCommand,
  UpdateContinuousBackupsCommand,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import {
  CreateBucketCommand,
  PutBucketEncryptionCommand,
  PutBucketLifecycleConfigurationCommand,
  PutBucketNotificationConfigurationCommand,
  PutBucketOwnershipControlsCommand,
  PutBucketPolicyCommand,
  PutPublicAccessBlockCommand,
} from "@aws-sdk/client-s3";
import { CreateSecretCommand, PutSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { defined, nonEmpty, TypeRehearsal } from "./step";

/** S3's key filter of a notification: prefix and suffix rules. */
function keyFilter(c: { filterPrefix?: string; filterSuffix?: string }) {
  const rules = [
    c.filterPrefix !== undefined ? { Name: "prefix" as const, Value: c.filterPrefix } : undefined,
    c.filterSuffix !== undefined ? { Name: "suffix" as const, Value: c.filterSuffix } : undefined,
  ].filter((r) => r !== undefined);
  return rules.length > 0 ? { Key: { FilterRules: rules } } : undefined;
}

type Index = {
  name: string;
  hashKey?: string;
  rangeKey?: string;
  projectionType: string;
  nonKeyAttributes?: string[];
  readCapacity?: number;
  writeCapacity?: number;
};
const keySchema = (hash?: string, range?: string) =>
  [
    hash ? { AttributeName: hash, KeyType: "HASH" as const } : undefined,
    range ? { AttributeName: range, KeyType: "RANGE" as const } : undefined,
  ].filter((k) => k !== undefined);
const projection = (ix: Index) =>
  defined({
    ProjectionType: ix.projectionType as any,
    NonKeyAttributes: nonEmpty(ix.nonKeyAttributes),
  });

export const storageRehearsals: Record<string, TypeRehearsal> = {
  "aws:s3/bucket:Bucket": {
    operations: ["CreateBucket"],
    async apply(s) {
      const bucket = s.inputs.bucket ?? s.name;
      await s.send("CreateBucket", { Bucket: "bucket", LocationConstraint: "region" }, () =>
        s.clients.s3.send(
          new CreateBucketCommand({
            Bucket: bucket,
            ...(s.region === "us-east-1"
              ? {}
              : { CreateBucketConfiguration: { LocationConstraint: s.region as any } }),
          }),
        ),
      );
      return { outputs: { id: bucket, arn: `arn:aws:s3:::${bucket}` } };
    },
  },

  "aws:s3/bucketOwnershipControls:BucketOwnershipControls": {
    operations: ["PutBucketOwnershipControls"],
    async apply(s) {
      await s.send(
        "PutBucketOwnershipControls",
        { Bucket: "bucket", ObjectOwnership: "rule.objectOwnership" },
        () =>
          s.clients.s3.send(
            new PutBucketOwnershipControlsCommand({
              Bucket: s.inputs.bucket,
              OwnershipControls: { Rules: [{ ObjectOwnership: s.inputs.rule?.objectOwnership }] },
            }),
          ),
      );
      return { outputs: { id: s.inputs.bucket } };
    },
  },

  "aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock": {
    operations: ["PutPublicAccessBlock"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "PutPublicAccessBlock",
        {
          Bucket: "bucket",
          BlockPublicAcls: "blockPublicAcls",
          BlockPublicPolicy: "blockPublicPolicy",
          IgnorePublicAcls: "ignorePublicAcls",
          RestrictPublicBuckets: "restrictPublicBuckets",
        },
        () =>
          s.clients.s3.send(
            new PutPublicAccessBlockCommand({
              Bucket: i.bucket,
              PublicAccessBlockConfiguration: defined({
                BlockPublicAcls: i.blockPublicAcls,
                BlockPublicPolicy: i.blockPublicPolicy,
                IgnorePublicAcls: i.ignorePublicAcls,
                RestrictPublicBuckets: i.restrictPublicBuckets,
              }),
            }),
          ),
      );
      return { outputs: { id: i.bucket } };
    },
  },

  "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration": {
    operations: ["PutBucketEncryption"],
    async apply(s) {
      const rules = (s.inputs.rules ?? []).map((r: any) =>
        defined({
          ApplyServerSideEncryptionByDefault: r.applyServerSideEncryptionByDefault
            ? defined({
                SSEAlgorithm: r.applyServerSideEncryptionByDefault.sseAlgorithm,
                KMSMasterKeyID: r.applyServerSideEncryptionByDefault.kmsMasterKeyId,
              })
            : undefined,
          BucketKeyEnabled: r.bucketKeyEnabled,
        }),
      );
      await s.send(
        "PutBucketEncryption",
        {
          Bucket: "bucket",
          SSEAlgorithm: "rules[].applyServerSideEncryptionByDefault.sseAlgorithm",
        },
        () =>
          s.clients.s3.send(
            new PutBucketEncryptionCommand({
              Bucket: s.inputs.bucket,
              ServerSideEncryptionConfiguration: { Rules: rules },
            }),
          ),
      );
      return { outputs: { id: s.inputs.bucket } };
    },
  },

  "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration": {
    operations: ["PutBucketLifecycleConfiguration"],
    async apply(s) {
      const rules = (s.inputs.rules ?? []).map((r: any) => {
        const f = r.filter ?? {};
        return defined({
          ID: r.id,
          Status: r.status,
          // An empty filter block applies the rule to every object: the provider sends an empty prefix.
          Filter: defined({
            Prefix: f.prefix ?? (f.tag || f.and || f.objectSizeGreaterThan ? undefined : ""),
            ObjectSizeGreaterThan: f.objectSizeGreaterThan,
            ObjectSizeLessThan: f.objectSizeLessThan,
            Tag: f.tag ? { Key: f.tag.key, Value: f.tag.value } : undefined,
          }),
          Expiration: r.expiration
            ? defined({
                Days: r.expiration.days,
                Date: r.expiration.date ? new Date(r.expiration.date) : undefined,
                ExpiredObjectDeleteMarker: r.expiration.expiredObjectDeleteMarker,
              })
            : undefined,
          AbortIncompleteMultipartUpload: r.abortIncompleteMultipartUpload
            ? { DaysAfterInitiation: r.abortIncompleteMultipartUpload.daysAfterInitiation }
            : undefined,
          NoncurrentVersionExpiration: r.noncurrentVersionExpiration
            ? defined({
                NoncurrentDays: r.noncurrentVersionExpiration.noncurrentDays,
                NewerNoncurrentVersions: r.noncurrentVersionExpiration.newerNoncurrentVersions,
              })
            : undefined,
        });
      });
      await s.send(
        "PutBucketLifecycleConfiguration",
        {
          Bucket: "bucket",
          Days: "rules[].expiration.days",
          DaysAfterInitiation: "rules[].abortIncompleteMultipartUpload.daysAfterInitiation",
          Status: "rules[].status",
          ID: "rules[].id",
        },
        () =>
          s.clients.s3.send(
            new PutBucketLifecycleConfigurationCommand({
              Bucket: s.inputs.bucket,
              LifecycleConfiguration: { Rules: rules },
            }),
          ),
      );
      return { outputs: { id: s.inputs.bucket } };
    },
  },

  "aws:s3/bucketPolicy:BucketPolicy": {
    operations: ["PutBucketPolicy"],
    async apply(s) {
      await s.send("PutBucketPolicy", { Bucket: "bucket", Policy: "policy" }, () =>
        s.clients.s3.send(
          new PutBucketPolicyCommand({ Bucket: s.inputs.bucket, Policy: s.inputs.policy }),
        ),
      );
      return { outputs: { id: s.inputs.bucket } };
    },
  },

  "aws:s3/bucketNotification:BucketNotification": {
    operations: ["PutBucketNotificationConfiguration"],
    async apply(s) {
      const i = s.inputs;
      const config = defined({
        LambdaFunctionConfigurations: nonEmpty(
          (i.lambdaFunctions ?? []).map((c: any) =>
            defined({
              Id: c.id,
              LambdaFunctionArn: c.lambdaFunctionArn,
              Events: c.events,
              Filter: keyFilter(c),
            }),
          ),
        ),
        QueueConfigurations: nonEmpty(
          (i.queues ?? []).map((c: any) =>
            defined({ Id: c.id, QueueArn: c.queueArn, Events: c.events, Filter: keyFilter(c) }),
          ),
        ),
        TopicConfigurations: nonEmpty(
          (i.topics ?? []).map((c: any) =>
            defined({ Id: c.id, TopicArn: c.topicArn, Events: c.events, Filter: keyFilter(c) }),
          ),
        ),
        EventBridgeConfiguration: i.eventbridge ? {} : undefined,
      });
      await s.send(
        "PutBucketNotificationConfiguration",
        {
          Bucket: "bucket",
          LambdaFunctionArn: "lambdaFunctions[].lambdaFunctionArn",
          QueueArn: "queues[].queueArn",
          TopicArn: "topics[].topicArn",
          Events: "lambdaFunctions[].events",
        },
        () =>
          s.clients.s3.send(
            new PutBucketNotificationConfigurationCommand({
              Bucket: i.bucket,
              NotificationConfiguration: config,
            }),
          ),
      );
      return { outputs: { id: i.bucket } };
    },
  },

  "aws:dynamodb/table:Table": {
    operations: ["CreateTable", "UpdateTimeToLive", "UpdateContinuousBackups", "DescribeTable"],
    async apply(s) {
      const i = s.inputs;
      const provisioned = i.billingMode === "PROVISIONED";
      const throughput = (r?: number, w?: number) =>
        provisioned ? { ReadCapacityUnits: r, WriteCapacityUnits: w } : undefined;
      await s.send(
        "CreateTable",
        {
          TableName: "name",
          AttributeDefinitions: "attributes",
          KeySchema: "hashKey",
          AttributeName: "attributes[].name",
          BillingMode: "billingMode",
          StreamSpecification: "streamEnabled",
          StreamViewType: "streamViewType",
          GlobalSecondaryIndexes: "globalSecondaryIndexes",
          SSESpecification: "serverSideEncryption",
          DeletionProtectionEnabled: "deletionProtectionEnabled",
        },
        () =>
          s.clients.dynamodb.send(
            new CreateTableCommand(
              defined({
                TableName: s.name,
                AttributeDefinitions: (i.attributes ?? []).map((a: any) => ({
                  AttributeName: a.name,
                  AttributeType: a.type,
                })),
                KeySchema: keySchema(i.hashKey, i.rangeKey),
                BillingMode: i.billingMode,
                ProvisionedThroughput: throughput(i.readCapacity, i.writeCapacity),
                GlobalSecondaryIndexes: nonEmpty(
                  (i.globalSecondaryIndexes ?? []).map((ix: Index) =>
                    defined({
                      IndexName: ix.name,
                      KeySchema: keySchema(ix.hashKey, ix.rangeKey),
                      Projection: projection(ix),
                      ProvisionedThroughput: throughput(ix.readCapacity, ix.writeCapacity),
                    }),
                  ),
                ),
                LocalSecondaryIndexes: nonEmpty(
                  (i.localSecondaryIndexes ?? []).map((ix: Index) => ({
                    IndexName: ix.name,
                    KeySchema: keySchema(i.hashKey, ix.rangeKey),
                    Projection: projection(ix),
                  })),
                ),
                StreamSpecification: i.streamEnabled
                  ? { StreamEnabled: true, StreamViewType: i.streamViewType }
                  : undefined,
                SSESpecification: i.serverSideEncryption
                  ? defined({
                      Enabled: i.serverSideEncryption.enabled,
                      KMSMasterKeyId: i.serverSideEncryption.kmsKeyArn,
                      SSEType: i.serverSideEncryption.kmsKeyArn ? ("KMS" as const) : undefined,
                    })
                  : undefined,
                DeletionProtectionEnabled: i.deletionProtectionEnabled,
                TableClass: i.tableClass,
              }),
            ),
          ),
      );
      if (i.ttl?.enabled)
        await s.send(
          "UpdateTimeToLive",
          { AttributeName: "ttl.attributeName", Enabled: "ttl.enabled" },
          () =>
            s.clients.dynamodb.send(
              new UpdateTimeToLiveCommand({
                TableName: s.name,
                TimeToLiveSpecification: { AttributeName: i.ttl.attributeName, Enabled: true },
              }),
            ),
        );
      if (i.pointInTimeRecovery?.enabled)
        await s.send(
          "UpdateContinuousBackups",
          { PointInTimeRecoveryEnabled: "pointInTimeRecovery.enabled" },
          () =>
            s.clients.dynamodb.send(
              new UpdateContinuousBackupsCommand({
                TableName: s.name,
                PointInTimeRecoverySpecification: { PointInTimeRecoveryEnabled: true },
              }),
            ),
        );
      const table = await s.send("DescribeTable", { TableName: "name" }, () =>
        s.clients.dynamodb.send(new DescribeTableCommand({ TableName: s.name })),
      );
      return {
        outputs: {
          id: s.name,
          arn: table.Table?.TableArn,
          streamArn: table.Table?.LatestStreamArn,
        },
      };
    },
  },

  "aws:secretsmanager/secret:Secret": {
    operations: ["CreateSecret"],
    async apply(s) {
      const out = await s.send(
        "CreateSecret",
        { Name: "name", Description: "description", KmsKeyId: "kmsKeyId" },
        () =>
          s.clients.secrets.send(
            new CreateSecretCommand(
              defined({
                Name: s.name,
                Description: s.inputs.description,
                KmsKeyId: s.inputs.kmsKeyId,
              }),
            ),
          ),
      );
      return { outputs: { id: out.ARN, arn: out.ARN } };
    },
  },

  "aws:secretsmanager/secretVersion:SecretVersion": {
    operations: ["PutSecretValue"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "PutSecretValue",
        { SecretId: "secretId", SecretString: "secretString", VersionStages: "versionStages" },
        () =>
          s.clients.secrets.send(
            new PutSecretValueCommand(
              defined({
                SecretId: i.secretId,
                SecretString: i.secretString,
                SecretBinary:
                  i.secretBinary !== undefined ? Buffer.from(i.secretBinary, "base64") : undefined,
                VersionStages: nonEmpty(i.versionStages),
              }),
            ),
          ),
      );
      return { outputs: { id: `${out.ARN}|${out.VersionId}`, arn: out.ARN } };
    },
  },
};
