import { expect } from "chai";
import {
  changeEvents,
  ingressTenants,
  matchingRules,
  Operation,
  ruleTargetBuses,
  TenantRule,
  validateTenants,
} from "../../lib/tenantRules";

const PARTNER = "arn:aws:events:eu-west-1:444455556666:event-bus/partner";
const HUB = "arn:aws:events:eu-west-1:123456789012:event-bus/hub";

describe("tenant rule evaluation", () => {
  const all: TenantRule = {};
  const invoicesOnly: TenantRule = { schemaNames: ["invoice"] };
  const writesOnly: TenantRule = { operations: ["POST", "PUT"] };
  const deletesOfOrders: TenantRule = {
    operations: ["DELETE"],
    schemaNames: ["order", "order.line"],
  };
  const emptySchemaList: TenantRule = { schemaNames: [], operations: ["PATCH"] };
  const rules = [all, invoicesOnly, writesOnly, deletesOfOrders, emptySchemaList];

  // [schema, operation, indexes of the rules that publish, in order]
  const cases: Array<[string, Operation, number[]]> = [
    ["invoice", "POST", [0, 1, 2]],
    ["invoice", "PUT", [0, 1, 2]],
    ["invoice", "PATCH", [0, 1, 4]],
    ["invoice", "DELETE", [0, 1]],
    ["order", "POST", [0, 2]],
    ["order", "DELETE", [0, 3]],
    ["order.line", "DELETE", [0, 3]],
    ["orderline", "DELETE", [0]],
    ["customer", "PATCH", [0, 4]],
    ["Invoice", "DELETE", [0]],
  ];
  for (const [schema, op, expected] of cases) {
    it(`${schema} ${op} matches rules ${JSON.stringify(expected)}`, () => {
      expect(matchingRules(rules, schema, op).map((r) => rules.indexOf(r))).to.deep.equal(expected);
    });
  }

  it("matches nothing without rules, and nothing when no rule names the operation", () => {
    expect(matchingRules([], "invoice", "POST")).to.deep.equal([]);
    expect(matchingRules([writesOnly, deletesOfOrders], "invoice", "PATCH")).to.deep.equal([]);
  });

  it("builds one event per match with the defaults: this hub, switchyard.output, <schema>.<operation>", () => {
    const change = {
      tenant: "acme",
      rootSchema: "invoice",
      operation: "PUT" as const,
      payload: { id: "i1", total: 3 },
      changeId: "c1",
    };
    const detail = {
      tenant: "acme",
      rootSchema: "invoice",
      operation: "PUT",
      payload: { id: "i1", total: 3 },
      changeId: "c1",
    };
    expect(
      changeEvents(
        [
          all,
          { targetBusArn: PARTNER, source: "acme.sync", detailType: "InvoiceChanged" },
          deletesOfOrders,
        ],
        change,
        HUB,
      ),
    ).to.deep.equal([
      { busArn: HUB, source: "switchyard.output", detailType: "invoice.PUT", detail },
      { busArn: PARTNER, source: "acme.sync", detailType: "InvoiceChanged", detail },
    ]);
  });

  it("lists the buses rules name, once each, and the tenants with ingress", () => {
    const tenants = {
      a: { ingressEnabled: true, rules: [{ targetBusArn: PARTNER }, {}] },
      b: { rules: [{ targetBusArn: PARTNER }, { targetBusArn: HUB }] },
      c: { ingressEnabled: false },
    };
    expect(ruleTargetBuses(tenants)).to.deep.equal([PARTNER, HUB]);
    expect(ingressTenants(tenants)).to.deep.equal(["a"]);
  });
});

describe("tenant settings validation", () => {
  it("accepts a complete setting", () => {
    const v = {
      acme: {
        ingressEnabled: true,
        rules: [
          {
            targetBusArn: PARTNER,
            source: "acme.sync",
            detailType: "Changed",
            operations: ["PUT"],
            schemaNames: ["invoice"],
          },
        ],
      },
      "globex.eu": {},
    };
    expect(validateTenants(v)).to.equal(v);
  });

  const bad: Array<[string, unknown, string]> = [
    ["a list", [], "must be a JSON object of tenant id to settings, got []"],
    [
      "a tenant id with #",
      { "a#b": {} },
      'tenant id "a#b" must be 1-64 letters, digits, "_", "." or "-", starting with a letter or digit',
    ],
    [
      "a misspelt tenant field",
      { a: { ingress: true } },
      'tenant "a" has unknown field "ingress" (allowed: ingressEnabled, rules)',
    ],
    [
      "a non-boolean ingressEnabled",
      { a: { ingressEnabled: "yes" } },
      'tenant "a": ingressEnabled must be true or false',
    ],
    ["rules that are not a list", { a: { rules: {} } }, 'tenant "a": rules must be a list'],
    [
      "a misspelt rule field",
      { a: { rules: [{ schemas: ["x"] }] } },
      'tenant "a" rule 0 has unknown field "schemas" (allowed: targetBusArn, source, detailType, operations, schemaNames)',
    ],
    [
      "a bus that is not an ARN",
      { a: { rules: [{}, { targetBusArn: "partner" }] } },
      'tenant "a" rule 1: targetBusArn must be an event bus ARN like arn:aws:events:eu-west-1:111122223333:event-bus/name, got "partner"',
    ],
    [
      "an aws. source",
      { a: { rules: [{ source: "aws.s3" }] } },
      'tenant "a" rule 0: source must be 1-256 characters and not start with "aws.", got "aws.s3"',
    ],
    [
      "the ingress source",
      { a: { rules: [{ source: "switchyard.input" }] } },
      'tenant "a" rule 0: source "switchyard.input" is the ingress source; publishing changes with it would feed them back into ingress',
    ],
    [
      "an empty detailType",
      { a: { rules: [{ detailType: "" }] } },
      'tenant "a" rule 0: detailType must be 1-128 characters, got ""',
    ],
    [
      "an unknown operation",
      { a: { rules: [{ operations: ["GET"] }] } },
      'tenant "a" rule 0: operations must be a non-empty list of distinct POST, PUT, PATCH, DELETE (omit it for all), got ["GET"]',
    ],
    [
      "an empty operation list",
      { a: { rules: [{ operations: [] }] } },
      'tenant "a" rule 0: operations must be a non-empty list of distinct POST, PUT, PATCH, DELETE (omit it for all), got []',
    ],
    [
      "a repeated operation",
      { a: { rules: [{ operations: ["PUT", "PUT"] }] } },
      "operations must be a non-empty list of distinct",
    ],
    [
      "a schema name with #",
      { a: { rules: [{ schemaNames: ["a#b"] }] } },
      'tenant "a" rule 0: schemaNames must be a list of schema names (letters, digits, "_", ".", "-"), got ["a#b"]',
    ],
  ];
  for (const [what, value, message] of bad) {
    it(`rejects ${what}`, () => {
      expect(() => validateTenants(value)).to.throw(message);
    });
  }
});
