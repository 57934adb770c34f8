import { expect } from "chai";
import { ofType, one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import { EventHub } from "../../components/events/eventHub";
import { EventRoute, validateRoute } from "../../components/events/route";

const T = {
  bus: "aws:cloudwatch/eventBus:EventBus",
  archive: "aws:cloudwatch/eventArchive:EventArchive",
  queue: "aws:sqs/queue:Queue",
  queuePolicy: "aws:sqs/queuePolicy:QueuePolicy",
  rule: "aws:cloudwatch/eventRule:EventRule",
  target: "aws:cloudwatch/eventTarget:EventTarget",
  permission: "aws:lambda/permission:Permission",
  role: "aws:iam/role:Role",
  rolePolicy: "aws:iam/rolePolicy:RolePolicy",
  topicPolicy: "aws:sns/topicPolicy:TopicPolicy",
  busPolicy: "aws:cloudwatch/eventBusPolicy:EventBusPolicy",
  discoverer: "aws:schemas/discoverer:Discoverer",
  logGroup: "aws:cloudwatch/logGroup:LogGroup",
  logPolicy: "aws:cloudwatch/logResourcePolicy:LogResourcePolicy",
};

const LAMBDA_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:consumer`;
const QUEUE_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:orders`;
const QUEUE_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/orders`;
const TOPIC_ARN = `arn:aws:sns:${REGION}:${ACCOUNT}:alerts`;
const SFN_ARN = `arn:aws:states:${REGION}:${ACCOUNT}:stateMachine:flow`;
const DEST_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:api-destination/dest/0000`;
const FIREHOSE_ARN = `arn:aws:firehose:${REGION}:${ACCOUNT}:deliverystream/analytics`;
const LOGS_ARN = `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/events/audit`;
const RULE_ARN = (route: string) => `arn:aws:events:${REGION}:${ACCOUNT}:rule/hub/${route}`;

describe("EventHub", () => {
  let hub: EventHub;
  // dependsOn of each target, captured by a transformation inherited from the hub.
  const dependsOn = new Map<string, any[]>();

  before(async () => {
    resetRecorded();
    hub = new EventHub(
      "hub",
      {
        archiveRetentionDays: 7,
        dlqRetentionSeconds: 345600,
        logRetentionDays: 14,
        publisherAccountIds: ["111122223333"],
        publisherOrganizationId: "o-abc123defg",
        schemaDiscovery: true,
        debugRoute: true,
        protect: true,
        routes: {
          orders: {
            description: "Orders fan-out",
            eventPattern: {
              source: ["shop"],
              "detail-type": ["OrderPlaced"],
              detail: { total: [{ numeric: [">", 0] }] },
            },
            targets: [
              { id: "fn", kind: "lambda", arn: LAMBDA_ARN },
              {
                id: "queue",
                kind: "sqs",
                arn: QUEUE_ARN,
                queueUrl: QUEUE_URL,
                retryPolicy: { maximumRetryAttempts: 3, maximumEventAgeInSeconds: 3600 },
              },
              {
                id: "topic",
                kind: "sns",
                arn: TOPIC_ARN,
                inputTransformer: {
                  inputPaths: { id: "$.detail.orderId" },
                  inputTemplate: '"Order <id> placed"',
                },
              },
              { id: "flow", kind: "stepfunctions", arn: SFN_ARN },
              {
                id: "dest",
                kind: "apiDestination",
                arn: DEST_ARN,
                headerParameters: { "X-Source": "switchyard" },
              },
            ],
          },
          analytics: {
            eventPattern: { source: [{ prefix: "shop" }] },
            includeReplayed: true,
            enabled: false,
            targets: [
              { id: "stream", kind: "firehose", arn: FIREHOSE_ARN, deadLetterQueueArn: QUEUE_ARN },
              { id: "audit", kind: "logGroup", arn: LOGS_ARN },
            ],
          },
        },
      },
      {
        transformations: [
          (a) => {
            if (a.type === T.target) dependsOn.set(a.name, [a.opts.dependsOn ?? []].flat());
            return undefined;
          },
        ],
      },
    );
    await valueOf(hub.dlqArn);
    await settle();
  });

  it("declares a named bus, an archive of it with the retention, and an encrypted DLQ", async () => {
    expect(one(T.bus, "hub").inputs.name).to.equal("hub");
    const archive = one(T.archive, "hub-archive").inputs;
    expect(archive.eventSourceArn).to.equal(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`);
    expect(archive.retentionDays).to.equal(7);
    expect(archive.eventPattern).to.equal(undefined);
    const dlq = one(T.queue, "hub-dlq").inputs;
    expect(dlq.sqsManagedSseEnabled).to.equal(true);
    expect(dlq.messageRetentionSeconds).to.equal(345600);
    expect(dlq.fifoQueue).to.equal(undefined);
  });

  it("lets only this hub's rules send to the DLQ", async () => {
    const policy = JSON.parse(one(T.queuePolicy, "hub-dlq").inputs.policy);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "AllowHubRules",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: `arn:aws:sqs:${REGION}:${ACCOUNT}:hub-dlq`,
        Condition: {
          ArnLike: { "aws:SourceArn": `arn:aws:events:${REGION}:${ACCOUNT}:rule/hub/*` },
        },
      },
    ]);
  });

  it("lets listed accounts and the organization PutEvents onto this bus only", () => {
    const p = one(T.busPolicy, "hub-publishers").inputs;
    expect(p.eventBusName).to.equal("hub");
    const busArn = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`;
    expect(JSON.parse(p.policy).Statement).to.deep.equal([
      {
        Sid: "AllowPublisherAccounts",
        Effect: "Allow",
        Principal: { AWS: ["arn:aws:iam::111122223333:root"] },
        Action: "events:PutEvents",
        Resource: busArn,
      },
      {
        Sid: "AllowPublisherOrganization",
        Effect: "Allow",
        Principal: "*",
        Action: "events:PutEvents",
        Resource: busArn,
        Condition: { StringEquals: { "aws:PrincipalOrgID": "o-abc123defg" } },
      },
    ]);
  });

  it("discovers schemas on the bus", () => {
    expect(one(T.discoverer, "hub-schemas").inputs.sourceArn).to.equal(
      `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`,
    );
  });

  it("excludes replayed events from live rules unless a route includes them", () => {
    const orders = JSON.parse(one(T.rule, "hub-orders").inputs.eventPattern);
    expect(orders).to.deep.equal({
      source: ["shop"],
      "detail-type": ["OrderPlaced"],
      detail: { total: [{ numeric: [">", 0] }] },
      "replay-name": [{ exists: false }],
    });
    expect(one(T.rule, "hub-orders").inputs.state).to.equal("ENABLED");
    expect(one(T.rule, "hub-orders").inputs.eventBusName).to.equal("hub");
    const analytics = one(T.rule, "hub-analytics").inputs;
    expect(JSON.parse(analytics.eventPattern)).to.deep.equal({ source: [{ prefix: "shop" }] });
    expect(analytics.state).to.equal("DISABLED");
  });

  it("gives every target a retry policy and a DLQ", () => {
    const targets = ofType(T.target).filter((t) => t.name.startsWith("hub-"));
    expect(targets.map((t) => t.name).sort()).to.deep.equal([
      "hub-analytics-audit",
      "hub-analytics-stream",
      "hub-debug-log",
      "hub-orders-dest",
      "hub-orders-flow",
      "hub-orders-fn",
      "hub-orders-queue",
      "hub-orders-topic",
    ]);
    const hubDlq = `arn:aws:sqs:${REGION}:${ACCOUNT}:hub-dlq`;
    for (const t of targets) {
      expect(t.inputs.retryPolicy, t.name).to.be.an("object");
      expect(t.inputs.deadLetterConfig.arn, t.name).to.equal(
        t.name === "hub-analytics-stream" ? QUEUE_ARN : hubDlq,
      );
      expect(t.inputs.eventBusName, t.name).to.equal("hub");
    }
    expect(one(T.target, "hub-orders-queue").inputs.retryPolicy).to.deep.equal({
      maximumRetryAttempts: 3,
      maximumEventAgeInSeconds: 3600,
    });
    expect(one(T.target, "hub-orders-fn").inputs.retryPolicy).to.deep.equal({
      maximumRetryAttempts: 185,
      maximumEventAgeInSeconds: 86400,
    });
    expect(one(T.target, "hub-orders-topic").inputs.inputTransformer).to.deep.equal({
      inputPaths: { id: "$.detail.orderId" },
      inputTemplate: '"Order <id> placed"',
    });
    expect(one(T.target, "hub-orders-dest").inputs.httpTarget).to.deep.equal({
      headerParameters: { "X-Source": "switchyard" },
    });
  });

  it("grants a Lambda target invocation by this rule only", () => {
    const p = one(T.permission, "hub-orders-fn").inputs;
    expect(p).to.include({
      action: "lambda:InvokeFunction",
      function: LAMBDA_ARN,
      principal: "events.amazonaws.com",
      sourceArn: RULE_ARN("hub-orders"),
    });
    expect(one(T.target, "hub-orders-fn").inputs.roleArn).to.equal(undefined);
  });

  it("scopes queue and topic policies to the rule", () => {
    const q = one(T.queuePolicy, "hub-orders-queue").inputs;
    expect(q.queueUrl).to.equal(QUEUE_URL);
    expect(JSON.parse(q.policy).Statement).to.deep.equal([
      {
        Sid: "AllowRule",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sqs:SendMessage",
        Resource: QUEUE_ARN,
        Condition: { ArnEquals: { "aws:SourceArn": RULE_ARN("hub-orders") } },
      },
    ]);
    const t = one(T.topicPolicy, "hub-orders-topic").inputs;
    expect(t.arn).to.equal(TOPIC_ARN);
    expect(JSON.parse(t.policy).Statement).to.deep.equal([
      {
        Sid: "AllowRule",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "sns:Publish",
        Resource: TOPIC_ARN,
        Condition: { ArnEquals: { "aws:SourceArn": RULE_ARN("hub-orders") } },
      },
    ]);
  });

  it("gives role-based targets a role for this rule with one action on one ARN", () => {
    const cases: Array<[string, string[], string]> = [
      ["hub-orders-flow", ["states:StartExecution"], SFN_ARN],
      ["hub-orders-dest", ["events:InvokeApiDestination"], DEST_ARN],
      ["hub-analytics-stream", ["firehose:PutRecord", "firehose:PutRecordBatch"], FIREHOSE_ARN],
    ];
    for (const [name, actions, arn] of cases) {
      const role = one(T.role, name).inputs;
      const rule = name.startsWith("hub-orders") ? "hub-orders" : "hub-analytics";
      expect(JSON.parse(role.assumeRolePolicy).Statement, name).to.deep.equal([
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { ArnEquals: { "aws:SourceArn": RULE_ARN(rule) } },
        },
      ]);
      expect(JSON.parse(one(T.rolePolicy, name).inputs.policy).Statement, name).to.deep.equal([
        { Effect: "Allow", Action: actions, Resource: arn },
      ]);
      expect(one(T.target, name).inputs.roleArn, name).to.equal(
        `arn:aws:iam::${ACCOUNT}:role/${name}`,
      );
    }
  });

  it("lets a log group target receive from its rule only", () => {
    const p = JSON.parse(one(T.logPolicy, "hub-analytics-audit").inputs.policyDocument);
    expect(p.Statement).to.deep.equal([
      {
        Sid: "AllowStreams",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "logs:CreateLogStream",
        Resource: `${LOGS_ARN}:*`,
      },
      {
        Sid: "AllowRule",
        Effect: "Allow",
        Principal: { Service: "events.amazonaws.com" },
        Action: "logs:PutLogEvents",
        Resource: `${LOGS_ARN}:*`,
        Condition: { ArnEquals: { "aws:SourceArn": RULE_ARN("hub-analytics") } },
      },
    ]);
  });

  it("logs every event, replays included, on the debug route", () => {
    const lg = one(T.logGroup, "hub-debug").inputs;
    expect(lg).to.include({ name: "/aws/events/hub-debug", retentionInDays: 14 });
    expect(JSON.parse(one(T.rule, "hub-debug").inputs.eventPattern)).to.deep.equal({
      source: [{ prefix: "" }],
    });
    expect(one(T.target, "hub-debug-log").inputs.arn).to.equal(
      `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:/aws/events/hub-debug`,
    );
  });

  it("creates each target after its permission", async () => {
    const expected: Record<string, string> = {
      "hub-orders-fn": T.permission,
      "hub-orders-queue": T.queuePolicy,
      "hub-orders-topic": T.topicPolicy,
      "hub-orders-flow": T.rolePolicy,
      "hub-orders-dest": T.rolePolicy,
      "hub-analytics-stream": T.rolePolicy,
      "hub-analytics-audit": T.logPolicy,
      "hub-debug-log": T.logPolicy,
    };
    expect([...dependsOn.keys()].sort()).to.deep.equal(Object.keys(expected).sort());
    for (const [target, type] of Object.entries(expected)) {
      const deps = dependsOn.get(target)!;
      expect(deps, target).to.have.length(1);
      const urn = await valueOf(deps[0].urn as any);
      expect(urn, target).to.match(new RegExp(`\\$${type.replace(/[/$]/g, "\\$&")}::${target}$`));
    }
  });

  it("parents routes to the hub and their resources to the route", async () => {
    // The mock monitor names only the immediate parent's type in a URN.
    const ruleUrn = await valueOf(hub.routes.orders.rule.urn);
    expect(ruleUrn).to.match(
      /::switchyard:events:Route\$aws:cloudwatch\/eventRule:EventRule::hub-orders$/,
    );
    expect((hub.routes.orders as any).__parentResource).to.equal(hub);
    expect((hub.routes.orders.rule as any).__parentResource).to.equal(hub.routes.orders);
    expect((hub.routes.orders.targets[0] as any).__parentResource).to.equal(hub.routes.orders);
    expect((hub.dlq as any).__parentResource).to.equal(hub);
    expect((hub.bus as any).__parentResource).to.equal(hub);
  });

  it("protects the stateful resources only", () => {
    expect((hub.bus as any).__protect).to.equal(true);
    expect((hub.archive as any).__protect).to.equal(true);
    expect((hub.dlq as any).__protect).to.equal(true);
    expect((hub.routes.orders.rule as any).__protect).to.not.equal(true);
  });

  it("exposes its outputs", async () => {
    expect(await valueOf(hub.busName)).to.equal("hub");
    expect(await valueOf(hub.busArn)).to.equal(`arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`);
    expect(await valueOf(hub.archiveName)).to.equal("hub-archive");
    expect(await valueOf(hub.dlqUrl)).to.equal(
      `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/hub-dlq`,
    );
    expect(Object.keys(hub.routes).sort()).to.deep.equal(["analytics", "debug", "orders"]);
    expect(hub.routes.orders).to.be.instanceOf(EventRoute);
  });

  it("declares no bus policy, discoverer or debug route when not asked", async () => {
    resetRecorded();
    const bare = new EventHub("bare");
    await valueOf(bare.dlqArn);
    await settle();
    expect(ofType(T.busPolicy)).to.have.length(0);
    expect(ofType(T.discoverer)).to.have.length(0);
    expect(ofType(T.rule)).to.have.length(0);
    expect(one(T.archive, "bare-archive").inputs.retentionDays).to.equal(30);
    expect(one(T.queue, "bare-dlq").inputs.messageRetentionSeconds).to.equal(1209600);
  });
});

describe("EventHub argument validation", () => {
  const target = { id: "fn", kind: "lambda" as const, arn: LAMBDA_ARN };
  const cases: Array<[string, () => unknown, string]> = [
    [
      "retry attempts above 185",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [
            { ...target, retryPolicy: { maximumRetryAttempts: 186, maximumEventAgeInSeconds: 60 } },
          ],
        }),
      'route "r" target "fn" retryPolicy.maximumRetryAttempts must be an integer from 0 to 185, got 186',
    ],
    [
      "event age below 60",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [
            { ...target, retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 59 } },
          ],
        }),
      'route "r" target "fn" retryPolicy.maximumEventAgeInSeconds must be an integer from 60 to 86400, got 59',
    ],
    [
      "event age above a day",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [
            {
              ...target,
              retryPolicy: { maximumRetryAttempts: 0, maximumEventAgeInSeconds: 86401 },
            },
          ],
        }),
      "must be an integer from 60 to 86400, got 86401",
    ],
    [
      "six targets",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [1, 2, 3, 4, 5, 6].map((i) => ({ ...target, id: `t${i}` })),
        }),
      'route "r": targets must have 1 to 5 entries, got 6',
    ],
    [
      "no targets",
      () => validateRoute("r", { eventPattern: { source: ["a"] }, targets: [] }),
      'route "r": targets must have 1 to 5 entries, got 0',
    ],
    [
      "empty pattern",
      () => validateRoute("r", { eventPattern: {}, targets: [target] }),
      'route "r": eventPattern must name at least one field',
    ],
    [
      "duplicate target ids",
      () => validateRoute("r", { eventPattern: { source: ["a"] }, targets: [target, target] }),
      'route "r": target id "fn" is used twice',
    ],
    [
      "sqs without url",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [{ id: "q", kind: "sqs", arn: QUEUE_ARN }],
        }),
      'route "r" target "q": an sqs target needs queueUrl',
    ],
    [
      "template too long",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [{ ...target, inputTransformer: { inputTemplate: "x".repeat(8193) } }],
        }),
      "inputTemplate must be 1-8192 characters, got 8193",
    ],
    [
      "101 input paths",
      () =>
        validateRoute("r", {
          eventPattern: { source: ["a"] },
          targets: [
            {
              ...target,
              inputTransformer: {
                inputPaths: Object.fromEntries(
                  Array.from({ length: 101 }, (_, i) => [`v${i}`, "$.id"]),
                ),
                inputTemplate: "<v0>",
              },
            },
          ],
        }),
      "inputPaths has 101 entries, at most 100 are allowed",
    ],
    [
      "bad archive retention",
      () => new EventHub("bad1", { archiveRetentionDays: 4000 }),
      "archiveRetentionDays must be an integer from 1 to 3650, got 4000",
    ],
    [
      "bad DLQ retention",
      () => new EventHub("bad2", { dlqRetentionSeconds: 30 }),
      "dlqRetentionSeconds must be an integer from 60 to 1209600, got 30",
    ],
    [
      "bad log retention",
      () => new EventHub("bad3", { logRetentionDays: 8 }),
      "logRetentionDays must be one of 1, 3, 5, 7, 14",
    ],
    [
      "bad account id",
      () => new EventHub("bad4", { publisherAccountIds: ["1234"] }),
      'publisherAccountIds: "1234" is not a 12-digit AWS account id',
    ],
    [
      "bad org id",
      () => new EventHub("bad5", { publisherOrganizationId: "org" }),
      "publisherOrganizationId must look like o-abc123defg",
    ],
    [
      "bad hub name",
      () => new EventHub("hub_with_underscore"),
      "EventHub name must be 1-20 letters, digits or hyphens",
    ],
  ];
  for (const [what, fn, message] of cases) {
    it(`rejects ${what}`, () => {
      expect(fn).to.throw(Error, message);
    });
  }
});
