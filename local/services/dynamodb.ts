// DynamoDB: the declared tables on moto_server (the endpoint forwards every DynamoDB request to
// it), and the streams of stream-enabled tables delivered through the declared event source
// mappings.
import * as fs from "fs";
import * as path from "path";
import {
  CreateTableCommand,
  ListTablesCommand,
  DynamoDBClient,
  UpdateTimeToLiveCommand,
} from "@aws-sdk/client-dynamodb";
import { arnFor, REGION } from "../mocks";
import type { LocalServices } from "../awsEndpoint";
import { MotoServer, startMotoServer } from "../motoServer";
import { LocalStreams, StreamTable } from "../streams";
import { nameOf, Runtime } from "./context";

/** Where --persist keeps moto_server's recording of DynamoDB requests, in .switchyard/dynamodb/<stack>. */
export const MOTO_RECORDING_FILE = "moto-recording.jsonl";

export interface DynamoDbOptions {
  persist?: boolean;
  /** Where --persist keeps data (dynamodb/<stack>). */
  stateDir: string;
  log(line: string): void;
}

export class DynamoDbService {
  public moto?: MotoServer;
  public url = "";
  public streams!: LocalStreams;

  constructor(private readonly opts: DynamoDbOptions) {}

  private client(): DynamoDBClient {
    return new DynamoDBClient({
      endpoint: this.url,
      region: REGION,
      credentials: { accessKeyId: "local", secretAccessKey: "local" },
    });
  }

  /** The file --persist records to, for a stack. */
  recordingFile(stack: string): string {
    return path.join(this.opts.stateDir, "dynamodb", stack, MOTO_RECORDING_FILE);
  }

  /**
   * Starts moto_server. It keeps nothing on disk itself: with --persist it records every request it
   * is sent (its recorder, MOTO_ENABLE_RECORDING) to .switchyard/dynamodb/<stack>/moto-recording.jsonl
   * and replays that recording when the next run starts, so the tables come back as they were.
   */
  async start(stack: string): Promise<void> {
    const dataDir = path.join(this.opts.stateDir, "dynamodb", stack);
    const recording = this.recordingFile(stack);
    if (this.opts.persist) {
      fs.mkdirSync(dataDir, { recursive: true });
      const leftovers = fs.readdirSync(dataDir).filter((f) => f !== MOTO_RECORDING_FILE);
      if (leftovers.length > 0 && !fs.existsSync(recording)) {
        this.opts.log(
          `DynamoDB: ${dataDir} holds data of an earlier local DynamoDB (dynalite), which moto_server cannot read: the tables start empty`,
        );
      }
    }
    this.moto = await startMotoServer(
      this.opts.persist
        ? { env: { MOTO_ENABLE_RECORDING: "True", MOTO_RECORDER_FILEPATH: recording } }
        : {},
    );
    this.url = this.moto.url;
    // moto loads a service's backend on its first request, and the SDK its request pipeline on a
    // client's first send (together most of a tenth of a second): both happen while the program is
    // still being evaluated (it waits on esbuild), not when the tables are created.
    const warm = this.client();
    void warm.send(new ListTablesCommand({})).then(
      () => warm.destroy(),
      () => warm.destroy(),
    );
    if (this.opts.persist && fs.existsSync(recording) && fs.statSync(recording).size > 0) {
      const res = await fetch(`${this.url}/moto-api/recorder/replay-recording`, {
        method: "POST",
      });
      await res.text();
      if (!res.ok)
        throw new Error(
          `DynamoDB: replaying ${recording} failed (${res.status}); move the file away to start empty`,
        );
      this.opts.log(`DynamoDB: replayed ${recording}`);
    }
  }

  /** Creates each declared table with its keys, indexes and TTL attribute. */
  async createTables(rt: Runtime): Promise<void> {
    const tables = rt.of("aws:dynamodb/table:Table");
    const client = this.client();
    // Each table's calls in turn, the tables side by side: moto answers each call in tens of ms.
    const create = async (t: (typeof tables)[number]): Promise<string> => {
      const i = t.inputs;
      const keys = [
        { AttributeName: i.hashKey, KeyType: "HASH" as const },
        ...(i.rangeKey ? [{ AttributeName: i.rangeKey, KeyType: "RANGE" as const }] : []),
      ];
      const projection = (g: any) => ({
        ProjectionType: g.projectionType ?? "ALL",
        ...(g.nonKeyAttributes ? { NonKeyAttributes: g.nonKeyAttributes } : {}),
      });
      const throughput = { ReadCapacityUnits: 5, WriteCapacityUnits: 5 };
      try {
        await client.send(
          new CreateTableCommand({
            TableName: nameOf(t),
            KeySchema: keys,
            AttributeDefinitions: (i.attributes ?? []).map((a: any) => ({
              AttributeName: a.name,
              AttributeType: a.type,
            })),
            ProvisionedThroughput: throughput,
            ...(i.globalSecondaryIndexes?.length
              ? {
                  GlobalSecondaryIndexes: i.globalSecondaryIndexes.map((g: any) => ({
                    IndexName: g.name,
                    KeySchema: [
                      { AttributeName: g.hashKey, KeyType: "HASH" },
                      ...(g.rangeKey ? [{ AttributeName: g.rangeKey, KeyType: "RANGE" }] : []),
                    ],
                    Projection: projection(g),
                    ProvisionedThroughput: throughput,
                  })),
                }
              : {}),
            ...(i.localSecondaryIndexes?.length
              ? {
                  LocalSecondaryIndexes: i.localSecondaryIndexes.map((g: any) => ({
                    IndexName: g.name,
                    KeySchema: [
                      { AttributeName: i.hashKey, KeyType: "HASH" },
                      { AttributeName: g.rangeKey, KeyType: "RANGE" },
                    ],
                    Projection: projection(g),
                  })),
                }
              : {}),
          }),
        );
      } catch (e: any) {
        if (e.name !== "ResourceInUseException") throw e;
      }
      if (i.ttl?.enabled && i.ttl.attributeName) {
        // Declared, as on AWS; moto_server does not delete expired items.
        await client.send(
          new UpdateTimeToLiveCommand({
            TableName: nameOf(t),
            TimeToLiveSpecification: { AttributeName: i.ttl.attributeName, Enabled: true },
          }),
        );
      }
      return `table ${nameOf(t)} (${keys.map((k) => k.AttributeName).join(", ")})`;
    };
    try {
      for (const line of await Promise.all(tables.map(create))) rt.log(line);
    } finally {
      client.destroy();
    }
  }

  /** The streams of stream-enabled tables and the event source mappings that read them. */
  buildStreams(rt: Runtime): void {
    const tables = new Map<string, StreamTable>();
    for (const t of rt.of("aws:dynamodb/table:Table").filter((x) => x.inputs.streamEnabled)) {
      const arn = arnFor(t.type, t.name, t.inputs);
      tables.set(nameOf(t), {
        name: nameOf(t),
        arn,
        streamArn: `${arn}/stream/2026-01-01T00:00:00.000`,
        keys: [t.inputs.hashKey, t.inputs.rangeKey].filter(Boolean),
        viewType: t.inputs.streamViewType ?? "NEW_AND_OLD_IMAGES",
      });
    }
    const mappings = rt
      .of("aws:lambda/eventSourceMapping:EventSourceMapping")
      .filter((m) => String(m.inputs.eventSourceArn).includes(":dynamodb:"))
      .map((m) => ({
        uuid: m.name,
        streamArn: m.inputs.eventSourceArn,
        functionName: String(m.inputs.functionName),
        batchSize: m.inputs.batchSize ?? 100,
        reportBatchItemFailures: (m.inputs.functionResponseTypes ?? []).includes(
          "ReportBatchItemFailures",
        ),
        bisectOnError: Boolean(m.inputs.bisectBatchOnFunctionError),
        maximumRetryAttempts: m.inputs.maximumRetryAttempts ?? -1,
        onFailure: m.inputs.destinationConfig?.onFailure?.destinationArn,
      }));
    this.streams = new LocalStreams(tables, mappings, {
      dynamo: this.client(),
      region: REGION,
      invoke: (fn, event) => rt.services.lambda.lambdas.invoke(fn, event),
      sendToDestination: async (arn, message) => {
        const service = arn.split(":")[2];
        if (service === "sqs") rt.services.sqs.send(arn, JSON.stringify(message), {});
        else if (service === "sns")
          rt.services.sns.publish({
            TopicArn: arn,
            Message: JSON.stringify(message),
            MessageAttributes: {},
          });
        else rt.log(`  destination ${arn} is not served locally`);
      },
      log: (l) => rt.log(l),
    });
  }

  /** What the AWS endpoint needs of DynamoDB: where moto listens, and the stream hook on writes. */
  endpoint(): Pick<LocalServices, "dynamodbUrl" | "aroundDynamoWrite"> {
    return {
      dynamodbUrl: this.url,
      aroundDynamoWrite: (op, request, forward) =>
        this.streams.aroundDynamoWrite(op, request, forward),
    };
  }

  stop(): Promise<void> | undefined {
    return this.moto?.stop();
  }
}
