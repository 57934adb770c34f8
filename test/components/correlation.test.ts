// A correlation id given to a webhook is carried into the event the receiver publishes and on to
// the verification workflow's execution input (issue #8). The webhook leg runs the receiver's
// makeHandler against local DynamoDB; the workflow leg renders the route's recorded transformer.
import { expect } from "chai";
import * as crypto from "crypto";
import { EventBridgeClient, PutEventsCommand } from "@aws-sdk/client-eventbridge";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { mockClient } from "aws-sdk-client-mock";
import { startDynalite } from "../../bench/webhook";
import { correlationIdFrom, CORRELATION_HEADER } from "../../handlers/lib/telemetry";
import { makeHandler } from "../../handlers/webhooks/receiver";
import { matchesPattern } from "../../lib/eventPattern";
import { renderToJson } from "../../lib/inputTransformer";
import { evaluateProgram } from "../program";
import { recorded, settle, valueOf } from "../mocks";

const SECRET = "correlation-test-secret";
const credentials = { accessKeyId: "local", secretAccessKey: "local" };

describe("correlation id: webhook to bus event to workflow", () => {
  const CORRELATION_ID = "corr-e2e-42";
  let published: any;
  let busEvent: any;

  before(async () => {
    const ddb = await startDynalite("correlation-idempotency");
    const eventBridge = new EventBridgeClient({ region: "eu-west-1", credentials });
    const secretsManager = new SecretsManagerClient({ region: "eu-west-1", credentials });
    const eb = mockClient(eventBridge);
    const sm = mockClient(secretsManager);
    eb.on(PutEventsCommand).resolves({ FailedEntryCount: 0, Entries: [{ EventId: "11111111-2222-4333-8444-555555555555" }] });
    sm.on(GetSecretValueCommand).resolves({ SecretString: SECRET });
    try {
      const handler = makeHandler({
        config: {
          provider: "github",
          secretArn: "arn:aws:secretsmanager:eu-west-1:123456789012:secret:gh-AbCdEf",
          idempotencyTable: "correlation-idempotency",
          idempotencyTtlSeconds: 3600,
          eventBusName: "switchyard-dev",
          maxEntryBytes: 262144,
          toleranceSeconds: 300,
          payloadPrefix: "github/",
        },
        eventBridge,
        secretsManager,
        dynamodb: ddb.client,
      });
      const body = JSON.stringify({ ref: "refs/heads/main", repository: { full_name: "acme/site" } });
      const res = await handler(
        {
          version: "2.0",
          routeKey: "$default",
          rawPath: "/github",
          rawQueryString: "",
          headers: {
            "content-type": "application/json",
            "x-github-event": "push",
            "x-github-delivery": crypto.randomUUID(),
            "x-hub-signature-256": `sha256=${crypto.createHmac("sha256", SECRET).update(body).digest("hex")}`,
            [CORRELATION_HEADER]: CORRELATION_ID,
          },
          requestContext: { http: { method: "POST", path: "/github" }, domainName: "x.lambda-url.eu-west-1.on.aws", requestId: "req-1" },
          body,
          isBase64Encoded: false,
        } as any,
        { awsRequestId: "req-1", functionName: "webhooks-github", getRemainingTimeInMillis: () => 10000 } as any,
      );
      expect(res.statusCode).to.equal(200);
      const calls = eb.commandCalls(PutEventsCommand);
      expect(calls).to.have.length(1);
      published = calls[0].args[0].input.Entries![0];
      // The event as EventBridge delivers it to a rule's target.
      busEvent = {
        version: "0",
        id: "11111111-2222-4333-8444-555555555555",
        "detail-type": published.DetailType,
        source: published.Source,
        account: "123456789012",
        time: "2026-11-21T10:00:00Z",
        region: "eu-west-1",
        resources: [],
        detail: JSON.parse(published.Detail),
      };
    } finally {
      eb.restore();
      sm.restore();
      await ddb.close();
    }
  });

  it("appears in the event the receiver publishes, where every handler reads it back", () => {
    expect(published.EventBusName).to.equal("switchyard-dev");
    expect(busEvent.detail.correlationId).to.equal(CORRELATION_ID);
    expect(correlationIdFrom(busEvent)).to.equal(CORRELATION_ID);
  });

  // Pending on issue #3 (and the routing design): the verification route's transformer takes the
  // correlation id from the event id ($.id), not from detail.correlationId, and no route delivers a
  // webhook's event (source switchyard.webhooks.<provider>) to the workflow. This test states the
  // behaviour issue #8 asks for; unskip it when both hold.
  it.skip("appears in the verification workflow's execution input (pending: issue #3 maps $.id, not $.detail.correlationId)", async () => {
    const p = await evaluateProgram("dev");
    await valueOf(p.exports.verificationStateMachineArn);
    await settle();
    const rule = recorded.find((r) => r.type === "aws:cloudwatch/eventRule:EventRule" && /-verify$/.test(r.name))!;
    const target = recorded.find((r) => r.type === "aws:cloudwatch/eventTarget:EventTarget" && r.inputs.rule === rule.inputs.name)!;
    expect(matchesPattern(JSON.parse(rule.inputs.eventPattern), busEvent)).to.equal(true);
    const input = renderToJson(
      { inputPathsMap: target.inputs.inputTransformer.inputPaths, inputTemplate: target.inputs.inputTransformer.inputTemplate },
      busEvent,
    ) as Record<string, unknown>;
    expect(input.correlationId).to.equal(CORRELATION_ID);
  });
});
