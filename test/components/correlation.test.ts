// A correlation id given to a webhook is carried into the event the receiver publishes and on to
// the verification workflow's execution input. The webhook leg runs the receiver's
// makeHandler against local DynamoDB; the workflow leg renders the route's recorded transformer
// and executes the recorded definition with aws-local-stepfunctions.
import { expect } from "chai";
import * as crypto from "crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { correlationIdFrom, CORRELATION_HEADER } from "../../handlers/lib/telemetry";
import { makeHandler } from "../../handlers/webhooks/receiver";
import { makeRelay } from "../../handlers/webhooks/relay";
import { RelayStreams } from "../handlers/webhooks/localServices";
import { hmacRequestHeaders } from "../../handlers/webhooks/providers/hmac";
import { matchesPattern } from "../../lib/eventPattern";
import { renderToJson } from "../../lib/inputTransformer";
import { evaluateProgram } from "../program";
import { startLocalDynamo } from "../support/aws";
import { settle, valueOf } from "../mocks";
import { accepted, anchored, execute, sampleEvent } from "./verificationHarness";

/** The record fields of a verification request, as the route renders them. */
const recordFields = (e: Record<string, any>) => {
  const { tenantId, database, collection, recordId, recordVersion, payload } = e.detail;
  return { tenantId, database, collection, recordId, recordVersion, payload };
};

const SECRET = "correlation-test-secret";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

/**
 * One signed delivery through the receiver's makeHandler and the relay its table's stream feeds
 * (deliveries on dynalite; Secrets Manager and EventBridge behind their SDK clients), answered 200:
 * the entry the relay published, and the event as EventBridge delivers it to a rule's target.
 */
async function deliver(
  provider: "github" | "hmac",
  body: string,
  headers: Record<string, string>,
): Promise<{ entry: any; busEvent: any }> {
  const table = `correlation-${provider}-idempotency`;
  const eventId = crypto.randomUUID();
  const ddb = await startLocalDynamo();
  await ddb.createTable(table, "id");
  const streams = new RelayStreams(ddb.client);
  const eventBridge = new EventBridgeClient({ region: "eu-west-1", credentials });
  const secretsManager = new SecretsManagerClient({ region: "eu-west-1", credentials });
  const eb = mockClient(eventBridge);
  const sm = mockClient(secretsManager);
  eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: eventId }] });
  sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
  try {
    const handler = makeHandler({
      config: {
        provider,
        secretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${provider}-AbCdEf`,
        idempotencyTable: table,
        idempotencyTtlSeconds: 3600,
        maxEntryBytes: 262144,
        toleranceSeconds: 300,
        payloadPrefix: `${provider}/`,
      },
      secretsManager,
      dynamodb: streams.client,
    });
    streams.feed(
      table,
      makeRelay({
        config: {
          eventBusArn: "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-dev",
          maxEntryBytes: 262144,
          deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/switchyard-dev-dlq",
        },
        sqs: { send: async () => Promise.reject(new Error("no dead letter expected")) },
        eventBridge,
      }),
    );
    const res = await handler(
      {
        version: "2.0",
        routeKey: "$default",
        rawPath: `/${provider}`,
        rawQueryString: "",
        headers,
        requestContext: {
          http: { method: "POST", path: `/${provider}` },
          domainName: "x.lambda-url.eu-west-1.on.aws",
          requestId: "req-1",
        },
        body,
        isBase64Encoded: false,
      } as any,
      {
        awsRequestId: "req-1",
        functionName: `webhooks-${provider}`,
        getRemainingTimeInMillis: () => 10000,
      } as any,
    );
    expect(res.statusCode).to.equal(200);
    await streams.settled();
    const calls = eb.commandCalls(PutEventsCommand);
    expect(calls).to.have.length(1);
    const entry = calls[0].args[0].input.Entries![0];
    const busEvent = {
      version: "0",
      id: eventId,
      "detail-type": entry.DetailType,
      source: entry.Source,
      account: "123456789012",
      time: "2026-11-21T10:00:00Z",
      region: "eu-west-1",
      resources: [],
      detail: JSON.parse(entry.Detail!),
    };
    return { entry, busEvent };
  } finally {
    eb.restore();
    sm.restore();
    await ddb.close();
  }
}

describe("correlation id: webhook to bus event to workflow", () => {
  const CORRELATION_ID = "corr-e2e-42";
  let published: any;
  let busEvent: any;

  before(async () => {
    const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "acme/site" } });
    ({ entry: published, busEvent } = await deliver("github", body, {
      "content-type": "application/json",
      "x-github-event": "push",
      // GitHub's scheme signs no correlation header: the delivery id is the correlation id, and an
      // x-correlation-id beside it is not trusted.
      "x-github-delivery": CORRELATION_ID,
      "x-hub-signature-256": `sha256=${crypto.createHmac("sha256", SECRET).update(body).digest("hex")}`,
      [CORRELATION_HEADER]: "unsigned-label",
    }));
  });

  it("appears in the event the relay publishes for the receiver, where every handler reads it back", () => {
    // The relay names the hub's bus by its ARN (the TARGET_ARN of its dead letters too).
    expect(published.EventBusName).to.equal(
      "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-dev",
    );
    expect(busEvent.detail.correlationId).to.equal(CORRELATION_ID);
    expect(correlationIdFrom(busEvent)).to.equal(CORRELATION_ID);
  });

  // A GitHub push does not request a verification (only the receivers named in
  // verificationWebhookProviders do, next describe). The id reaches the workflow when a downstream
  // producer that handles the webhook's event publishes a RecordVerificationRequested event whose
  // detail propagates the id it read back; the verification route (recorded from the dev
  // program) then carries it into the input.
  it("appears in the verification workflow's execution input and notification when the request event propagates it", async () => {
    const p = await evaluateProgram("dev");
    await valueOf(p.exports.verificationStateMachineArn);
    await settle();
    const rule = p.resources.find(
      (r) =>
        r.type === "aws:cloudwatch/eventRule:EventRule" && r.name === "switchyard-dev-verification",
    )!;
    const target = p.resources.find(
      (r) =>
        r.type === "aws:cloudwatch/eventTarget:EventTarget" &&
        r.name === "switchyard-dev-verification-workflow",
    )!;
    const machine = p.resources.find(
      (r) => r.type === "aws:sfn/stateMachine:StateMachine" && r.name === "switchyard-dev-verify",
    )!;
    expect(target.inputs.arn).to.equal(await valueOf(p.exports.verificationStateMachineArn));
    const pattern = JSON.parse(rule.inputs.eventPattern);
    const transformer = target.inputs.inputTransformer;
    // The premise above, checked: the webhook's own event does not start the workflow.
    expect(matchesPattern(pattern, busEvent)).to.equal(false);

    const request = sampleEvent({ correlationId: correlationIdFrom(busEvent) });
    expect(request.id).to.not.equal(busEvent.id);
    expect(matchesPattern(pattern, request)).to.equal(true);
    const input = renderToJson(
      { inputPathsMap: transformer.inputPaths, inputTemplate: transformer.inputTemplate },
      request,
    );
    expect(input).to.deep.equal({
      ...recordFields(request),
      correlationId: CORRELATION_ID,
      eventId: request.id,
    });

    const definition = JSON.parse(machine.inputs.definition);
    // The dev stack's records API (Pulumi.dev.yaml), which the recorded HTTP Tasks call.
    const apiRoot = "https://sandbox.records.example.com";
    expect(definition.States.Ingest.Parameters.ApiEndpoint).to.equal(`${apiRoot}/api/v1/records`);
    const run = await execute(
      definition,
      input,
      { "/api/v1/records": [accepted], "/api/v1/verify/record": [anchored()] },
      apiRoot,
    );
    expect(run.error).to.equal(undefined);
    expect(run.path.slice(0, 4)).to.deep.equal([
      "PickCorrelationId",
      "KeepCorrelationId",
      "Prepare",
      "Ingest",
    ]);
    expect(run.topic.published).to.have.length(1);
    expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
      outcome: "anchored",
      correlationId: CORRELATION_ID,
    });
    // Without the propagated id, the same request would be correlated by its own event id.
    const { correlationId: _dropped, ...detail } = request.detail;
    const unpropagated = renderToJson(
      { inputPathsMap: transformer.inputPaths, inputTemplate: transformer.inputTemplate },
      { ...request, detail },
    );
    const other = await execute(
      definition,
      unpropagated,
      { "/api/v1/records": [{ status: 400 }] },
      apiRoot,
    );
    expect(other.path.slice(0, 2)).to.deep.equal(["PickCorrelationId", "UseEventId"]);
    expect(JSON.parse(other.topic.published[0].Message).correlationId).to.equal(request.id);
  });
});

// Pulumi.dev.yaml sets verificationWebhookProviders ["hmac","standard"]: a signed request to the
// generic HMAC receiver starts the workflow itself. Every step runs what is declared: the
// receiver's handler publishes, the dev program's rules (all of them) decide where the event goes,
// the matching target's transformer renders the input and the deployed definition executes it.
describe("correlation id: a verification request delivered to a webhook starts the workflow with it", () => {
  const CORRELATION_ID = "corr-webhook-verify-7";
  const request = {
    tenantId: "acme",
    database: "billing",
    collection: "invoices",
    recordId: "inv-42",
    recordVersion: 3,
    payload: { total: 120 },
  };
  let busEvent: any;

  before(async () => {
    const body = JSON.stringify(request);
    ({ busEvent } = await deliver("hmac", body, {
      "content-type": "application/json",
      // The correlation id is signed with the rest: the receiver trusts no unsigned header.
      ...hmacRequestHeaders(
        SECRET,
        {
          id: "delivery-77",
          timestamp: Math.floor(Date.now() / 1000),
          event: "RecordVerificationRequested",
          correlationId: CORRELATION_ID,
        },
        body,
      ),
    }));
  });

  it("the published event matches the webhook verification route only, and its execution and notification carry the id", async () => {
    expect(busEvent.source).to.equal("switchyard.webhooks.hmac");
    expect(busEvent["detail-type"]).to.equal("RecordVerificationRequested");
    expect(busEvent.detail.correlationId).to.equal(CORRELATION_ID);

    const p = await evaluateProgram("dev");
    await valueOf(p.exports.verificationStateMachineArn);
    await settle();
    const matched = p.resources
      .filter((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && r.inputs.eventPattern)
      .filter((r) => matchesPattern(JSON.parse(r.inputs.eventPattern), busEvent))
      .map((r) => r.name);
    // The debug route logs every event of the dev bus; nothing else but the HMAC receiver's verification route.
    expect(matched.sort()).to.deep.equal([
      "switchyard-dev-debug",
      "switchyard-dev-verification-hmac",
    ]);

    const target = p.resources.find(
      (r) =>
        r.type === "aws:cloudwatch/eventTarget:EventTarget" &&
        r.name === "switchyard-dev-verification-hmac-workflow",
    )!;
    expect(target.inputs.arn).to.equal(await valueOf(p.exports.verificationStateMachineArn));
    const t = target.inputs.inputTransformer;
    const input = renderToJson(
      { inputPathsMap: t.inputPaths, inputTemplate: t.inputTemplate },
      busEvent,
    );
    expect(input).to.deep.equal({
      ...request,
      correlationId: CORRELATION_ID,
      eventId: busEvent.id,
    });

    const machine = p.resources.find(
      (r) => r.type === "aws:sfn/stateMachine:StateMachine" && r.name === "switchyard-dev-verify",
    )!;
    const definition = JSON.parse(machine.inputs.definition);
    const run = await execute(
      definition,
      input,
      { "/api/v1/records": [accepted], "/api/v1/verify/record": [anchored()] },
      "https://sandbox.records.example.com",
    );
    expect(run.error).to.equal(undefined);
    expect(run.path.slice(0, 2)).to.deep.equal(["PickCorrelationId", "KeepCorrelationId"]);
    expect(JSON.parse(run.topic.published[0].Message)).to.deep.include({
      outcome: "anchored",
      correlationId: CORRELATION_ID,
      recordId: "inv-42",
    });
  });
});
