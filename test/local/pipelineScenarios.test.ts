// The demo's data-path sections (local/pipelineScenarios.ts) against the dev stack served locally:
// each section's outcome, and the evidence it rests on (the AWS CLI commands it printed and ran,
// the records API calls, the DLQ report, the replayed event's hops).
import { expect } from "chai";
import { SwitchyardLocal } from "../../local/runtime";
import { Target } from "../../local/scenarios";
import {
  deadLetterScenarios,
  gatewayScenarios,
  ingestionScenarios,
  replayScenarios,
  tenantScenarios,
} from "../../local/pipelineScenarios";

/** This file's ports (the run's servers take the next ones from here). */
const BASE_PORT = 5740;

describe("npm run demo: tenant, S3 ingestion, records gateway, DLQ and replay sections", function () {
  this.timeout(180_000);
  let local: SwitchyardLocal;
  let target: Target;
  const said: string[] = [];
  const say = (l: string) => said.push(l);

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      basePort: BASE_PORT,
      log: () => undefined,
    });
    target = await local.scenarioTarget();
  });
  after(async () => local?.stop());

  it("sends the demo tenant's document through the ingress and sees its change event", async () => {
    const [o] = await tenantScenarios(target);
    expect(o.ok, o.detail).to.equal(true);
    expect(o.detail).to.match(
      /^tenant demo document demo-\w+: change event switchyard\.output\/doc\.POST /,
    );
  });

  it("ingests the good records of an S3 object and reports its bad one to the DLQ", async () => {
    const [good, bad] = await ingestionScenarios(target);
    expect(good.ok, good.detail).to.equal(true);
    expect(good.detail).to.match(/: 2 of 3 records ingested \(inv-\w+-a, inv-\w+-c\)$/);
    expect(bad.ok, bad.detail).to.equal(true);
    expect(bad.detail).to.match(/^record 1 \(inv-\w+-bad\): invalid record: /);
    // The records API saw exactly the two good ones of that object.
    const ids = local
      .records!.calls.map((c) => c.body?.recordId)
      .filter((id) => /^inv-\w+-(a|c|bad)$/.test(id));
    expect(ids.sort().map((id) => id.split("-").pop())).to.deep.equal(["a", "c"]);
  });

  it("calls the records gateway with a consumer key", async () => {
    const [o] = await gatewayScenarios(target);
    expect(o.ok, o.detail).to.equal(true);
    expect(o.detail).to.match(/^HTTP 202 for consumer \S+, records API answered 202/);
  });

  it("reads the DLQ with aws sqs receive-message, printing the command and the attributes", async () => {
    said.length = 0;
    const [o] = await deadLetterScenarios(target, say);
    expect(o.ok, o.detail).to.equal(true);
    expect(said[0]).to.equal(
      `$ aws --endpoint-url ${local.awsUrl} --output json sqs receive-message --queue-url ${local.awsUrl}/123456789012/switchyard-dev-dlq --max-number-of-messages 10 --visibility-timeout 0 --attribute-names All --message-attribute-names All`,
    );
    expect(said.some((l) => l.includes("source=switchyard.records.s3-ingestion"))).to.equal(true);
  });

  it("replays an archived event with aws events start-replay; the copy reaches the route that takes replays", async () => {
    said.length = 0;
    const [o] = await replayScenarios(target, say);
    expect(o.ok, o.detail).to.equal(true);
    expect(said[0]).to.match(
      /^\$ aws --endpoint-url \S+ --output json events start-replay --replay-name demo-\w+ --event-source-arn arn:aws:events:eu-west-1:123456789012:archive\/\S+ --destination Arn=arn:aws:events:eu-west-1:123456789012:event-bus\/\S+ --event-start-time \S+ --event-end-time \S+$/,
    );
    // dev's debug route takes replays; the live routes skip them.
    expect(o.detail).to.match(/replayed, then target switchyard-dev-debug\/\S+$/);
  });
});
