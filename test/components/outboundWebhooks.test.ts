import { expect } from "chai";
import { one, ofType, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../../components/events/eventHub";
import { BundleReport, bundleReports } from "../../components/lambda";
import { OutboundWebhooks, validateOutboundArgs } from "../../components/webhooks/outboundWebhooks";
import { OUTBOUND_ENV } from "../../handlers/outbound/settings";

const T = {
  table: "aws:dynamodb/table:Table",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  secret: "aws:secretsmanager/secret:Secret",
  version: "aws:secretsmanager/secretVersion:SecretVersion",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  fn: "aws:lambda/function:Function",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  mapping: "aws:lambda/eventSourceMapping:EventSourceMapping",
};
const arn = {
  queue: (n: string) => `arn:aws:sqs:${REGION}:${ACCOUNT}:${n}`,
  url: (n: string) => `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/${n}`,
  secret: (n: string) => `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${n}-AbCdEf`,
  rule: (n: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/ohub/${n}`,
};
const KEY = "whsec_" + Buffer.alloc(32, 7).toString("base64");
const OLD = "whsec_" + Buffer.alloc(32, 9).toString("base64");

describe("OutboundWebhooks under mocks", () => {
  let out: OutboundWebhooks;
  const dependsOn = new Map<string, any[]>();
  const ignoreChanges = new Map<string, string[] | undefined>();

  before(async () => {
    resetRecorded();
    const hub = new EventHub("ohub");
    out = new OutboundWebhooks(
      "out",
      {
        hub,
        subscriptions: [
          {
            name: "billing",
            url: "https://billing.example.com/hooks",
            events: ["OrderPlaced", "OrderRefunded"],
            rateLimitPerSecond: 5,
            headers: { "X-Tenant": "acme" },
            secret: pulumi.secret(KEY),
            previousSecret: pulumi.secret(OLD),
          },
          {
            name: "crm",
            url: "https://crm.example.net/in",
            events: { source: ["shop.customers"], detail: { tier: ["gold"] } },
          },
        ],
        retryScheduleSeconds: [0, 10, 60],
        requestTimeoutSeconds: 10,
        disableAfterSeconds: 86400,
        protect: true,
        logRetentionDays: 14,
      },
      {
        transformations: [
          (x) => {
            dependsOn.set(`${x.type} ${x.name}`, [x.opts.dependsOn ?? []].flat());
            ignoreChanges.set(`${x.type} ${x.name}`, x.opts.ignoreChanges);
            return undefined;
          },
        ],
      },
    );
    await valueOf(out.mappings.crm.id);
    await valueOf(out.secretArns);
    await settle();
  });

  it("keeps an attempt log keyed by message id, with a by-subscription index, TTL, SSE and deletion protection", () => {
    expect(one(T.table, "out-attempts").inputs).to.deep.include({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "pk",
      rangeKey: "sk",
      attributes: [
        { name: "pk", type: "S" },
        { name: "sk", type: "S" },
        { name: "subscription", type: "S" },
        { name: "at", type: "S" },
      ],
      globalSecondaryIndexes: [
        { name: "bySubscription", hashKey: "subscription", rangeKey: "at", projectionType: "ALL" },
      ],
      ttl: { attributeName: "expiresAt", enabled: true },
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: true,
    });
  });

  it("gives each subscription an encrypted queue (visibility above the dispatcher's timeout) and a DLQ, 14 days each", () => {
    for (const s of ["billing", "crm"]) {
      expect(one(T.queue, `out-${s}`).inputs).to.deep.equal({
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 1209600,
        visibilityTimeoutSeconds: 240,
      });
      expect(one(T.queue, `out-${s}-dlq`).inputs).to.deep.equal({
        sqsManagedSseEnabled: true,
        messageRetentionSeconds: 1209600,
      });
    }
  });

  it("stores a configured secret with its predecessor, and generates one when none is set (never overwritten)", async () => {
    // Both reach the engine as secrets (Pulumi's secret signature wraps them): encrypted in state.
    const SIG = "4dabf18193072939515e22adb298388d";
    const billing = one(T.version, "out-billing").inputs;
    expect(billing.secretId).to.equal("out-billing-id");
    expect(billing.secretString[SIG]).to.equal("1b47061264138c4ac30d75fd1eb44270");
    expect(JSON.parse(billing.secretString.value)).to.deep.equal({ current: KEY, previous: OLD });
    const crm = one(T.version, "out-crm-generated").inputs;
    expect(crm.secretString[SIG]).to.equal("1b47061264138c4ac30d75fd1eb44270");
    expect(JSON.parse(crm.secretString.value).current).to.match(/^whsec_[A-Za-z0-9+/]{43}=$/);
    expect(ignoreChanges.get(`${T.version} out-crm-generated`)).to.deep.equal(["secretString"]);
    expect(ignoreChanges.get(`${T.version} out-billing`)).to.equal(undefined);
    expect(out.secretSources).to.deep.equal({ billing: "config", crm: "generated" });
    expect(await valueOf(out.secretArns)).to.deep.equal({
      billing: arn.secret("out-billing"),
      crm: arn.secret("out-crm"),
    });
  });

  it("routes each subscription's events to its queue: pattern, queue policy for that rule only, retry policy and the hub DLQ", () => {
    expect(JSON.parse(one(T.rule, "ohub-out-billing").inputs.eventPattern)).to.deep.equal({
      "detail-type": ["OrderPlaced", "OrderRefunded"],
      "replay-name": [{ exists: false }],
    });
    expect(JSON.parse(one(T.rule, "ohub-out-crm").inputs.eventPattern)).to.deep.equal({
      source: ["shop.customers"],
      detail: { tier: ["gold"] },
      "replay-name": [{ exists: false }],
    });
    for (const s of ["billing", "crm"]) {
      const target = one(T.target, `ohub-out-${s}-queue`).inputs;
      expect(target).to.deep.include({
        eventBusName: "ohub",
        rule: `ohub-out-${s}`,
        targetId: "queue",
        arn: arn.queue(`out-${s}`),
        retryPolicy: { maximumRetryAttempts: 185, maximumEventAgeInSeconds: 86400 },
        deadLetterConfig: { arn: arn.queue("ohub-dlq") },
      });
      const policy = one(T.queuePolicy, `ohub-out-${s}-queue`).inputs;
      expect(policy.queueUrl).to.equal(arn.url(`out-${s}`));
      expect(JSON.parse(policy.policy).Statement).to.deep.equal([
        {
          Sid: "AllowRule",
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sqs:SendMessage",
          Resource: arn.queue(`out-${s}`),
          Condition: { ArnEquals: { "aws:SourceArn": arn.rule(`ohub-out-${s}`) } },
        },
      ]);
    }
  });

  it("grants the dispatcher exactly its queues, DLQs, table, secrets and the bus", () => {
    const statements = JSON.parse(one(T.rolePolicy, "out-dispatcher").inputs.policy).Statement;
    expect(statements.slice(1)).to.deep.equal([
      {
        Effect: "Allow",
        Action: [
          "sqs:ReceiveMessage",
          "sqs:DeleteMessage",
          "sqs:ChangeMessageVisibility",
          "sqs:GetQueueAttributes",
        ],
        Resource: [arn.queue("out-billing"), arn.queue("out-crm")],
      },
      {
        Effect: "Allow",
        Action: ["sqs:SendMessage"],
        Resource: [arn.queue("out-billing-dlq"), arn.queue("out-crm-dlq")],
      },
      {
        Effect: "Allow",
        Action: ["dynamodb:GetItem", "dynamodb:PutItem", "dynamodb:UpdateItem", "dynamodb:Query"],
        Resource: [`arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/out-attempts`],
      },
      {
        Effect: "Allow",
        Action: ["secretsmanager:GetSecretValue"],
        Resource: [arn.secret("out-billing"), arn.secret("out-crm")],
      },
      {
        Effect: "Allow",
        Action: ["events:PutEvents"],
        Resource: [`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/ohub`],
      },
    ]);
  });

  it("passes the dispatcher names and ARNs in its environment (no secret value) and its timeout covers a request", () => {
    const fn = one(T.fn, "out-dispatcher").inputs;
    expect(fn.timeout).to.equal(40);
    const env = fn.environment.variables;
    expect(env[OUTBOUND_ENV.table]).to.equal("out-attempts");
    expect(env[OUTBOUND_ENV.busName]).to.equal("ohub");
    expect(JSON.parse(env[OUTBOUND_ENV.resources])).to.deep.equal({
      billing: {
        queueArn: arn.queue("out-billing"),
        queueUrl: arn.url("out-billing"),
        dlqUrl: arn.url("out-billing-dlq"),
        secretArn: arn.secret("out-billing"),
      },
      crm: {
        queueArn: arn.queue("out-crm"),
        queueUrl: arn.url("out-crm"),
        dlqUrl: arn.url("out-crm-dlq"),
        secretArn: arn.secret("out-crm"),
      },
    });
    expect(JSON.stringify(fn)).not.to.contain(KEY.slice(6));
  });

  it("bundles the dispatcher from its module with the settings as the factory's argument", async () => {
    const report = await new Promise<BundleReport>((r) =>
      bundleReports.get("out-dispatcher")!.apply(r),
    );
    expect(report.external).to.include("@aws-sdk/client-sqs");
    expect(report.inputs).not.to.have.property("@pulumi/pulumi");
  });

  it("maps each queue to the dispatcher with batch item failures, after its role may read the queue", () => {
    for (const s of ["billing", "crm"]) {
      expect(one(T.mapping, `out-${s}`).inputs).to.deep.equal({
        eventSourceArn: arn.queue(`out-${s}`),
        functionName: `arn:aws:lambda:${REGION}:${ACCOUNT}:function:out-dispatcher`,
        batchSize: 10,
        functionResponseTypes: ["ReportBatchItemFailures"],
      });
      expect(dependsOn.get(`${T.mapping} out-${s}`)).to.include(out.dispatcher.policy);
    }
    expect(ofType(T.mapping)).to.have.length(2);
  });

  it("exposes queue and DLQ URLs by subscription", async () => {
    expect(await valueOf(out.queueUrls)).to.deep.equal({
      billing: arn.url("out-billing"),
      crm: arn.url("out-crm"),
    });
    expect(await valueOf(out.dlqUrls)).to.deep.equal({
      billing: arn.url("out-billing-dlq"),
      crm: arn.url("out-crm-dlq"),
    });
  });
});

describe("OutboundWebhooks arguments", () => {
  const hub = { busName: "b", busArn: "arn", addRoute: () => undefined as any };
  const sub = { name: "billing", url: "https://x.example.com/h", events: ["A"] };
  const cases: Array<[string, Record<string, unknown>, RegExp]> = [
    ["no subscription", { subscriptions: [] }, /subscriptions must list at least one/],
    [
      "http:// outside the local run",
      { subscriptions: [{ ...sub, url: "http://x.example.com/h" }] },
      /must be an https:\/\/ URL/,
    ],
    [
      "credentials in the URL",
      { subscriptions: [{ ...sub, url: "https://u:p@x.example.com/" }] },
      /must not carry credentials/,
    ],
    [
      "the metadata service",
      { subscriptions: [{ ...sub, url: "https://169.254.169.254/latest" }] },
      /names a metadata address \(169\.254\.169\.254\)/,
    ],
    [
      "a private address",
      { subscriptions: [{ ...sub, url: "https://[fd00::5]/x" }] },
      /names a private address/,
    ],
    [
      "localhost",
      { subscriptions: [{ ...sub, url: "https://localhost:8443/x" }] },
      /names a loopback address/,
    ],
    [
      "a reserved header",
      { subscriptions: [{ ...sub, headers: { "Webhook-Id": "x" } }] },
      /set by Switchyard itself/,
    ],
    ["a bad name", { subscriptions: [{ ...sub, name: "Billing" }] }, /name must be 1-20 lowercase/],
    ["a duplicate name", { subscriptions: [sub, sub] }, /declared twice/],
    ["an empty pattern", { subscriptions: [{ ...sub, events: {} }] }, /empty pattern/],
    [
      "a delay beyond 12 h",
      { subscriptions: [sub], retryScheduleSeconds: [0, 50000] },
      /retryScheduleSeconds must be a JSON list/,
    ],
    [
      "a timeout of 0",
      { subscriptions: [sub], requestTimeoutSeconds: 0 },
      /requestTimeoutSeconds must be an integer from 1 to 60/,
    ],
  ];
  for (const [what, args, error] of cases)
    it(`refuses ${what}`, () => {
      expect(() => validateOutboundArgs({ hub, ...(args as any) })).to.throw(error);
    });

  it("accepts http:// and loopback endpoints when the local run sets allowHttp", () => {
    expect(() =>
      validateOutboundArgs({
        hub,
        allowHttp: true,
        subscriptions: [{ ...sub, url: "http://127.0.0.1:48001/hooks" }],
      }),
    ).not.to.throw();
  });
});
