import { expect } from "chai";
import { one, ofType, resetRecorded, settle, setupMocks, valueOf } from "../mocks";

setupMocks();
import { SchemaRegistry } from "../../components/events/schemaRegistry";
import {
  schemaDocument,
  schemaName,
  stackContracts,
  tenantChangeContract,
} from "../../lib/eventSchemas";

const T = {
  registry: "aws:schemas/registry:Registry",
  schema: "aws:schemas/schema:Schema",
};

describe("SchemaRegistry", () => {
  const contracts = stackContracts({
    webhookProviders: ["github"],
    tenants: { acme: { rules: [{ source: "acme sync/v2" }] } },
  });
  let registry: SchemaRegistry;

  before(async () => {
    resetRecorded();
    registry = new SchemaRegistry("hub-contracts", { contracts, protect: true });
    await settle();
  });

  it("declares one registry named after the component, protected when asked", async () => {
    expect(one(T.registry, "hub-contracts").inputs).to.deep.equal({
      name: "hub-contracts",
      description: "Switchyard's event contracts: the schema of each event it puts on the hub",
    });
    expect((registry.registry as any).__protect).to.equal(true);
    expect(await valueOf(registry.registryName)).to.equal("hub-contracts");
  });

  it("declares one JSONSchemaDraft4 schema per contract, named <source>@<DetailType>, with the whole event as content", () => {
    const schemas = ofType(T.schema);
    expect(schemas.map((s) => s.name)).to.deep.equal([
      "hub-contracts-switchyard.records@RecordCreated",
      "hub-contracts-switchyard.records@RecordUpdated",
      "hub-contracts-switchyard.records@RecordVerificationRequested",
      "hub-contracts-switchyard.webhooks.github@WebhookDelivery",
      "hub-contracts-switchyard.output@TenantChange",
      "hub-contracts-acme-sync-v2@TenantChange",
      "hub-contracts-switchyard.outbound@Switchyard.Outbound.AttemptExhausted",
      "hub-contracts-switchyard.outbound@Switchyard.Outbound.EndpointDisabled",
      "hub-contracts-lambda@LambdaFunctionInvocationResult-Failure",
    ]);
    contracts.forEach((c, i) => {
      const { content, ...rest } = schemas[i].inputs;
      expect(rest).to.deep.equal({
        name: schemaName(c),
        registryName: "hub-contracts",
        type: "JSONSchemaDraft4",
        description: c.description,
      });
      expect(JSON.parse(content)).to.deep.equal(schemaDocument(c));
    });
    // Exact content of one: a tenant rule's own source, any detail-type.
    const acme = JSON.parse(
      one(T.schema, "hub-contracts-acme-sync-v2@TenantChange").inputs.content,
    );
    expect(acme.title).to.equal("TenantChange");
    expect(acme["x-amazon-events-source"]).to.equal("acme sync/v2");
    expect(acme.properties.source).to.deep.equal({ type: "string", enum: ["acme sync/v2"] });
    expect(acme.properties["detail-type"]).to.deep.equal({
      type: "string",
      minLength: 1,
      maxLength: 128,
    });
    expect(acme.properties.detail).to.deep.equal({
      type: "object",
      required: ["tenant", "rootSchema", "operation", "payload", "changeId"],
      additionalProperties: false,
      properties: {
        tenant: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", maxLength: 64 },
        rootSchema: { type: "string", pattern: "^[A-Za-z0-9][A-Za-z0-9_.-]{0,63}$", maxLength: 64 },
        operation: { type: "string", enum: ["POST", "PUT", "PATCH", "DELETE"] },
        payload: { type: "object" },
        changeId: { type: "string" },
      },
    });
  });

  it("refuses no contracts, a contract declared twice and a bad name, naming the fix", () => {
    expect(() => new SchemaRegistry("empty", { contracts: [] })).to.throw(
      "SchemaRegistry: contracts must name at least one event contract (lib/eventSchemas stackContracts)",
    );
    const c = tenantChangeContract("crm");
    expect(() => new SchemaRegistry("twice", { contracts: [c, c] })).to.throw(
      "event contract crm@TenantChange is declared twice",
    );
    expect(() => new SchemaRegistry("bad_name", { contracts: [c] })).to.throw(
      'SchemaRegistry name must be 1-64 letters, digits or hyphens, starting with a letter or digit, got "bad_name"',
    );
  });
});
