import {
  APIGatewayClient,
  GetRestApisCommand,
  GetStagesCommand,
  GetUsagePlanKeysCommand,
  GetUsagePlansCommand,
} from "@aws-sdk/client-api-gateway";
import {
  CloudWatchClient,
  DescribeAlarmsCommand,
  GetDashboardCommand,
  MetricAlarm,
} from "@aws-sdk/client-cloudwatch";
import { CloudWatchLogsClient, DescribeLogGroupsCommand } from "@aws-sdk/client-cloudwatch-logs";
import {
  DescribeContinuousBackupsCommand,
  DescribeTableCommand,
  DescribeTimeToLiveCommand,
  DynamoDBClient,
} from "@aws-sdk/client-dynamodb";
import {
  DescribeApiDestinationCommand,
  DescribeArchiveCommand,
  DescribeConnectionCommand,
  EventBridgeClient,
  ListRulesCommand,
  ListTargetsByRuleCommand,
} from "@aws-sdk/client-eventbridge";
import { GetRolePolicyCommand, IAMClient } from "@aws-sdk/client-iam";
import {
  GetFunctionCommand,
  GetFunctionEventInvokeConfigCommand,
  GetPolicyCommand,
  GetFunctionUrlConfigCommand,
  LambdaClient,
  ListEventSourceMappingsCommand,
} from "@aws-sdk/client-lambda";
import { GetSecretValueCommand, SecretsManagerClient } from "@aws-sdk/client-secrets-manager";
import { DescribeStateMachineCommand, SFNClient } from "@aws-sdk/client-sfn";
import { GetQueueAttributesCommand, GetQueueUrlCommand, SQSClient } from "@aws-sdk/client-sqs";
import { GetWebACLCommand, ListWebACLsCommand, WAFV2Client } from "@aws-sdk/client-wafv2";
import {
  GetBucketEncryptionCommand,
  GetBucketLifecycleConfigurationCommand,
  GetBucketNotificationConfigurationCommand,
  GetBucketOwnershipControlsCommand,
  GetBucketPolicyCommand,
  GetPublicAccessBlockCommand,
  S3Client,
} from "@aws-sdk/client-s3";
import { GetTopicAttributesCommand, SNSClient } from "@aws-sdk/client-sns";
import { expect } from "chai";
import { execFileSync } from "child_process";
import { createHash } from "crypto";
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { MotoServer, startMotoServer } from "../../local/motoServer";
import { Recorded, REGION } from "../../local/mocks";
import {
  applyToMoto,
  archiveZip,
  formatReport,
  NOT_REHEARSED,
  REHEARSAL_MOTO_ENV,
  RehearsalError,
  RehearsalReport,
  REHEARSALS,
} from "../../local/rehearsal";
import { functionArchives } from "../../components/lambda";
import { writeZip } from "../../lib/zip";
import { evaluateProgram } from "../program";

const SECRET_SIG = "4dabf18193072939515e22adb298388d";
const plain = (v: any): any => (v && typeof v === "object" && SECRET_SIG in v ? v.value : v);

function clients(endpoint: string) {
  const config = {
    endpoint,
    region: REGION,
    credentials: { accessKeyId: "testing", secretAccessKey: "testing" },
  };
  return {
    apigateway: new APIGatewayClient(config),
    cloudwatch: new CloudWatchClient(config),
    logs: new CloudWatchLogsClient(config),
    dynamodb: new DynamoDBClient(config),
    events: new EventBridgeClient(config),
    iam: new IAMClient(config),
    lambda: new LambdaClient(config),
    secrets: new SecretsManagerClient(config),
    sfn: new SFNClient(config),
    sqs: new SQSClient(config),
    wafv2: new WAFV2Client(config),
    s3: new S3Client({ ...config, forcePathStyle: true }),
    sns: new SNSClient(config),
  };
}

/** A declared value with every mock value replaced by moto's, as the rehearsal sent it. */
function asSent(report: RehearsalReport, v: string): string {
  let out = v;
  for (const { mock, moto } of [...report.references].sort((a, b) => b.mock.length - a.mock.length))
    if (mock.startsWith("arn:") || mock.startsWith("https://")) out = out.split(mock).join(moto);
  return out;
}

/**
 * prod is rehearsed with two outbound webhook subscriptions: every resource of the stack as
 * committed, with the same inputs but the ops dashboard's body (it gains the subscriptions' tiles;
 * dev's dashboard is rehearsed without them), and each subscription's queues, the dispatcher's
 * mapping and their policies.
 */
const OUTBOUND_SUBSCRIPTIONS = {
  outboundSubscriptions: JSON.stringify([
    { name: "billing", url: "https://billing.example.com/hooks", events: ["RecordCreated"] },
    { name: "crm-eu", url: "https://crm.example.net/in", events: { source: ["x.y"] } },
  ]),
  outboundSecretBilling: "whsec_" + Buffer.alloc(32, 3).toString("base64"),
};

for (const [stack, overrides, also] of [
  ["dev", {}, ""],
  ["prod", OUTBOUND_SUBSCRIPTIONS, " (with two outbound webhook subscriptions)"],
] as const) {
  describe(`local/rehearsal: the ${stack} program${also} created in moto as pulumi up would`, () => {
    let moto: MotoServer;
    let resources: Recorded[];
    let report: RehearsalReport;
    let aws: ReturnType<typeof clients>;
    const declared = (type: string) => resources.filter((r) => r.type === `aws:${type}`);
    const nameOf = (r: Recorded): string => r.inputs.name ?? r.name;

    before(async function () {
      // Evaluating the program and creating it in moto take longer on a loaded machine.
      this.timeout(180_000);
      [resources, moto] = await Promise.all([
        evaluateProgram(stack, overrides).then((p) => p.resources),
        startMotoServer({ env: { ...REHEARSAL_MOTO_ENV } }),
      ]);
      aws = clients(moto.url);
      report = await applyToMoto(resources, moto.url);
      console.log(
        `      rehearsal of ${stack}: ${report.created.length} resources, ${report.calls} calls in ${report.durationMs} ms`,
      );
    });
    after(async () => {
      for (const c of Object.values(aws ?? {})) c.destroy();
      await moto?.stop();
    });

    it("creates every declared resource of a rehearsed type and says why each other one is skipped", () => {
      expect(report.rejected).to.deep.equal([]);
      const declaredCount: Record<string, number> = {};
      for (const r of resources) declaredCount[r.type] = (declaredCount[r.type] ?? 0) + 1;
      for (const [type, n] of Object.entries(declaredCount)) {
        const c = report.byType[type];
        if (REHEARSALS[type]) expect(c.created, type).to.equal(n);
        else {
          expect(c.skipped, type).to.equal(n);
          expect(c.reasons, type).to.have.length(1);
          if (type.startsWith("aws:")) expect(c.reasons[0]).to.equal(NOT_REHEARSED[type]);
          else expect(c.reasons[0]).to.match(/^ComponentResource/);
        }
      }
      expect(report.created.length + report.skipped.length).to.equal(resources.length);
      // Every function carries the archive the program bundled, not a placeholder.
      expect(report.created.filter((c) => /placeholder/.test(c.notes?.join() ?? ""))).to.deep.equal(
        [],
      );
      expect(formatReport(report)).to.match(/0 rejected; \d+ calls in \d+ ms$/);
    });

    it("puts the bus's rules with the declared patterns, states and descriptions", async () => {
      const [bus] = declared("cloudwatch/eventBus:EventBus");
      const rules = await aws.events.send(new ListRulesCommand({ EventBusName: nameOf(bus) }));
      // moto keeps an archive as a rule of its own on the bus ("Events-Archive-<name>").
      const own = (rules.Rules ?? []).filter((r) => !r.Name!.startsWith("Events-Archive-"));
      const rulesDeclared = declared("cloudwatch/eventRule:EventRule");
      expect(own.map((r) => r.Name).sort()).to.deep.equal(rulesDeclared.map(nameOf).sort());
      for (const d of rulesDeclared) {
        const r = own.find((x) => x.Name === nameOf(d))!;
        expect(JSON.parse(r.EventPattern!), d.name).to.deep.equal(
          JSON.parse(d.inputs.eventPattern),
        );
        expect(r.State).to.equal(d.inputs.state);
        expect(r.Description).to.equal(d.inputs.description);
        expect(r.Arn).to.equal(
          `arn:aws:events:${REGION}:123456789012:rule/${nameOf(bus)}/${nameOf(d)}`,
        );
      }
      const [archive] = declared("cloudwatch/eventArchive:EventArchive");
      const a = await aws.events.send(new DescribeArchiveCommand({ ArchiveName: nameOf(archive) }));
      expect(a.EventSourceArn).to.equal(archive.inputs.eventSourceArn);
      expect(a.RetentionDays).to.equal(archive.inputs.retentionDays);
    });

    it("puts each rule's targets with their transformers, retry policies, DLQs and roles", async () => {
      const targets = declared("cloudwatch/eventTarget:EventTarget");
      expect(targets.length).to.be.greaterThan(2);
      const dlqUrl = (
        await aws.sqs.send(new GetQueueUrlCommand({ QueueName: `switchyard-${stack}-dlq` }))
      ).QueueUrl!;
      const dlqArn = (
        await aws.sqs.send(
          new GetQueueAttributesCommand({ QueueUrl: dlqUrl, AttributeNames: ["QueueArn"] }),
        )
      ).Attributes!.QueueArn;
      for (const d of targets) {
        const listed = await aws.events.send(
          new ListTargetsByRuleCommand({
            Rule: d.inputs.rule,
            EventBusName: d.inputs.eventBusName,
          }),
        );
        const t = listed.Targets!.find((x) => x.Id === d.inputs.targetId)!;
        expect(t, d.name).to.not.equal(undefined);
        expect(t.Arn).to.equal(asSent(report, d.inputs.arn));
        expect(t.RoleArn).to.equal(d.inputs.roleArn);
        expect(t.RetryPolicy).to.deep.equal({
          MaximumRetryAttempts: d.inputs.retryPolicy.maximumRetryAttempts,
          MaximumEventAgeInSeconds: d.inputs.retryPolicy.maximumEventAgeInSeconds,
        });
        expect(t.DeadLetterConfig).to.deep.equal({ Arn: dlqArn });
        expect(d.inputs.deadLetterConfig.arn).to.equal(dlqArn);
        if (d.inputs.inputTransformer)
          expect(t.InputTransformer).to.deep.equal({
            InputPathsMap: d.inputs.inputTransformer.inputPaths,
            InputTemplate: d.inputs.inputTransformer.inputTemplate,
          });
        else expect(t.InputTransformer).to.equal(undefined);
      }
      // The records route's target is the API destination moto created, at the declared endpoint.
      const [dest] = declared("cloudwatch/eventApiDestination:EventApiDestination");
      const api = await aws.events.send(new DescribeApiDestinationCommand({ Name: nameOf(dest) }));
      expect(targets.map((t) => asSent(report, t.inputs.arn))).to.include(api.ApiDestinationArn);
      expect(api.InvocationEndpoint).to.equal(dest.inputs.invocationEndpoint);
      expect(api.InvocationRateLimitPerSecond).to.equal(dest.inputs.invocationRateLimitPerSecond);
    });

    it("creates the queues with their attributes and the DLQ's policy", async () => {
      for (const q of declared("sqs/queue:Queue")) {
        const url = (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: nameOf(q) })))
          .QueueUrl!;
        const a = (
          await aws.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["All"] }),
          )
        ).Attributes!;
        expect(a.MessageRetentionPeriod, q.name).to.equal(String(q.inputs.messageRetentionSeconds));
        expect(a.SqsManagedSseEnabled).to.equal(String(q.inputs.sqsManagedSseEnabled));
        const policy = declared("sqs/queuePolicy:QueuePolicy").find((p) =>
          p.inputs.queueUrl.endsWith(`/${nameOf(q)}`),
        );
        if (policy) expect(JSON.parse(a.Policy!)).to.deep.equal(JSON.parse(policy.inputs.policy));
      }
    });

    it("creates the tables with their keys, streams, TTL and point-in-time recovery", async () => {
      for (const t of declared("dynamodb/table:Table")) {
        const { Table } = await aws.dynamodb.send(
          new DescribeTableCommand({ TableName: nameOf(t) }),
        );
        expect(Table!.KeySchema, t.name).to.deep.include({
          AttributeName: t.inputs.hashKey,
          KeyType: "HASH",
        });
        expect(Table!.BillingModeSummary?.BillingMode).to.equal(t.inputs.billingMode);
        expect(Table!.StreamSpecification?.StreamEnabled ?? false).to.equal(
          t.inputs.streamEnabled ?? false,
        );
        if (t.inputs.streamEnabled) {
          expect(Table!.StreamSpecification!.StreamViewType).to.equal(t.inputs.streamViewType);
          // The stream's mapping points at the stream moto created, not the mocks' ARN.
          const mappings = await aws.lambda.send(
            new ListEventSourceMappingsCommand({ EventSourceArn: Table!.LatestStreamArn }),
          );
          expect(mappings.EventSourceMappings, t.name).to.have.length.greaterThan(0);
        }
        const ttl = await aws.dynamodb.send(
          new DescribeTimeToLiveCommand({ TableName: nameOf(t) }),
        );
        expect(ttl.TimeToLiveDescription).to.deep.equal(
          t.inputs.ttl?.enabled
            ? { TimeToLiveStatus: "ENABLED", AttributeName: t.inputs.ttl.attributeName }
            : { TimeToLiveStatus: "DISABLED" },
        );
        const backups = await aws.dynamodb.send(
          new DescribeContinuousBackupsCommand({ TableName: nameOf(t) }),
        );
        expect(
          backups.ContinuousBackupsDescription?.PointInTimeRecoveryDescription
            ?.PointInTimeRecoveryStatus,
        ).to.equal(t.inputs.pointInTimeRecovery?.enabled ? "ENABLED" : "DISABLED");
      }
    });

    it("stores each secret's declared value", async () => {
      const versions = declared("secretsmanager/secretVersion:SecretVersion");
      expect(versions.length).to.equal(declared("secretsmanager/secret:Secret").length);
      for (const v of versions) {
        const secret = resources.find((r) => `${r.name}-id` === v.inputs.secretId)!;
        const got = await aws.secrets.send(new GetSecretValueCommand({ SecretId: nameOf(secret) }));
        expect(got.SecretString, v.name).to.equal(plain(v.inputs.secretString));
      }
    });

    it("creates the state machine with its definition, role, type, logging and tracing", async () => {
      for (const m of declared("sfn/stateMachine:StateMachine")) {
        const d = await aws.sfn.send(
          new DescribeStateMachineCommand({
            stateMachineArn: `arn:aws:states:${REGION}:123456789012:stateMachine:${nameOf(m)}`,
          }),
        );
        expect(JSON.parse(d.definition!)).to.deep.equal(
          JSON.parse(asSent(report, m.inputs.definition)),
        );
        // The HTTP Task authenticates with the connection moto created (the mocks' ARN ends in 0000).
        for (const c of declared("cloudwatch/eventConnection:EventConnection")) {
          const got = await aws.events.send(new DescribeConnectionCommand({ Name: nameOf(c) }));
          expect(d.definition).to.include(`"ConnectionArn":"${got.ConnectionArn}"`);
        }
        expect(d.roleArn).to.equal(m.inputs.roleArn);
        // moto 5.2.1 ignores CreateStateMachine's type and keeps every machine STANDARD (the
        // rehearsal notes it on an EXPRESS machine): what was sent is not readable back.
        expect(d.type).to.equal("STANDARD");
        const notes =
          report.created.find((c) => c.type === m.type && c.name === m.name)!.notes ?? [];
        if (m.inputs.type !== "STANDARD")
          expect(notes.join()).to.match(/keeps every state machine STANDARD/);
        expect(d.loggingConfiguration).to.deep.equal({
          level: m.inputs.loggingConfiguration.level,
          includeExecutionData: m.inputs.loggingConfiguration.includeExecutionData,
          destinations: [
            {
              cloudWatchLogsLogGroup: { logGroupArn: m.inputs.loggingConfiguration.logDestination },
            },
          ],
        });
        expect(d.tracingConfiguration).to.deep.equal({ enabled: true });
      }
    });

    it("gives every log group its retention", async () => {
      const groups = declared("cloudwatch/logGroup:LogGroup");
      const listed = new Map<string, number | undefined>();
      let nextToken: string | undefined;
      do {
        const page = await aws.logs.send(new DescribeLogGroupsCommand({ nextToken }));
        for (const g of page.logGroups ?? []) listed.set(g.logGroupName!, g.retentionInDays);
        nextToken = page.nextToken;
      } while (nextToken);
      for (const g of groups)
        expect(listed.get(nameOf(g)), g.name).to.equal(g.inputs.retentionInDays);
    });

    it("creates the functions with the declared settings, roles and references moto resolved", async () => {
      for (const f of declared("lambda/function:Function")) {
        const { Configuration: c } = await aws.lambda.send(
          new GetFunctionCommand({ FunctionName: nameOf(f) }),
        );
        expect(c!.Runtime, f.name).to.equal(f.inputs.runtime);
        expect(c!.Handler).to.equal(f.inputs.handler);
        expect(c!.Role).to.equal(f.inputs.role);
        expect(c!.Architectures).to.deep.equal(f.inputs.architectures);
        expect(c!.Timeout).to.equal(f.inputs.timeout);
        expect(c!.MemorySize).to.equal(f.inputs.memorySize);
        const vars = f.inputs.environment?.variables ?? {};
        const sent = Object.fromEntries(
          Object.entries<string>(vars).map(([k, v]) => [k, asSent(report, v)]),
        );
        expect(c!.Environment?.Variables ?? {}).to.deep.equal(sent);
        // A queue URL in the environment is moto's, not the mocks' sqs.<region>.amazonaws.com one.
        for (const v of Object.values(sent)) expect(v).to.not.match(/^https:\/\/sqs\./);
      }
      for (const u of declared("lambda/functionUrl:FunctionUrl")) {
        const url = await aws.lambda.send(
          new GetFunctionUrlConfigCommand({ FunctionName: u.inputs.functionName }),
        );
        expect(url.AuthType).to.equal(u.inputs.authorizationType);
      }
    });

    it("uploads each function's bundled archive as its code", async () => {
      for (const f of declared("lambda/function:Function")) {
        const zipped = await archiveZip(functionArchives.get(f.name)!);
        const { Configuration: c } = await aws.lambda.send(
          new GetFunctionCommand({ FunctionName: nameOf(f) }),
        );
        expect(c!.CodeSize, f.name).to.equal(zipped.length);
        expect(c!.CodeSha256).to.equal(createHash("sha256").update(zipped).digest("base64"));
      }
    });

    it("puts the role policies with moto's ARNs where the mocks had their own", async () => {
      for (const p of declared("iam/rolePolicy:RolePolicy")) {
        const got = await aws.iam.send(
          new GetRolePolicyCommand({ RoleName: p.inputs.role, PolicyName: nameOf(p) }),
        );
        expect(JSON.parse(decodeURIComponent(got.PolicyDocument!)), p.name).to.deep.equal(
          JSON.parse(asSent(report, p.inputs.policy)),
        );
      }
    });

    it("deploys the REST APIs' stages with tracing, access logs and method throttles", async () => {
      const apis = (await aws.apigateway.send(new GetRestApisCommand({}))).items ?? [];
      for (const s of declared("apigateway/stage:Stage")) {
        const api = resources.find((r) => `${r.name}-id` === s.inputs.restApi)!;
        const id = apis.find((a) => a.name === nameOf(api))!.id!;
        const stages = (await aws.apigateway.send(new GetStagesCommand({ restApiId: id }))).item!;
        const got = stages.find((x) => x.stageName === s.inputs.stageName)!;
        expect(got, s.name).to.not.equal(undefined);
        expect(got.tracingEnabled).to.equal(s.inputs.xrayTracingEnabled);
        expect(got.accessLogSettings).to.deep.equal(s.inputs.accessLogSettings);
        const settings = declared("apigateway/methodSettings:MethodSettings").find(
          (m) => m.inputs.restApi === s.inputs.restApi && m.inputs.stageName === s.inputs.stageName,
        )!;
        const all = got.methodSettings!["*/*"];
        expect(all.throttlingBurstLimit).to.equal(settings.inputs.settings.throttlingBurstLimit);
        expect(all.throttlingRateLimit).to.equal(settings.inputs.settings.throttlingRateLimit);
        expect(all.metricsEnabled).to.equal(settings.inputs.settings.metricsEnabled);
      }
    });

    it("associates each web ACL with its stage, with the declared rate-based rules", async () => {
      const associations = declared("wafv2/webAclAssociation:WebAclAssociation");
      if (stack === "prod") expect(associations).to.have.length(1);
      const acls = (await aws.wafv2.send(new ListWebACLsCommand({ Scope: "REGIONAL" }))).WebACLs!;
      const apis = (await aws.apigateway.send(new GetRestApisCommand({}))).items ?? [];
      for (const a of associations) {
        const acl = resources.find(
          (r) => r.type === "aws:wafv2/webAcl:WebAcl" && a.inputs.webAclArn.endsWith(`/${r.name}`),
        )!;
        const summary = acls.find((x) => x.Name === nameOf(acl))!;
        const got = (
          await aws.wafv2.send(
            new GetWebACLCommand({ Name: summary.Name, Scope: "REGIONAL", Id: summary.Id }),
          )
        ).WebACL!;
        const rule = acl.inputs.rules[0];
        expect(got.Rules![0].Statement!.RateBasedStatement).to.deep.include({
          Limit: rule.statement.rateBasedStatement.limit,
          AggregateKeyType: rule.statement.rateBasedStatement.aggregateKeyType,
        });
        expect(got.Rules![0].Action).to.deep.equal({ Block: {} });
        // The stage the association names is the one moto created, and knows its web ACL.
        const stage = declared("apigateway/stage:Stage").find((s) =>
          a.inputs.resourceArn.endsWith(
            `/restapis/${s.inputs.restApi}/stages/${s.inputs.stageName}`,
          ),
        )!;
        const api = apis.find(
          (x) =>
            x.name ===
            nameOf(
              resources.find(
                (r) =>
                  `${r.name}-id` === stage.inputs.restApi &&
                  r.type === "aws:apigateway/restApi:RestApi",
              )!,
            ),
        )!;
        const stages = (await aws.apigateway.send(new GetStagesCommand({ restApiId: api.id })))
          .item!;
        expect(stages.find((x) => x.stageName === stage.inputs.stageName)!.webAclArn).to.equal(
          summary.ARN,
        );
      }
    });

    it("creates the usage plans on the gateway's stage, with their throttles, quotas and keys", async () => {
      const plans = (await aws.apigateway.send(new GetUsagePlansCommand({}))).items ?? [];
      const apis = (await aws.apigateway.send(new GetRestApisCommand({}))).items ?? [];
      const declaredPlans = declared("apigateway/usagePlan:UsagePlan");
      expect(plans.map((p) => p.name).sort()).to.deep.equal(declaredPlans.map(nameOf).sort());
      for (const d of declaredPlans) {
        const p = plans.find((x) => x.name === nameOf(d))!;
        expect(p.throttle).to.deep.equal(d.inputs.throttleSettings);
        expect(p.quota).to.deep.include(d.inputs.quotaSettings);
        expect(
          p.apiStages!.map((s) => [apis.find((a) => a.id === s.apiId)?.name, s.stage]),
        ).to.deep.equal(
          d.inputs.apiStages.map((s: { apiId: string; stage: string }) => [
            nameOf(resources.find((r) => `${r.name}-id` === s.apiId)!),
            s.stage,
          ]),
        );
        const keys = await aws.apigateway.send(new GetUsagePlanKeysCommand({ usagePlanId: p.id }));
        const declaredKeys = declared("apigateway/usagePlanKey:UsagePlanKey").filter(
          (k) => k.inputs.usagePlanId === `${d.name}-id`,
        );
        expect(keys.items ?? [], d.name).to.have.length(declaredKeys.length);
      }
    });

    it("configures the buckets: ownership, public access block, encryption, lifecycle, policy, notifications", async () => {
      const bucketOf = (r: Recorded) =>
        nameOf(resources.find((b) => `${b.name}-id` === r.inputs.bucket)!);
      for (const o of declared("s3/bucketOwnershipControls:BucketOwnershipControls")) {
        const got = await aws.s3.send(
          new GetBucketOwnershipControlsCommand({ Bucket: bucketOf(o) }),
        );
        expect(got.OwnershipControls!.Rules).to.deep.equal([
          { ObjectOwnership: o.inputs.rule.objectOwnership },
        ]);
      }
      for (const b of declared("s3/bucketPublicAccessBlock:BucketPublicAccessBlock")) {
        const got = await aws.s3.send(new GetPublicAccessBlockCommand({ Bucket: bucketOf(b) }));
        expect(got.PublicAccessBlockConfiguration).to.deep.equal({
          BlockPublicAcls: b.inputs.blockPublicAcls,
          BlockPublicPolicy: b.inputs.blockPublicPolicy,
          IgnorePublicAcls: b.inputs.ignorePublicAcls,
          RestrictPublicBuckets: b.inputs.restrictPublicBuckets,
        });
      }
      for (const e of declared(
        "s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
      )) {
        const got = await aws.s3.send(new GetBucketEncryptionCommand({ Bucket: bucketOf(e) }));
        expect(
          got.ServerSideEncryptionConfiguration!.Rules![0].ApplyServerSideEncryptionByDefault!
            .SSEAlgorithm,
        ).to.equal(e.inputs.rules[0].applyServerSideEncryptionByDefault.sseAlgorithm);
      }
      for (const l of declared("s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration")) {
        const got = await aws.s3.send(
          new GetBucketLifecycleConfigurationCommand({ Bucket: bucketOf(l) }),
        );
        expect(
          got.Rules!.map((r) => [
            r.ID,
            r.Status,
            r.Expiration?.Days,
            r.AbortIncompleteMultipartUpload?.DaysAfterInitiation,
          ]),
        ).to.deep.equal(
          l.inputs.rules.map((r: any) => [
            r.id,
            r.status,
            r.expiration?.days,
            r.abortIncompleteMultipartUpload?.daysAfterInitiation,
          ]),
        );
      }
      for (const p of declared("s3/bucketPolicy:BucketPolicy")) {
        const got = await aws.s3.send(new GetBucketPolicyCommand({ Bucket: bucketOf(p) }));
        expect(JSON.parse(got.Policy!)).to.deep.equal(JSON.parse(p.inputs.policy));
      }
      for (const n of declared("s3/bucketNotification:BucketNotification")) {
        const got = await aws.s3.send(
          new GetBucketNotificationConfigurationCommand({ Bucket: bucketOf(n) }),
        );
        expect(
          got.LambdaFunctionConfigurations!.map((c) => [
            c.Id,
            c.LambdaFunctionArn,
            c.Events,
            c.Filter?.Key?.FilterRules?.map((f) => [f.Name?.toLowerCase(), f.Value]),
          ]),
        ).to.deep.equal(
          n.inputs.lambdaFunctions.map((c: any) => [
            c.id,
            c.lambdaFunctionArn,
            c.events,
            [["prefix", c.filterPrefix]],
          ]),
        );
      }
    });

    it("adds the functions' permissions and asynchronous invocation settings", async () => {
      for (const p of declared("lambda/permission:Permission")) {
        const policy = await aws.lambda.send(
          new GetPolicyCommand({ FunctionName: p.inputs.function }),
        );
        const statements = JSON.parse(policy.Policy!).Statement as Array<Record<string, any>>;
        const st = statements.find((x) => x.Sid === (p.inputs.statementId ?? p.name))!;
        expect(st, p.name).to.not.equal(undefined);
        // A Function URL open to anyone has principal "*", which the policy keeps as is.
        expect(st.Principal).to.deep.equal(
          p.inputs.principal === "*" ? "*" : { Service: p.inputs.principal },
        );
        expect(st.Action).to.equal(p.inputs.action);
        if (p.inputs.sourceArn)
          expect(st.Condition.ArnLike["AWS:SourceArn"]).to.equal(
            asSent(report, p.inputs.sourceArn),
          );
      }
      for (const c of declared("lambda/functionEventInvokeConfig:FunctionEventInvokeConfig")) {
        const got = await aws.lambda.send(
          new GetFunctionEventInvokeConfigCommand({ FunctionName: c.inputs.functionName }),
        );
        expect(got.MaximumRetryAttempts, c.name).to.equal(c.inputs.maximumRetryAttempts);
        expect(got.MaximumEventAgeInSeconds).to.equal(c.inputs.maximumEventAgeInSeconds);
        expect(got.DestinationConfig?.OnFailure?.Destination).to.equal(
          c.inputs.destinationConfig.onFailure.destination,
        );
      }
    });

    it("puts the alarm topic's policy and the dashboard, whose alarm widget names moto's alarms", async () => {
      for (const p of declared("sns/topicPolicy:TopicPolicy")) {
        const got = await aws.sns.send(new GetTopicAttributesCommand({ TopicArn: p.inputs.arn }));
        expect(JSON.parse(got.Attributes!.Policy)).to.deep.equal(JSON.parse(p.inputs.policy));
      }
      for (const d of declared("cloudwatch/dashboard:Dashboard")) {
        const got = await aws.cloudwatch.send(
          new GetDashboardCommand({ DashboardName: d.inputs.dashboardName ?? d.name }),
        );
        expect(JSON.parse(got.DashboardBody!)).to.deep.equal(
          JSON.parse(asSent(report, d.inputs.dashboardBody)),
        );
        // The mocks give alarms an arn:aws:mock ARN; the dashboard moto holds names the real ones.
        expect(got.DashboardBody).to.not.include("arn:aws:mock:");
        expect(got.DashboardBody).to.include(`arn:aws:cloudwatch:${REGION}:123456789012:alarm:`);
      }
    });

    it("puts every alarm with its metric, threshold, dimensions and actions", async () => {
      const alarms: MetricAlarm[] = [];
      let NextToken: string | undefined;
      do {
        const page = await aws.cloudwatch.send(new DescribeAlarmsCommand({ NextToken }));
        alarms.push(...(page.MetricAlarms ?? []));
        NextToken = page.NextToken;
      } while (NextToken);
      const declaredAlarms = declared("cloudwatch/metricAlarm:MetricAlarm");
      expect(alarms.map((a) => a.AlarmName).sort()).to.deep.equal(
        declaredAlarms.map(nameOf).sort(),
      );
      for (const d of declaredAlarms) {
        const a = alarms.find((x) => x.AlarmName === nameOf(d))!;
        expect(a.MetricName, d.name).to.equal(d.inputs.metricName);
        expect(a.Namespace).to.equal(d.inputs.namespace);
        expect(a.Threshold).to.equal(d.inputs.threshold);
        expect(a.ComparisonOperator).to.equal(d.inputs.comparisonOperator);
        expect(a.EvaluationPeriods).to.equal(d.inputs.evaluationPeriods);
        expect(a.Period).to.equal(d.inputs.period);
        expect(a.AlarmActions).to.deep.equal(d.inputs.alarmActions);
        expect(
          Object.fromEntries((a.Dimensions ?? []).map((x) => [x.Name, x.Value])),
        ).to.deep.equal(d.inputs.dimensions ?? {});
      }
    });

    if (stack === "prod")
      it("creates each subscription's queue and the dispatcher's mapping from it", async () => {
        expect(report.rejected).to.deep.equal([]);
        const mappings = resources.filter(
          (r) =>
            r.type === "aws:lambda/eventSourceMapping:EventSourceMapping" &&
            r.inputs.eventSourceArn.startsWith("arn:aws:sqs:"),
        );
        expect(mappings.map((m) => m.name).sort()).to.deep.equal([
          `switchyard-${stack}-outbound-billing`,
          `switchyard-${stack}-outbound-crm-eu`,
        ]);
        for (const m of mappings) {
          const listed = await aws.lambda.send(
            new ListEventSourceMappingsCommand({ EventSourceArn: m.inputs.eventSourceArn }),
          );
          expect(
            listed.EventSourceMappings!.map((x) => [x.FunctionArn, x.BatchSize]),
          ).to.deep.equal([[m.inputs.functionName, m.inputs.batchSize]]);
          const queue = resources.find(
            (r) =>
              r.type === "aws:sqs/queue:Queue" && m.inputs.eventSourceArn.endsWith(`:${r.name}`),
          )!;
          const url = (await aws.sqs.send(new GetQueueUrlCommand({ QueueName: queue.name })))
            .QueueUrl;
          const a = await aws.sqs.send(
            new GetQueueAttributesCommand({ QueueUrl: url, AttributeNames: ["VisibilityTimeout"] }),
          );
          expect(a.Attributes!.VisibilityTimeout).to.equal(
            String(queue.inputs.visibilityTimeoutSeconds),
          );
        }
      });
  });
}

describe("lib/zip, as the rehearsal gives it to CreateFunction", () => {
  it("writes a zip that Python's zipfile reads back byte for byte", () => {
    const entries = [
      { name: "__index.js", data: Buffer.from("exports.handler = async () => 1;\n".repeat(50)) },
      { name: "lib/ü.json", data: Buffer.from("{}") },
      { name: "empty.txt", data: Buffer.alloc(0) },
    ];
    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "rehearsal-zip-")), "code.zip");
    fs.writeFileSync(file, writeZip(entries));
    const read = execFileSync(
      "python3",
      [
        "-c",
        "import json,sys,zipfile; z=zipfile.ZipFile(sys.argv[1]); assert z.testzip() is None; print(json.dumps({i.filename: z.read(i).decode() for i in z.infolist()}))",
        file,
      ],
      { encoding: "utf8" },
    );
    expect(JSON.parse(read)).to.deep.equal(
      Object.fromEntries(entries.map((e) => [e.name, e.data.toString()])),
    );
  });
});

describe("docs/rehearsal.md", () => {
  it("lists every resource type the rehearsal creates and every type it skips", () => {
    const doc = fs.readFileSync(path.join(__dirname, "..", "..", "docs", "rehearsal.md"), "utf8");
    for (const type of [...Object.keys(REHEARSALS), ...Object.keys(NOT_REHEARSED)])
      expect(doc, type).to.include(`\`${type}\``);
  });
});

describe("local/rehearsal: a value moto rejects", () => {
  let moto: MotoServer;
  const bus: Recorded = {
    type: "aws:cloudwatch/eventBus:EventBus",
    name: "rehearsal-bad",
    inputs: { name: "rehearsal-bad" },
    urn: "",
  };
  const rule = (name: string, eventPattern: string): Recorded => ({
    type: "aws:cloudwatch/eventRule:EventRule",
    name,
    inputs: { eventBusName: "rehearsal-bad", eventPattern, state: "ENABLED" },
    urn: "",
  });
  const queue = (name: string, maxMessageSize: number): Recorded => ({
    type: "aws:sqs/queue:Queue",
    name,
    inputs: { maxMessageSize },
    urn: "",
  });

  before(async () => {
    moto = await startMotoServer({ env: { ...REHEARSAL_MOTO_ENV } });
  });
  after(async () => {
    await moto?.stop();
  });

  it("fails naming the rule, its eventPattern input and moto's message", async () => {
    const bad = rule("rehearsal-bad-pattern", JSON.stringify({ source: "switchyard.records" }));
    let error: RehearsalError | undefined;
    await applyToMoto([bus, bad], moto.url).catch((e) => (error = e));
    expect(error).to.be.instanceOf(RehearsalError);
    expect(error!.resourceType).to.equal("aws:cloudwatch/eventRule:EventRule");
    expect(error!.resourceName).to.equal("rehearsal-bad-pattern");
    expect(error!.operation).to.equal("PutRule");
    expect(error!.inputs).to.deep.equal(["eventPattern"]);
    expect(error!.code).to.equal("InvalidEventPatternException");
    expect(error!.message).to.equal(
      'moto rejected aws:cloudwatch/eventRule:EventRule "rehearsal-bad-pattern" (PutRule), input eventPattern = "{\\"source\\":\\"switchyard.records\\"}": InvalidEventPatternException: Event pattern is not valid. Reason: \'source\' must be an object or an array',
    );
  });

  it("fails naming the queue and the out-of-range maxMessageSize", async () => {
    let error: RehearsalError | undefined;
    await applyToMoto([queue("rehearsal-small-messages", 100)], moto.url).catch((e) => (error = e));
    expect(error).to.be.instanceOf(RehearsalError);
    expect(error!.message).to.match(
      /^moto rejected aws:sqs\/queue:Queue "rehearsal-small-messages" \(CreateQueue\), input maxMessageSize = 100: InvalidAttributeValue: /,
    );
    expect(error!.inputs).to.deep.equal(["maxMessageSize"]);
  });

  it("names the input whose value moto could not find (a rule on a bus that does not exist)", async () => {
    const orphan = rule("rehearsal-orphan", JSON.stringify({ source: ["switchyard.records"] }));
    orphan.inputs.eventBusName = "rehearsal-missing-bus";
    let error: RehearsalError | undefined;
    await applyToMoto([orphan], moto.url).catch((e) => (error = e));
    expect(error!.message).to.equal(
      'moto rejected aws:cloudwatch/eventRule:EventRule "rehearsal-orphan" (PutRule), input eventBusName = "rehearsal-missing-bus": ResourceNotFoundException: Event bus rehearsal-missing-bus does not exist.',
    );
  });

  it("fails naming the resource whose input could mean either of two resources", async () => {
    // The mocks' ids are "<logical name>-id" whatever the type: a secret and a bucket named alike
    // share one, and an input that does not say which type it takes cannot be resolved.
    const secret: Recorded = {
      type: "aws:secretsmanager/secret:Secret",
      name: "rehearsal-twin",
      inputs: {},
      urn: "",
    };
    const bucket: Recorded = {
      type: "aws:s3/bucket:Bucket",
      name: "rehearsal-twin",
      inputs: {},
      urn: "",
    };
    const topic: Recorded = {
      type: "aws:sns/topic:Topic",
      name: "rehearsal-twin-topic",
      inputs: { displayName: "rehearsal-twin-id" },
      urn: "",
    };
    let error: RehearsalError | undefined;
    await applyToMoto([secret, bucket, topic], moto.url).catch((e) => (error = e));
    expect(error!.message).to.equal(
      'the rehearsal could not resolve the inputs of aws:sns/topic:Topic "rehearsal-twin-topic": input displayName = "rehearsal-twin-id" could mean a resource of type aws:secretsmanager/secret:Secret or aws:s3/bucket:Bucket: the rehearsal does not know which',
    );
  });

  it("reports every rejection without failFast, and skips what depends on a rejected resource", async () => {
    const badRule = rule("rehearsal-bad-rule", JSON.stringify({ source: [] }));
    const target: Recorded = {
      type: "aws:cloudwatch/eventTarget:EventTarget",
      name: "rehearsal-bad-rule-target",
      inputs: {
        rule: "rehearsal-bad-rule",
        eventBusName: "rehearsal-bad",
        targetId: "log",
        arn: `arn:aws:logs:${REGION}:123456789012:log-group:/aws/events/rehearsal`,
      },
      urn: "",
    };
    const report = await applyToMoto(
      [
        { ...bus, name: "rehearsal-bad-2", inputs: { name: "rehearsal-bad-2" } },
        { ...badRule, inputs: { ...badRule.inputs, eventBusName: "rehearsal-bad-2" } },
        { ...target, inputs: { ...target.inputs, eventBusName: "rehearsal-bad-2" } },
        queue("rehearsal-tiny-messages", 10),
        queue("rehearsal-fine", 2048),
      ],
      moto.url,
      { failFast: false },
    );
    expect(report.rejected.map((e) => [e.resourceName, e.inputs])).to.deep.equal([
      ["rehearsal-bad-rule", ["eventPattern"]],
      ["rehearsal-tiny-messages", ["maxMessageSize"]],
    ]);
    expect(report.skipped).to.deep.equal([
      {
        type: "aws:cloudwatch/eventTarget:EventTarget",
        name: "rehearsal-bad-rule-target",
        reason:
          "depends on aws:cloudwatch/eventRule:EventRule rehearsal-bad-rule, which moto rejected",
      },
    ]);
    expect(report.created.map((c) => c.name)).to.deep.equal(["rehearsal-bad-2", "rehearsal-fine"]);
    expect(report.byType["aws:sqs/queue:Queue"]).to.deep.include({ created: 1, rejected: 1 });
  });
});
