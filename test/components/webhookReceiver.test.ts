import { expect } from "chai";
import * as crypto from "crypto";
import * as pulumi from "@pulumi/pulumi";
import {
  ACCOUNT,
  one,
  ofType,
  recorded,
  REGION,
  resetRecorded,
  settle,
  setupMocks,
  valueOf,
} from "../mocks";

setupMocks();
import { EventHub } from "../../components/events/eventHub";
import { BundleReport, bundleReports, functionArchives } from "../../components/lambda";
import {
  signingSecretValue,
  validateWebhookArgs,
  WebhookReceiver,
  WebhookReceiverArgs,
} from "../../components/webhooks/webhookReceiver";
import { archiveEntries, LambdaHost, materialize } from "../../local/artifacts";
import { signGithub } from "../../handlers/webhooks/providers/github";
import { signStripe } from "../../handlers/webhooks/providers/stripe";
import { hmacRequestHeaders, signHmacBody } from "../../handlers/webhooks/providers/hmac";
import { signTwilio } from "../../handlers/webhooks/providers/twilio";
import {
  createIdempotencyTable,
  EntryRefusal,
  LocalAws,
  scanTable,
  startLocalAws,
} from "../handlers/webhooks/localServices";
import { LocalDynamo, startLocalDynamo } from "../support/aws";

const SECRETS = {
  github: "gh-secret-value-1c9e",
  githubPrevious: "gh-previous-value-77aa",
  stripe: "whsec_stripe_value_5b2d",
  twilio: "twilio-token-value-0f3e",
};
const BUS_ARN = `arn:aws:events:${REGION}:${ACCOUNT}:event-bus/hub`;
const TABLE_ARN = `arn:aws:dynamodb:${REGION}:${ACCOUNT}:table/wh-idempotency`;
const STREAM_ARN = `${TABLE_ARN}/stream/2026-01-01T00:00:00.000`;
const DLQ_ARN = `arn:aws:sqs:${REGION}:${ACCOUNT}:hub-dlq`;
const DLQ_URL = `https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/hub-dlq`;
const RELAY_ARN = `arn:aws:lambda:${REGION}:${ACCOUNT}:function:wh-relay`;
const BUCKET_ARN = "arn:aws:s3:::wh-payloads";
/** A secret input as the mocks see it ({<sig>: ..., value}) or a plain value. */
const plain = (v: any): any => (v && typeof v === "object" && "value" in v ? v.value : v);
const secretArn = (p: string) =>
  `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:wh-${p}-AbCdEf`;

/** A Function URL event (payload 2.0) for `POST /<provider>` of function `<component>-<provider>`, body base64. */
function functionUrlEvent(
  fn: string,
  body: string,
  headers: Record<string, string>,
  sourceIp = "192.0.2.10",
) {
  const provider = fn.split("-").pop()!;
  const domain = `${fn}.lambda-url.${REGION}.on.aws`;
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: `/${provider}`,
    rawQueryString: "",
    headers: { host: domain, ...headers },
    requestContext: {
      domainName: domain,
      http: { method: "POST", path: `/${provider}`, sourceIp },
      requestId: "r",
      timeEpoch: Date.now(),
    },
    body: Buffer.from(body).toString("base64"),
    isBase64Encoded: true,
  };
}

/**
 * Starts the serialized relay of component `name` (`<name>-relay`, its environment as declared) in
 * a fresh Node process, fed by the local stream of its deliveries table `<name>-idempotency`. Its
 * AWS calls go to local AWS, its DLQ's URL included: the SDK sends to a queue URL's own host, so
 * the declared one is pointed there, as the local runtime does (local/services/lambda.ts).
 */
async function startRelay(aws: LocalAws, name: string): Promise<LambdaHost> {
  const endpoint = aws.endpoint;
  const functionName = `${name}-relay`;
  const declared = one("aws:lambda/function:Function", functionName).inputs.environment.variables;
  const env = Object.fromEntries(
    Object.entries(declared as Record<string, string>).map(([k, v]) => [
      k,
      v.split(`https://sqs.${REGION}.amazonaws.com/`).join(`${endpoint}/`),
    ]),
  );
  const dir = await materialize(functionArchives.get(functionName)!);
  const relay = await LambdaHost.start(dir, {
    env: { ...env, AWS_ENDPOINT_URL: endpoint },
    functionName,
  });
  aws.streams.feed(`${name}-idempotency`, (event) => relay.invoke(event));
  return relay;
}

/** The JSON lines (Powertools logs and EMF blobs) a function process wrote. */
const jsonLines = (h: LambdaHost): any[] =>
  (h.stdout + h.stderr)
    .split("\n")
    .filter((l) => l.startsWith("{"))
    .map((l) => JSON.parse(l));

/** The EMF blobs among a function's log lines: namespace, dimension sets and values. */
const emfBlobs = (lines: any[]) =>
  lines
    .filter((l) => l._aws)
    .map(({ _aws, ...values }) => ({
      namespace: _aws.CloudWatchMetrics[0].Namespace,
      dimensions: _aws.CloudWatchMetrics[0].Dimensions,
      values,
    }));

describe("WebhookReceiver (switchyard:webhooks:WebhookReceiver)", () => {
  let receiver: WebhookReceiver;
  /** Resource options of every child, by "type|name" (seen through a component transformation). */
  const childOpts = new Map<string, pulumi.CustomResourceOptions>();

  before(async () => {
    resetRecorded();
    const hub = new EventHub("hub", {});
    receiver = new WebhookReceiver(
      "wh",
      {
        hub,
        providers: {
          github: { secret: SECRETS.github, previousSecret: SECRETS.githubPrevious },
          stripe: { secret: SECRETS.stripe },
          twilio: { secret: SECRETS.twilio, publicUrl: "https://hooks.example.com/twilio" },
        },
        reservedConcurrency: 5,
        timeoutSeconds: 9,
        logRetentionDays: 14,
        maxEntryBytes: 131072,
        toleranceSeconds: 120,
      },
      {
        transformations: [
          (t) => {
            childOpts.set(`${t.type}|${t.name}`, t.opts as pulumi.CustomResourceOptions);
            return undefined;
          },
        ],
      },
    );
    await valueOf(receiver.webhookUrls);
    await settle();
  });

  it("declares one function with a Function URL of auth type NONE per enabled provider", async () => {
    const urls = ofType("aws:lambda/functionUrl:FunctionUrl");
    expect(urls.map((u) => u.name).sort()).to.deep.equal(["wh-github", "wh-stripe", "wh-twilio"]);
    for (const u of urls) {
      expect(u.inputs).to.deep.include({
        functionName: u.name,
        authorizationType: "NONE",
        invokeMode: "BUFFERED",
      });
    }
    expect(await valueOf(receiver.webhookUrls)).to.deep.equal({
      github: `https://wh-github.lambda-url.${REGION}.on.aws/github`,
      stripe: `https://wh-stripe.lambda-url.${REGION}.on.aws/stripe`,
      twilio: "https://hooks.example.com/twilio",
    });
  });

  it("grants both Function URL permissions: InvokeFunctionUrl (NONE) and InvokeFunction via the URL", () => {
    for (const p of ["github", "stripe", "twilio"]) {
      expect(one("aws:lambda/permission:Permission", `wh-${p}-url`).inputs).to.deep.equal({
        function: `wh-${p}`,
        statementId: "AllowPublicFunctionUrl",
        action: "lambda:InvokeFunctionUrl",
        principal: "*",
        functionUrlAuthType: "NONE",
      });
      expect(one("aws:lambda/permission:Permission", `wh-${p}-invoke`).inputs).to.deep.equal({
        function: `wh-${p}`,
        statementId: "AllowInvokeViaFunctionUrl",
        action: "lambda:InvokeFunction",
        principal: "*",
        invokedViaFunctionUrl: true,
      });
    }
  });

  it("creates each URL after its permissions and its secret's value (explicit dependsOn)", () => {
    for (const p of ["github", "stripe", "twilio"]) {
      const deps = childOpts.get(`aws:lambda/functionUrl:FunctionUrl|wh-${p}`)!
        .dependsOn as pulumi.Resource[];
      expect(deps).to.have.members([
        receiver.permissions[p as "github"]![0],
        receiver.permissions[p as "github"]![1],
        receiver.secretVersions[p as "github"]!,
      ]);
    }
  });

  it("stores each provider's secret in Secrets Manager, current and previous in one JSON value", async () => {
    expect(
      ofType("aws:secretsmanager/secret:Secret")
        .map((s) => s.name)
        .sort(),
    ).to.deep.equal(["wh-github", "wh-stripe", "wh-twilio"]);
    const v = (p: string) =>
      one("aws:secretsmanager/secretVersion:SecretVersion", `wh-${p}`).inputs;
    expect(v("github").secretId).to.equal("wh-github-id");
    // The value is a secret output: encrypted in the state, masked in the CLI.
    expect(v("github").secretString).to.not.be.a("string");
    expect(JSON.parse(plain(v("github").secretString))).to.deep.equal({
      current: SECRETS.github,
      previous: SECRETS.githubPrevious,
    });
    expect(JSON.parse(plain(v("stripe").secretString))).to.deep.equal({ current: SECRETS.stripe });
    expect(await pulumi.isSecret(signingSecretValue("a", "b"))).to.equal(true);
    expect(await valueOf(signingSecretValue("a", "b"))).to.equal('{"current":"a","previous":"b"}');
  });

  it("gives each receiver only its own secret, PutItem on the deliveries table and PutObject below its prefix", () => {
    for (const p of ["github", "stripe", "twilio"]) {
      const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", `wh-${p}`).inputs.policy);
      expect(policy.Statement).to.deep.equal([
        {
          Sid: "OwnLogs",
          Effect: "Allow",
          Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
          Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:wh-${p}:*`,
        },
        { Effect: "Allow", Action: ["secretsmanager:GetSecretValue"], Resource: [secretArn(p)] },
        { Effect: "Allow", Action: ["dynamodb:PutItem"], Resource: [TABLE_ARN] },
        { Effect: "Allow", Action: ["s3:PutObject"], Resource: [`${BUCKET_ARN}/${p}/*`] },
      ]);
    }
  });

  it("gives the relay only its table's stream, PutEvents on the bus and SendMessage on the hub's DLQ", () => {
    const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", "wh-relay").inputs.policy);
    expect(policy.Statement).to.deep.equal([
      {
        Sid: "OwnLogs",
        Effect: "Allow",
        Action: ["logs:CreateLogStream", "logs:PutLogEvents"],
        Resource: `arn:aws:logs:${REGION}:${ACCOUNT}:log-group:wh-relay:*`,
      },
      {
        Effect: "Allow",
        Action: ["dynamodb:DescribeStream", "dynamodb:GetRecords", "dynamodb:GetShardIterator"],
        Resource: [STREAM_ARN],
      },
      // IAM evaluates ListStreams on "*" only (components/tenants/streamMapping.ts).
      { Effect: "Allow", Action: ["dynamodb:ListStreams"], Resource: ["*"] },
      { Effect: "Allow", Action: ["events:PutEvents"], Resource: [BUS_ARN] },
      { Effect: "Allow", Action: ["sqs:SendMessage"], Resource: [DLQ_ARN] },
    ]);
  });

  it("configures functions with ARNs and names only: no secret value in any environment variable", () => {
    const fns = ofType("aws:lambda/function:Function", /^wh-/);
    expect(fns.map((f) => f.name).sort()).to.deep.equal([
      "wh-github",
      "wh-relay",
      "wh-stripe",
      "wh-twilio",
    ]);
    const gh = one("aws:lambda/function:Function", "wh-github").inputs;
    expect(gh.environment).to.deep.equal({
      variables: {
        WEBHOOK_PROVIDER: "github",
        WEBHOOK_SECRET_ARN: secretArn("github"),
        IDEMPOTENCY_TABLE: "wh-idempotency",
        IDEMPOTENCY_TTL_SECONDS: "259200",
        MAX_ENTRY_BYTES: "131072",
        TOLERANCE_SECONDS: "120",
        PAYLOAD_PREFIX: "github/",
        PAYLOAD_BUCKET: "wh-payloads",
      },
    });
    expect(
      one("aws:lambda/function:Function", "wh-twilio").inputs.environment.variables.PUBLIC_URL,
    ).to.equal("https://hooks.example.com/twilio");
    expect(gh).to.deep.include({
      timeout: 9,
      reservedConcurrentExecutions: 5,
      runtime: "nodejs22.x",
    });
    // The relay names the bus by its ARN (only it publishes; its dead letters' TARGET_ARN) and the
    // hub's DLQ, where it sends a delivery the bus refuses for good.
    expect(one("aws:lambda/function:Function", "wh-relay").inputs).to.deep.include({
      environment: {
        variables: {
          EVENT_BUS_ARN: BUS_ARN,
          MAX_ENTRY_BYTES: "131072",
          DEAD_LETTER_QUEUE_URL: DLQ_URL,
        },
      },
      timeout: 60,
      runtime: "nodejs22.x",
    });
    const all = JSON.stringify(
      recorded.filter((r) => r.type === "aws:lambda/function:Function").map((r) => r.inputs),
    );
    for (const s of Object.values(SECRETS)) expect(all).to.not.contain(s);
  });

  it("declares the deliveries table keyed on `id`, with TTL on `expiration` and a NEW_IMAGE stream", () => {
    expect(one("aws:dynamodb/table:Table", "wh-idempotency").inputs).to.deep.equal({
      billingMode: "PAY_PER_REQUEST",
      hashKey: "id",
      attributes: [{ name: "id", type: "S" }],
      ttl: { attributeName: "expiration", enabled: true },
      streamEnabled: true,
      streamViewType: "NEW_IMAGE",
      serverSideEncryption: { enabled: true },
      deletionProtectionEnabled: false,
    });
  });

  it("feeds the relay from the table's stream: small batches, partial failures, bisection, the hub's DLQ", () => {
    expect(ofType("aws:lambda/eventSourceMapping:EventSourceMapping")).to.have.length(1);
    expect(
      one("aws:lambda/eventSourceMapping:EventSourceMapping", "wh-relay").inputs,
    ).to.deep.equal({
      eventSourceArn: STREAM_ARN,
      functionName: RELAY_ARN,
      startingPosition: "LATEST",
      batchSize: 10,
      maximumBatchingWindowInSeconds: 0,
      parallelizationFactor: 1,
      functionResponseTypes: ["ReportBatchItemFailures"],
      bisectBatchOnFunctionError: true,
      // Only transient failures reach the mapping: it retries as long as AWS allows.
      maximumRetryAttempts: 10000,
      maximumRecordAgeInSeconds: 86400,
      destinationConfig: { onFailure: { destinationArn: DLQ_ARN } },
    });
  });

  it("creates the mapping after the relay's policy (Lambda checks the role can read the stream)", () => {
    const deps = childOpts.get("aws:lambda/eventSourceMapping:EventSourceMapping|wh-relay")!
      .dependsOn as pulumi.Resource[];
    expect(deps).to.have.members([receiver.relay.policy]);
  });

  it("keeps oversized bodies in a private, encrypted, expiring, TLS-only bucket", () => {
    expect(one("aws:s3/bucket:Bucket", "wh-payloads").inputs).to.deep.equal({ forceDestroy: true });
    expect(
      one("aws:s3/bucketPublicAccessBlock:BucketPublicAccessBlock", "wh-payloads").inputs,
    ).to.deep.equal({
      bucket: "wh-payloads-id",
      blockPublicAcls: true,
      blockPublicPolicy: true,
      ignorePublicAcls: true,
      restrictPublicBuckets: true,
    });
    expect(
      one(
        "aws:s3/bucketServerSideEncryptionConfiguration:BucketServerSideEncryptionConfiguration",
        "wh-payloads",
      ).inputs.rules,
    ).to.deep.equal([
      { applyServerSideEncryptionByDefault: { sseAlgorithm: "AES256" }, bucketKeyEnabled: true },
    ]);
    expect(
      one("aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration", "wh-payloads").inputs
        .rules,
    ).to.deep.equal([
      {
        id: "expire-payloads",
        status: "Enabled",
        filter: {},
        expiration: { days: 30 },
        abortIncompleteMultipartUpload: { daysAfterInitiation: 1 },
      },
    ]);
    expect(
      one("aws:s3/bucketOwnershipControls:BucketOwnershipControls", "wh-payloads").inputs.rule,
    ).to.deep.equal({
      objectOwnership: "BucketOwnerEnforced",
    });
    expect(
      JSON.parse(one("aws:s3/bucketPolicy:BucketPolicy", "wh-payloads").inputs.policy).Statement,
    ).to.deep.equal([
      {
        Sid: "DenyInsecureTransport",
        Effect: "Deny",
        Principal: "*",
        Action: "s3:*",
        Resource: [BUCKET_ARN, `${BUCKET_ARN}/*`],
        Condition: { Bool: { "aws:SecureTransport": "false" } },
      },
    ]);
  });

  it("parents its resources to itself, and each function's role, policy and log group to the function", () => {
    const direct = [...childOpts.entries()].filter(
      ([k]) =>
        k !== "switchyard:webhooks:WebhookReceiver|wh" &&
        !/^aws:(iam\/role|iam\/rolePolicy|cloudwatch\/logGroup|lambda\/function):/.test(k),
    );
    // The table, the relay and its mapping, six of the bucket's, six per provider.
    expect(direct.length).to.equal(3 + 6 + 3 * 6);
    for (const [key, opts] of direct) expect(opts.parent, key).to.equal(receiver);
    const fns = { ...receiver.functions, relay: receiver.relay };
    for (const p of ["github", "stripe", "twilio", "relay"] as const) {
      for (const t of [
        "aws:iam/role:Role",
        "aws:iam/rolePolicy:RolePolicy",
        "aws:cloudwatch/logGroup:LogGroup",
        "aws:lambda/function:Function",
      ]) {
        expect(childOpts.get(`${t}|wh-${p}`)!.parent, `${t} wh-${p}`).to.equal(fns[p]);
      }
    }
  });

  describe("argument validation", () => {
    const base = {
      hub: { busArn: "arn:b", dlqArn: "arn:dlq", dlqUrl: "https://dlq.example/dlq" },
      providers: { github: { secret: "s" } },
    } as WebhookReceiverArgs;
    const cases: Array<[string, Partial<WebhookReceiverArgs>, string]> = [
      [
        "no provider",
        { providers: {} },
        "providers must enable at least one of github, twilio, stripe, standard, hmac",
      ],
      [
        "an unknown provider",
        { providers: { gitlab: { secret: "s" } } as any },
        'providers: "gitlab" is not one of github, twilio, stripe, standard, hmac',
      ],
      [
        "a publicUrl for github",
        { providers: { github: { secret: "s", publicUrl: "https://x.example" } } },
        "providers.github.publicUrl is only used by twilio",
      ],
      [
        "an http publicUrl",
        { providers: { twilio: { secret: "s", publicUrl: "http://x.example/t" } } },
        'providers.twilio.publicUrl must be an https:// URL without query or fragment, got "http://x.example/t"',
      ],
      [
        "a tolerance of 0",
        { toleranceSeconds: 0 },
        "toleranceSeconds must be an integer from 1 to 3600, got 0",
      ],
      [
        "a 2 MB entry limit",
        { maxEntryBytes: 2097152 },
        "maxEntryBytes must be an integer from 1024 to 1048576, got 2097152",
      ],
      [
        "reserved concurrency 0",
        { reservedConcurrency: 0 },
        "reservedConcurrency must be an integer from 1 to 1000, got 0",
      ],
      [
        "an idempotency TTL of a minute",
        { idempotencyTtlSeconds: 60 },
        "idempotencyTtlSeconds must be an integer from 300 to 2592000, got 60",
      ],
      [
        "an idempotency TTL shorter than twice the tolerance",
        { idempotencyTtlSeconds: 300, toleranceSeconds: 300 },
        "idempotencyTtlSeconds (300) must be at least twice toleranceSeconds (300), 600 or more",
      ],
      [
        "an empty allowlist",
        { providers: { github: { secret: "s", allowedCidrs: [] } } },
        "providers.github.allowedCidrs is empty: it would refuse every delivery",
      ],
      [
        "a bad CIDR",
        { providers: { github: { secret: "s", allowedCidrs: ["192.30.252.0/33"] } } },
        'providers.github.allowedCidrs: "192.30.252.0/33" has a prefix length outside 0-32',
      ],
      [
        "a host name as CIDR",
        { providers: { github: { secret: "s", allowedCidrs: ["github.com"] } } },
        'providers.github.allowedCidrs: "github.com" is not a CIDR block',
      ],
      [
        "signedContent for github",
        { providers: { github: { secret: "s", signedContent: "body" } } },
        "providers.github.signedContent is only used by hmac",
      ],
      [
        "an unknown signedContent",
        { providers: { hmac: { secret: "s", signedContent: "all" as any } } },
        'providers.hmac.signedContent must be one of headers, body, got "all"',
      ],
    ];
    for (const [what, override, message] of cases) {
      it(`rejects ${what}`, () => {
        expect(() => validateWebhookArgs({ ...base, ...override })).to.throw(message);
      });
    }
    it("declares no bucket when payload storage is off, and no S3 grant", async () => {
      const r = new WebhookReceiver("nob", { ...base, payloadStorage: false });
      await valueOf(r.webhookUrls);
      await settle();
      expect(ofType("aws:s3/bucket:Bucket", "nob-payloads")).to.have.length(0);
      const policy = JSON.parse(one("aws:iam/rolePolicy:RolePolicy", "nob-github").inputs.policy);
      expect(policy.Statement.map((s: any) => s.Action[0])).to.not.include("s3:PutObject");
      expect(
        one("aws:lambda/function:Function", "nob-github").inputs.environment.variables
          .PAYLOAD_BUCKET,
      ).to.equal(undefined);
    });
  });

  describe("the serialized receiver (__index.js) in a fresh Node process against local AWS", function () {
    let ddb: LocalDynamo;
    let aws: LocalAws;
    let host: LambdaHost;
    let relay: LambdaHost | undefined;
    /** Delivery ids whose event the bus refuses, and the per-entry error it refuses them with. */
    const refused = new Map<string, EntryRefusal>();
    let env: Record<string, string>;

    before(async () => {
      ddb = await startLocalDynamo();
      aws = await startLocalAws(ddb.endpoint);
      await createIdempotencyTable(ddb.client, "wh-idempotency");
      for (const p of ["github", "stripe"]) {
        const version = plain(
          one("aws:secretsmanager/secretVersion:SecretVersion", `wh-${p}`).inputs.secretString,
        );
        aws.secrets.set(secretArn(p), version);
      }
      env = { ...one("aws:lambda/function:Function", "wh-github").inputs.environment.variables };
      host = await LambdaHost.start(await materialize(functionArchives.get("wh-github")!), {
        env: { ...env, AWS_ENDPOINT_URL: aws.endpoint },
        timeoutSeconds: 9,
        functionName: "wh-github",
      });
      // The receivers only store deliveries: the relay's own artifact is what publishes them, to
      // a bus that refuses the deliveries a test names in `refused`.
      aws.refusePutEvents = (e) => refused.get(JSON.parse(e.Detail).deliveryId);
      relay = await startRelay(aws, "wh");
    });
    after(async () => {
      await host?.stop();
      // Closing waits for the streams to settle, which may still invoke the relay.
      await aws?.close();
      await relay?.stop();
      await ddb?.close();
    });

    const urlEvent = (provider: string, body: string, headers: Record<string, string>) =>
      functionUrlEvent(`wh-${provider}`, body, headers);

    /**
     * The function's archive is one `__index.js` bundling Powertools logger and metrics, without
     * Powertools idempotency and without any AWS SDK, Smithy or Pulumi package: its bundle report.
     */
    const oneFileBundle = async (fn: string): Promise<BundleReport> => {
      const entries = await archiveEntries(functionArchives.get(fn)!);
      expect(entries.map((e) => e.name)).to.deep.equal(["__index.js"]);
      const report = await new Promise<BundleReport>((r) => bundleReports.get(fn)!.apply(r));
      expect(Object.keys(report.inputs)).to.include.members([
        "@aws-lambda-powertools/logger",
        "@aws-lambda-powertools/metrics",
      ]);
      expect(Object.keys(report.inputs)).to.not.include("@aws-lambda-powertools/idempotency");
      expect(
        Object.keys(report.inputs).filter((p) => /@aws-sdk|@smithy|@pulumi/.test(p)),
      ).to.deep.equal([]);
      return report;
    };

    it("bundles Powertools logger and metrics (no idempotency: the deliveries table is its own) and no AWS SDK", async () => {
      const report = await oneFileBundle("wh-github");
      // No EventBridge client: a receiver never publishes.
      expect(report.external).to.deep.equal([
        "@aws-sdk/client-dynamodb",
        "@aws-sdk/client-s3",
        "@aws-sdk/client-secrets-manager",
      ]);
    });

    it("bundles the relay with Powertools logger and metrics, no AWS SDK, only the EventBridge and SQS clients external", async () => {
      const report = await oneFileBundle("wh-relay");
      // SQS for the dead letters of deliveries the bus refuses for good.
      expect(report.external).to.deep.equal(["@aws-sdk/client-eventbridge", "@aws-sdk/client-sqs"]);
    });

    it("verifies, stores once in the deliveries table, reading its secret from Secrets Manager; the relay publishes once", async () => {
      const body = JSON.stringify({ zen: "Keep it logically awesome.", hook_id: 1 });
      const headers = {
        "content-type": "application/json",
        "x-github-event": "ping",
        "x-github-delivery": "d5b0f3e0-0000-4000-8000-000000000001",
        "x-hub-signature-256": signGithub(SECRETS.github, body),
        "x-correlation-id": "corr-artifact-1",
      };
      const first = await host.invoke(urlEvent("github", body, headers), "req-1");
      expect(first).to.deep.equal({
        statusCode: 200,
        headers: { "content-type": "application/json", "cache-control": "no-store" },
        body: JSON.stringify({
          status: "accepted",
          deliveryId: "d5b0f3e0-0000-4000-8000-000000000001",
        }),
      });
      const dup = await host.invoke(urlEvent("github", body, headers), "req-2");
      expect(JSON.parse(dup.body).status).to.equal("duplicate");
      // Signed with the previous secret (rotation): accepted too.
      const prevBody = JSON.stringify({ zen: "previous", hook_id: 2 });
      const prev = await host.invoke(
        urlEvent("github", prevBody, {
          ...headers,
          "x-github-delivery": "prev-1",
          "x-hub-signature-256": signGithub(SECRETS.githubPrevious, prevBody),
        }),
      );
      expect(prev.statusCode).to.equal(200);
      const forged = await host.invoke(
        urlEvent("github", body, {
          ...headers,
          "x-github-delivery": "forged",
          "x-hub-signature-256": signGithub("guess", body),
        }),
      );
      expect(forged).to.deep.include({ statusCode: 403, body: '{"error":"invalid signature"}' });

      // Published by the relay from the table's stream, once every record was handled.
      await aws.streams.settled();
      expect(aws.streams.onFailure).to.deep.equal([]);
      expect(aws.events).to.have.length(2);
      // The relay names the bus by its ARN, as its environment does.
      expect(aws.events[0]).to.deep.include({
        EventBusName: BUS_ARN,
        Source: "switchyard.webhooks.github",
        DetailType: "ping",
      });
      const detail = JSON.parse(aws.events[0].Detail);
      expect(detail).to.deep.include({
        provider: "github",
        deliveryId: "d5b0f3e0-0000-4000-8000-000000000001",
        correlationId: "d5b0f3e0-0000-4000-8000-000000000001",
      });
      expect(detail.payload).to.deep.equal(JSON.parse(body));
      // One stored delivery per accepted id, remembered for the TTL; the bus got what was stored.
      const items = await scanTable(ddb.client, "wh-idempotency");
      expect(
        items.map((i) => [i.deliveryId.S, i.eventSource.S, i.detailType.S]).sort(),
      ).to.deep.equal([
        ["d5b0f3e0-0000-4000-8000-000000000001", "switchyard.webhooks.github", "ping"],
        ["prev-1", "switchyard.webhooks.github", "ping"],
      ]);
      const nowS = Math.floor(Date.now() / 1000);
      for (const i of items)
        expect(Number(i.expiration.N) - nowS).to.be.within(259200 - 60, 259200);
      expect(items.map((i) => i.detail.S).sort()).to.deep.equal(
        aws.events.map((e) => e.Detail).sort(),
      );
      // One GetSecretValue for the three requests (TTL cache), for this function's secret.
      expect(aws.operations.filter((o) => o === "secretsmanager.GetSecretValue")).to.have.length(1);
      // Each verified delivery is one conditional PutItem, its only table access.
      expect(aws.operations.filter((o) => o.startsWith("DynamoDB_20120810."))).to.deep.equal([
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.PutItem",
        "DynamoDB_20120810.PutItem",
      ]);
      // Powertools JSON logs with the request id; no body, secret or signature in them.
      const lines = jsonLines(host);
      expect(lines.find((l) => l.message === "webhook accepted")).to.include({
        level: "INFO",
        service: "switchyard-webhooks",
        provider: "github",
        function_request_id: "req-1",
        deliveryId: "d5b0f3e0-0000-4000-8000-000000000001",
        correlationId: "d5b0f3e0-0000-4000-8000-000000000001",
        eventType: "ping",
      });
      expect(lines.find((l) => l.message === "webhook rejected")).to.include({
        status: 403,
        reason: "signature does not match",
      });
      // One EMF blob per answer, in namespace Switchyard with service=switchyard-webhooks: the exact
      // metric and dimensions the Monitoring alarm on signature rejections watches.
      const emf = emfBlobs(lines);
      // The receiver counts deliveries only; the relay counts what it published.
      const accepted = {
        service: "switchyard-webhooks",
        provider: "github",
        WebhookAccepted: 1,
      };
      expect(emf).to.deep.equal([
        { namespace: "Switchyard", dimensions: [["service"]], values: accepted },
        {
          namespace: "Switchyard",
          dimensions: [["service"]],
          values: { service: "switchyard-webhooks", provider: "github", WebhookDuplicate: 1 },
        },
        { namespace: "Switchyard", dimensions: [["service"]], values: accepted },
        {
          namespace: "Switchyard",
          dimensions: [["service", "reason"]],
          values: {
            service: "switchyard-webhooks",
            reason: "signature",
            provider: "github",
            WebhookRejected: 1,
          },
        },
      ]);
      for (const s of [
        SECRETS.github,
        SECRETS.githubPrevious,
        "logically awesome",
        signGithub(SECRETS.github, body).slice(7),
      ]) {
        expect(host.stdout + host.stderr).to.not.contain(s);
      }
    });

    it("the relay's artifact logs each event it published with its delivery id, never the body", async () => {
      const body = JSON.stringify({ zen: "relay-log-marker-4e1a", hook_id: 3 });
      const res = await host.invoke(
        urlEvent("github", body, {
          "content-type": "application/json",
          "x-github-event": "ping",
          "x-github-delivery": "relay-log-1",
          "x-hub-signature-256": signGithub(SECRETS.github, body),
        }),
      );
      expect(JSON.parse(res.body).status).to.equal("accepted");
      await aws.streams.settled();
      const lines = jsonLines(relay!);
      expect(lines.filter((l) => l.deliveryId === "relay-log-1")).to.have.length(1);
      expect(lines.find((l) => l.deliveryId === "relay-log-1")).to.include({
        level: "INFO",
        message: "webhook published",
        service: "switchyard-webhooks",
        role: "relay",
        deliveryId: "relay-log-1",
        correlationId: "relay-log-1",
        eventType: "ping",
      });
      // This invocation's blob: what it published, counted under the receivers' service, which
      // the webhook alarms watch.
      const emf = emfBlobs(lines);
      expect(emf.at(-1)).to.deep.equal({
        namespace: "Switchyard",
        dimensions: [["service"]],
        values: { service: "switchyard-webhooks", EventsPublished: 1, PublishRetries: 0 },
      });
      for (const s of ["relay-log-marker-4e1a", "logically awesome", "hook_id", SECRETS.github])
        expect(relay!.stdout + relay!.stderr).to.not.contain(s);
    });

    it("sends a delivery the bus refuses for good, whole, to the hub's DLQ as EventBridge writes a dead letter; the next one is published", async () => {
      const refusal = {
        ErrorCode: "AccessDeniedException",
        ErrorMessage: `User is not authorized to perform: events:PutEvents on resource: ${BUS_ARN}`,
      };
      refused.set("refused-1", refusal);
      const seen = { events: aws.events.length, messages: aws.sentMessages.length };
      // Distinct bodies: GitHub deliveries are one delivery per body, whatever their ids.
      const bodyOf = (id: string) =>
        JSON.stringify({ zen: "dead-letter-marker-9c2f", hook_id: id });
      for (const id of ["refused-1", "after-refused-1"]) {
        const body = bodyOf(id);
        const res = await host.invoke(
          urlEvent("github", body, {
            "content-type": "application/json",
            "x-github-event": "ping",
            "x-github-delivery": id,
            "x-hub-signature-256": signGithub(SECRETS.github, body),
          }),
        );
        // Accepted once stored: the provider never sees what the bus does with it.
        expect(res.statusCode, id).to.equal(200);
        expect(JSON.parse(res.body).status, id).to.equal("accepted");
        // One batch each. Settling returns only once the mapping stops retrying: a refused
        // record reported failed would hold up the shard (10,000 retries) and time this test out.
        await aws.streams.settled();
      }
      // Handled by the relay itself: nothing for the mapping to retry or send to its destination.
      expect(aws.streams.onFailure).to.deep.equal([]);
      expect(
        aws.events.slice(seen.events).map((e) => JSON.parse(e.Detail).deliveryId),
      ).to.deep.equal(["after-refused-1"]);
      const item = (await scanTable(ddb.client, "wh-idempotency")).find(
        (i) => i.deliveryId.S === "refused-1",
      )!;
      const detail = JSON.parse(item.detail.S!);
      const messages = aws.sentMessages.slice(seen.messages);
      expect(messages).to.have.length(1);
      // The hub's DLQ (DLQ_URL as declared, its host pointed at the local endpoint).
      expect(messages[0].QueueUrl).to.equal(`${aws.endpoint}/${ACCOUNT}/hub-dlq`);
      expect(DLQ_URL).to.equal(`https://sqs.${REGION}.amazonaws.com/${ACCOUNT}/hub-dlq`);
      // What `npm run ops -- dlq redrive` reads: the bus as TARGET_ARN and no RULE_ARN.
      expect(messages[0].MessageAttributes).to.deep.equal({
        TARGET_ARN: { DataType: "String", StringValue: BUS_ARN },
        ERROR_CODE: { DataType: "String", StringValue: "AccessDeniedException" },
        ERROR_MESSAGE: { DataType: "String", StringValue: refusal.ErrorMessage },
        RETRY_ATTEMPTS: { DataType: "Number", StringValue: "0" },
      });
      // The event as EventBridge would have delivered it, its id the stored item's.
      expect(JSON.parse(messages[0].MessageBody)).to.deep.equal({
        version: "0",
        id: item.id.S,
        "detail-type": "ping",
        source: "switchyard.webhooks.github",
        time: detail.receivedAt,
        resources: [],
        detail,
      });
      expect(detail).to.deep.include({ provider: "github", deliveryId: "refused-1" });
      expect(detail.payload).to.deep.equal(JSON.parse(bodyOf("refused-1")));
      const lines = jsonLines(relay!);
      expect(lines.filter((l) => l.deliveryId === "refused-1")).to.deep.equal([
        lines.find((l) => l.message === "webhook not published: sent to the DLQ"),
      ]);
      expect(lines.find((l) => l.deliveryId === "refused-1")).to.include({
        level: "ERROR",
        service: "switchyard-webhooks",
        role: "relay",
        correlationId: "refused-1",
        errorCode: "AccessDeniedException",
        error: refusal.ErrorMessage,
      });
      // Counted as a publishing failure, under the receivers' service the webhook alarms watch.
      expect(
        lines
          .filter((l) => l._aws && l.EventsPublishFailed !== undefined)
          .map(({ _aws, ...values }) => values),
      ).to.deep.equal([
        {
          service: "switchyard-webhooks",
          EventsPublished: 0,
          PublishRetries: 0,
          EventsPublishFailed: 1,
        },
      ]);
      // Only metadata in the logs: the body went to the DLQ, not to a log line.
      expect(relay!.stdout + relay!.stderr).to.not.contain("dead-letter-marker-9c2f");
    });

    it("fails at cold start naming a missing variable", async () => {
      const dir = await materialize(functionArchives.get("wh-stripe")!);
      const { WEBHOOK_SECRET_ARN: _s, ...rest } = one("aws:lambda/function:Function", "wh-stripe")
        .inputs.environment.variables;
      try {
        await LambdaHost.start(dir, { env: { ...rest, AWS_ENDPOINT_URL: aws.endpoint } });
        expect.fail("should not start");
      } catch (e: any) {
        expect(e.message).to.contain("WEBHOOK_SECRET_ARN is not set");
      }
    });

    it("runs the Stripe artifact too: a fresh signed event is published, a stale one is refused", async () => {
      const dir = await materialize(functionArchives.get("wh-stripe")!);
      const stripeEnv = one("aws:lambda/function:Function", "wh-stripe").inputs.environment
        .variables;
      const h = await LambdaHost.start(dir, {
        env: { ...stripeEnv, AWS_ENDPOINT_URL: aws.endpoint },
        functionName: "wh-stripe",
      });
      try {
        const NOW_S = Math.floor(Date.now() / 1000);
        const body = JSON.stringify({
          id: `evt_${crypto.randomBytes(6).toString("hex")}`,
          type: "charge.succeeded",
          data: {},
        });
        const ok = await h.invoke(
          urlEvent("stripe", body, {
            "content-type": "application/json",
            "stripe-signature": signStripe(SECRETS.stripe, NOW_S, body),
          }),
        );
        expect(ok.statusCode).to.equal(200);
        const stale = await h.invoke(
          urlEvent("stripe", body, {
            "stripe-signature": signStripe(SECRETS.stripe, NOW_S - 600, body),
          }),
        );
        expect(stale.statusCode).to.equal(403);
        const rejected = h.stdout
          .split("\n")
          .filter((l) => l.includes('"WebhookRejected"'))
          .map((l) => JSON.parse(l));
        expect(rejected.map(({ _aws, ...v }) => v)).to.deep.equal([
          {
            service: "switchyard-webhooks",
            reason: "timestamp",
            provider: "stripe",
            WebhookRejected: 1,
          },
        ]);
        await aws.streams.settled();
        expect(
          aws.events
            .filter((e) => e.Source === "switchyard.webhooks.stripe")
            .map((e) => e.DetailType),
        ).to.deep.equal(["charge.succeeded"]);
      } finally {
        await h.stop();
      }
    });
  });
});

// What `pulumi up` uploads, attacked the way a captured delivery would be: each receiver's bundled
// __index.js in a fresh Node process against local DynamoDB, Secrets Manager and EventBridge.
describe("hardened receivers, as serialized (__index.js)", function () {
  const secrets = {
    github: "gh-hard-secret-31",
    hmac: "hmac-hard-secret-52",
    twilio: "twilio-hard-token-77",
  };
  const hardArn = (p: string) =>
    `arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:hard-${p}-AbCdEf`;
  let ddb: LocalDynamo;
  let aws: LocalAws;
  const hosts = new Map<string, LambdaHost>();
  const relays: LambdaHost[] = [];

  before(async () => {
    resetRecorded();
    const hub = new EventHub("hardhub", {});
    const r = new WebhookReceiver("hard", {
      hub,
      providers: {
        github: { secret: secrets.github, allowedCidrs: ["192.30.252.0/22", "2a0a:a440::/29"] },
        hmac: { secret: secrets.hmac },
        twilio: { secret: secrets.twilio },
      },
    });
    const soft = new WebhookReceiver("soft", {
      hub,
      providers: { hmac: { secret: secrets.hmac, signedContent: "body" } },
    });
    await valueOf(r.webhookUrls);
    await valueOf(soft.webhookUrls);
    await settle();
    ddb = await startLocalDynamo();
    aws = await startLocalAws(ddb.endpoint);
    await createIdempotencyTable(ddb.client, "hard-idempotency");
    await createIdempotencyTable(ddb.client, "soft-idempotency");
    for (const name of ["hard-github", "hard-hmac", "hard-twilio", "soft-hmac"]) {
      const version = plain(
        one("aws:secretsmanager/secretVersion:SecretVersion", name).inputs.secretString,
      );
      aws.secrets.set(`arn:aws:secretsmanager:${REGION}:${ACCOUNT}:secret:${name}-AbCdEf`, version);
      const env = one("aws:lambda/function:Function", name).inputs.environment.variables;
      const dir = await materialize(functionArchives.get(name)!);
      hosts.set(
        name,
        await LambdaHost.start(dir, {
          env: { ...env, AWS_ENDPOINT_URL: aws.endpoint },
          functionName: name,
        }),
      );
    }
    // Each component's relay publishes what its receivers stored.
    for (const name of ["hard", "soft"]) relays.push(await startRelay(aws, name));
    expect(hardArn("github")).to.equal(
      one("aws:lambda/function:Function", "hard-github").inputs.environment.variables
        .WEBHOOK_SECRET_ARN,
    );
  });
  after(async () => {
    for (const h of hosts.values()) await h.stop();
    // Closing waits for the streams to settle, which may still invoke the relays.
    await aws?.close();
    for (const r of relays) await r.stop();
    await ddb?.close();
  });

  const urlEvent = (
    fn: string,
    body: string,
    headers: Record<string, string>,
    sourceIp = "192.30.252.10",
  ) => functionUrlEvent(fn, body, headers, sourceIp);
  /** What the relays published from `source`, once every stored delivery was handled. */
  const published = async (source: string) => {
    await aws.streams.settled();
    return aws.events.filter((e) => e.Source === source);
  };

  it("declares the allowlist and the HMAC scheme in the functions' environment", () => {
    expect(
      one("aws:lambda/function:Function", "hard-github").inputs.environment.variables
        .ALLOWED_SOURCE_CIDRS,
    ).to.equal("192.30.252.0/22,2a0a:a440::/29");
    expect(
      one("aws:lambda/function:Function", "hard-hmac").inputs.environment.variables
        .HMAC_SIGNED_CONTENT,
    ).to.equal("headers");
    expect(
      one("aws:lambda/function:Function", "soft-hmac").inputs.environment.variables
        .HMAC_SIGNED_CONTENT,
    ).to.equal("body");
  });

  it("generic HMAC: a captured delivery resent with a new id, timestamp or event type is refused; as captured, a duplicate", async () => {
    const host = hosts.get("hard-hmac")!;
    const body = JSON.stringify({ tenantId: "acme", recordId: "r-9", recordVersion: 1 });
    const now = Math.floor(Date.now() / 1000);
    const captured = {
      "content-type": "application/json",
      ...hmacRequestHeaders(
        secrets.hmac,
        { id: "wh-cap-1", timestamp: now, event: "record.noted" },
        body,
      ),
    };
    expect((await host.invoke(urlEvent("hard-hmac", body, captured))).statusCode).to.equal(200);
    const relabels: Array<Record<string, string>> = [
      { "x-webhook-id": "wh-cap-2" },
      { "x-webhook-id": "wh-cap-3", "x-webhook-timestamp": String(now + 1) },
      { "x-webhook-event": "RecordVerificationRequested" },
      { "x-correlation-id": "attacker" },
    ];
    for (const relabel of relabels) {
      const res = await host.invoke(urlEvent("hard-hmac", body, { ...captured, ...relabel }));
      expect(res).to.deep.include({ statusCode: 403, body: '{"error":"invalid signature"}' });
    }
    expect(
      JSON.parse((await host.invoke(urlEvent("hard-hmac", body, captured))).body).status,
    ).to.equal("duplicate");
    expect((await published("switchyard.webhooks.hmac")).map((e) => e.DetailType)).to.deep.equal([
      "record.noted",
    ]);
  });

  it("generic HMAC, body scheme: new ids and fresh timestamps are one delivery; X-Webhook-Event cannot relabel it", async () => {
    const host = hosts.get("soft-hmac")!;
    const body = JSON.stringify({ type: "order.created", n: 1 });
    const h = (id: string, ts: number, event?: string) => ({
      "content-type": "application/json",
      "x-webhook-signature": signHmacBody(secrets.hmac, body),
      "x-webhook-timestamp": String(ts),
      "x-webhook-id": id,
      ...(event ? { "x-webhook-event": event } : {}),
    });
    const now = Math.floor(Date.now() / 1000);
    const answers = [];
    for (const [i, event] of [undefined, "RecordVerificationRequested", "x"].entries()) {
      answers.push(
        JSON.parse(
          (await host.invoke(urlEvent("soft-hmac", body, h(`id-${i}`, now + i, event)))).body,
        ).status,
      );
    }
    expect(answers).to.deep.equal(["accepted", "duplicate", "duplicate"]);
    const events = (await published("switchyard.webhooks.hmac")).filter(
      (e) => JSON.parse(e.Detail).payload.n === 1,
    );
    expect(events.map((e) => e.DetailType)).to.deep.equal(["order.created"]);
  });

  it("GitHub: a captured delivery resent under 20 new X-GitHub-Delivery ids publishes nothing more", async () => {
    const host = hosts.get("hard-github")!;
    const body = JSON.stringify({ ref: "refs/heads/main", after: "a1b2" });
    const h = (id: string) => ({
      "content-type": "application/json",
      "x-github-event": "push",
      "x-github-delivery": id,
      "x-hub-signature-256": signGithub(secrets.github, body),
    });
    const statuses = [];
    for (let i = 0; i < 21; i++)
      statuses.push(
        JSON.parse((await host.invoke(urlEvent("hard-github", body, h(crypto.randomUUID())))).body)
          .status,
      );
    expect(statuses).to.deep.equal(["accepted", ...Array(20).fill("duplicate")]);
    expect(await published("switchyard.webhooks.github")).to.have.length(1);
  });

  it("Twilio: resent with a new I-Twilio-Idempotency-Token and reordered params, a duplicate", async () => {
    const host = hosts.get("hard-twilio")!;
    const url = `https://hard-twilio.lambda-url.${REGION}.on.aws/twilio`;
    const params = { MessageSid: "SMhard1", MessageStatus: "sent", To: "+15005550006" };
    const sig = signTwilio(secrets.twilio, url, params);
    const h = (token: string) => ({
      "content-type": "application/x-www-form-urlencoded",
      "x-twilio-signature": sig,
      "i-twilio-idempotency-token": token,
    });
    const first = await host.invoke(
      urlEvent("hard-twilio", new URLSearchParams(params).toString(), h("tok-a")),
    );
    const again = await host.invoke(
      urlEvent(
        "hard-twilio",
        "To=%2B15005550006&MessageSid=SMhard1&MessageStatus=sent",
        h("tok-b"),
      ),
    );
    expect([first.statusCode, again.statusCode]).to.deep.equal([200, 200]);
    expect(await published("switchyard.webhooks.twilio")).to.have.length(1);
  });

  it("answers a bad request with a body that says what was wrong (400), not {}", async () => {
    const host = hosts.get("hard-github")!;
    const body = "{not json";
    const res = await host.invoke(
      urlEvent("hard-github", body, {
        "content-type": "application/json",
        "x-github-event": "push",
        "x-github-delivery": "bad-1",
        "x-hub-signature-256": signGithub(secrets.github, body),
      }),
    );
    expect(res).to.deep.include({
      statusCode: 400,
      body: '{"error":"GitHub delivery: the body is not valid JSON"}',
    });
    const signedBad = {
      "content-type": "application/json",
      ...hmacRequestHeaders(
        secrets.hmac,
        { id: "bad-2", timestamp: Math.floor(Date.now() / 1000) },
        "[1,",
      ),
    };
    const hmacBad = await hosts.get("hard-hmac")!.invoke(urlEvent("hard-hmac", "[1,", signedBad));
    expect(hmacBad).to.deep.include({
      statusCode: 400,
      body: '{"error":"webhook body: the body is not valid JSON"}',
    });
  });

  it("refuses a source address outside the allowlist with 403 before anything else, and counts it with reason ip", async () => {
    const host = hosts.get("hard-github")!;
    const body = JSON.stringify({ zen: "allowlisted" });
    const h = {
      "content-type": "application/json",
      "x-github-event": "ping",
      "x-github-delivery": "ip-1",
      "x-hub-signature-256": signGithub(secrets.github, body),
    };
    // Earlier deliveries' publishing done, so only this request's calls are counted.
    await aws.streams.settled();
    const before = aws.operations.length;
    const refused = await host.invoke(urlEvent("hard-github", body, h, "198.51.100.7"));
    expect(refused).to.deep.include({
      statusCode: 403,
      body: '{"error":"source address 198.51.100.7 is not allowed"}',
    });
    expect(aws.operations.slice(before)).to.deep.equal([]);
    const rejected = host.stdout
      .split("\n")
      .filter((l) => l.includes('"WebhookRejected"'))
      .map((l) => JSON.parse(l));
    expect(rejected.map(({ _aws, ...v }) => v)).to.deep.include({
      service: "switchyard-webhooks",
      reason: "ip",
      provider: "github",
      WebhookRejected: 1,
    });
    expect(
      (await host.invoke(urlEvent("hard-github", body, h, "2a0a:a440::9"))).statusCode,
    ).to.equal(200);
  });
});

describe("webhook receivers in the program (index.ts)", () => {
  // Loaded lazily: evaluating the program replaces the mocks' config and recorded resources.
  const program = () => require("../program") as typeof import("../program");
  // Functions register after their closure is serialized, later than evaluateProgram's snapshot:
  // look them up in the live record once the URLs (which need them) have resolved.
  const find = (type: string, name: string) => {
    const r = recorded.find((x) => x.type === type && x.name === name);
    if (!r) throw new Error(`no ${type} named ${name}`);
    return r;
  };

  it("dev: a URL per provider, each with its secret from config, default limits", async () => {
    const p = await program().evaluateProgram("dev");
    expect(await valueOf(p.exports.webhookUrls)).to.deep.equal(
      Object.fromEntries(
        ["github", "twilio", "stripe", "standard", "hmac"].map((x) => [
          x,
          `https://switchyard-dev-webhooks-${x}.lambda-url.${REGION}.on.aws/${x}`,
        ]),
      ),
    );
    const fn = find("aws:lambda/function:Function", "switchyard-dev-webhooks-github");
    expect(fn.inputs.timeout).to.equal(10);
    expect(fn.inputs.reservedConcurrentExecutions).to.equal(undefined);
    const version = find(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "switchyard-dev-webhooks-stripe",
    );
    expect(JSON.parse(plain(version.inputs.secretString))).to.deep.equal({
      current: "whsec_test_stripe_webhook_secret",
    });
    const lifecycle = find(
      "aws:s3/bucketLifecycleConfiguration:BucketLifecycleConfiguration",
      "switchyard-dev-webhooks-payloads",
    );
    expect(lifecycle.inputs.rules[0].expiration).to.deep.equal({ days: 7 });
    // The program's rejection alarm watches what the serialized receivers emit (see the artifact test
    // above): Switchyard / WebhookRejected with exactly service=switchyard-webhooks, reason=signature.
    const alarms = recorded.filter(
      (x) =>
        x.type === "aws:cloudwatch/metricAlarm:MetricAlarm" && x.inputs.namespace === "Switchyard",
    );
    expect(alarms.map((a) => a.name)).to.deep.equal([
      "switchyard-dev-ops-webhook-receivers-signature",
    ]);
    expect(alarms[0].inputs).to.deep.include({
      namespace: "Switchyard",
      metricName: "WebhookRejected",
      statistic: "Sum",
      period: 60,
    });
    expect(alarms[0].inputs.dimensions).to.deep.equal({
      service: "switchyard-webhooks",
      reason: "signature",
    });
  });

  it("prod: only the enabled providers, reserved concurrency, protected table and bucket, previous secret folded in", async () => {
    const p = await program().evaluateProgram("prod", {
      githubWebhookSecretPrevious: "old-github-secret",
    });
    expect(Object.keys(await valueOf(p.exports.webhookUrls)).sort()).to.deep.equal([
      "github",
      "stripe",
    ]);
    const fn = find("aws:lambda/function:Function", "switchyard-prod-webhooks-stripe");
    expect(fn.inputs).to.deep.include({ timeout: 8, reservedConcurrentExecutions: 25 });
    const table = find("aws:dynamodb/table:Table", "switchyard-prod-webhooks-idempotency");
    expect(table.inputs.deletionProtectionEnabled).to.equal(true);
    const version = find(
      "aws:secretsmanager/secretVersion:SecretVersion",
      "switchyard-prod-webhooks-github",
    );
    expect(JSON.parse(plain(version.inputs.secretString))).to.deep.equal({
      current: "test-github-webhook-secret",
      previous: "old-github-secret",
    });
  });

  it("passes webhookAllowedCidrs and hmacWebhookSignedContent to the receivers they name", async () => {
    await program().evaluateProgram("dev", {
      webhookAllowedCidrs: '{"github":["192.30.252.0/22","2a0a:a440::/29"]}',
      hmacWebhookSignedContent: "body",
    });
    await settle();
    await (
      require("@pulumi/pulumi/runtime/settings") as { waitForRPCs(): Promise<void> }
    ).waitForRPCs();
    const env = (n: string) =>
      find("aws:lambda/function:Function", `switchyard-dev-webhooks-${n}`)!.inputs.environment
        .variables;
    expect(env("github").ALLOWED_SOURCE_CIDRS).to.equal("192.30.252.0/22,2a0a:a440::/29");
    expect(env("stripe").ALLOWED_SOURCE_CIDRS).to.equal(undefined);
    expect(env("hmac").HMAC_SIGNED_CONTENT).to.equal("body");
  });

  it("declares no receiver when no provider is enabled", async () => {
    const p = await program().evaluateProgram("prod", {
      webhookProviders: "[]",
      githubWebhookSecret: undefined,
      stripeWebhookSecret: undefined,
    });
    expect(p.exports.webhooks).to.equal(undefined);
    expect(p.exports.webhookUrls).to.deep.equal({});
  });

  it("fails at preview with the exact command when an enabled provider's secret is missing", async () => {
    try {
      await program().evaluateProgram("prod", { stripeWebhookSecret: undefined });
      expect.fail("the program should not evaluate");
    } catch (e: any) {
      expect(e.message).to.equal(
        "Missing secret switchyard:stripeWebhookSecret (the Stripe endpoint signing secret, whsec_...) for stack prod. Set it with: pulumi config set --secret switchyard:stripeWebhookSecret <value> --stack prod",
      );
    }
  });

  const bad: Array<[string, string, string]> = [
    [
      "webhookProviders",
      '["gitlab"]',
      'switchyard:webhookProviders must be a JSON list of strings matching /^(github|twilio|stripe|standard|hmac)$/, got ["gitlab"]',
    ],
    [
      "webhookToleranceSeconds",
      "0",
      'switchyard:webhookToleranceSeconds must be a whole number from 1 to 3600, got "0"',
    ],
    [
      "webhookReservedConcurrency",
      "0",
      'switchyard:webhookReservedConcurrency must be a whole number from 1 to 1000, got "0". Fix it with: pulumi config set switchyard:webhookReservedConcurrency 10 --stack dev',
    ],
    ["twilioPublicUrl", "http://hooks.example.com/twilio", "switchyard:twilioPublicUrl must match"],
    [
      "webhookPayloadStorage",
      "maybe",
      'switchyard:webhookPayloadStorage must be true or false, got "maybe"',
    ],
    [
      "webhookIdempotencyTtlSeconds",
      "500",
      "switchyard:webhookIdempotencyTtlSeconds (500) must be at least twice switchyard:webhookToleranceSeconds (300): a delivery signed 300 s ahead verifies for 600 s, and its idempotency record must live as long or it can be replayed. Fix it with: pulumi config set switchyard:webhookIdempotencyTtlSeconds 600 --stack dev",
    ],
    [
      "webhookAllowedCidrs",
      '{"github":["192.30.252.0/33"]}',
      'switchyard:webhookAllowedCidrs "192.30.252.0/33" has a prefix length outside 0-32. Fix it with: pulumi config set switchyard:webhookAllowedCidrs',
    ],
    [
      "webhookAllowedCidrs",
      '{"gitlab":["192.30.252.0/22"]}',
      'switchyard:webhookAllowedCidrs names "gitlab", not one of github, twilio, stripe, standard, hmac',
    ],
    [
      "webhookAllowedCidrs",
      '{"github":[]}',
      "switchyard:webhookAllowedCidrs github must be a non-empty list of CIDR strings",
    ],
    [
      "hmacWebhookSignedContent",
      "all",
      'switchyard:hmacWebhookSignedContent must be one of headers, body, got "all"',
    ],
  ];
  for (const [key, value, message] of bad) {
    it(`fails at preview naming switchyard:${key} when it is ${value}`, async () => {
      try {
        await program().evaluateProgram("dev", { [key]: value });
        expect.fail("the program should not evaluate");
      } catch (e: any) {
        expect(e.message).to.contain(message);
      }
    });
  }
});
