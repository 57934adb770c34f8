// The jobs table: one item per job (pk = the job id, a UUID) and one per Idempotency-Key
// (pk = "idem#<key>", pointing at its job). Every state change is a conditional write, so duplicate
// deliveries and concurrent requests cannot move a job backwards or create two jobs for one key.
// JSON payloads (input, result, error) are stored as JSON strings: the item stays flat and exact.
import type { AttributeValue } from "@aws-sdk/client-dynamodb";
import { sdkDynamodb } from "../lib/lazy";
import { JOB_TTL_ATTRIBUTE } from "../../lib/contracts";

/** The part of DynamoDBClient the store uses (a real client, pointed at DynamoDB or dynalite). */
export interface DynamoSender {
  send(command: any): Promise<any>;
}

export type JobStatus = "PENDING" | "RUNNING" | "SUCCEEDED" | "FAILED";
export const TERMINAL: readonly JobStatus[] = ["SUCCEEDED", "FAILED"];

export interface JobError {
  /** Error name (e.g. "Error", "Sandbox.Timedout") or the destination condition. */
  type: string;
  message: string;
  /** From the async invocation record: RetriesExhausted, EventAgeExceeded, ... */
  condition?: string;
  /** Attempts Lambda made. */
  attempts?: number;
}

export interface Job {
  jobId: string;
  type: string;
  status: JobStatus;
  input: unknown;
  result?: unknown;
  error?: JobError;
  createdAt: string;
  updatedAt: string;
  startedAt?: string;
  finishedAt?: string;
  attempts: number;
  /** Epoch seconds; the table's TTL attribute. */
  expiresAt: number;
  idempotencyKey?: string;
}

/** Name of the TTL attribute (the table's `ttl.attributeName`). */
const TTL_ATTRIBUTE = JOB_TTL_ATTRIBUTE;

/** Job ids are lowercase UUIDs (crypto.randomUUID). */
export const JOB_ID = /^[0-9a-f]{8}-[0-9a-f]{4}-[1-8][0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/;

const S = (v: string): AttributeValue => ({ S: v });
const N = (v: number): AttributeValue => ({ N: String(v) });

export function isConditionFailure(e: unknown): boolean {
  return (e as { name?: string })?.name === "ConditionalCheckFailedException";
}

function fromItem(item: Record<string, AttributeValue>): Job {
  const str = (k: string) => item[k]?.S;
  const job: Job = {
    jobId: str("pk")!,
    type: str("type")!,
    status: str("status") as JobStatus,
    input: str("input") !== undefined ? JSON.parse(str("input")!) : undefined,
    createdAt: str("createdAt")!,
    updatedAt: str("updatedAt")!,
    attempts: Number(item.attempts?.N ?? "0"),
    expiresAt: Number(item[TTL_ATTRIBUTE]?.N ?? "0"),
  };
  if (str("result") !== undefined) job.result = JSON.parse(str("result")!);
  if (str("error") !== undefined) job.error = JSON.parse(str("error")!);
  if (str("startedAt")) job.startedAt = str("startedAt");
  if (str("finishedAt")) job.finishedAt = str("finishedAt");
  if (str("idempotencyKey")) job.idempotencyKey = str("idempotencyKey");
  return job;
}

export interface KeyClaim {
  jobId: string;
  requestHash: string;
  /** True when this call created the key item; false when the key was already claimed. */
  fresh: boolean;
}

export class JobStore {
  constructor(
    private readonly db: DynamoSender,
    private readonly table: string,
  ) {}

  /** Claims an Idempotency-Key for `jobId`, or returns the job the key already points at. */
  async claimKey(
    key: string,
    jobId: string,
    requestHash: string,
    now: Date,
    expiresAt: number,
  ): Promise<KeyClaim> {
    try {
      await this.db.send(
        new (sdkDynamodb().PutItemCommand)({
          TableName: this.table,
          Item: {
            pk: S(`idem#${key}`),
            jobId: S(jobId),
            requestHash: S(requestHash),
            createdAt: S(now.toISOString()),
            [TTL_ATTRIBUTE]: N(expiresAt),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return { jobId, requestHash, fresh: true };
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
    }
    const got = await this.db.send(
      new (sdkDynamodb().GetItemCommand)({
        TableName: this.table,
        Key: { pk: S(`idem#${key}`) },
        ConsistentRead: true,
      }),
    );
    if (!got.Item) {
      // The key item was rolled back between our write and this read: the caller may retry.
      throw Object.assign(new Error(`Idempotency-Key ${key} was released concurrently`), {
        name: "KeyReleased",
      });
    }
    return { jobId: got.Item.jobId.S!, requestHash: got.Item.requestHash.S!, fresh: false };
  }

  /** Writes the job as PENDING unless it exists; true when this call created it. */
  async createPending(
    job: Pick<Job, "jobId" | "type" | "input" | "expiresAt" | "idempotencyKey">,
    now: Date,
  ): Promise<boolean> {
    const at = now.toISOString();
    try {
      await this.db.send(
        new (sdkDynamodb().PutItemCommand)({
          TableName: this.table,
          Item: {
            pk: S(job.jobId),
            type: S(job.type),
            status: S("PENDING"),
            input: S(JSON.stringify(job.input)),
            createdAt: S(at),
            updatedAt: S(at),
            attempts: N(0),
            [TTL_ATTRIBUTE]: N(job.expiresAt),
            ...(job.idempotencyKey !== undefined ? { idempotencyKey: S(job.idempotencyKey) } : {}),
          },
          ConditionExpression: "attribute_not_exists(pk)",
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /** Undoes an accepted job whose processing could not be started (still PENDING, key still ours). */
  async rollback(jobId: string, key?: string): Promise<void> {
    const ignoreCondition = (e: unknown) => {
      if (!isConditionFailure(e)) throw e;
    };
    await this.db
      .send(
        new (sdkDynamodb().DeleteItemCommand)({
          TableName: this.table,
          Key: { pk: S(jobId) },
          ConditionExpression: "#s = :pending",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: { ":pending": S("PENDING") },
        }),
      )
      .catch(ignoreCondition);
    if (key !== undefined) {
      await this.db
        .send(
          new (sdkDynamodb().DeleteItemCommand)({
            TableName: this.table,
            Key: { pk: S(`idem#${key}`) },
            ConditionExpression: "jobId = :id",
            ExpressionAttributeValues: { ":id": S(jobId) },
          }),
        )
        .catch(ignoreCondition);
    }
  }

  async get(jobId: string): Promise<Job | undefined> {
    const got = await this.db.send(
      new (sdkDynamodb().GetItemCommand)({
        TableName: this.table,
        Key: { pk: S(jobId) },
        ConsistentRead: true,
      }),
    );
    return got.Item ? fromItem(got.Item) : undefined;
  }

  /**
   * Moves a PENDING or RUNNING job to RUNNING and counts the attempt. Returns "claimed", or the job
   * as it is when it is already finished, or undefined when there is no such job.
   */
  async markRunning(jobId: string, now: Date): Promise<"claimed" | Job | undefined> {
    const at = now.toISOString();
    try {
      await this.db.send(
        new (sdkDynamodb().UpdateItemCommand)({
          TableName: this.table,
          Key: { pk: S(jobId) },
          UpdateExpression:
            "SET #s = :running, updatedAt = :at, startedAt = if_not_exists(startedAt, :at) ADD attempts :one",
          ConditionExpression: "attribute_exists(pk) AND (#s = :pending OR #s = :running)",
          ExpressionAttributeNames: { "#s": "status" },
          ExpressionAttributeValues: {
            ":running": S("RUNNING"),
            ":pending": S("PENDING"),
            ":at": S(at),
            ":one": N(1),
          },
        }),
      );
      return "claimed";
    } catch (e) {
      if (!isConditionFailure(e)) throw e;
      return this.get(jobId);
    }
  }

  /** RUNNING -> SUCCEEDED with the result; false when the job was no longer RUNNING. */
  async markSucceeded(jobId: string, result: unknown, now: Date): Promise<boolean> {
    const at = now.toISOString();
    try {
      await this.db.send(
        new (sdkDynamodb().UpdateItemCommand)({
          TableName: this.table,
          Key: { pk: S(jobId) },
          UpdateExpression: "SET #s = :succeeded, #r = :result, updatedAt = :at, finishedAt = :at",
          ConditionExpression: "#s = :running",
          ExpressionAttributeNames: { "#s": "status", "#r": "result" },
          ExpressionAttributeValues: {
            ":succeeded": S("SUCCEEDED"),
            ":running": S("RUNNING"),
            ":result": S(JSON.stringify(result ?? null)),
            ":at": S(at),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }

  /**
   * Any state but SUCCEEDED -> FAILED with the job's parameters and the error. Creates the item from
   * the parameters when it is gone (expired or rolled back), so the failure stays visible. False
   * when the job had already succeeded (a late duplicate failure record).
   */
  async markFailed(
    jobId: string,
    params: { type: string; input: unknown },
    error: JobError,
    now: Date,
    expiresAt: number,
  ): Promise<boolean> {
    const at = now.toISOString();
    try {
      await this.db.send(
        new (sdkDynamodb().UpdateItemCommand)({
          TableName: this.table,
          Key: { pk: S(jobId) },
          UpdateExpression:
            "SET #s = :failed, #e = :error, #t = if_not_exists(#t, :type), #i = if_not_exists(#i, :input), " +
            "createdAt = if_not_exists(createdAt, :at), updatedAt = :at, finishedAt = :at, " +
            "attempts = if_not_exists(attempts, :attempts), #x = if_not_exists(#x, :expires)",
          ConditionExpression: "attribute_not_exists(pk) OR #s <> :succeeded",
          ExpressionAttributeNames: {
            "#s": "status",
            "#e": "error",
            "#t": "type",
            "#i": "input",
            "#x": TTL_ATTRIBUTE,
          },
          ExpressionAttributeValues: {
            ":failed": S("FAILED"),
            ":succeeded": S("SUCCEEDED"),
            ":error": S(JSON.stringify(error)),
            ":type": S(params.type),
            ":input": S(JSON.stringify(params.input ?? null)),
            ":at": S(at),
            ":attempts": N(error.attempts ?? 0),
            ":expires": N(expiresAt),
          },
        }),
      );
      return true;
    } catch (e) {
      if (isConditionFailure(e)) return false;
      throw e;
    }
  }
}
