import { expect } from "chai";
import * as crypto from "crypto";
import * as http from "http";
import { AddressInfo } from "net";
import { one, ofType, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import { GetCommand, PutCommand } from "@aws-sdk/lib-dynamodb";
import { EventHub } from "../../components/events/eventHub";
import { functionArchives } from "../../components/lambda";
import { ChangePublisher } from "../../components/tenants/changePublisher";
import { EventIngress } from "../../components/tenants/eventIngress";
import { ingressEventPattern } from "../../components/tenants/patterns";
import { Tenants } from "../../lib/tenantRules";
import { hashApiKey } from "../../handlers/tenants/apiKeys";
import { matchesPattern } from "../../lib/eventPattern";
import { LambdaHost, materialize } from "../../local/artifacts";
import { createTenantTables, LocalDynamo, startLocalDynamo } from "../handlers/tenants/localDynamo";

const PARTNER = "arn:aws:events:eu-west-1:444455556666:event-bus/partner";
const BUS = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/thub`;
const DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:thub-dlq`;
const DATA_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/chg-data`;
const STREAM_ARN = `${DATA_ARN}/stream/2026-01-01T00:00:00.000`;

const tenants: Tenants = {
  acme: {
    ingressEnabled: true,
    rules: [
      {},
      { targetBusArn: PARTNER, source: "acme.sync", operations: ["PUT"] },
      { targetBusArn: PARTNER },
    ],
  },
  globex: { ingressEnabled: false, rules: [{ schemaNames: ["order"] }] },
};

function policyOf(name: string) {
  return JSON.parse(one("aws:iam/rolePolicy:RolePolicy", name).inputs.policy).Statement;
}

describe("tenant components under mocks", () => {
  let hub: EventHub;
  let changes: ChangePublisher;
  let ingress: EventIngress;
  // dependsOn of each resource, captured by a transformation the components pass to their children.
  const dependsOn = new Map<string, any[]>();
  const capture = {
    transformations: [
      (a: any) => {
        dependsOn.set(`${a.type} ${a.name}`, [a.opts.dependsOn ?? []].flat());
        return undefined;
      },
    ],
  };

  before(async () => {
    resetRecorded();
    hub = new EventHub("thub", { logRetentionDays: 14 });
    changes = new ChangePublisher(
      "chg",
      { hub, tenants, maximumRetryAttempts: 3, maximumRecordAgeInSeconds: 3600, protect: true },
      capture,
    );
    ingress = new EventIngress(
      "ing",
      {
        hub,
        tenants,
        dataTableName: changes.tableName,
        dataTableArn: changes.tableArn,
        rejectedRetentionSeconds: 86400,
      },
      capture,
    );
    await valueOf(ingress.route.rule.arn);
    await valueOf(changes.mapping.arn);
    await settle();
  });

  describe("ChangePublisher", () => {
    it("declares the tenant data table: tenant + sk keys, stream of new and old images, SSE, PITR, protection", () => {
      const t = one("aws:dynamodb/table:Table", "chg-data");
      expect(t.inputs).to.deep.include({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "tenant",
        rangeKey: "sk",
        attributes: [
          { name: "tenant", type: "S" },
          { name: "sk", type: "S" },
        ],
        streamEnabled: true,
        streamViewType: "NEW_AND_OLD_IMAGES",
        serverSideEncryption: { enabled: true },
        pointInTimeRecovery: { enabled: true },
        deletionProtectionEnabled: true,
      });
      expect((changes.table as any).__protect).to.equal(true);
    });

    it("maps the stream with partial batch responses, bisection, bounded retries and the hub DLQ on failure", () => {
      const m = one("aws:lambda/eventSourceMapping:EventSourceMapping", "chg-stream").inputs;
      expect(m).to.deep.equal({
        eventSourceArn: STREAM_ARN,
        functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:chg`,
        startingPosition: "LATEST",
        batchSize: 25,
        maximumBatchingWindowInSeconds: 1,
        parallelizationFactor: 1,
        functionResponseTypes: ["ReportBatchItemFailures"],
        bisectBatchOnFunctionError: true,
        maximumRetryAttempts: 3,
        maximumRecordAgeInSeconds: 3600,
        destinationConfig: { onFailure: { destinationArn: DLQ } },
      });
    });

    it("is created after the role policy that lets it read the stream", () => {
      expect(
        dependsOn.get("aws:lambda/eventSourceMapping:EventSourceMapping chg-stream"),
      ).to.deep.equal([changes.fn.policy]);
    });

    it("lets the function read only the stream, publish to the hub and each rule's bus (cross-account included), and dead-letter", () => {
      expect(policyOf("chg")).to.deep.equal([
        {
          Sid: "OwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:chg:*`,
        },
        {
          Effect: "Allow",
          Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
          Resource: [STREAM_ARN],
        },
        { Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
        { Effect: "Allow", Action: ["events:PutEvents"], Resource: [BUS, PARTNER] },
        { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
      ]);
    });

    it("gives the function the hub's bus as default target and the event size limit", () => {
      const f = one("aws:lambda/function:Function", "chg").inputs;
      expect(f.environment).to.deep.equal({
        variables: { DEFAULT_BUS_ARN: BUS, MAX_EVENT_BYTES: "262144" },
      });
      expect(f.timeout).to.equal(60);
      expect(one("aws:cloudwatch/logGroup:LogGroup", "chg").inputs.retentionInDays).to.equal(14);
    });

    it("refuses bad arguments, naming them", () => {
      expect(() => new ChangePublisher("bad1", { hub, maximumRetryAttempts: -1 })).to.throw(
        "maximumRetryAttempts must be an integer from 0 to 10000, got -1",
      );
      expect(() => new ChangePublisher("bad2", { hub, maximumRecordAgeInSeconds: -1 })).to.throw(
        "maximumRecordAgeInSeconds must be an integer from 60 to 604800, got -1",
      );
      expect(
        () =>
          new ChangePublisher("bad3", {
            hub,
            tenants: { a: { rules: [{ operations: ["GET" as any] }] } },
          }),
      ).to.throw('tenant "a" rule 0: operations must be a non-empty list');
    });
  });

  describe("EventIngress", () => {
    it("routes switchyard.input write events with tenant, schema and key, live only", () => {
      const rule = one("aws:cloudwatch/eventRule:EventRule", "thub-tenant-ingress").inputs;
      expect(rule.eventBusName).to.equal("thub");
      expect(JSON.parse(rule.eventPattern)).to.deep.equal({
        source: ["switchyard.input"],
        "detail-type": [
          { suffix: ".POST" },
          { suffix: ".PUT" },
          { suffix: ".PATCH" },
          { suffix: ".DELETE" },
        ],
        detail: {
          tenant: [{ exists: true }],
          rootSchema: [{ exists: true }],
          api_key: [{ exists: true }],
        },
        "replay-name": [{ exists: false }],
      });
    });

    it("the pattern matches ingress events and no others", () => {
      const pattern = JSON.parse(
        one("aws:cloudwatch/eventRule:EventRule", "thub-tenant-ingress").inputs.eventPattern,
      );
      const base = {
        version: "0",
        id: "1",
        source: "switchyard.input",
        "detail-type": "invoice.PATCH",
        account: ACCOUNT,
        time: "2026-11-21T10:00:00Z",
        region: REGION,
        resources: [],
        detail: {
          tenant: "acme",
          rootSchema: "invoice",
          api_key: "k",
          payload: { id: "i1", paid: true },
        },
      };
      const cases: Array<[string, object, boolean]> = [
        ["a PATCH", base, true],
        [
          "a POST with an empty payload",
          { ...base, "detail-type": "invoice.POST", detail: { ...base.detail, payload: {} } },
          true,
        ],
        ["a DELETE of a dotted schema", { ...base, "detail-type": "order.line.DELETE" }, true],
        ["a PUT", { ...base, "detail-type": "invoice.PUT" }, true],
        ["another source", { ...base, source: "switchyard.output" }, false],
        ["a GET", { ...base, "detail-type": "invoice.GET" }, false],
        ["a lowercase operation", { ...base, "detail-type": "invoice.post" }, false],
        ["an operation not after a dot", { ...base, "detail-type": "POST" }, false],
        [
          "no api_key",
          { ...base, detail: { tenant: "acme", rootSchema: "invoice", payload: {} } },
          false,
        ],
        [
          "no tenant",
          { ...base, detail: { rootSchema: "invoice", api_key: "k", payload: {} } },
          false,
        ],
        [
          "no rootSchema",
          { ...base, detail: { tenant: "acme", api_key: "k", payload: {} } },
          false,
        ],
        ["a replay", { ...base, "replay-name": "r1" }, false],
      ];
      for (const [what, event, expected] of cases) {
        expect(matchesPattern(pattern, event), what).to.equal(expected);
      }
      // Why `payload` is not in the pattern: `exists` only matches leaves, never an object.
      expect(
        matchesPattern({ ...ingressEventPattern(), detail: { payload: [{ exists: true }] } }, base),
      ).to.equal(false);
    });

    it("delivers to the function with the route's retry policy, the hub DLQ, and a permission scoped to the rule", () => {
      const t = one("aws:cloudwatch/eventTarget:EventTarget", "thub-tenant-ingress-ingress").inputs;
      expect(t.arn).to.equal(`arn:aws:lambda:${REGION}:${ACCOUNT}:function:ing`);
      expect(t.retryPolicy).to.deep.equal({
        maximumRetryAttempts: 185,
        maximumEventAgeInSeconds: 86400,
      });
      expect(t.deadLetterConfig).to.deep.equal({ arn: DLQ });
      const p = one("aws:lambda/permission:Permission", "thub-tenant-ingress-ingress").inputs;
      expect(p).to.deep.include({
        action: "lambda:InvokeFunction",
        principal: "events.amazonaws.com",
        sourceArn: `arn:aws:events:${REGION}:${ACCOUNT}:rule/thub/thub-tenant-ingress`,
      });
    });

    it("declares the access table (hashed keys, billing, expiring event markers) and an encrypted rejected-events queue", () => {
      expect(one("aws:dynamodb/table:Table", "ing-access").inputs).to.deep.include({
        billingMode: "PAY_PER_REQUEST",
        hashKey: "pk",
        attributes: [{ name: "pk", type: "S" }],
        ttl: { attributeName: "expiresAt", enabled: true },
        serverSideEncryption: { enabled: true },
        deletionProtectionEnabled: false,
      });
      expect(one("aws:sqs/queue:Queue", "ing-rejected").inputs).to.deep.include({
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 86400,
      });
    });

    it("grants exactly: transactional writes to the data table and its reads, key reads, transactional billing updates and event markers on their own items, the two queues", () => {
      const access = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/ing-access`;
      const inTransaction = {
        "ForAnyValue:StringEquals": { "dynamodb:EnclosingOperation": ["TransactWriteItems"] },
      };
      expect(policyOf("ing").slice(1)).to.deep.equal([
        {
          Effect: "Allow",
          Action: ["dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:DeleteItem"],
          Resource: [DATA_ARN],
          Condition: inTransaction,
        },
        { Effect: "Allow", Action: ["dynamodb:GetItem"], Resource: [DATA_ARN] },
        {
          Effect: "Allow",
          Action: ["dynamodb:GetItem"],
          Resource: [access],
          Condition: { "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["apikey#*"] } },
        },
        {
          Effect: "Allow",
          Action: ["dynamodb:UpdateItem"],
          Resource: [access],
          Condition: {
            ...inTransaction,
            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["billing#*"] },
          },
        },
        {
          Effect: "Allow",
          Action: ["dynamodb:PutItem"],
          Resource: [access],
          Condition: {
            ...inTransaction,
            "ForAllValues:StringLike": { "dynamodb:LeadingKeys": ["event#*"] },
          },
        },
        {
          Effect: "Allow",
          Action: ["sqs:SendMessage"],
          Resource: [`arn:aws:sqs:${REGION}:${ACCOUNT}:ing-rejected`],
        },
        { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ] },
      ]);
      const f = one("aws:lambda/function:Function", "ing").inputs;
      expect(f.environment.variables).to.deep.equal({
        DATA_TABLE: "chg-data",
        ACCESS_TABLE: "ing-access",
        REJECTED_QUEUE_URL: `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/ing-rejected`,
        MAX_CHANGE_EVENT_BYTES: "262144",
      });
    });

    it("sends invocations that fail after Lambda's two retries to the hub DLQ", () => {
      expect(
        one("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig", "ing").inputs,
      ).to.deep.equal({
        functionName: "ing",
        maximumRetryAttempts: 2,
        maximumEventAgeInSeconds: 21600,
        destinationConfig: { onFailure: { destination: DLQ } },
      });
      expect(
        dependsOn.get("aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig ing"),
      ).to.deep.equal([ingress.fn.policy]);
    });

    it("parents the route to the component and keeps the hub's routes", () => {
      expect(Object.keys(hub.routes)).to.deep.equal(["tenant-ingress"]);
      expect(ofType("aws:cloudwatch/eventRule:EventRule")).to.have.length(1);
    });

    it("bounds writes by the change publisher's event size limit, and refuses a limit the bus cannot have", async () => {
      expect(changes.maxEventBytes).to.equal(262144);
      // Another hub: this one's routes are counted above.
      const whub = new EventHub("whub", { logRetentionDays: 14 });
      const wide = new ChangePublisher("wide", { hub: whub, maxEventBytes: 1048576 });
      const wideIngress = new EventIngress("wide-ing", {
        hub: whub,
        dataTableName: wide.tableName,
        dataTableArn: wide.tableArn,
        maxChangeEventBytes: wide.maxEventBytes,
      });
      await valueOf(wideIngress.fn.function.arn);
      await settle();
      expect(
        one("aws:lambda/function:Function", "wide-ing").inputs.environment.variables
          .MAX_CHANGE_EVENT_BYTES,
      ).to.equal("1048576");
      expect(
        () =>
          new EventIngress("bad-ing", {
            hub: whub,
            dataTableName: "t",
            dataTableArn: DATA_ARN,
            maxChangeEventBytes: 2 * 1048576,
          }),
      ).to.throw("maxChangeEventBytes must be an integer from 4096 to 1048576, got 2097152");
    });
  });

  describe("the bundled ingress function (__index.js) in a fresh Node process", () => {
    let ddb: LocalDynamo;
    let host: LambdaHost;
    let sqs: http.Server;
    const sent: any[] = [];
    let queueUrl = "";

    before(async () => {
      ddb = await startLocalDynamo();
      await createTenantTables(ddb.client, "chg-data", "ing-access");
      await ddb.doc.send(
        new PutCommand({
          TableName: "ing-access",
          Item: {
            pk: `apikey#${hashApiKey("s3cret")}`,
            keyHash: hashApiKey("s3cret"),
            tenant: "acme",
            permissions: ["backend_calls"],
            revoked: false,
          },
        }),
      );
      // A local SQS endpoint speaking the JSON protocol the SDK sends (with the body's MD5 it checks).
      sqs = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          const input = JSON.parse(body);
          if (req.headers["x-amz-target"] !== "AmazonSQS.SendMessage") {
            res.writeHead(400, { "content-type": "application/x-amz-json-1.0" });
            res.end(
              JSON.stringify({
                __type: "com.amazonaws.sqs#InvalidAction",
                message: String(req.headers["x-amz-target"]),
              }),
            );
            return;
          }
          sent.push(input);
          const md5 = crypto.createHash("md5").update(input.MessageBody).digest("hex");
          res.writeHead(200, { "content-type": "application/x-amz-json-1.0" });
          res.end(JSON.stringify({ MessageId: `m-${sent.length}`, MD5OfMessageBody: md5 }));
        });
      });
      await new Promise<void>((r) => sqs.listen(0, "127.0.0.1", r));
      const sqsUrl = `http://127.0.0.1:${(sqs.address() as AddressInfo).port}`;
      queueUrl = `${sqsUrl}/${ACCOUNT}/ing-rejected`;
      const dir = await materialize(functionArchives.get("ing")!);
      host = await LambdaHost.start(dir, {
        timeoutSeconds: 10,
        env: {
          DATA_TABLE: "chg-data",
          ACCESS_TABLE: "ing-access",
          // The SQS client sends to the host of the queue URL, as it does in AWS.
          REJECTED_QUEUE_URL: queueUrl,
          MAX_CHANGE_EVENT_BYTES: "262144",
          AWS_ENDPOINT_URL_DYNAMODB: ddb.url,
          AWS_ENDPOINT_URL_SQS: sqsUrl,
        },
      });
    });
    after(async () => {
      await host?.stop();
      await new Promise((r) => sqs.close(r));
      await ddb.stop();
    });

    let ids = 0;
    const event = (key: string, id = `e-${++ids}`) => ({
      version: "0",
      id,
      "detail-type": "invoice.PUT",
      source: "switchyard.input",
      account: ACCOUNT,
      time: "2026-11-21T10:00:00Z",
      region: REGION,
      resources: [],
      detail: {
        tenant: "acme",
        rootSchema: "invoice",
        api_key: key,
        payload: { id: "inv-9", total: 5 },
      },
    });

    it("applies and bills an authorized write, with the tenants it was deployed with", async () => {
      const r = await host.invoke(event("s3cret"));
      expect(r).to.deep.equal({
        status: 200,
        operation: "PUT",
        tenant: "acme",
        rootSchema: "invoice",
        id: "inv-9",
      });
      const item = (
        await ddb.doc.send(
          new GetCommand({ TableName: "chg-data", Key: { tenant: "acme", sk: "invoice#inv-9" } }),
        )
      ).Item!;
      expect(item).to.deep.include({ data: { total: 5 }, version: 1, lastOperation: "PUT" });
      const period = new Date().toISOString().slice(0, 7);
      const bill = (
        await ddb.doc.send(
          new GetCommand({ TableName: "ing-access", Key: { pk: `billing#acme#${period}` } }),
        )
      ).Item!;
      expect(bill).to.deep.include({ tokens: 10, requests: 1 });
      expect(sent).to.deep.equal([]);
      // Lambda's retry of the same event: answered as the first, neither written nor billed again.
      expect(await host.invoke(event("s3cret", "e-1"))).to.deep.equal({ ...r, duplicate: true });
      const again = (
        await ddb.doc.send(
          new GetCommand({ TableName: "ing-access", Key: { pk: `billing#acme#${period}` } }),
        )
      ).Item!;
      expect(again).to.deep.include({ tokens: 10, requests: 1 });
      const marker = (
        await ddb.doc.send(new GetCommand({ TableName: "ing-access", Key: { pk: "event#e-1" } }))
      ).Item!;
      expect(marker).to.deep.include({ tenant: "acme", status: 200, id: "inv-9" });
      expect(sent).to.deep.equal([]);
    });

    it("queues a refusal without the key", async () => {
      const r = await host.invoke(event("wrong"));
      expect(r).to.deep.include({ status: 401, code: "unknown-key" });
      expect(sent).to.have.length(1);
      expect(sent[0].QueueUrl).to.equal(queueUrl);
      const body = JSON.parse(sent[0].MessageBody);
      expect(body.reason).to.equal("unknown api key");
      expect(body.event.detail).to.deep.equal({
        tenant: "acme",
        rootSchema: "invoice",
        payload: { id: "inv-9", total: 5 },
      });
      expect(sent[0].MessageBody).to.not.contain("wrong");
    });
  });

  describe("the bundled change publisher (__index.js) in a fresh Node process", () => {
    let host: LambdaHost;
    let events: http.Server;
    const calls: any[] = [];

    before(async () => {
      // EventBridge's PutEvents as the SDK speaks it (JSON 1.1, X-Amz-Target AWSEvents.PutEvents).
      events = http.createServer((req, res) => {
        let body = "";
        req.on("data", (c) => (body += c));
        req.on("end", () => {
          const input = JSON.parse(body);
          calls.push({ target: req.headers["x-amz-target"], input });
          res.writeHead(200, { "content-type": "application/x-amz-json-1.1" });
          res.end(
            JSON.stringify({
              FailedEntryCount: 0,
              Entries: input.Entries.map((_: unknown, i: number) => ({ EventId: `e${i}` })),
            }),
          );
        });
      });
      await new Promise<void>((r) => events.listen(0, "127.0.0.1", r));
      host = await LambdaHost.start(await materialize(functionArchives.get("chg")!), {
        timeoutSeconds: 10,
        env: {
          DEFAULT_BUS_ARN: BUS,
          MAX_EVENT_BYTES: "262144",
          AWS_ENDPOINT_URL_EVENTBRIDGE: `http://127.0.0.1:${(events.address() as AddressInfo).port}`,
        },
      });
    });
    after(async () => {
      await host?.stop();
      await new Promise((r) => events.close(r));
    });

    it("publishes by the deployed rules and reports only the poisoned record", async () => {
      const image = {
        tenant: { S: "acme" },
        sk: { S: "invoice#i1" },
        rootSchema: { S: "invoice" },
        id: { S: "i1" },
        data: { M: { total: { N: "5" } } },
        lastOperation: { S: "POST" },
      };
      const record = (n: number, img: object) => ({
        eventID: `c${n}`,
        eventName: "INSERT",
        eventSource: "aws:dynamodb",
        dynamodb: { NewImage: img, SequenceNumber: `${n}00`, StreamViewType: "NEW_AND_OLD_IMAGES" },
      });
      const out = await host.invoke({
        Records: [record(1, image), record(2, { ...image, sk: { S: "broken" } })],
      });
      expect(out).to.deep.equal({ batchItemFailures: [{ itemIdentifier: "200" }] });
      const detail = {
        tenant: "acme",
        rootSchema: "invoice",
        operation: "POST",
        payload: { total: 5, id: "i1" },
        changeId: "c1",
      };
      expect(
        calls.map((c) => [
          c.target,
          c.input.Entries.map((e: any) => [
            e.EventBusName,
            e.Source,
            e.DetailType,
            JSON.parse(e.Detail),
          ]),
        ]),
      ).to.deep.equal([
        ["AWSEvents.PutEvents", [[BUS, "switchyard.output", "invoice.POST", detail]]],
        ["AWSEvents.PutEvents", [[PARTNER, "switchyard.output", "invoice.POST", detail]]],
      ]);
      // One EMF blob for the batch, built at cold start by the component (makeMetrics), with the
      // logger's service name as its `service` dimension; the poisoned record published nothing.
      const lines = host.stdout
        .trim()
        .split("\n")
        .filter((l) => l.startsWith("{"))
        .map((l) => JSON.parse(l));
      const blobs = lines.filter((l) => l._aws);
      expect(blobs).to.have.length(1);
      const { _aws, ...values } = blobs[0];
      expect(_aws.CloudWatchMetrics).to.deep.equal([
        {
          Namespace: "Switchyard",
          Dimensions: [["service"]],
          Metrics: [
            { Name: "EventsPublished", Unit: "Count" },
            { Name: "PublishRetries", Unit: "Count" },
          ],
        },
      ]);
      expect(values).to.deep.equal({
        service: "change-publisher",
        EventsPublished: 2,
        PublishRetries: 0,
      });
      expect(lines.find((l) => l.message === "change published")).to.include({
        service: "change-publisher",
        changeId: "c1",
        events: 2,
      });
    });
  });
});
