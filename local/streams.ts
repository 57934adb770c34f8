// Local DynamoDB Streams and their event source mappings. The local DynamoDB's own streams are not
// used: the runtime reads each item before and after a write to a stream-enabled table (each item a
// transaction writes, too) and emits the record DynamoDB would (INSERT, MODIFY, REMOVE with the view
// type's images). Mappings deliver records in batches
// like Lambda's poller: partial batch failures are retried from the first failed record, errors
// bisect the batch when asked, and records that exhaust their retries go to the on-failure
// destination with the batch information Lambda sends.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { randomUUID } from "crypto";

export interface StreamTable {
  name: string;
  arn: string;
  streamArn: string;
  keys: string[];
  viewType: string;
}

export interface StreamMapping {
  uuid: string;
  streamArn: string;
  functionName: string;
  batchSize: number;
  reportBatchItemFailures: boolean;
  bisectOnError: boolean;
  /** -1 = until the record expires (24 h), as Lambda's default. */
  maximumRetryAttempts: number;
  onFailure?: string;
}

export interface StreamDeps {
  /** A client of the tables' DynamoDB (its `send` is all that is used). */
  dynamo: Pick<DynamoDBClient, "send">;
  region: string;
  invoke(functionName: string, event: unknown): Promise<any>;
  sendToDestination(arn: string, message: unknown): Promise<void>;
  log(line: string): void;
}

/** Throttled retries of one batch before it counts as failed (about 3 hours at 1 s apart). */
const MAX_THROTTLE_RETRIES = 10_000;

export class LocalStreams {
  // DynamoDB's sequence numbers are 21-digit decimal strings, increasing within a shard: past
  // Number.MAX_SAFE_INTEGER, so counted as a bigint (a number would stop increasing).
  private seq = 100000000000000000000n;
  private readonly queues = new Map<string, any[]>();
  private readonly running = new Map<string, Promise<void>>();

  constructor(
    private readonly tables: Map<string, StreamTable>,
    private readonly mappings: StreamMapping[],
    private readonly deps: StreamDeps,
  ) {}

  private async read(table: StreamTable, key: any): Promise<any | undefined> {
    const out = await this.deps.dynamo.send(
      new (
        require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb")
      ).GetItemCommand({ TableName: table.name, Key: key, ConsistentRead: true }),
    );
    return out.Item;
  }

  private keyOf(table: StreamTable, item: any): any {
    return Object.fromEntries(table.keys.map((k) => [k, item[k]]));
  }

  /** The hook the AWS endpoint calls around each DynamoDB write. */
  async aroundDynamoWrite(
    operation: string,
    request: any,
    forward: () => Promise<number>,
  ): Promise<void> {
    const touched: Array<{ table: StreamTable; key: any }> = [];
    const add = (tableName: string, keyOrItem: any, isItem: boolean) => {
      const table = this.tables.get(tableName);
      if (table) touched.push({ table, key: isItem ? this.keyOf(table, keyOrItem) : keyOrItem });
    };
    if (operation === "PutItem") add(request.TableName, request.Item, true);
    else if (operation === "UpdateItem" || operation === "DeleteItem")
      add(request.TableName, request.Key, false);
    else if (operation === "BatchWriteItem") {
      for (const [tableName, reqs] of Object.entries<any[]>(request.RequestItems ?? {})) {
        for (const r of reqs) {
          if (r.PutRequest) add(tableName, r.PutRequest.Item, true);
          else add(tableName, r.DeleteRequest.Key, false);
        }
      }
    } else if (operation === "TransactWriteItems") {
      // All or nothing: records only when the transaction succeeded, one per item it changed (a
      // ConditionCheck changes nothing).
      for (const t of request.TransactItems ?? []) {
        if (t.Put) add(t.Put.TableName, t.Put.Item, true);
        else if (t.Update) add(t.Update.TableName, t.Update.Key, false);
        else if (t.Delete) add(t.Delete.TableName, t.Delete.Key, false);
      }
    }
    if (touched.length === 0) {
      await forward();
      return;
    }
    const before = await Promise.all(touched.map((t) => this.read(t.table, t.key)));
    const status = await forward();
    if (status !== 200) return;
    // A PutItem that succeeded leaves exactly its Item: no read needed (an update or a delete
    // leaves what only a read can tell).
    const after =
      operation === "PutItem"
        ? [request.Item]
        : await Promise.all(touched.map((t) => this.read(t.table, t.key)));
    touched.forEach((t, i) => this.emit(t.table, t.key, before[i], after[i]));
  }

  private emit(table: StreamTable, key: any, oldImage: any, newImage: any): void {
    if (!oldImage && !newImage) return;
    // DynamoDB writes no stream record for a write that changes nothing in the item.
    if (oldImage && newImage && canonical(oldImage) === canonical(newImage)) return;
    const eventName = !oldImage ? "INSERT" : !newImage ? "REMOVE" : "MODIFY";
    const view = table.viewType;
    const record = {
      eventID: randomUUID().replace(/-/g, ""),
      eventName,
      eventVersion: "1.1",
      eventSource: "aws:dynamodb",
      awsRegion: this.deps.region,
      dynamodb: {
        ApproximateCreationDateTime: Math.floor(Date.now() / 1000),
        Keys: key,
        ...(newImage && (view === "NEW_IMAGE" || view === "NEW_AND_OLD_IMAGES")
          ? { NewImage: newImage }
          : {}),
        ...(oldImage && (view === "OLD_IMAGE" || view === "NEW_AND_OLD_IMAGES")
          ? { OldImage: oldImage }
          : {}),
        SequenceNumber: String(this.seq++),
        SizeBytes: JSON.stringify(newImage ?? oldImage).length,
        StreamViewType: view,
      },
      eventSourceARN: table.streamArn,
    };
    for (const m of this.mappings.filter((x) => x.streamArn === table.streamArn)) {
      const q = this.queues.get(m.uuid) ?? [];
      q.push(record);
      this.queues.set(m.uuid, q);
      this.pump(m);
    }
  }

  private pump(m: StreamMapping): void {
    if (this.running.has(m.uuid)) return;
    const p = (async () => {
      // Let writes of the same moment share a batch, as the poller does.
      await new Promise((r) => setTimeout(r, 10));
      const q = this.queues.get(m.uuid)!;
      while (q.length) {
        const batch = q.splice(0, m.batchSize);
        await this.process(m, batch, 0);
      }
    })().finally(() => {
      this.running.delete(m.uuid);
      if (this.queues.get(m.uuid)?.length) this.pump(m);
    });
    this.running.set(m.uuid, p);
  }

  private async process(m: StreamMapping, records: any[], attempts: number): Promise<void> {
    let batch = records;
    let throttles = 0;
    for (;;) {
      const exhausted = () => m.maximumRetryAttempts !== -1 && attempts >= m.maximumRetryAttempts;
      try {
        const result = await this.deps.invoke(m.functionName, { Records: batch });
        const failures: Array<{ itemIdentifier: string }> = m.reportBatchItemFailures
          ? (result?.batchItemFailures ?? [])
          : [];
        if (failures.length === 0) {
          this.deps.log(
            `  stream ${m.streamArn.split("/")[1]} -> ${m.functionName}: ${batch.length} records`,
          );
          return;
        }
        const first = Math.min(
          ...failures
            .map((f) => batch.findIndex((r) => r.dynamodb.SequenceNumber === f.itemIdentifier))
            .filter((i) => i >= 0),
        );
        const failed = Number.isFinite(first) ? batch.slice(first) : batch;
        this.deps.log(
          `  stream ${m.streamArn.split("/")[1]} -> ${m.functionName}: ${failures.length} of ${batch.length} records failed`,
        );
        if (exhausted()) return this.fail(m, failed, "RetryAttemptsExhausted");
        attempts++;
        batch = failed;
      } catch (e) {
        // The runtime is stopping: nothing will serve the batch any more.
        if ((e as { stopping?: boolean }).stopping) return;
        // A throttle (reserved concurrency reached) is not the function's error: Lambda retries
        // the same batch, without counting an attempt or bisecting it.
        if ((e as Error).name === "TooManyRequestsException" && throttles < MAX_THROTTLE_RETRIES) {
          this.deps.log(
            `  stream ${m.streamArn.split("/")[1]} -> ${m.functionName}: throttled, batch of ${batch.length} retried`,
          );
          await new Promise((r) => setTimeout(r, Math.min(1000, 20 * 2 ** Math.min(throttles, 6))));
          throttles++;
          continue;
        }
        this.deps.log(
          `  stream ${m.streamArn.split("/")[1]} -> ${m.functionName}: batch of ${batch.length} failed: ${(e as Error).message}`,
        );
        if (exhausted()) return this.fail(m, batch, "RetryAttemptsExhausted");
        attempts++;
        if (m.bisectOnError && batch.length > 1) {
          const half = Math.ceil(batch.length / 2);
          await this.process(m, batch.slice(0, half), attempts);
          await this.process(m, batch.slice(half), attempts);
          return;
        }
      }
    }
  }

  private async fail(m: StreamMapping, records: any[], condition: string): Promise<void> {
    if (!m.onFailure) {
      this.deps.log(
        `  stream ${m.functionName}: dropped ${records.length} records (no on-failure destination)`,
      );
      return;
    }
    await this.deps.sendToDestination(m.onFailure, {
      requestContext: {
        requestId: randomUUID(),
        functionArn: m.functionName,
        condition,
        approximateInvokeCount: 1,
      },
      responseContext: { statusCode: 200, executedVersion: "$LATEST", functionError: "Unhandled" },
      version: "1.0",
      timestamp: new Date().toISOString(),
      DDBStreamBatchInfo: {
        shardId: "shardId-local",
        startSequenceNumber: records[0].dynamodb.SequenceNumber,
        endSequenceNumber: records[records.length - 1].dynamodb.SequenceNumber,
        approximateArrivalOfFirstRecord: new Date(
          records[0].dynamodb.ApproximateCreationDateTime * 1000,
        ).toISOString(),
        approximateArrivalOfLastRecord: new Date(
          records[records.length - 1].dynamodb.ApproximateCreationDateTime * 1000,
        ).toISOString(),
        batchSize: records.length,
        streamArn: m.streamArn,
      },
    });
    this.deps.log(
      `  stream ${m.functionName}: ${records.length} records sent to ${m.onFailure.split(":").pop()}`,
    );
  }

  async drain(): Promise<void> {
    while (this.running.size) await Promise.allSettled([...this.running.values()]);
  }
}

/** JSON with every object's keys sorted: equal for equal items, whatever order they were written in. */
function canonical(v: unknown): string {
  if (Array.isArray(v)) return `[${v.map(canonical).join(",")}]`;
  if (v && typeof v === "object")
    return `{${Object.keys(v)
      .sort()
      .map((k) => `${JSON.stringify(k)}:${canonical((v as Record<string, unknown>)[k])}`)
      .join(",")}}`;
  return JSON.stringify(v);
}
