// Pure builders of DynamoDB-stream event source mappings, shared by the ChangePublisher and the
// records stream source: partial batch responses, bisect on error, bounded retries and age, and an
// SQS on-failure destination, so one bad record never blocks or loses the rest of its shard.
import type * as aws from "@pulumi/aws";
import type * as pulumi from "@pulumi/pulumi";
import { checkIntRange } from "../validate";

export interface StreamMappingSettings {
  /** Records per invocation, 1-10000. Default 25. */
  readonly batchSize?: number;
  /** Seconds to gather a batch, 0-300. Default 1. */
  readonly maximumBatchingWindowInSeconds?: number;
  /** Retries of a failing record before it goes to the on-failure destination, 0-10000. Default 5. */
  readonly maximumRetryAttempts?: number;
  /** Oldest record still processed (seconds), 60-604800. Default 86400 (the stream keeps 24 h). */
  readonly maximumRecordAgeInSeconds?: number;
}

export const STREAM_DEFAULTS = {
  batchSize: 25,
  maximumBatchingWindowInSeconds: 1,
  maximumRetryAttempts: 5,
  maximumRecordAgeInSeconds: 86400,
};

/** What a function's role needs to be fed by a DynamoDB stream. */
export const STREAM_READ_ACTIONS = [
  "dynamodb:DescribeStream",
  "dynamodb:GetRecords",
  "dynamodb:GetShardIterator",
];

/**
 * The grants a stream mapping's function needs: the stream's read actions on its ARN, and
 * ListStreams, which Lambda's execution-role guidance lists and IAM only evaluates on "*"
 * (scoped to an ARN it would grant nothing); it reveals stream ARNs, not data.
 */
export function streamReadGrants(streamArn: pulumi.Input<string>) {
  return [
    { actions: STREAM_READ_ACTIONS, resources: [streamArn] },
    { actions: ["dynamodb:ListStreams"], resources: ["*"] },
  ];
}

/**
 * Validates the settings (AWS also accepts -1, "forever", for retries and age: refused here, so a
 * poisoned record always ends in the on-failure destination instead of blocking its shard).
 */
export function validateStreamSettings(
  what: string,
  s: StreamMappingSettings,
): Required<StreamMappingSettings> {
  const a = { ...STREAM_DEFAULTS, ...s };
  checkIntRange(`${what}batchSize`, a.batchSize, 1, 10000);
  checkIntRange(`${what}maximumBatchingWindowInSeconds`, a.maximumBatchingWindowInSeconds, 0, 300);
  checkIntRange(`${what}maximumRetryAttempts`, a.maximumRetryAttempts, 0, 10000);
  checkIntRange(`${what}maximumRecordAgeInSeconds`, a.maximumRecordAgeInSeconds, 60, 604800);
  return a;
}

/** The mapping's arguments: from the latest record on, partial failures, bisect, on-failure queue. */
export function streamMappingArgs(
  streamArn: pulumi.Input<string>,
  functionArn: pulumi.Input<string>,
  onFailureQueueArn: pulumi.Input<string>,
  s: Required<StreamMappingSettings>,
): aws.lambda.EventSourceMappingArgs {
  return {
    eventSourceArn: streamArn,
    functionName: functionArn,
    startingPosition: "LATEST",
    batchSize: s.batchSize,
    maximumBatchingWindowInSeconds: s.maximumBatchingWindowInSeconds,
    // One batch per shard at a time keeps each item's changes in order.
    parallelizationFactor: 1,
    functionResponseTypes: ["ReportBatchItemFailures"],
    bisectBatchOnFunctionError: true,
    maximumRetryAttempts: s.maximumRetryAttempts,
    maximumRecordAgeInSeconds: s.maximumRecordAgeInSeconds,
    destinationConfig: { onFailure: { destinationArn: onFailureQueueArn } },
  };
}
