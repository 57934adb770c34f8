import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { checkName } from "../validate";
import { EventContract, indexContracts, schemaDocument, schemaName } from "../../lib/eventSchemas";

export interface SchemaRegistryArgs {
  /**
   * The contracts to publish as schemas, one each (lib/eventSchemas `stackContracts`). Required;
   * two contracts may not share a schema name or claim every detail-type of one source.
   */
  readonly contracts: readonly EventContract[];
  /** Removal protection on the registry (its schemas' version history). Default false. */
  readonly protect?: boolean;
}

/** EventBridge's schema type for draft-04 JSON Schema. */
export const SCHEMA_TYPE = "JSONSchemaDraft4";

/**
 * An EventBridge schema registry (named after the component) holding Switchyard's event
 * contracts: one JSON Schema draft-04 per kind of event on the hub, named `<source>@<DetailType>`
 * and describing the whole event as EventBridge delivers it, `detail` inside, as the registry
 * writes the schemas it discovers. The schemas come from lib/eventSchemas, which the shared
 * publisher checks every entry against, so the registry describes exactly what the handlers send.
 */
export class SchemaRegistry extends pulumi.ComponentResource {
  public readonly registry: aws.schemas.Registry;
  /** The schemas, by schema name. */
  public readonly schemas: Record<string, aws.schemas.Schema> = {};
  public readonly registryName: pulumi.Output<string>;
  public readonly registryArn: pulumi.Output<string>;

  constructor(name: string, args: SchemaRegistryArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:events:SchemaRegistry", name, {}, opts);
    checkName("SchemaRegistry name", name, 64);
    if (args.contracts.length === 0)
      throw new Error(
        "SchemaRegistry: contracts must name at least one event contract (lib/eventSchemas stackContracts)",
      );
    // Throws on a duplicate name, two claims on one source or a keyword the publisher cannot check.
    indexContracts(args.contracts);

    this.registry = new aws.schemas.Registry(
      name,
      {
        name,
        description: "Switchyard's event contracts: the schema of each event it puts on the hub",
      },
      { parent: this, protect: args.protect },
    );
    this.registryName = this.registry.name;
    this.registryArn = this.registry.arn;

    for (const contract of args.contracts) {
      const schema = schemaName(contract);
      this.schemas[schema] = new aws.schemas.Schema(
        `${name}-${schema}`,
        {
          name: schema,
          registryName: this.registry.name,
          type: SCHEMA_TYPE,
          description: contract.description,
          content: JSON.stringify(schemaDocument(contract)),
        },
        { parent: this },
      );
    }

    this.registerOutputs({ registryName: this.registryName, registryArn: this.registryArn });
  }
}
