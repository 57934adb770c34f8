// The cost script's model: the workflow shape read from a definition, the per-million figures, and
// the price table the stack's aws:region picks.
import { expect } from "chai";
import * as fs from "fs";
import * as path from "path";
import {
  computeCosts,
  CostInputs,
  gatherInputs,
  PRICES_BY_REGION,
  pricesFor,
  render,
  UnpricedRegionError,
  workflowLines,
  workflowShape,
} from "../../scripts/cost";
import { stackConfig } from "../program";

const US = PRICES_BY_REGION["us-east-1"];
const EU = PRICES_BY_REGION["eu-west-1"];
const GB = 1024 ** 3;

const definition = {
  StartAt: "Prepare",
  States: {
    Prepare: { Type: "Pass", Next: "Call" },
    Call: {
      Type: "Task",
      Next: "Wait",
      Catch: [{ ErrorEquals: ["States.ALL"], Next: "CallFailedMessage" }],
    },
    Wait: { Type: "Wait", Seconds: 60, Next: "Poll" },
    Poll: { Type: "Task", Next: "Done?" },
    "Done?": {
      Type: "Choice",
      Choices: [
        { Variable: "$.done", BooleanEquals: true, Next: "Ok" },
        { Variable: "$.attempts", NumericGreaterThanEquals: 3, Next: "NotDoneMessage" },
      ],
      Default: "Pause",
    },
    Pause: { Type: "Wait", Seconds: 20, Next: "Poll" },
    CallFailedMessage: { Type: "Pass", Next: "Ok" },
    NotDoneMessage: { Type: "Pass", Next: "Ok" },
    Ok: { Type: "Succeed" },
  },
};

describe("cost model", () => {
  it("reads the successful path and the poll loop of a definition, skipping failure branches", () => {
    const s = workflowShape(definition);
    expect(s.happyPath).to.deep.equal(["Prepare", "Call", "Wait", "Poll", "Done?", "Ok"]);
    // The first loop found from the path: back from Poll through the pause.
    expect(s.loop).to.deep.equal(["Done?", "Pause", "Poll"]);
    expect(s).to.include({
      waitSecondsHappy: 60,
      waitSecondsLoop: 20,
      tasksHappy: 2,
      tasksLoop: 1,
    });
  });

  it("prices Standard by transitions and Express by 100 ms of 64 MB", () => {
    const s = workflowShape(definition);
    // 6 transitions, then 3 more per extra poll: 12 at 3 polls; $25 per million transitions.
    expect(workflowLines("STANDARD", s, 1, US)).to.deep.equal([
      { item: "Standard: 6 state transitions", perMillion: 150 },
    ]);
    expect(workflowLines("STANDARD", s, 3, US)[0].perMillion).to.equal(300);
    // 60 s + 2 tasks x 0.5 s = 61 s; 61 x 0.0625 GB x $0.00001667 = $0.00006355 per execution.
    const express = workflowLines("EXPRESS", s, 1, US);
    expect(express[0]).to.deep.equal({ item: "Express: requests", perMillion: 1 });
    expect(express[1].item).to.equal("Express: 61 s x 64 MB");
    expect(express[1].perMillion).to.be.closeTo(63.55, 0.01);
  });

  const inputs: CostInputs = {
    stack: "t",
    region: "us-east-1",
    archiveRetentionDays: 30,
    schemaDiscovery: false,
    debugRoute: false,
    apiDestination: true,
    webhook: { declared: true, memoryMb: 512, relayMemoryMb: 256 },
    workflow: { type: "STANDARD", shape: workflowShape(definition), maxVerifyAttempts: 3 },
    restApi: { declared: true, memoryMb: 256, xray: true, waf: true },
    fixed: { alarms: 20, dashboards: 1, secrets: 2, wafAcls: 1, wafRules: 2, customMetrics: 11 },
  };

  it("adds up each path per million events from the stack's inputs (us-east-1)", () => {
    const c = computeCosts(inputs);
    const path = (p: string) => c.paths.find((x) => x.path.startsWith(p))!;
    // $1 event + $0.20 invocation + 1 KB x 1M = 0.954 GB archived ($0.0954) and stored 30 days ($0.0219).
    expect(path("API destination").total).to.equal(1.32);
    // Receiver 512 MB x 40 ms = 0.02 GB-s x $0.0000133334 = $0.2667/M; relay 256 MB x 30 ms =
    // 0.0075 GB-s = $0.10; + $0.20 requests each + 2 WRU $1.25 + 1200 B logs $0.5588 + bus $1.1173.
    const lineOf = (p: string, item: string) =>
      path(p).lines.find((l) => l.item.startsWith(item))!.perMillion;
    expect(lineOf("Lambda webhook", "Lambda duration")).to.be.closeTo(0.2667, 1e-4);
    expect(lineOf("Lambda webhook", "relay: Lambda duration")).to.be.closeTo(0.1, 1e-9);
    expect(lineOf("Lambda webhook", "relay: Lambda requests")).to.equal(0.2);
    expect(path("Lambda webhook").total).to.equal(3.69);
    expect(
      path("Workflow STANDARD [configured], typical").lines.find((l) =>
        l.item.startsWith("Standard"),
      )!.perMillion,
    ).to.equal(150);
    expect(
      path("Workflow STANDARD [configured], worst: 3").lines.find((l) =>
        l.item.startsWith("Standard"),
      )!.perMillion,
    ).to.equal(300);
    expect(c.paths.filter((p) => p.path.startsWith("Workflow"))).to.have.length(4);
    // $3.50 + usage plan $0 + $0.20 + 256 MB x 40 ms $0.1333 + 2 WRU $1.25 + X-Ray 5% $0.25 + WAF $0.60.
    expect(path("API Gateway REST").total).to.equal(5.93);
    expect(c.fixedMonthly.map((l) => l.perMillion)).to.deep.equal([2, 3, 0.8, 3.3, 7]);
  });

  it("prices the same inputs at eu-west-1's table: a hand computation from the table", () => {
    const c = computeCosts({ ...inputs, region: "eu-west-1" });
    const webhook = c.paths.find((x) => x.path.startsWith("Lambda webhook"))!;
    const line = (p: string) => webhook.lines.find((l) => l.item.startsWith(p))!.perMillion;
    // By hand, from the eu-west-1 table, per million deliveries: receiver requests $0.20 and 0.5 GB x
    // 0.04 s = 0.02 GB-s x $0.0000133334 = $0.2667; relay requests $0.20 and 0.25 GB x 0.03 s =
    // $0.10; 2 WRU x $0.705 = $1.41; 1200 B = 0.001118 GB x $0.57 = $0.6370; event $1.00; 1 KB =
    // 0.000954 GB archived at $0.10 ($0.0954) and kept 30 days at $0.023 ($0.0219).
    const eventGb = 1024e6 / GB;
    const byHand =
      2 * EU.lambdaRequestPerMillion +
      EU.lambdaArmGbSecond * (512 / 1024) * 0.04 * 1e6 +
      EU.lambdaArmGbSecond * (256 / 1024) * 0.03 * 1e6 +
      2 * EU.dynamoWritePerMillion +
      EU.logsIngestPerGb * (1200e6 / GB) +
      EU.eventBridgeEventPerMillion +
      EU.archivePerGbProcessed * eventGb +
      EU.archivePerGbMonth * eventGb * (30 / 30);
    expect(line("DynamoDB stored delivery")).to.equal(1.41);
    expect(line("DynamoDB stored delivery")).to.equal(2 * EU.dynamoWritePerMillion);
    expect(line("CloudWatch Logs")).to.be.closeTo(0.637, 1e-4);
    expect(webhook.total).to.equal(Math.round(byHand * 100) / 100);
    expect(webhook.total).to.equal(3.93);
    // REST: $3.50 + $0.20 + 256 MB x 40 ms $0.1333 + 2 WRU $1.41 + X-Ray $0.25 + WAF $0.60 = $6.09.
    expect(c.paths.find((x) => x.path.startsWith("API Gateway REST"))!.total).to.equal(6.09);
  });

  it("keeps a distinct table per region: the prices that differ between us-east-1 and eu-west-1 differ", () => {
    expect(Object.keys(PRICES_BY_REGION)).to.include.members(["us-east-1", "eu-west-1"]);
    expect(Object.keys(EU)).to.have.members(Object.keys(US));
    expect(EU.dynamoWritePerMillion).to.equal(0.705).and.not.equal(US.dynamoWritePerMillion);
    expect(EU.dynamoReadPerMillion).to.equal(0.1415).and.not.equal(US.dynamoReadPerMillion);
    expect(EU.logsIngestPerGb).to.equal(0.57).and.not.equal(US.logsIngestPerGb);
    expect(pricesFor("eu-west-1")).to.equal(EU);
  });

  it("fails for a region without a price table, naming it, aws:region and the priced regions", () => {
    const fails = (region: string | undefined) => {
      try {
        pricesFor(region, "t");
      } catch (e) {
        expect(e).to.be.instanceOf(UnpricedRegionError);
        return (e as Error).message;
      }
      throw new Error(`pricesFor(${region}) did not fail`);
    };
    const msg = fails("ap-southeast-7");
    for (const s of ["ap-southeast-7", "aws:region", "us-east-1", "eu-west-1"])
      expect(msg).to.include(s);
    expect(fails(undefined)).to.include("aws:region");
    // Object's own keys are no region either.
    expect(fails("toString")).to.include("toString");
    expect(() => computeCosts({ ...inputs, region: "eu-central-1" })).to.throw(
      UnpricedRegionError,
      /eu-central-1.*aws:region/,
    );
  });
});

describe("cost of the committed stacks", function () {
  // Each evaluates the whole program under mocks (seconds each, more on a loaded machine).
  this.timeout(180_000);
  for (const stack of ["dev", "prod"]) {
    it(`reads ${stack}'s aws:region (eu-west-1) from the stack and prices it at eu-west-1's table`, async () => {
      const i = await gatherInputs(stack);
      expect(stackConfig(stack)["aws:region"]).to.equal("eu-west-1");
      expect(i.region).to.equal("eu-west-1");
      const c = computeCosts(i);
      const rest = c.paths.find((p) => p.path.startsWith("API Gateway REST"))!;
      const webhook = c.paths.find((p) => p.path.startsWith("Lambda webhook"))!;
      expect(rest.lines.find((l) => l.item.startsWith("DynamoDB"))!.perMillion).to.equal(
        2 * EU.dynamoWritePerMillion,
      );
      expect(webhook.lines.find((l) => l.item.startsWith("CloudWatch Logs"))!.perMillion).to.equal(
        Math.round(EU.logsIngestPerGb * (1200e6 / GB) * 1e4) / 1e4,
      );
      expect(render(i, c).split("\n")[0]).to.equal(
        `Stack ${stack}: USD per million events (eu-west-1 list prices, the stack's aws:region)`,
      );
      // The receivers' 12 EMF metrics (5, and WebhookRejected for each of 7 reasons) and the change
      // publisher's 3 (both stacks declare both).
      expect(i.fixed.customMetrics).to.equal(15);
      // Every alarm the stack declares, the webhook relay's errors, throttles and iterator age and
      // the tenant change publisher's iterator age included; docs/cost.md states the same counts.
      const alarms: Record<string, number> = { dev: 59, prod: 47 };
      expect(i.fixed.alarms).to.equal(alarms[stack]);
      const fixed = c.fixedMonthly.reduce((n, l) => n + l.perMillion, 0);
      expect(fixed).to.be.closeTo({ dev: 16.6, prod: 20.2 }[stack]!, 1e-9);
      const doc = fs.readFileSync(path.join(__dirname, "../../docs/cost.md"), "utf8");
      const row = doc.match(
        /^\| fixed per month: alarms \(dev (\d+), prod (\d+)\),.*\| ([\d.]+) \| ([\d.]+) \|$/m,
      );
      expect(row, "docs/cost.md: the fixed per month row").to.not.equal(null);
      const [docDev, docProd, fixedDev, fixedProd] = row!.slice(1).map(Number);
      expect(stack === "dev" ? docDev : docProd).to.equal(alarms[stack]);
      expect(stack === "dev" ? fixedDev : fixedProd).to.equal(Math.round(fixed * 100) / 100);
    });
  }

  it("follows the stack's aws:region, not a fixed one (us-east-1 when the stack says so)", async () => {
    const i = await gatherInputs("dev", { "aws:region": "us-east-1" });
    expect(i.region).to.equal("us-east-1");
    const rest = computeCosts(i).paths.find((p) => p.path.startsWith("API Gateway REST"))!;
    expect(rest.lines.find((l) => l.item.startsWith("DynamoDB"))!.perMillion).to.equal(
      2 * US.dynamoWritePerMillion,
    );
  });

  it("refuses a stack whose aws:region has no price table, before evaluating it", async () => {
    let error: unknown;
    try {
      await gatherInputs("prod", { "aws:region": "sa-east-1" });
    } catch (e) {
      error = e;
    }
    expect(error).to.be.instanceOf(UnpricedRegionError);
    expect((error as Error).message)
      .to.include("stack prod")
      .and.include("sa-east-1")
      .and.include("aws:region");
    expect((error as Error).message).to.match(/Priced regions: us-east-1, eu-west-1/);
  });
});
