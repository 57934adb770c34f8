import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";
import { EventHub } from "../events/eventHub";
import { EventRoute, RetryPolicy } from "../events/route";
import { checkHttpsUrl, checkIntRange } from "../validate";
import {
  FORWARDER_DEFAULTS,
  RECORDS_PATH,
  recordEventPattern,
  recordPayloadTransformer,
} from "./recordPayload";

export interface RecordsForwarderArgs {
  /** The hub whose events are forwarded. */
  readonly hub: EventHub;
  /** Root URL of the records API, https, no trailing slash. Required. */
  readonly apiEndpoint: string;
  /** The records API key (a secret). Required. */
  readonly apiKey: pulumi.Input<string>;
  /** Calls per second to the records API, 1-300. Default 300. */
  readonly rateLimitPerSecond?: number;
  /** Event sources forwarded. Default ["switchyard.records"]. */
  readonly sources?: string[];
  /** Detail types forwarded. Default ["RecordCreated", "RecordUpdated"]. */
  readonly detailTypes?: string[];
  /** Default: 185 attempts over 24 h. */
  readonly retryPolicy?: RetryPolicy;
}

export { FORWARDER_DEFAULTS, RECORDS_PATH } from "./recordPayload";

/**
 * Delivers record events from the hub to the external records API through an EventBridge API
 * destination: API key auth from a secret, a rate limit, retries and the hub's DLQ.
 */
export class RecordsForwarder extends pulumi.ComponentResource {
  public readonly connection: aws.cloudwatch.EventConnection;
  public readonly destination: aws.cloudwatch.EventApiDestination;
  public readonly route: EventRoute;
  public readonly connectionArn: pulumi.Output<string>;
  public readonly connectionSecretArn: pulumi.Output<string>;
  public readonly destinationArn: pulumi.Output<string>;
  public readonly apiEndpoint: string;

  constructor(name: string, args: RecordsForwarderArgs, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:records:RecordsForwarder", name, {}, opts);
    const a = { ...FORWARDER_DEFAULTS, ...args };
    checkHttpsUrl("apiEndpoint", a.apiEndpoint);
    checkIntRange("rateLimitPerSecond", a.rateLimitPerSecond, 1, 300);
    if (a.sources.length === 0) throw new Error("sources must name at least one event source");
    if (a.detailTypes.length === 0)
      throw new Error("detailTypes must name at least one detail type");
    this.apiEndpoint = a.apiEndpoint;

    this.connection = new aws.cloudwatch.EventConnection(
      `${name}-records-api`,
      {
        description: `Records API at ${a.apiEndpoint}`,
        authorizationType: "API_KEY",
        authParameters: { apiKey: { key: "X-API-Key", value: pulumi.secret(a.apiKey) } },
      },
      { parent: this },
    );
    this.connectionArn = this.connection.arn;
    this.connectionSecretArn = this.connection.secretArn;

    this.destination = new aws.cloudwatch.EventApiDestination(
      `${name}-records`,
      {
        description: `POST ${a.apiEndpoint}${RECORDS_PATH}`,
        connectionArn: this.connection.arn,
        invocationEndpoint: `${a.apiEndpoint}${RECORDS_PATH}`,
        httpMethod: "POST",
        invocationRateLimitPerSecond: a.rateLimitPerSecond,
      },
      { parent: this },
    );
    this.destinationArn = this.destination.arn;

    this.route = a.hub.addRoute(
      "records",
      {
        description: "Record events to the records API",
        eventPattern: recordEventPattern(a.sources, a.detailTypes),
        targets: [
          {
            id: "records-api",
            kind: "apiDestination",
            arn: this.destination.arn,
            inputTransformer: recordPayloadTransformer(),
            retryPolicy: a.retryPolicy,
          },
        ],
      },
      this,
    );

    this.registerOutputs({
      connectionArn: this.connectionArn,
      connectionSecretArn: this.connectionSecretArn,
      destinationArn: this.destinationArn,
    });
  }
}
