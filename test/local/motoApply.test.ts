// The apply to moto at start (local/services/moto.ts): the tables before anything else, the rest in
// the background, and a value moto rejects named with its resource; what the endpoint holds for it
// (DynamoDB for a table, moto's operations for anything) then answers 503 with the reason.
import { EventBridgeClient, ListEventBusesCommand } from "@aws-sdk/client-eventbridge";
import { expect } from "chai";
import * as http from "http";
import { AddressInfo } from "net";
import { createAwsEndpoint } from "../../local/awsEndpoint";
import { REGION, type Recorded } from "../../local/mocks";
import { LOCAL_CREDENTIALS } from "../../local/credentials";
import { RehearsalError } from "../../local/rehearsal";
import { MotoService } from "../../local/services/moto";
import type { Runtime } from "../../local/services/context";

function runtimeOf(resources: Recorded[], lines: string[]): Runtime {
  return {
    program: {
      stack: "dev",
      config: {},
      resources,
      outputs: {},
      archives: new Map(),
      generatedSecrets: [],
    },
    log: (l: string) => void lines.push(l),
  } as unknown as Runtime;
}

const urn = (type: string, name: string) => `urn:pulumi:dev::switchyard::${type}::${name}`;

const table = (name: string, hashKey: string, attribute = hashKey): Recorded => ({
  type: "aws:dynamodb/table:Table",
  name,
  urn: urn("aws:dynamodb/table:Table", name),
  inputs: {
    name,
    hashKey,
    attributes: [{ name: attribute, type: "S" }],
    billingMode: "PAY_PER_REQUEST",
  },
});

const bus = (name: string): Recorded => ({
  type: "aws:cloudwatch/eventBus:EventBus",
  name,
  urn: urn("aws:cloudwatch/eventBus:EventBus", name),
  inputs: { name },
});

const rule = (name: string, busName: string): Recorded => ({
  type: "aws:cloudwatch/eventRule:EventRule",
  name,
  urn: urn("aws:cloudwatch/eventRule:EventRule", name),
  inputs: { name, eventBusName: busName, eventPattern: JSON.stringify({ source: ["a"] }) },
});

/** The AWS endpoint in front of `moto`, its engine answering nothing; resolves with its URL. */
async function endpointOf(
  moto: MotoService,
): Promise<{ url: string; close: () => Promise<unknown> }> {
  const endpoint = createAwsEndpoint({
    dynamodbUrl: moto.url,
    dynamodbReady: moto.tables,
    moto: { url: moto.url, ready: moto.applied },
    putEvents: async () => ({ FailedEntryCount: 0, Entries: [] }),
    getSecretValue: async () => ({ ARN: "", Name: "", SecretString: "" }),
    snsPublish: async () => "",
    sqsSendMessage: async () => "",
    startExecution: async () => ({ executionArn: "", startDate: 0 }),
    invokeLambda: async () => ({ status: 200, payload: "" }),
    s3Put: async () => "",
  });
  await new Promise<void>((r) => endpoint.listen(0, "127.0.0.1", () => r()));
  return {
    url: `http://127.0.0.1:${(endpoint.address() as AddressInfo).port}`,
    close: () => new Promise((r) => (endpoint as http.Server).close(r)),
  };
}

describe("local: the program applied to moto at start", function () {
  this.timeout(60_000);
  let moto: MotoService;
  beforeEach(async () => {
    moto = new MotoService({ stateDir: "/nonexistent", log: () => undefined });
    await moto.start("dev");
  });
  afterEach(async () => moto.stop());

  it("creates the tables first, then the rest, and reports the apply", async () => {
    const lines: string[] = [];
    // Declared after the bus and its rule, created before them.
    moto.apply(runtimeOf([bus("b1"), rule("r1", "b1"), table("t1", "id")], lines));
    await moto.tables;
    const tables = await fetch(moto.url, {
      method: "POST",
      headers: {
        "x-amz-target": "DynamoDB_20120810.ListTables",
        "content-type": "application/x-amz-json-1.0",
        authorization:
          "AWS4-HMAC-SHA256 Credential=local/20260101/eu-west-1/dynamodb/aws4_request, SignedHeaders=host, Signature=0",
      },
      body: "{}",
    });
    expect(((await tables.json()) as { TableNames: string[] }).TableNames).to.deep.equal(["t1"]);
    const report = await moto.applied;
    expect(report.created.map((r) => r.name)).to.deep.equal(["t1", "b1", "r1"]);
    expect(lines.at(-1)).to.match(
      /^moto: the program applied \(3 resources created, 0 skipped, \d+ calls\) in \d+ ms/,
    );
  });

  it("with --moto engine, applies only what the engine needs: the tables (and buckets)", async () => {
    const lines: string[] = [];
    const engineOnly = new MotoService({
      stateDir: "/nonexistent",
      log: () => undefined,
      scope: "engine",
    });
    await engineOnly.start("dev");
    try {
      engineOnly.apply(runtimeOf([bus("b1"), rule("r1", "b1"), table("t1", "id")], lines));
      const report = await engineOnly.applied;
      expect(report.created.map((r) => r.name)).to.deep.equal(["t1"]);
      expect(lines.at(-1)).to.match(
        /^moto: what the engine needs \(--moto engine\) applied \(1 resources created/,
      );
    } finally {
      await engineOnly.stop();
    }
  });

  it("stopped while it applies: no further call reaches moto_server, and the apply says the run stopped", async () => {
    const stopping = new MotoService({ stateDir: "/nonexistent", log: () => undefined });
    await stopping.start("dev");
    const url = stopping.url;
    const buses = Array.from({ length: 60 }, (_, i) => bus(`b${i}`));
    stopping.apply(runtimeOf([table("t1", "id"), ...buses], []));
    // The table is created first; the buses follow, one call each.
    await stopping.tables;
    const applied = stopping.applied.then(
      () => "applied",
      (e: Error) => e.message,
    );
    await stopping.stop();
    expect(await applied).to.equal("the run stopped", "why the apply ended");
    // Reused servers (test/setup.ts) outlive stop(): nothing more arrives once it has returned.
    const events = new EventBridgeClient({
      endpoint: url,
      region: REGION,
      credentials: LOCAL_CREDENTIALS,
    });
    const created = async () =>
      ((await events.send(new ListEventBusesCommand({}))).EventBuses ?? []).length;
    const atStop = await created();
    await new Promise((r) => setTimeout(r, 300));
    expect(await created()).to.equal(atStop);
    // The default bus and fewer than the 60 declared.
    expect(atStop).to.be.below(61);
    events.destroy();
  });

  it("a table moto rejects is named with its resource, the input and moto's message (the run stops)", async () => {
    moto.apply(runtimeOf([table("bad", "id", "other")], []));
    const err = await moto.tables.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(RehearsalError);
    expect(err!.message).to.contain('aws:dynamodb/table:Table "bad"');
    expect(err!.message).to.match(/hashKey|attributes/);
    const endpoint = await endpointOf(moto);
    try {
      const res = await fetch(endpoint.url, {
        method: "POST",
        headers: {
          "x-amz-target": "DynamoDB_20120810.ListTables",
          "content-type": "application/x-amz-json-1.0",
        },
        body: "{}",
      });
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { __type: string; message: string };
      expect(body.__type).to.equal("ServiceUnavailable");
      expect(body.message).to.contain("the tables could not be created in moto");
      expect(body.message).to.contain('"bad"');
    } finally {
      await endpoint.close();
    }
  });

  it("a value rejected after the start stops nothing it should not, and the endpoint answers what it holds for moto with the reason", async () => {
    moto.apply(runtimeOf([table("t2", "id"), rule("orphan", "no-such-bus")], []));
    await moto.tables;
    const err = await moto.applied.then(
      () => undefined,
      (e: Error) => e,
    );
    expect(err).to.be.instanceOf(RehearsalError);
    expect(err!.message).to.contain('aws:cloudwatch/eventRule:EventRule "orphan"');
    expect(err!.message).to.contain("no-such-bus");

    const endpoint = await endpointOf(moto);
    try {
      const res = await fetch(`${endpoint.url}/`, {
        method: "POST",
        headers: {
          "x-amz-target": "AWSEvents.ListRules",
          "content-type": "application/x-amz-json-1.1",
        },
        body: "{}",
      });
      expect(res.status).to.equal(503);
      const body = (await res.json()) as { __type: string; message: string };
      expect(body.__type).to.equal("ServiceUnavailable");
      expect(body.message).to.contain(
        "the program could not be applied to moto, which serves AWSEvents.ListRules",
      );
      expect(body.message).to.contain('"orphan"');
    } finally {
      await endpoint.close();
    }
  });
});
