import { expect } from "chai";
import { evaluateProgram, Program } from "../program";
import { recorded, valueOf } from "../mocks";
import { functionArchives } from "../../components/lambda";
import { archiveEntries } from "../../local/artifacts";

const MAPPING = "aws:lambda/eventSourceMapping:EventSourceMapping";

function byName(p: Program, type: string, name: string) {
  const found = p.resources.filter((r) => r.type === type && r.name === name);
  expect(found, `${type} ${name}`).to.have.length(1);
  return found[0].inputs;
}

/** Waits for the outputs of the resources asserted below (registrations chain through dependsOn). */
async function ready(p: Program): Promise<void> {
  const e = p.exports;
  await Promise.all([
    valueOf(e.tenantChanges.mapping.arn),
    valueOf(e.tenantChanges.fn.policy.id),
    valueOf(e.tenantChanges.table.arn),
    valueOf(e.tenantIngress.rejectedQueue.url),
    valueOf(e.tenantIngress.route.targets[0].id),
    valueOf(e.recordIngestion.notification.id),
    ...(e.recordIngestion.streamMapping ? [valueOf(e.recordIngestion.streamMapping.arn)] : []),
  ]);
  p.resources.splice(0, p.resources.length, ...recorded);
}

describe("tenants and record ingestion in the program (index.ts)", () => {
  it("dev: tenant ingress route, change publisher with the dev stream bounds, S3 ingestion, no stream source", async () => {
    const p = await evaluateProgram("dev");
    await ready(p);
    expect(Object.keys(p.exports.hub.routes)).to.include("tenant-ingress");
    const m = byName(p, MAPPING, "switchyard-dev-changes-stream");
    expect(m).to.deep.include({
      maximumRetryAttempts: 2,
      maximumRecordAgeInSeconds: 3600,
      startingPosition: "LATEST",
    });
    // No stream source for record ingestion: only the change publisher's mapping, and the webhook
    // relay's on its deliveries table.
    expect(
      p.resources
        .filter((r) => r.type === MAPPING)
        .map((r) => r.name)
        .sort(),
    ).to.deep.equal(["switchyard-dev-changes-stream", "switchyard-dev-webhooks-relay"]);
    expect(
      byName(p, "aws:s3/bucketNotification:BucketNotification", "switchyard-dev-ingest-bucket")
        .lambdaFunctions[0].filterPrefix,
    ).to.equal("incoming/");
    expect(
      byName(p, "aws:dynamodb/table:Table", "switchyard-dev-changes-data")
        .deletionProtectionEnabled,
    ).to.equal(false);
    // The dev tenant's settings reach the functions' code: the factory's argument in the bundle.
    for (const fn of ["switchyard-dev-changes", "switchyard-dev-ingress"]) {
      const code = (await archiveEntries(functionArchives.get(fn)!)).find(
        (e) => e.name === "__index.js",
      )!.text!;
      const call = code.match(/^var handler = create\w+\((\{.*\})\);$/m);
      expect(call, fn).to.not.equal(null);
      const tenants = new Function(`return (${call![1]});`)();
      expect(tenants.demo.ingressEnabled, fn).to.equal(true);
    }
    expect(await valueOf(p.exports.tenantDataTableName)).to.equal("switchyard-dev-changes-data");
    expect(await valueOf(p.exports.tenantRejectedQueueUrl)).to.match(
      /\/switchyard-dev-ingress-rejected$/,
    );
    expect(await valueOf(p.exports.ingestionPrefix)).to.equal("incoming/");
    expect(
      byName(p, "aws:sqs/queue:Queue", "switchyard-dev-ingress-rejected").messageRetentionSeconds,
    ).to.equal(345600);
  });

  it("prod: default stream bounds, protected tables and bucket", async () => {
    const p = await evaluateProgram("prod", {
      recordsStreamSource: JSON.stringify({
        tableArn: "arn:aws:dynamodb:eu-west-1:123456789012:table/orders",
        streamArn:
          "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
        idAttribute: "orderId",
      }),
      tenants: JSON.stringify({
        acme: {
          rules: [{ targetBusArn: "arn:aws:events:eu-west-1:444455556666:event-bus/partner" }],
        },
      }),
    });
    await ready(p);
    expect(byName(p, MAPPING, "switchyard-prod-changes-stream")).to.deep.include({
      maximumRetryAttempts: 5,
      maximumRecordAgeInSeconds: 86400,
    });
    expect(byName(p, MAPPING, "switchyard-prod-ingest-stream")).to.deep.include({
      eventSourceArn:
        "arn:aws:dynamodb:eu-west-1:123456789012:table/orders/stream/2026-01-01T00:00:00.000",
    });
    expect(
      byName(p, "aws:lambda/function:Function", "switchyard-prod-ingest-stream").environment
        .variables,
    ).to.deep.include({
      SOURCE_ID_ATTRIBUTE: "orderId",
      SOURCE_COLLECTION: "orders",
    });
    expect(
      byName(p, "aws:dynamodb/table:Table", "switchyard-prod-changes-data")
        .deletionProtectionEnabled,
    ).to.equal(true);
    expect((p.exports.tenantChanges.table as any).__protect).to.equal(true);
    expect((p.exports.recordIngestion.bucket as any).__protect).to.equal(true);
    const policy = JSON.parse(
      byName(p, "aws:iam/rolePolicy:RolePolicy", "switchyard-prod-changes").policy,
    );
    expect(policy.Statement[3]).to.deep.equal({
      Effect: "Allow",
      Action: ["events:PutEvents"],
      Resource: [
        "arn:aws:events:eu-west-1:123456789012:event-bus/switchyard-prod",
        "arn:aws:events:eu-west-1:444455556666:event-bus/partner",
      ],
    });
  });

  const bad: Array<[string, string, string]> = [
    ["tenants", "{", 'switchyard:tenants must be JSON, got "{"'],
    [
      "tenants",
      '{"acme":{"rules":[{"operations":["GET"]}]}}',
      'switchyard:tenants tenant "acme" rule 0: operations must be a non-empty list of distinct POST, PUT, PATCH, DELETE (omit it for all), got ["GET"]. Fix it with: pulumi config set switchyard:tenants',
    ],
    [
      "streamMaxRetryAttempts",
      "-1",
      'switchyard:streamMaxRetryAttempts must be a whole number from 0 to 10000, got "-1"',
    ],
    [
      "streamMaxRecordAgeSeconds",
      "30",
      'switchyard:streamMaxRecordAgeSeconds must be a whole number from 60 to 604800, got "30"',
    ],
    ["ingestionPrefix", "/incoming/", "switchyard:ingestionPrefix must match"],
    [
      "recordsStreamSource",
      '{"tableArn":"orders"}',
      "switchyard:recordsStreamSource streamSource.tableArn must be a DynamoDB table ARN",
    ],
  ];
  for (const [key, value, message] of bad) {
    it(`fails at preview naming switchyard:${key} when it is ${value}`, async () => {
      try {
        await evaluateProgram("dev", { [key]: value });
        expect.fail("the program should not evaluate");
      } catch (e: any) {
        expect(e.message).to.contain(message);
      }
    });
  }
});
