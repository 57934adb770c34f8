// DynamoDB: the declared tables on moto_server (created there by the apply at start; the endpoint
// forwards every DynamoDB request to it), and the streams of stream-enabled tables delivered through the declared event source
// mappings.
import type { DynamoDBClient } from "@aws-sdk/client-dynamodb";
import { arnFor, REGION } from "../mocks";
import type { LocalServices } from "../awsEndpoint";
import { LocalStreams, StreamTable } from "../streams";
import { nameOf, Runtime } from "./context";
import { LOCAL_CREDENTIALS } from "../credentials";

export class DynamoDbService {
  public streams!: LocalStreams;

  constructor(private readonly rt: Runtime) {}

  /** moto_server, where the tables are (applied at start: local/services/moto.ts). */
  get url(): string {
    return this.rt.services.moto.url;
  }

  private dynamo?: DynamoDBClient;

  /** Built on first use (the first stream record read), not before the run serves. */
  private client(): DynamoDBClient {
    const { DynamoDBClient } =
      require("@aws-sdk/client-dynamodb") as typeof import("@aws-sdk/client-dynamodb");
    return (this.dynamo ??= new DynamoDBClient({
      endpoint: this.url,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    }));
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
      dynamo: { send: (command: any) => this.client().send(command) },
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
}
