// The local twin judged by a real AWS client: the AWS CLI v2 (Debian's awscli package, which
// .ci/run installs) drives the running twin through --endpoint-url, with its own request signing,
// protocols and response checks (it verifies SQS's MD5 digests, for one), and nothing else: every
// service the program declares, its writes (to the engine) and its reads (from moto, where the
// program was applied at start). Each command is one a user would type; a service the program does
// not use is answered as AWS answers an unknown operation, never with a 5xx. Commands run through
// the CLI's own entry point in processes forked from one that imported it (test/support/awsCli.ts).
import * as fs from "fs";
import * as os from "os";
import * as path from "path";
import { expect } from "chai";
import { AWS_CLI_V2, awsCli, CliRun } from "../support/awsCli";
import { SwitchyardLocal } from "../../local/runtime";
import { CLI_ENVIRONMENT } from "../../local/firstRun";

interface Run {
  code: number;
  json: any;
  stderr: string;
}

describe("the local twin through the AWS CLI v2", function () {
  this.timeout(240_000);
  let local: SwitchyardLocal;

  const cliEnv = () => ({ ...process.env, ...CLI_ENVIRONMENT });
  const aws = async (...args: string[]): Promise<Run> => {
    const r = await awsCli(
      ["--endpoint-url", local.awsUrl, "--output", "json", "--no-cli-pager", ...args],
      cliEnv(),
    );
    return {
      code: r.code,
      json: r.stdout.trim() ? JSON.parse(r.stdout) : undefined,
      stderr: r.stderr,
    };
  };

  /** A command whose output is text (s3 ls, s3 cp -, logs tail). */
  const awsText = (...args: string[]): Promise<CliRun> =>
    awsCli(["--endpoint-url", local.awsUrl, "--no-cli-pager", ...args], cliEnv());

  before(async () => {
    const version = fs.existsSync(AWS_CLI_V2)
      ? (await awsCli(["--version"], process.env)).stdout
      : "";
    if (!version.startsWith("aws-cli/2."))
      throw new Error(
        `${AWS_CLI_V2} is not the AWS CLI v2 (${version.trim() || "not installed"}): apt-get install -y awscli (.ci/run does)`,
      );
    local = await SwitchyardLocal.start({ stack: "dev", speed: 0.001, log: () => undefined });
  });
  after(async () => local?.stop());

  const busName = "switchyard-dev";
  const record = (id: string) => ({
    EventBusName: busName,
    Source: "switchyard.records",
    DetailType: "RecordCreated",
    Detail: JSON.stringify({ tenantId: "t1", recordId: id, recordVersion: 1, payload: {} }),
  });

  const declaredNames = (type: string) =>
    local
      .of(type)
      .map((x) => x.inputs.name ?? x.name)
      .sort();

  it("events list-rules and describe-rule: the hub's declared rules, and the archive's", async () => {
    const r = await aws("events", "list-rules", "--event-bus-name", busName);
    expect(r.code, r.stderr).to.equal(0);
    const declared = local
      .of("aws:cloudwatch/eventRule:EventRule")
      .filter((x) => x.inputs.eventBusName === busName)
      .map((x) => x.inputs.name ?? x.name);
    // As on AWS, an archive adds a managed rule to the bus it archives.
    expect(r.json.Rules.map((x: { Name: string }) => x.Name).sort()).to.deep.equal(
      [...declared, "Events-Archive-switchyard-dev-archive"].sort(),
    );
    expect(declared).to.include("switchyard-dev-records");
    const rule = await aws(
      "events",
      "describe-rule",
      "--name",
      "switchyard-dev-records",
      "--event-bus-name",
      busName,
    );
    expect(rule.code, rule.stderr).to.equal(0);
    const records = local
      .of("aws:cloudwatch/eventRule:EventRule")
      .find((x) => (x.inputs.name ?? x.name) === "switchyard-dev-records")!;
    expect(JSON.parse(rule.json.EventPattern)).to.deep.equal(
      JSON.parse(records.inputs.eventPattern),
    );
    expect(rule.json.Arn).to.equal(
      "arn:aws:events:eu-west-1:123456789012:rule/switchyard-dev/switchyard-dev-records",
    );
  });

  it("events list-archives: the hub's archive of its bus", async () => {
    const r = await aws("events", "list-archives");
    expect(r.code, r.stderr).to.equal(0);
    expect(r.json.Archives.map((a: { ArchiveName: string }) => a.ArchiveName)).to.deep.equal([
      "switchyard-dev-archive",
    ]);
    expect(r.json.Archives[0].EventSourceArn).to.equal(
      `arn:aws:events:eu-west-1:123456789012:event-bus/${busName}`,
    );
  });

  it("events put-events: accepted, and refused as EventBridge refuses (11 entries, an unknown bus)", async () => {
    const ok = await aws("events", "put-events", "--entries", JSON.stringify([record("cli-1")]));
    expect(ok.code, ok.stderr).to.equal(0);
    expect(ok.json.FailedEntryCount).to.equal(0);
    expect(ok.json.Entries[0].EventId).to.be.a("string");

    const eleven = Array.from({ length: 11 }, (_, i) => record(`cli-many-${i}`));
    const tooMany = await aws("events", "put-events", "--entries", JSON.stringify(eleven));
    expect(tooMany.code).to.equal(254);
    expect(tooMany.stderr).to.contain("(ValidationException)");
    expect(tooMany.stderr).to.contain("Member must have length less than or equal to 10");

    const unknownBus = await aws(
      "events",
      "put-events",
      "--entries",
      JSON.stringify([{ ...record("cli-2"), EventBusName: "no-such-bus" }]),
    );
    expect(unknownBus.code).to.equal(254);
    expect(unknownBus.stderr).to.contain(
      "(ResourceNotFoundException) when calling the PutEvents operation: Event bus no-such-bus does not exist.",
    );
  });

  it("sqs send-message, receive-message (digests checked by the CLI) and delete-message on the hub DLQ", async () => {
    const queue = `${local.awsUrl}/123456789012/switchyard-dev-dlq`;
    // The queue's attributes are moto's, its message counts the engine's, which holds the messages.
    const counts = async () => {
      const got = await aws(
        "sqs",
        "get-queue-attributes",
        "--queue-url",
        queue,
        "--attribute-names",
        "ApproximateNumberOfMessages",
        "ApproximateNumberOfMessagesNotVisible",
        "QueueArn",
      );
      expect(got.code, got.stderr).to.equal(0);
      expect(got.json.Attributes.QueueArn).to.equal(
        "arn:aws:sqs:eu-west-1:123456789012:switchyard-dev-dlq",
      );
      return [
        Number(got.json.Attributes.ApproximateNumberOfMessages),
        Number(got.json.Attributes.ApproximateNumberOfMessagesNotVisible),
      ];
    };
    const [visibleBefore, hiddenBefore] = await counts();
    const sent = await aws(
      "sqs",
      "send-message",
      "--queue-url",
      queue,
      "--message-body",
      "dead-lettered <&> example",
      "--message-attributes",
      JSON.stringify({ ERROR_CODE: { DataType: "String", StringValue: "SomeError" } }),
    );
    expect(sent.code, sent.stderr).to.equal(0);
    const received = await aws(
      "sqs",
      "receive-message",
      "--queue-url",
      queue,
      "--max-number-of-messages",
      "10",
      "--attribute-names",
      "All",
      "--message-attribute-names",
      "All",
    );
    expect(received.code, received.stderr).to.equal(0);
    const m = received.json.Messages.find(
      (x: { MessageId: string }) => x.MessageId === sent.json.MessageId,
    );
    expect(m.Body).to.equal("dead-lettered <&> example");
    expect(m.MessageAttributes.ERROR_CODE).to.deep.equal({
      StringValue: "SomeError",
      DataType: "String",
    });
    expect(m.Attributes.ApproximateReceiveCount).to.equal("1");
    const receivedCount = received.json.Messages.length;
    expect(await counts()).to.deep.equal([
      visibleBefore + 1 - receivedCount,
      hiddenBefore + receivedCount,
    ]);
    const deleted = await aws(
      "sqs",
      "delete-message",
      "--queue-url",
      queue,
      "--receipt-handle",
      m.ReceiptHandle,
    );
    expect(deleted.code, deleted.stderr).to.equal(0);
    const again = await aws(
      "sqs",
      "receive-message",
      "--queue-url",
      queue,
      "--visibility-timeout",
      "0",
    );
    expect(again.code, again.stderr).to.equal(0);
    expect(again.json?.Messages ?? []).to.have.length(0);
    expect((await counts()).reduce((a, b) => a + b)).to.equal(visibleBefore + hiddenBefore);
  });

  it("dynamodb list-tables, describe-table and scan: the declared tables, and the demo tenant's key written at start", async () => {
    const tables = await aws("dynamodb", "list-tables");
    expect(tables.code, tables.stderr).to.equal(0);
    const declared = local
      .of("aws:dynamodb/table:Table")
      .map((t) => t.inputs.name ?? t.name)
      .sort();
    expect(tables.json.TableNames.sort()).to.deep.equal(declared);
    const scan = await aws("dynamodb", "scan", "--table-name", "switchyard-dev-ingress-access");
    expect(scan.code, scan.stderr).to.equal(0);
    expect(scan.json.Count).to.be.greaterThan(0);
    const data = local
      .of("aws:dynamodb/table:Table")
      .find((t) => (t.inputs.name ?? t.name) === "switchyard-dev-changes-data")!;
    const table = await aws(
      "dynamodb",
      "describe-table",
      "--table-name",
      "switchyard-dev-changes-data",
    );
    expect(table.code, table.stderr).to.equal(0);
    expect(table.json.Table.KeySchema).to.deep.equal([
      { AttributeName: data.inputs.hashKey, KeyType: "HASH" },
      { AttributeName: data.inputs.rangeKey, KeyType: "RANGE" },
    ]);
    expect(table.json.Table.StreamSpecification).to.deep.include({ StreamEnabled: true });
  });

  it("stepfunctions start-execution, list-executions, describe-execution and get-execution-history", async () => {
    const machine = "arn:aws:states:eu-west-1:123456789012:stateMachine:switchyard-dev-verify";
    const machines = await aws("stepfunctions", "list-state-machines");
    expect(machines.code, machines.stderr).to.equal(0);
    expect(
      machines.json.stateMachines.map((m: { stateMachineArn: string }) => m.stateMachineArn),
    ).to.include(machine);
    const started = await aws(
      "stepfunctions",
      "start-execution",
      "--state-machine-arn",
      machine,
      "--name",
      "cli-execution-1",
      "--input",
      JSON.stringify({ tenantId: "t1", recordId: "cli-sfn-1", recordHash: "abc" }),
    );
    expect(started.code, started.stderr).to.equal(0);
    await local.drain();
    const executions = await aws(
      "stepfunctions",
      "list-executions",
      "--state-machine-arn",
      machine,
    );
    expect(executions.code, executions.stderr).to.equal(0);
    const listed = executions.json.executions.find(
      (e: { executionArn: string }) => e.executionArn === started.json.executionArn,
    );
    expect(listed.name).to.equal("cli-execution-1");
    const described = await aws(
      "stepfunctions",
      "describe-execution",
      "--execution-arn",
      started.json.executionArn,
    );
    expect(described.code, described.stderr).to.equal(0);
    expect(described.json).to.include({
      executionArn: started.json.executionArn,
      stateMachineArn: machine,
      status: listed.status,
    });
    expect(["SUCCEEDED", "FAILED"]).to.include(described.json.status);
    expect(JSON.parse(described.json.input)).to.deep.include({ recordId: "cli-sfn-1" });
    const history = await aws(
      "stepfunctions",
      "get-execution-history",
      "--execution-arn",
      started.json.executionArn,
    );
    expect(history.code, history.stderr).to.equal(0);
    const types = history.json.events.map((e: { type: string }) => e.type);
    expect(types[0]).to.equal("ExecutionStarted");
    expect(types.at(-1)).to.equal(
      described.json.status === "SUCCEEDED" ? "ExecutionSucceeded" : "ExecutionFailed",
    );
  });

  it("events start-replay and describe-replay: the archive's events re-put on the bus", async () => {
    const replay = await aws(
      "events",
      "start-replay",
      "--replay-name",
      "cli-replay-1",
      "--event-source-arn",
      "arn:aws:events:eu-west-1:123456789012:archive/switchyard-dev-archive",
      "--event-start-time",
      "2020-01-01T00:00:00Z",
      "--event-end-time",
      "2099-01-01T00:00:00Z",
      "--destination",
      `Arn=arn:aws:events:eu-west-1:123456789012:event-bus/${busName}`,
    );
    expect(replay.code, replay.stderr).to.equal(0);
    expect(replay.json).to.include({
      ReplayArn: "arn:aws:events:eu-west-1:123456789012:replay/cli-replay-1",
      State: "STARTING",
    });
    // RUNNING until every replayed event is delivered or dead-lettered, then COMPLETED.
    let described = await aws("events", "describe-replay", "--replay-name", "cli-replay-1");
    for (let i = 0; i < 40 && described.json?.State === "RUNNING"; i++) {
      await new Promise((r) => setTimeout(r, 250));
      described = await aws("events", "describe-replay", "--replay-name", "cli-replay-1");
    }
    expect(described.code, described.stderr).to.equal(0);
    expect(described.json).to.include({
      ReplayName: "cli-replay-1",
      State: "COMPLETED",
      StateReason: "Replay completed",
      EventSourceArn: "arn:aws:events:eu-west-1:123456789012:archive/switchyard-dev-archive",
    });
    expect(described.json.ReplayEndTime).to.be.a("string");
    const unknown = await aws("events", "describe-replay", "--replay-name", "no-such-replay");
    expect(unknown.code).to.equal(254);
    expect(unknown.stderr).to.contain("(ResourceNotFoundException)");
  });

  it("s3 ls, s3 cp up (the bucket's notification invokes its function) and s3 cp down", async () => {
    const buckets = await aws("s3api", "list-buckets");
    expect(buckets.code, buckets.stderr).to.equal(0);
    expect(buckets.json.Buckets.map((b: { Name: string }) => b.Name).sort()).to.deep.equal(
      declaredNames("aws:s3/bucket:Bucket"),
    );
    const ls = await awsText("s3", "ls");
    expect(ls.code, ls.stderr).to.equal(0);
    expect(ls.stdout).to.contain("switchyard-dev-ingest-bucket");

    const file = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-cli-")), "r.json");
    const body = JSON.stringify({ tenantId: "t1", recordId: "cli-s3-1", payload: { n: 1 } });
    fs.writeFileSync(file, body);
    try {
      const up = await awsText(
        "s3",
        "cp",
        file,
        "s3://switchyard-dev-ingest-bucket/incoming/r.json",
      );
      expect(up.code, up.stderr).to.equal(0);
      const listed = await awsText("s3", "ls", "s3://switchyard-dev-ingest-bucket/incoming/");
      expect(listed.code, listed.stderr).to.equal(0);
      expect(listed.stdout).to.match(new RegExp(`\\s${body.length} r\\.json`));
      const down = await awsText(
        "s3",
        "cp",
        "s3://switchyard-dev-ingest-bucket/incoming/r.json",
        "-",
      );
      expect(down.code, down.stderr).to.equal(0);
      expect(down.stdout).to.equal(body);
      await local.drain();
      expect(
        local.logLines.some((l) => /function switchyard-dev-ingest-s3 ran/.test(l)),
        "the bucket's notification invoked its function",
      ).to.equal(true);
      const missing = await awsText("s3", "cp", "s3://switchyard-dev-ingest-bucket/nope.json", "-");
      expect(missing.code).to.equal(1);
      expect(missing.stderr).to.contain("404");
    } finally {
      fs.rmSync(path.dirname(file), { recursive: true, force: true });
    }
  });

  it("lambda invoke, then logs tail: the function's lines in its log group, one stream per sandbox", async () => {
    const functions = await aws("lambda", "list-functions");
    expect(functions.code, functions.stderr).to.equal(0);
    expect(
      functions.json.Functions.map((f: { FunctionName: string }) => f.FunctionName).sort(),
    ).to.deep.equal(declaredNames("aws:lambda/function:Function"));

    const out = path.join(fs.mkdtempSync(path.join(os.tmpdir(), "switchyard-cli-")), "out.json");
    try {
      const invoked = await aws(
        "lambda",
        "invoke",
        "--function-name",
        "switchyard-dev-ingest-s3",
        "--cli-binary-format",
        "raw-in-base64-out",
        "--payload",
        // An object that does not exist: the function logs what it could not ingest.
        JSON.stringify({
          Records: [
            {
              eventSource: "aws:s3",
              eventName: "ObjectCreated:Put",
              s3: {
                bucket: { name: "switchyard-dev-ingest-bucket" },
                object: { key: "incoming/cli-missing.json", size: 2 },
              },
            },
          ],
        }),
        out,
      );
      expect(invoked.code, invoked.stderr).to.equal(0);
      expect(invoked.json.StatusCode).to.equal(200);
    } finally {
      fs.rmSync(path.dirname(out), { recursive: true, force: true });
    }
    const group = local
      .of("aws:lambda/function:Function")
      .find((f) => (f.inputs.name ?? f.name) === "switchyard-dev-ingest-s3")!.inputs.loggingConfig
      .logGroup;
    const groups = await aws("logs", "describe-log-groups");
    expect(groups.code, groups.stderr).to.equal(0);
    expect(groups.json.logGroups.map((g: { logGroupName: string }) => g.logGroupName)).to.include(
      group,
    );
    // The lines reach moto in batches, a few times a second.
    let tail!: { code: number; stdout: string; stderr: string };
    for (let i = 0; i < 50; i++) {
      tail = await awsText("logs", "tail", group, "--since", "10m");
      if (tail.code === 0 && /"level"/.test(tail.stdout)) break;
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(tail.code, tail.stderr).to.equal(0);
    expect(tail.stdout).to.match(/^\S+ \d{4}\/\d{2}\/\d{2}\/\[\$LATEST\][0-9a-f]{32} /m);
    const kept = local.services.lambda.logs.get("switchyard-dev-ingest-s3") ?? [];
    expect(kept.length).to.be.greaterThan(0);
    expect(tail.stdout).to.contain(kept[0].message.slice(0, 40));
  });

  it("sns list-topics, secretsmanager list-secrets, iam list-roles: what the program declares", async () => {
    const topics = await aws("sns", "list-topics");
    expect(topics.code, topics.stderr).to.equal(0);
    expect(
      topics.json.Topics.map((t: { TopicArn: string }) => t.TopicArn.split(":").pop()).sort(),
    ).to.deep.equal(declaredNames("aws:sns/topic:Topic"));
    const secrets = await aws("secretsmanager", "list-secrets");
    expect(secrets.code, secrets.stderr).to.equal(0);
    const names = secrets.json.SecretList.map((x: { Name: string }) => x.Name);
    for (const n of declaredNames("aws:secretsmanager/secret:Secret")) expect(names).to.include(n);
    const roles = await aws("iam", "list-roles");
    expect(roles.code, roles.stderr).to.equal(0);
    const roleNames = roles.json.Roles.map((r: { RoleName: string }) => r.RoleName);
    for (const n of declaredNames("aws:iam/role:Role")) expect(roleNames).to.include(n);
  });

  it("apigateway get-rest-apis and cloudwatch describe-alarms: the APIs and alarms declared", async () => {
    const apis = await aws("apigateway", "get-rest-apis");
    expect(apis.code, apis.stderr).to.equal(0);
    expect(apis.json.items.map((a: { name: string }) => a.name).sort()).to.deep.equal(
      declaredNames("aws:apigateway/restApi:RestApi"),
    );
    const alarms = await aws("cloudwatch", "describe-alarms");
    expect(alarms.code, alarms.stderr).to.equal(0);
    expect(
      alarms.json.MetricAlarms.map((a: { AlarmName: string }) => a.AlarmName).sort(),
    ).to.deep.equal(declaredNames("aws:cloudwatch/metricAlarm:MetricAlarm"));
  });

  it("a service the program does not use is a 4xx that names what is served, never a 5xx", async () => {
    const r = await aws("kinesis", "list-streams");
    expect(r.code).to.equal(254);
    expect(r.stderr).to.contain(
      "(UnknownOperationException) when calling the ListStreams operation",
    );
    expect(r.stderr).to.contain("Secrets Manager GetSecretValue");
  });
});
