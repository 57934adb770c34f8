// `npm run cost [-- dev prod]`: the monthly cost of each Switchyard path per million events at
// public on-demand list prices of the stack's region (its `aws:region`), computed from what the
// stack declares: the program is evaluated under Pulumi mocks and the figures follow its memory
// sizes, workflow type and wait loops, X-Ray, WAF, archive retention and schema discovery. A region
// with no price table below is an error, never another region's prices. Prices change: each one
// names where it is from.
process.env.PULUMI_TEST_MODE = process.env.PULUMI_TEST_MODE ?? "true";
import { RECEIVER_ENV, RELAY_ENV } from "../lib/contracts";

/** Unit list prices of one region, USD, on-demand, first pricing tier. */
export interface Prices {
  eventBridgeEventPerMillion: number;
  apiDestinationPerMillion: number;
  archivePerGbProcessed: number;
  archivePerGbMonth: number;
  schemaDiscoveryPerMillion: number;
  lambdaRequestPerMillion: number;
  lambdaArmGbSecond: number;
  sfnStandardPerTransition: number;
  sfnExpressPerMillionRequests: number;
  sfnExpressGbSecond: number;
  apiGatewayRestPerMillion: number;
  dynamoWritePerMillion: number;
  dynamoReadPerMillion: number;
  snsPublishPerMillion: number;
  sqsPerMillion: number;
  logsIngestPerGb: number;
  alarmPerMonth: number;
  dashboardPerMonth: number;
  customMetricPerMonth: number;
  xrayPerMillionTraces: number;
  wafAclPerMonth: number;
  wafRulePerMonth: number;
  wafPerMillionRequests: number;
  secretPerMonth: number;
  secretsApiPer10k: number;
  s3PutPer1000: number;
  s3GetPer1000: number;
  s3PerGbMonth: number;
}

/**
 * List prices per region (the stack's `aws:region` picks one), USD, read 1 December 2026.
 *
 * us-east-1: the pricing pages named beside each price. eu-west-1: the AWS Price List offer files
 * (https://pricing.us-east-1.amazonaws.com/offers/v1.0/aws/<service>/current/eu-west-1/index.json,
 * publications of 11 September to 1 October 2026: AWSLambda, AmazonDynamoDB, AmazonCloudWatch,
 * AmazonApiGateway, AmazonSNS, AWSQueueService, AWSSecretsManager, AmazonS3) and the Step Functions
 * pricing page's regional table. Where a price is the same in both regions, AWS lists it so. A
 * price marked `// unconfirmed` could not be checked against a source for that region here; it is
 * the best known list price: check it before quoting a figure that depends on it.
 */
export const PRICES_BY_REGION = {
  "us-east-1": {
    // https://aws.amazon.com/eventbridge/pricing/ : custom events $1.00/million (each 64 KB chunk of an
    // entry is one event); API destinations $0.20/million invocations; archive $0.10/GB processed and
    // $0.023/GB-month stored; schema discovery $0.10/million events ingested (first 5M/month free).
    eventBridgeEventPerMillion: 1.0,
    apiDestinationPerMillion: 0.2,
    archivePerGbProcessed: 0.1,
    archivePerGbMonth: 0.023,
    schemaDiscoveryPerMillion: 0.1,
    // https://aws.amazon.com/lambda/pricing/ : requests $0.20/million; arm64 duration
    // $0.0000133334/GB-second (first 7.5 billion GB-seconds a month), billed per ms.
    lambdaRequestPerMillion: 0.2,
    lambdaArmGbSecond: 0.0000133334,
    // https://aws.amazon.com/step-functions/pricing/ : Standard $0.025 per 1,000 state transitions
    // (retries count); Express $1.00/million requests and $0.00001667/GB-second, duration rounded up
    // to 100 ms and memory billed in 64 MB chunks.
    sfnStandardPerTransition: 0.000025,
    sfnExpressPerMillionRequests: 1.0,
    sfnExpressGbSecond: 0.00001667,
    // https://aws.amazon.com/api-gateway/pricing/ : REST APIs $3.50/million calls (first 333 million);
    // usage plans and API keys carry no charge of their own.
    apiGatewayRestPerMillion: 3.5,
    // https://aws.amazon.com/dynamodb/pricing/on-demand/ : $0.625/million write request units and
    // $0.125/million read request units (since 1 November 2024).
    dynamoWritePerMillion: 0.625,
    dynamoReadPerMillion: 0.125,
    // https://aws.amazon.com/sns/pricing/ : $0.50/million publishes (first million free).
    snsPublishPerMillion: 0.5,
    // https://aws.amazon.com/sqs/pricing/ : standard queues $0.40/million requests (first 100 billion).
    sqsPerMillion: 0.4, // unconfirmed
    // https://aws.amazon.com/cloudwatch/pricing/ : logs ingestion $0.50/GB (Standard class);
    // standard-resolution alarm $0.10/alarm-month (10 free); dashboard $3.00/month (3 free); custom
    // metric $0.30/metric-month (first 10,000).
    logsIngestPerGb: 0.5,
    alarmPerMonth: 0.1,
    dashboardPerMonth: 3.0,
    customMetricPerMonth: 0.3,
    // https://aws.amazon.com/xray/pricing/ : $5.00/million traces recorded (first 100,000 free).
    xrayPerMillionTraces: 5.0,
    // https://aws.amazon.com/waf/pricing/ : $5.00/web ACL-month, $1.00/rule-month, $0.60/million requests.
    wafAclPerMonth: 5.0,
    wafRulePerMonth: 1.0,
    wafPerMillionRequests: 0.6,
    // https://aws.amazon.com/secrets-manager/pricing/ : $0.40/secret-month (EventBridge connections
    // store their credentials in one); $0.05 per 10,000 API calls.
    secretPerMonth: 0.4,
    secretsApiPer10k: 0.05, // unconfirmed
    // https://aws.amazon.com/s3/pricing/ : Standard $0.005 per 1,000 PUT/COPY/POST/LIST, $0.0004 per
    // 1,000 GET, $0.023/GB-month (first 50 TB). The webhook payload and ingestion buckets; no path
    // below prices S3 yet.
    s3PutPer1000: 0.005, // unconfirmed
    s3GetPer1000: 0.0004, // unconfirmed
    s3PerGbMonth: 0.023, // unconfirmed
  },
  "eu-west-1": {
    // EventBridge, EU (Ireland): no eu-west-1 source found; best known list prices (as us-east-1).
    eventBridgeEventPerMillion: 1.0, // unconfirmed
    apiDestinationPerMillion: 0.2, // unconfirmed
    archivePerGbProcessed: 0.1, // unconfirmed
    archivePerGbMonth: 0.023, // unconfirmed
    schemaDiscoveryPerMillion: 0.1, // unconfirmed
    // AWSLambda offer, EU (Ireland): EU-Request-ARM $0.20/million; EU-Lambda-GB-Second-ARM
    // $0.0000133334 (first 7.5 billion GB-seconds). The same as us-east-1.
    lambdaRequestPerMillion: 0.2,
    lambdaArmGbSecond: 0.0000133334,
    // https://aws.amazon.com/step-functions/pricing/ regional table: Europe (Ireland) $0.0250 per
    // 1,000 state transitions, the same as us-east-1. Express (requests, GB-second): no eu-west-1
    // source found; best known list prices (as us-east-1).
    sfnStandardPerTransition: 0.000025,
    sfnExpressPerMillionRequests: 1.0, // unconfirmed
    sfnExpressGbSecond: 0.00001667, // unconfirmed
    // AmazonApiGateway offer, EU-ApiGatewayRequest: $3.50/million (first 333 million; the next tiers,
    // $3.19 and $2.71, are higher than us-east-1's).
    apiGatewayRestPerMillion: 3.5,
    // AmazonDynamoDB offer: EU-WriteRequestUnits $0.000000705, EU-ReadRequestUnits $0.0000001415.
    dynamoWritePerMillion: 0.705,
    dynamoReadPerMillion: 0.1415,
    // AmazonSNS offer, EU-Requests-Tier1: $0.50/million (first million free).
    snsPublishPerMillion: 0.5,
    // AWSQueueService offer, EU-Requests-Tier1: $0.40/million standard requests.
    sqsPerMillion: 0.4,
    // AmazonCloudWatch offer: EU-DataProcessing-Bytes $0.57/GB custom logs ingested (Standard class);
    // EU-CW:AlarmMonitorUsage $0.10/alarm-month; EU-CW:MetricMonitorUsage $0.30/metric-month.
    // Dashboards: no eu-west-1 source found; best known list price (as us-east-1).
    logsIngestPerGb: 0.57,
    alarmPerMonth: 0.1,
    dashboardPerMonth: 3.0, // unconfirmed
    customMetricPerMonth: 0.3,
    // X-Ray and WAF, EU (Ireland): no eu-west-1 source found; best known list prices (as us-east-1).
    xrayPerMillionTraces: 5.0, // unconfirmed
    wafAclPerMonth: 5.0, // unconfirmed
    wafRulePerMonth: 1.0, // unconfirmed
    wafPerMillionRequests: 0.6, // unconfirmed
    // AWSSecretsManager offer: EU-AWSSecretsManager-Secrets $0.40/secret-month;
    // EU-AWSSecretsManager-APIRequests $0.05 per 10,000.
    secretPerMonth: 0.4,
    secretsApiPer10k: 0.05,
    // AmazonS3 offer: EU-Requests-Tier1 $0.005/1,000; EU-Requests-Tier2 $0.0004/1,000;
    // EU-TimedStorage-ByteHrs $0.023/GB-month (first 50 TB).
    s3PutPer1000: 0.005,
    s3GetPer1000: 0.0004,
    s3PerGbMonth: 0.023,
  },
} satisfies Record<string, Prices>;

export type PricedRegion = keyof typeof PRICES_BY_REGION;

/** Thrown when the stack's `aws:region` has no price table (or the stack sets none). */
export class UnpricedRegionError extends Error {
  constructor(
    readonly region: string | undefined,
    readonly stack?: string,
  ) {
    const priced = Object.keys(PRICES_BY_REGION).join(", ");
    const where = stack ? `stack ${stack}: ` : "";
    super(
      region
        ? `${where}no list prices for region ${region} (aws:region). Priced regions: ${priced}. ` +
            `Add a table for ${region} to PRICES_BY_REGION in scripts/cost.ts, or price the stack in a priced region.`
        : `${where}aws:region is not set, so there are no list prices to use. Priced regions: ${priced}. ` +
            `Set aws:region in Pulumi.<stack>.yaml.`,
    );
    this.name = "UnpricedRegionError";
  }
}

/** The price table of `region`; a region without one fails, naming it and the priced regions. */
export function pricesFor(region: string | undefined, stack?: string): Prices {
  if (!region || !Object.prototype.hasOwnProperty.call(PRICES_BY_REGION, region))
    throw new UnpricedRegionError(region, stack);
  return PRICES_BY_REGION[region as PricedRegion];
}

/** Assumptions that are not in the stack's config; each is printed with the figures. */
export const ASSUMPTIONS = {
  /** Size of one event (detail + envelope), bytes: the archive and logs scale with it. */
  eventBytes: 1024,
  /** Billed ms of one webhook delivery in its receiver: verify, one conditional DynamoDB write. */
  webhookBilledMs: 40,
  /**
   * Billed ms of the relay per delivery: one invocation each (a stream batch of one, as at a low
   * rate; busier streams share an invocation among up to 10), one PutEvents.
   */
  relayBilledMs: 30,
  /** Write units of the stored delivery: one item of the event (1 KB) and its ids and names. */
  webhookWriteUnits: 2,
  /** Log bytes per webhook delivery (the receiver's line and EMF blob, the relay's line). */
  webhookLogBytes: 1200,
  /** Billed ms of a REST API integration function (validate, one conditional write). */
  restBilledMs: 40,
  /** DynamoDB writes per REST request (the job and its idempotency key). */
  restWriteUnits: 2,
  /** Share of requests X-Ray records with the default sampling rule (1/s then 5%). */
  xraySampledShare: 0.05,
  /** Seconds an HTTP Task (records API) or SNS publish takes inside an Express execution. */
  workflowTaskSeconds: 0.5,
  /** Memory of an Express execution of this workflow (small payloads): one 64 MB chunk. */
  expressMemoryGb: 64 / 1024,
  /** Verify attempts of a typical execution (anchored at the first check). */
  typicalVerifyAttempts: 1,
};

export interface CostLine {
  item: string;
  /** USD per million events (or requests). */
  perMillion: number;
}

export interface PathCost {
  path: string;
  /** Whether the stack declares this path (otherwise the figure uses defaults and is marked). */
  declared: boolean;
  note?: string;
  lines: CostLine[];
  total: number;
}

export interface WorkflowShape {
  /** States executed by the shortest successful execution. */
  happyPath: string[];
  /** The shortest loop through a Wait state that the successful path enters (a retry loop). */
  loop: string[];
  waitSecondsHappy: number;
  waitSecondsLoop: number;
  tasksHappy: number;
  tasksLoop: number;
}

type StatesMap = Record<string, any>;

/**
 * States a successful execution does not enter: reached by Catch (never followed here) or named as
 * failure handling (IngestionFailedMessage, VerifyErrorMessage, NotAnchoredMessage, ...). The graph
 * alone cannot tell which Choice branch data takes, so the names decide.
 */
export const FAILURE_STATE = /[Ff]ail|[Ee]rror|^Not[A-Z]|[Rr]eject|[Tt]imed?[Oo]ut/;

function successors(state: any): string[] {
  const out = [state.Next, state.Default, ...(state.Choices ?? []).map((c: any) => c.Next)];
  return out.filter((s): s is string => typeof s === "string" && !FAILURE_STATE.test(s));
}

function shortestPath(
  states: StatesMap,
  from: string,
  isGoal: (name: string) => boolean,
  firstStep = false,
): string[] | undefined {
  const prev = new Map<string, string | null>();
  const queue: string[] = [];
  if (firstStep) {
    for (const s of successors(states[from])) {
      if (!prev.has(s)) {
        prev.set(s, null);
        queue.push(s);
      }
    }
  } else {
    prev.set(from, null);
    queue.push(from);
  }
  while (queue.length) {
    const cur = queue.shift()!;
    if (isGoal(cur)) {
      const path = [cur];
      for (let p = prev.get(cur); p; p = prev.get(p)) path.unshift(p);
      return path;
    }
    for (const n of successors(states[cur] ?? {})) {
      if (!prev.has(n)) {
        prev.set(n, cur);
        queue.push(n);
      }
    }
  }
  return undefined;
}

/**
 * The successful path of a definition (shortest from StartAt to a Succeed state, through no failure
 * state) and the shortest loop through a Wait state that path can re-enter (a poll loop).
 */
export function workflowShape(definition: { StartAt: string; States: StatesMap }): WorkflowShape {
  const states = definition.States;
  const happy = shortestPath(states, definition.StartAt, (n) => states[n]?.Type === "Succeed");
  if (!happy) throw new Error("workflowShape: no path from StartAt reaches a Succeed state");
  let loop: string[] = [];
  for (const s of happy) {
    const back = shortestPath(states, s, (n) => n === s, true);
    if (
      back &&
      back.some((n) => states[n].Type === "Wait") &&
      (loop.length === 0 || back.length < loop.length)
    )
      loop = back;
  }
  const waits = (p: string[]) =>
    p.reduce((n, s) => n + (states[s].Type === "Wait" ? Number(states[s].Seconds ?? 0) : 0), 0);
  const tasks = (p: string[]) => p.filter((s) => states[s].Type === "Task").length;
  return {
    happyPath: happy,
    loop,
    waitSecondsHappy: waits(happy),
    waitSecondsLoop: waits(loop),
    tasksHappy: tasks(happy),
    tasksLoop: tasks(loop),
  };
}

export interface CostInputs {
  stack: string;
  /** The stack's `aws:region`: picks the price table (PRICES_BY_REGION). */
  region: string;
  archiveRetentionDays: number;
  schemaDiscovery: boolean;
  debugRoute: boolean;
  apiDestination: boolean;
  /** The receivers' memory and the relay's. */
  webhook: { declared: boolean; memoryMb: number; relayMemoryMb: number };
  workflow?: { type: "STANDARD" | "EXPRESS"; shape: WorkflowShape; maxVerifyAttempts: number };
  restApi: { declared: boolean; memoryMb: number; xray: boolean; waf: boolean };
  fixed: {
    alarms: number;
    dashboards: number;
    secrets: number;
    wafAcls: number;
    wafRules: number;
    customMetrics: number;
  };
}

const round = (n: number) => Math.round(n * 100) / 100;
const total = (lines: CostLine[]) => round(lines.reduce((n, l) => n + l.perMillion, 0));
const GB = 1024 ** 3;

/** What every event on the hub costs before any route: ingestion, archive, schema discovery. */
function busLines(i: CostInputs, prices: Prices): CostLine[] {
  const gbPerMillion = (ASSUMPTIONS.eventBytes * 1e6) / GB;
  const chunks = Math.max(1, Math.ceil(ASSUMPTIONS.eventBytes / 65536));
  const lines: CostLine[] = [
    { item: "EventBridge custom event", perMillion: prices.eventBridgeEventPerMillion * chunks },
    { item: "archive: processed", perMillion: prices.archivePerGbProcessed * gbPerMillion },
    {
      item: `archive: stored ${i.archiveRetentionDays === 0 ? "forever (12 months shown)" : `${i.archiveRetentionDays} days`}`,
      perMillion:
        prices.archivePerGbMonth *
        gbPerMillion *
        ((i.archiveRetentionDays === 0 ? 365 : i.archiveRetentionDays) / 30),
    },
  ];
  if (i.schemaDiscovery)
    lines.push({ item: "schema discovery", perMillion: prices.schemaDiscoveryPerMillion });
  if (i.debugRoute)
    lines.push({
      item: "debug route: CloudWatch Logs ingestion",
      perMillion: prices.logsIngestPerGb * gbPerMillion,
    });
  return lines;
}

function lambdaLines(prices: Prices, memoryMb: number, billedMs: number): CostLine[] {
  return [
    { item: "Lambda requests", perMillion: prices.lambdaRequestPerMillion },
    {
      item: `Lambda duration (${memoryMb} MB arm64, ${billedMs} ms)`,
      perMillion: prices.lambdaArmGbSecond * (memoryMb / 1024) * (billedMs / 1000) * 1e6,
    },
  ];
}

/** Cost per million events of a workflow execution of `attempts` verify attempts, at `prices`. */
export function workflowLines(
  type: "STANDARD" | "EXPRESS",
  shape: WorkflowShape,
  attempts: number,
  prices: Prices,
): CostLine[] {
  const extra = Math.max(0, attempts - 1);
  if (type === "STANDARD") {
    const transitions = shape.happyPath.length + extra * shape.loop.length;
    return [
      {
        item: `Standard: ${transitions} state transitions`,
        perMillion: prices.sfnStandardPerTransition * transitions * 1e6,
      },
    ];
  }
  const seconds =
    shape.waitSecondsHappy +
    extra * shape.waitSecondsLoop +
    (shape.tasksHappy + extra * shape.tasksLoop) * ASSUMPTIONS.workflowTaskSeconds;
  const billed = Math.ceil(seconds * 10) / 10;
  return [
    { item: "Express: requests", perMillion: prices.sfnExpressPerMillionRequests },
    {
      item: `Express: ${billed} s x 64 MB`,
      perMillion: prices.sfnExpressGbSecond * ASSUMPTIONS.expressMemoryGb * billed * 1e6,
    },
  ];
}

/** The figures of every path at the list prices of the stack's region (`i.region`). */
export function computeCosts(i: CostInputs): { paths: PathCost[]; fixedMonthly: CostLine[] } {
  const prices = pricesFor(i.region, i.stack);
  const bus = busLines(i, prices);
  const paths: PathCost[] = [];
  const add = (path: string, declared: boolean, lines: CostLine[], note?: string) =>
    paths.push({
      path,
      declared,
      note,
      lines: lines.map((l) => ({ ...l, perMillion: Math.round(l.perMillion * 1e4) / 1e4 })),
      total: total(lines),
    });

  add("API destination forwarding (records route)", i.apiDestination, [
    ...bus,
    { item: "API destination invocation", perMillion: prices.apiDestinationPerMillion },
  ]);

  const logGb = (ASSUMPTIONS.webhookLogBytes * 1e6) / GB;
  // Lambda's reads of the table's stream are free (DynamoDB Streams GetRecords by a trigger).
  const relay = lambdaLines(prices, i.webhook.relayMemoryMb, ASSUMPTIONS.relayBilledMs).map(
    (l) => ({ ...l, item: `relay: ${l.item}` }),
  );
  add(
    "Lambda webhook + relay + PutEvents",
    i.webhook.declared,
    [
      ...lambdaLines(prices, i.webhook.memoryMb, ASSUMPTIONS.webhookBilledMs),
      ...relay,
      {
        item: `DynamoDB stored delivery (${ASSUMPTIONS.webhookWriteUnits} WRU)`,
        perMillion: prices.dynamoWritePerMillion * ASSUMPTIONS.webhookWriteUnits,
      },
      { item: "CloudWatch Logs (JSON + EMF)", perMillion: prices.logsIngestPerGb * logGb },
      ...bus,
    ],
    i.webhook.declared ? undefined : "no webhook function declared in this stack: 256 MB assumed",
  );

  if (i.workflow) {
    const w = i.workflow;
    const notify = { item: "SNS notification", perMillion: prices.snsPublishPerMillion };
    for (const type of ["STANDARD", "EXPRESS"] as const) {
      const configured = type === w.type ? " [configured]" : "";
      for (const [label, attempts] of [
        ["typical", ASSUMPTIONS.typicalVerifyAttempts],
        ["worst", w.maxVerifyAttempts],
      ] as const) {
        add(
          `Workflow ${type}${configured}, ${label}: ${attempts} verify attempt${attempts > 1 ? "s" : ""}`,
          true,
          [...bus, ...workflowLines(type, w.shape, attempts, prices), notify],
        );
      }
    }
  }

  const rest: CostLine[] = [
    { item: "API Gateway REST request", perMillion: prices.apiGatewayRestPerMillion },
    { item: "usage plan / API key", perMillion: 0 },
    ...lambdaLines(prices, i.restApi.memoryMb, ASSUMPTIONS.restBilledMs),
    {
      item: `DynamoDB (${ASSUMPTIONS.restWriteUnits} WRU)`,
      perMillion: prices.dynamoWritePerMillion * ASSUMPTIONS.restWriteUnits,
    },
  ];
  if (i.restApi.xray)
    rest.push({
      item: `X-Ray (${ASSUMPTIONS.xraySampledShare * 100}% sampled)`,
      perMillion: prices.xrayPerMillionTraces * ASSUMPTIONS.xraySampledShare,
    });
  if (i.restApi.waf) rest.push({ item: "WAF requests", perMillion: prices.wafPerMillionRequests });
  add(
    "API Gateway REST + usage plans",
    i.restApi.declared,
    rest,
    i.restApi.declared
      ? undefined
      : "no REST API declared in this stack: 256 MB integration assumed",
  );

  const f = i.fixed;
  const fixedMonthly: CostLine[] = [
    {
      item: `${f.alarms} CloudWatch alarms (before the 10 free)`,
      perMillion: round(f.alarms * prices.alarmPerMonth),
    },
    {
      item: `${f.dashboards} dashboards (before the 3 free)`,
      perMillion: round(f.dashboards * prices.dashboardPerMonth),
    },
    {
      item: `${f.secrets} secrets (connections included)`,
      perMillion: round(f.secrets * prices.secretPerMonth),
    },
    {
      item: `${f.customMetrics} custom metrics (EMF)`,
      perMillion: round(f.customMetrics * prices.customMetricPerMonth),
    },
    {
      item: `${f.wafAcls} WAF ACLs, ${f.wafRules} rules`,
      perMillion: round(f.wafAcls * prices.wafAclPerMonth + f.wafRules * prices.wafRulePerMonth),
    },
  ];
  return { paths, fixedMonthly };
}

/**
 * Reads the inputs from the program evaluated for `stack` under mocks. The region is the stack's
 * `aws:region` (not the mocks' getRegion, which answers one fixed region), checked against the price
 * tables before the program is evaluated.
 */
export async function gatherInputs(
  stack: string,
  overrides: Record<string, string | undefined> = {},
): Promise<CostInputs> {
  require("../local/polyfills");
  const { evaluateProgram, placeholderSecrets, programConfig } = require("../local/evaluate");
  // Placeholder secrets: what the stack declares, and so its cost, does not depend on their values.
  const secrets = placeholderSecrets(stack, programConfig(stack, {}, overrides));
  const config = programConfig(stack, secrets, overrides);
  const region = config["aws:region"];
  pricesFor(region, stack);
  const program = await evaluateProgram(stack, overrides, secrets);
  // A program evaluated earlier in this process is reused without setting its config again: set it,
  // so loadConfig reads this stack's config rather than the last one evaluated.
  require("../local/mocks").setConfig(config);
  const cfg = require("../config").loadConfig();
  const res: Array<{ type: string; name: string; inputs: any }> = program.resources;
  const ofType = (t: string) => res.filter((r) => r.type === `aws:${t}`);
  const fns = ofType("lambda/function:Function");
  const memOf = (re: RegExp) => fns.find((f) => re.test(f.name))?.inputs.memorySize;
  const machines = ofType("sfn/stateMachine:StateMachine");
  const machine = machines.find((m) => /verif/i.test(m.name)) ?? machines[0];
  // The receivers (one per provider) and the relay that publishes what they store.
  const webhookFns = fns.filter((f) => f.inputs.environment?.variables?.[RECEIVER_ENV.provider]);
  const relayFn = fns.find((f) => f.inputs.environment?.variables?.[RELAY_ENV.eventBusArn]);
  const acls = ofType("wafv2/webAcl:WebAcl");
  const maxAttempts = cfg.verification?.maxVerifyAttempts ?? 1;
  return {
    stack,
    region,
    archiveRetentionDays: cfg.archiveRetentionDays,
    schemaDiscovery: cfg.schemaDiscovery,
    debugRoute: cfg.debugRoute,
    apiDestination: ofType("cloudwatch/eventApiDestination:EventApiDestination").length > 0,
    webhook: {
      declared: webhookFns.length > 0,
      memoryMb: webhookFns[0]?.inputs.memorySize ?? 256,
      relayMemoryMb: relayFn?.inputs.memorySize ?? 256,
    },
    workflow: machine
      ? {
          type: machine.inputs.type === "EXPRESS" ? "EXPRESS" : "STANDARD",
          shape: workflowShape(JSON.parse(machine.inputs.definition)),
          maxVerifyAttempts: maxAttempts,
        }
      : undefined,
    restApi: {
      declared: ofType("apigateway/restApi:RestApi").length > 0,
      memoryMb: memOf(/submit/i) ?? memOf(/api|gateway/i) ?? 256,
      xray: ofType("apigateway/stage:Stage").some((s) => s.inputs.xrayTracingEnabled),
      waf: acls.length > 0,
    },
    fixed: {
      alarms: ofType("cloudwatch/metricAlarm:MetricAlarm").length,
      dashboards: ofType("cloudwatch/dashboard:Dashboard").length,
      secrets:
        ofType("secretsmanager/secret:Secret").length +
        ofType("cloudwatch/eventConnection:EventConnection").length,
      wafAcls: acls.length,
      wafRules: acls.reduce((n, a) => n + (a.inputs.rules?.length ?? 0), 0),
      // WebhookAccepted, WebhookDuplicate, EventsPublished, PublishRetries, EventsPublishFailed and
      // WebhookRejected per reason: every receiver shares one `service` dimension value. The
      // tenant change publisher (function <hub>-changes) adds its three publishing metrics.
      customMetrics:
        (webhookFns.length > 0
          ? 5 + Object.keys(require("../handlers/lib/telemetry").REJECTION_REASONS).length
          : 0) + (ofType("lambda/function:Function").some((f) => /-changes$/.test(f.name)) ? 3 : 0),
    },
  };
}

export function render(i: CostInputs, c: ReturnType<typeof computeCosts>): string {
  const out: string[] = [
    `Stack ${i.stack}: USD per million events (${i.region} list prices, the stack's aws:region)`,
  ];
  for (const p of c.paths) {
    out.push(
      `\n  ${p.path}: $${p.total.toFixed(2)}${p.declared ? "" : `  (${p.note ?? "not declared in this stack"})`}`,
    );
    for (const l of p.lines)
      out.push(`    ${l.item.padEnd(52)} ${l.perMillion.toFixed(4).padStart(10)}`);
  }
  out.push(`\n  Fixed per month, whatever the traffic: $${total(c.fixedMonthly).toFixed(2)}`);
  for (const l of c.fixedMonthly)
    out.push(`    ${l.item.padEnd(52)} ${l.perMillion.toFixed(2).padStart(10)}`);
  if (i.workflow) {
    out.push(
      `\n  Workflow path: ${i.workflow.shape.happyPath.join(" > ")}; retry loop: ${i.workflow.shape.loop.join(" > ") || "none"} (waits ${i.workflow.shape.waitSecondsHappy} s, loop ${i.workflow.shape.waitSecondsLoop} s)`,
    );
  }
  out.push(
    `  Assumptions: ${Object.entries(ASSUMPTIONS)
      .map(([k, v]) => `${k}=${Math.round(Number(v) * 1000) / 1000}`)
      .join(", ")}`,
  );
  return out.join("\n");
}

async function main(): Promise<void> {
  const stacks = process.argv.slice(2).length ? process.argv.slice(2) : ["dev", "prod"];
  for (const stack of stacks) {
    const inputs = await gatherInputs(stack);
    console.log(render(inputs, computeCosts(inputs)));
    console.log("");
  }
}

if (require.main === module) {
  main().then(
    () => process.exit(0),
    (e) => {
      console.error(
        e instanceof UnpricedRegionError ? `npm run cost: ${e.message}` : (e?.stack ?? e),
      );
      process.exit(1);
    },
  );
}
