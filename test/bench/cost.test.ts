// The cost script's model: the workflow shape read from a definition and the per-million figures.
import { expect } from "chai";
import { computeCosts, CostInputs, workflowLines, workflowShape } from "../../scripts/cost";

const definition = {
  StartAt: "Prepare",
  States: {
    Prepare: { Type: "Pass", Next: "Call" },
    Call: { Type: "Task", Next: "Wait", Catch: [{ ErrorEquals: ["States.ALL"], Next: "CallFailedMessage" }] },
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
    expect(s).to.include({ waitSecondsHappy: 60, waitSecondsLoop: 20, tasksHappy: 2, tasksLoop: 1 });
  });

  it("prices Standard by transitions and Express by 100 ms of 64 MB", () => {
    const s = workflowShape(definition);
    // 6 transitions, then 3 more per extra poll: 12 at 3 polls; $25 per million transitions.
    expect(workflowLines("STANDARD", s, 1)).to.deep.equal([{ item: "Standard: 6 state transitions", perMillion: 150 }]);
    expect(workflowLines("STANDARD", s, 3)[0].perMillion).to.equal(300);
    // 60 s + 2 tasks x 0.5 s = 61 s; 61 x 0.0625 GB x $0.00001667 = $0.00006355 per execution.
    const express = workflowLines("EXPRESS", s, 1);
    expect(express[0]).to.deep.equal({ item: "Express: requests", perMillion: 1 });
    expect(express[1].item).to.equal("Express: 61 s x 64 MB");
    expect(express[1].perMillion).to.be.closeTo(63.55, 0.01);
  });

  it("adds up each path per million events from the stack's inputs", () => {
    const inputs: CostInputs = {
      stack: "t",
      archiveRetentionDays: 30,
      schemaDiscovery: false,
      debugRoute: false,
      apiDestination: true,
      webhook: { declared: true, memoryMb: 512 },
      workflow: { type: "STANDARD", shape: workflowShape(definition), maxVerifyAttempts: 3 },
      restApi: { declared: true, memoryMb: 256, xray: true, waf: true },
      fixed: { alarms: 20, dashboards: 1, secrets: 2, wafAcls: 1, wafRules: 2, customMetrics: 11 },
    };
    const c = computeCosts(inputs);
    const path = (p: string) => c.paths.find((x) => x.path.startsWith(p))!;
    // $1 event + $0.20 invocation + 1 KB x 1M = 0.954 GB archived ($0.0954) and stored 30 days ($0.0219).
    expect(path("API destination").total).to.equal(1.32);
    // 512 MB x 60 ms = 0.03 GB-s x $0.0000133334 = $0.40/M; + $0.20 requests + 2 WRU $1.25 + logs $0.42 + bus $1.12.
    expect(path("Lambda webhook").lines.find((l) => l.item.startsWith("Lambda duration"))!.perMillion).to.equal(0.4);
    expect(path("Lambda webhook").total).to.equal(3.39);
    expect(path("Workflow STANDARD [configured], typical").lines.find((l) => l.item.startsWith("Standard"))!.perMillion).to.equal(150);
    expect(path("Workflow STANDARD [configured], worst: 3").lines.find((l) => l.item.startsWith("Standard"))!.perMillion).to.equal(300);
    expect(c.paths.filter((p) => p.path.startsWith("Workflow"))).to.have.length(4);
    // $3.50 + usage plan $0 + $0.20 + 256 MB x 40 ms $0.1333 + 2 WRU $1.25 + X-Ray 5% $0.25 + WAF $0.60.
    expect(path("API Gateway REST").total).to.equal(5.93);
    expect(c.fixedMonthly.map((l) => l.perMillion)).to.deep.equal([2, 3, 0.8, 3.3, 7]);
  });
});
