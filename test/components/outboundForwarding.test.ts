// Cross-account forwarding: a route target of kind `eventBus` (a bus in another account or region).
import { expect } from "chai";
import { one, resetRecorded, settle, setupMocks, valueOf, ACCOUNT, REGION } from "../mocks";

setupMocks();
import { EventHub } from "../../components/events/eventHub";
import { validateRoute } from "../../components/events/route";

const OTHER_BUS = "arn:aws:events:us-east-2:444455556666:event-bus/central";
const RULE = `arn:aws:events:${REGION}:${ACCOUNT}:rule/fhub/fhub-forward`;
const OWN_DLQ = `arn:aws:sqs:${REGION}:${ACCOUNT}:fhub-dlq`;

describe("route target kind eventBus (cross-account forwarding)", () => {
  const dependsOn = new Map<string, any[]>();

  before(async () => {
    resetRecorded();
    const hub = new EventHub(
      "fhub",
      {},
      {
        transformations: [
          (x) => {
            dependsOn.set(`${x.type} ${x.name}`, [x.opts.dependsOn ?? []].flat());
            return undefined;
          },
        ],
      },
    );
    const route = hub.addRoute(
      "forward",
      {
        eventPattern: { source: ["shop.orders"] },
        targets: [
          {
            id: "central",
            kind: "eventBus",
            arn: OTHER_BUS,
            retryPolicy: { maximumRetryAttempts: 20, maximumEventAgeInSeconds: 3600 },
          },
        ],
      },
      hub,
    );
    await valueOf(route.targets[0].id);
    await settle();
  });

  it("declares a role only EventBridge on this rule can assume", () => {
    const role = one("aws:iam/role:Role", "fhub-forward-central").inputs;
    expect(role.description).to.equal("EventBridge delivers route fhub-forward to central");
    expect(JSON.parse(role.assumeRolePolicy)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [
        {
          Effect: "Allow",
          Principal: { Service: "events.amazonaws.com" },
          Action: "sts:AssumeRole",
          Condition: { ArnEquals: { "aws:SourceArn": RULE } },
        },
      ],
    });
  });

  it("allows events:PutEvents on exactly the destination bus", () => {
    const policy = one("aws:iam/rolePolicy:RolePolicy", "fhub-forward-central").inputs;
    expect(policy.role).to.equal("fhub-forward-central");
    expect(JSON.parse(policy.policy)).to.deep.equal({
      Version: "2012-10-17",
      Statement: [{ Effect: "Allow", Action: ["events:PutEvents"], Resource: OTHER_BUS }],
    });
  });

  it("targets the bus with that role, the retry policy and the hub's DLQ, after the role's policy", () => {
    const target = one("aws:cloudwatch/eventTarget:EventTarget", "fhub-forward-central").inputs;
    expect(target).to.deep.equal({
      eventBusName: "fhub",
      rule: "fhub-forward",
      targetId: "central",
      arn: OTHER_BUS,
      roleArn: `arn:aws:iam::${ACCOUNT}:role/fhub-forward-central`,
      retryPolicy: { maximumRetryAttempts: 20, maximumEventAgeInSeconds: 3600 },
      deadLetterConfig: { arn: OWN_DLQ },
    });
    const deps = dependsOn.get("aws:cloudwatch/eventTarget:EventTarget fhub-forward-central")!;
    expect(deps.map((d) => d.constructor.name)).to.deep.equal(["RolePolicy"]);
  });

  it("refuses an ARN that is not an event bus", () => {
    expect(() =>
      validateRoute("r", {
        eventPattern: { source: ["x"] },
        targets: [{ id: "t", kind: "eventBus", arn: "arn:aws:sqs:us-east-1:444455556666:q" }],
      }),
    ).to.throw(/an eventBus target needs an event bus ARN/);
  });
});
