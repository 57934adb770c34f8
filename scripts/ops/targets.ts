// A rule's target as the deployed stack holds it (ListTargetsByRule), the input it receives for an
// event (local/bus.ts's renderTargetInput, the one the twin's bus uses), and one delivery to it,
// the way EventBridge calls each kind of target components/events/route.ts declares.
import { randomUUID } from "crypto";
import { CreateLogStreamCommand, PutLogEventsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeApiDestinationCommand,
  DescribeConnectionCommand,
  ListTargetsByRuleCommand,
  PutEventsCommand,
  Target,
} from "@aws-sdk/client-eventbridge";
import { PutRecordCommand } from "@aws-sdk/client-firehose";
import { InvokeCommand } from "@aws-sdk/client-lambda";
import { GetSecretValueCommand } from "@aws-sdk/client-secrets-manager";
import { StartExecutionCommand } from "@aws-sdk/client-sfn";
import { PublishCommand } from "@aws-sdk/client-sns";
import { SendMessageCommand } from "@aws-sdk/client-sqs";
import type { TargetKind } from "../../components/events/route";
import { renderTargetInput, TargetInputSpec } from "../../local/bus";
import { OpsClients } from "./context";

/** The kind of target an ARN names (the kinds components/events/route.ts declares). */
export function targetKind(arn: string): TargetKind {
  const [, , service, , , ...rest] = arn.split(":");
  const resource = rest.join(":");
  switch (service) {
    case "lambda":
      return "lambda";
    case "sqs":
      return "sqs";
    case "sns":
      return "sns";
    case "states":
      return "stepfunctions";
    case "firehose":
      return "firehose";
    case "logs":
      return "logGroup";
    case "events":
      if (resource.startsWith("api-destination/")) return "apiDestination";
      if (resource.startsWith("event-bus/")) return "eventBus";
  }
  throw new Error(`${arn} is not a target ARN Switchyard routes declare`);
}

/** A rule ARN's bus and name: rule/<bus>/<name> on a custom bus, rule/<name> on the default. */
export function ruleOf(ruleArn: string): { bus: string; name: string } {
  const parts = ruleArn.split(":").slice(5).join(":").split("/");
  if (parts[0] !== "rule" || parts.length < 2) throw new Error(`${ruleArn} is not a rule ARN`);
  return parts.length === 2
    ? { bus: "default", name: parts[1] }
    : { bus: parts[1], name: parts.slice(2).join("/") };
}

/** The target of `ruleArn` whose ARN is `targetArn`, as deployed. */
export async function deployedTarget(
  c: OpsClients,
  ruleArn: string,
  targetArn: string,
): Promise<Target> {
  const { bus, name } = ruleOf(ruleArn);
  const targets: Target[] = [];
  let token: string | undefined;
  do {
    const out = await c.events.send(
      new ListTargetsByRuleCommand({ Rule: name, EventBusName: bus, NextToken: token }),
    );
    targets.push(...(out.Targets ?? []));
    token = out.NextToken;
  } while (token);
  const found = targets.filter((t) => t.Arn === targetArn);
  if (found.length === 0)
    throw new Error(`rule ${name} has no target ${targetArn} any more (was it removed?)`);
  return found[0];
}

/** The deployed target's Input, InputPath or InputTransformer, as the bus reads them. */
export function inputSpec(t: Target): TargetInputSpec {
  return {
    ...(t.Input !== undefined ? { input: t.Input } : {}),
    ...(t.InputPath !== undefined ? { inputPath: t.InputPath } : {}),
    ...(t.InputTransformer
      ? {
          inputTransformer: {
            inputPaths: t.InputTransformer.InputPathsMap,
            inputTemplate: t.InputTransformer.InputTemplate!,
          },
        }
      : {}),
  };
}

/**
 * What the target received (or would have) for `event`: the rule's transformer rendered with the
 * event's own time as ingestion time (EventBridge stamps it on receipt).
 */
export function inputFor(ruleArn: string, t: Target, event: { time: string }): string {
  return renderTargetInput(
    { arn: ruleArn, name: ruleOf(ruleArn).name },
    inputSpec(t),
    event,
    event.time,
  );
}

/**
 * Why a delivery failed: `definite` when the target (or AWS in front of it) answered and refused,
 * so it did not take the event; otherwise the event may have arrived (a timeout, a cut
 * connection) and only the target can tell.
 */
export class TargetRefused extends Error {
  constructor(
    message: string,
    public readonly definite: boolean,
  ) {
    super(message);
  }
}

/** An SDK error: definite when AWS answered with a status. */
function refused(e: unknown): TargetRefused {
  const err = e as { name?: string; message?: string; $metadata?: { httpStatusCode?: number } };
  return new TargetRefused(
    `${err.name ?? "Error"}: ${err.message ?? String(e)}`,
    err.$metadata?.httpStatusCode !== undefined,
  );
}

/** The event fields a delivery needs. */
export interface DeadLetteredEvent {
  id: string;
  source: string;
  "detail-type": string;
  detail: unknown;
  time: string;
  resources?: string[];
}

/** Delivers `input` to the target once, as EventBridge does; throws TargetRefused on failure. */
export async function deliver(
  c: OpsClients,
  target: Target,
  input: string,
  event: DeadLetteredEvent,
): Promise<string> {
  const arn = target.Arn!;
  const kind = targetKind(arn);
  try {
    switch (kind) {
      case "lambda": {
        // EventBridge invokes functions asynchronously: accepted is 202.
        const out = await c.lambda.send(
          new InvokeCommand({
            FunctionName: arn,
            InvocationType: "Event",
            Payload: Buffer.from(input),
          }),
        );
        return `Lambda accepted the invocation (${out.StatusCode})`;
      }
      case "sqs": {
        const [, , , region, account, queue] = arn.split(":");
        const out = await c.sqs.send(
          new SendMessageCommand({
            QueueUrl: `https://sqs.${region}.amazonaws.com/${account}/${queue}`,
            MessageBody: input,
            ...(target.SqsParameters?.MessageGroupId
              ? {
                  MessageGroupId: target.SqsParameters.MessageGroupId,
                  MessageDeduplicationId: event.id,
                }
              : {}),
          }),
        );
        return `SQS message ${out.MessageId}`;
      }
      case "sns": {
        const out = await c.sns.send(new PublishCommand({ TopicArn: arn, Message: input }));
        return `SNS message ${out.MessageId}`;
      }
      case "stepfunctions": {
        // Named after the event: a standard workflow refuses a second execution of that name.
        const out = await c.sfn.send(
          new StartExecutionCommand({
            stateMachineArn: arn,
            input,
            name: `redrive-${event.id}`.slice(0, 80),
          }),
        );
        return `execution ${out.executionArn}`;
      }
      case "eventBus": {
        const out = await c.events.send(
          new PutEventsCommand({
            Entries: [
              {
                EventBusName: arn,
                Source: event.source,
                DetailType: event["detail-type"],
                Detail: JSON.stringify(event.detail),
                Resources: event.resources,
                Time: new Date(event.time),
              },
            ],
          }),
        );
        const entry = out.Entries?.[0];
        if (out.FailedEntryCount)
          throw new TargetRefused(
            `PutEvents refused it: ${entry?.ErrorCode} ${entry?.ErrorMessage}`,
            true,
          );
        return `event ${entry?.EventId} on ${arn.split("/").pop()}`;
      }
      case "firehose": {
        await c.firehose.send(
          new PutRecordCommand({
            DeliveryStreamName: arn.split("/").pop(),
            Record: { Data: Buffer.from(input) },
          }),
        );
        return "Firehose record";
      }
      case "logGroup": {
        const logGroupName = arn.split(":log-group:")[1].replace(/:\*$/, "");
        const logStreamName = `switchyard-redrive-${new Date().toISOString().slice(0, 10)}`;
        try {
          await c.logs.send(new CreateLogStreamCommand({ logGroupName, logStreamName }));
        } catch (e) {
          if ((e as Error).name !== "ResourceAlreadyExistsException") throw e;
        }
        await c.logs.send(
          new PutLogEventsCommand({
            logGroupName,
            logStreamName,
            logEvents: [{ timestamp: new Date(event.time).getTime(), message: input }],
          }),
        );
        return `log stream ${logStreamName}`;
      }
      case "apiDestination":
        return await callApiDestination(c, target, input);
      default: {
        const never: never = kind;
        throw new Error(`no delivery for target kind ${String(never)}`);
      }
    }
  } catch (e) {
    if (e instanceof TargetRefused) throw e;
    throw refused(e);
  }
}

/**
 * Calls an API destination as EventBridge does: its endpoint and method, the connection's API key
 * (from the secret EventBridge keeps for the connection), the target's header parameters, 5 s.
 */
async function callApiDestination(c: OpsClients, target: Target, input: string): Promise<string> {
  const name = target.Arn!.split("/")[1];
  const destination = await c.events.send(new DescribeApiDestinationCommand({ Name: name }));
  const connection = await c.events.send(
    new DescribeConnectionCommand({ Name: destination.ConnectionArn!.split("/")[1] }),
  );
  const headers: Record<string, string> = {
    "content-type": "application/json; charset=utf-8",
    ...(target.HttpParameters?.HeaderParameters ?? {}),
  };
  if (connection.AuthorizationType === "API_KEY" && connection.SecretArn) {
    const secret = await c.secrets.send(
      new GetSecretValueCommand({ SecretId: connection.SecretArn }),
    );
    const key = JSON.parse(secret.SecretString ?? "{}") as {
      api_key_name?: string;
      api_key_value?: string;
    };
    if (key.api_key_name && key.api_key_value) headers[key.api_key_name] = key.api_key_value;
  } else if (connection.AuthorizationType) {
    throw new TargetRefused(
      `connection ${connection.Name} uses ${connection.AuthorizationType}; redrive calls API_KEY connections only`,
      true,
    );
  }
  let res: Response;
  try {
    res = await fetch(destination.InvocationEndpoint!, {
      method: destination.HttpMethod,
      headers,
      body: input,
      signal: AbortSignal.timeout(5000),
    });
  } catch (e) {
    // The request may have reached the endpoint before the connection failed.
    throw new TargetRefused(`API destination call failed: ${(e as Error).message}`, false);
  }
  const body = await res.text();
  if (res.status < 200 || res.status >= 300)
    throw new TargetRefused(`API destination answered ${res.status} ${body.slice(0, 200)}`, true);
  return `API destination answered ${res.status}`;
}

/** A run id for ledger claims. */
export const newRunId = () => randomUUID();
