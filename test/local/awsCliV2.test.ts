// The local twin judged by a real AWS client: the AWS CLI v2 (Debian's awscli package, which
// .ci/run installs) drives the running twin through --endpoint-url, with its own request signing,
// protocols and response checks (it verifies SQS's MD5 digests, for one). Each command is one a
// user would type; what the twin does not serve yet is answered as AWS answers an unknown
// operation, never with a 5xx.
import { expect } from "chai";
import { execFile } from "child_process";
import { SwitchyardLocal } from "../../local/runtime";
import { CLI_ENVIRONMENT } from "../../local/firstRun";

const AWS_CLI_V2 = "/usr/bin/aws";

interface Run {
  code: number;
  json: any;
  stderr: string;
}

describe("the local twin through the AWS CLI v2", function () {
  this.timeout(240_000);
  let local: SwitchyardLocal;

  const aws = (...args: string[]): Promise<Run> =>
    new Promise((resolve) =>
      execFile(
        AWS_CLI_V2,
        ["--endpoint-url", local.awsUrl, "--output", "json", "--no-cli-pager", ...args],
        { env: { ...process.env, ...CLI_ENVIRONMENT }, timeout: 60_000 },
        (err, stdout, stderr) =>
          resolve({
            code: err ? Number((err as { code?: number }).code ?? 1) : 0,
            json: stdout.trim() ? JSON.parse(stdout) : undefined,
            stderr,
          }),
      ),
    );

  before(async () => {
    const version = await new Promise<string>((resolve) =>
      execFile(AWS_CLI_V2, ["--version"], (err, stdout) => resolve(err ? "" : stdout)),
    );
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

  it("events list-rules: the hub's declared rules", async () => {
    const r = await aws("events", "list-rules", "--event-bus-name", busName);
    expect(r.code, r.stderr).to.equal(0);
    const declared = local
      .of("aws:cloudwatch/eventRule:EventRule")
      .filter((x) => x.inputs.eventBusName === busName)
      .map((x) => x.inputs.name ?? x.name)
      .sort();
    expect(r.json.Rules.map((x: { Name: string }) => x.Name).sort()).to.deep.equal(declared);
    expect(declared).to.include("switchyard-dev-records");
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
  });

  it("dynamodb list-tables and scan: the declared tables, and the demo tenant's key written at start", async () => {
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
  });

  it("stepfunctions list-executions and events start-replay", async () => {
    const executions = await aws(
      "stepfunctions",
      "list-executions",
      "--state-machine-arn",
      "arn:aws:states:eu-west-1:123456789012:stateMachine:switchyard-dev-verify",
    );
    expect(executions.code, executions.stderr).to.equal(0);
    expect(executions.json.executions).to.be.an("array");
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
  });

  it("an operation the twin does not serve yet is a 4xx that names what it serves, never a 5xx", async () => {
    const r = await aws("secretsmanager", "list-secrets");
    expect(r.code).to.equal(254);
    expect(r.stderr).to.contain(
      "(UnknownOperationException) when calling the ListSecrets operation",
    );
    expect(r.stderr).to.contain("Secrets Manager GetSecretValue");
  });
});
