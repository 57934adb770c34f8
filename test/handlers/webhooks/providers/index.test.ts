// The webhook provider modules and their registry: an entry in the list is all a provider needs
// (config keys, local secrets, test stacks, the receiver, the docs follow from it), and each
// module's `sign` makes what its own `verify` accepts and its `parse` reads.
import { expect } from "chai";
import { execFileSync } from "child_process";
import * as crypto from "crypto";
import * as fs from "fs";
import * as path from "path";
import type { Context, LambdaFunctionURLEvent } from "aws-lambda";
import { renderSection, renderWebhookSection } from "../../../../config/docs";
import { KEYS, requiredSecrets, SECRETS, WEBHOOK_SECRET_KEYS } from "../../../../config/keys";
import { readConfig } from "../../../../config/read";
import { WEBHOOK_REQUEST_PATHS } from "../../../../components/records/verificationSpec";
import { validateWebhookArgs } from "../../../../components/webhooks/webhookReceiver";
import {
  isProvider,
  PROVIDER_MODULE,
  PROVIDER_MODULES,
  PROVIDER_SPECS,
  providerModule,
  providerSpec,
  PROVIDERS,
  SCHEME_PROVIDERS,
  URL_SIGNING_PROVIDERS,
} from "../../../../handlers/webhooks/providers";
import { HMAC_BODY_ONLY, hmacSpec } from "../../../../handlers/webhooks/providers/hmac";
import type {
  ProviderModule,
  SignedDelivery,
} from "../../../../handlers/webhooks/providers/module";
import { makeHandler } from "../../../../handlers/webhooks/receiver";
import { generatedWebhooksDoc, WEBHOOKS_DOC } from "../../../../scripts/docs";
import { TEST_SECRETS } from "../../../program";
import { LocalDynamo, startLocalDynamo } from "../../../support/aws";
import { createIdempotencyTable, RelayStreams } from "../localServices";
import { makeRelay } from "../../../../handlers/webhooks/relay";
import { asReceived, DOMAIN, NOW } from "./request";

const ROOT = path.join(__dirname, "..", "..", "..", "..");

/** A module's sample delivery carrying `marker`, signed with `secret` for its Function URL. */
function signedSample(m: ProviderModule, secret: string, marker = "marker-1") {
  return m.sign(secret, {
    ...m.sample(marker, crypto.randomUUID()),
    url: `https://${DOMAIN}/${m.name}`,
    nowSeconds: NOW,
  });
}

describe("webhook provider modules (handlers/webhooks/providers)", () => {
  it("name the providers, in the order receivers are declared", () => {
    expect(PROVIDERS).to.deep.equal(["github", "twilio", "stripe", "standard", "hmac"]);
    expect(PROVIDER_MODULES.map((m) => m.name)).to.deep.equal(PROVIDERS);
    expect(URL_SIGNING_PROVIDERS).to.deep.equal(["twilio"]);
    expect(SCHEME_PROVIDERS).to.deep.equal(["hmac"]);
    expect(WEBHOOK_REQUEST_PATHS).to.deep.equal({
      hmac: "$.detail.payload",
      standard: "$.detail.payload.data",
    });
    expect(Object.keys(WEBHOOK_REQUEST_PATHS)).to.deep.equal(["hmac", "standard"]);
    expect(isProvider("gitlab")).to.equal(false);
    expect(() => providerModule("gitlab")).to.throw(
      '"gitlab" is not one of github, twilio, stripe, standard, hmac',
    );
  });

  it("load without an SDK, Powertools or Pulumi, so config, components, the local run and handlers share them", () => {
    const out = execFileSync(
      process.execPath,
      [
        "-r",
        "ts-node/register/transpile-only",
        "-e",
        'require("./handlers/webhooks/providers"); console.log(JSON.stringify(Object.keys(require.cache).filter((f) => /node_modules/.test(f) && /@pulumi|@aws-sdk|@aws-lambda-powertools|@smithy/.test(f)).length))',
      ],
      { cwd: ROOT, encoding: "utf8" },
    );
    expect(out.trim()).to.equal("0");
  });

  describe("a provider in the list is all it takes", () => {
    const schemes = renderWebhookSection("schemes").split("\n");
    const replays = renderWebhookSection("replays");
    const secretsTable = renderSection("secrets", { dev: {}, prod: {} });

    for (const m of PROVIDER_MODULES as readonly ProviderModule[]) {
      describe(m.name, () => {
        it("has its secret key, required while it is enabled, in the docs' secrets table", () => {
          const s = SECRETS.find((x) => x.provider === m.name)!;
          expect(s).to.deep.equal({
            key: m.secret.key,
            what: m.secret.what,
            placeholder: m.secret.placeholder,
            provider: m.name,
          });
          expect(WEBHOOK_SECRET_KEYS[m.name as keyof typeof WEBHOOK_SECRET_KEYS].key).to.equal(
            m.secret.key,
          );
          expect(requiredSecrets([m.name as never]).map((x) => x.key)).to.deep.equal([
            "recordsApiKey",
            m.secret.key,
          ]);
          expect(requiredSecrets([]).map((x) => x.key)).not.to.include(m.secret.key);
          expect(secretsTable).to.contain(
            `| \`${m.secret.key}\` | \`pulumi config set --secret switchyard:${m.secret.key} ${m.secret.placeholder}\` (when \`${m.name}\` is enabled) |`,
          );
        });

        it("is a valid webhookProviders value and a valid receiver", () => {
          const values: Record<string, string> = {
            recordsApiEndpoint: "https://records.example.com",
            webhookProviders: JSON.stringify([m.name]),
          };
          const v = readConfig((k) => values[k], "dev");
          expect(v.webhookProviders).to.deep.equal([m.name]);
          expect(() =>
            validateWebhookArgs({ hub, providers: { [m.name]: { secret: "s" } } }),
          ).not.to.throw();
        });

        it("takes a public URL key exactly when its signature covers the URL", () => {
          const publicUrl = "https://hooks.example.com/x";
          const args = { hub, providers: { [m.name]: { secret: "s", publicUrl } } };
          if (m.publicUrl) {
            expect(KEYS).to.have.property(m.publicUrl.key);
            expect(() => validateWebhookArgs(args)).not.to.throw();
          } else {
            expect(() => validateWebhookArgs(args)).to.throw(
              `providers.${m.name}.publicUrl is only used by twilio (its signature covers the URL)`,
            );
          }
        });

        it("takes a scheme key exactly when its receiver can run several schemes", () => {
          const args = (signedContent: string) => ({
            hub,
            providers: { [m.name]: { secret: "s", signedContent: signedContent as never } },
          });
          if (m.schemes) {
            expect(KEYS).to.have.property(m.schemes.key);
            expect(KEYS[m.schemes.key as keyof typeof KEYS].default).to.equal(m.schemes.values[0]);
            for (const scheme of m.schemes.values) {
              expect(() => validateWebhookArgs(args(scheme))).not.to.throw();
              expect(providerSpec(m.name as never, scheme)).to.equal(m.schemes.spec(scheme));
            }
            expect(providerSpec(m.name as never)).to.equal(m.spec);
            expect(() => validateWebhookArgs(args("everything"))).to.throw(
              `providers.${m.name}.signedContent must be one of ${m.schemes.values.join(", ")}, got "everything"`,
            );
          } else {
            expect(() => validateWebhookArgs(args("body"))).to.throw(
              `providers.${m.name}.signedContent is only used by hmac (the other schemes fix what they sign)`,
            );
          }
        });

        it("generates a local secret, and gives the test stacks one, that its own scheme signs and verifies with", () => {
          const generated = m.secret.generate(crypto.randomBytes);
          expect(generated).not.to.equal(m.secret.generate(crypto.randomBytes));
          expect(TEST_SECRETS[`switchyard:${m.secret.key}`]).to.equal(m.secret.example);
          for (const secret of [generated, m.secret.example]) {
            const d = signedSample(m, secret);
            expect(m.spec.verify(asReceived(d), [secret]), secret).to.deep.equal({
              ok: true,
              secretIndex: 0,
            });
          }
        });

        it("signs its sample as the provider does: verified, parsed, refused with another secret", () => {
          const d = signedSample(m, m.secret.example, "marker-7");
          const req = asReceived(d);
          expect(m.spec.verify(req, ["another", m.secret.example])).to.deep.equal({
            ok: true,
            secretIndex: 1,
          });
          const wrong = m.secret.generate(() => Buffer.from("not-the-secret-at-all-123"));
          expect(m.spec.verify(req, [wrong])).to.deep.include({ ok: false, status: 403 });
          const tampered = { ...req, body: Buffer.from(d.body.replace("marker-7", "marker-8")) };
          expect(m.spec.verify(tampered, [m.secret.example])).to.deep.include({
            ok: false,
            status: 403,
          });
          const parsed = m.spec.parse(req.body, req.headers, req.url);
          expect(parsed.deliveryId).to.match(/^[\x21-\x7e]{1,256}$/);
          expect(parsed.replayKey).to.be.a("string").and.not.equal("");
          expect(JSON.stringify(parsed.payload)).to.contain("marker-7");
          expect(m.spec.ok("accepted", parsed.deliveryId).body).to.be.a("string");
          // Its signature header is never copied into the event.
          const signatureHeaders = Object.keys(d.headers).filter((h) => /signature/.test(h));
          expect(signatureHeaders).to.have.length.greaterThan(0);
          for (const h of signatureHeaders) expect(m.spec.headers).not.to.include(h);
        });

        it("carries a record verification request where its path says, when its senders can send one", () => {
          const v = m.verificationRequests;
          expect(Object.keys(WEBHOOK_REQUEST_PATHS).includes(m.name)).to.equal(v !== undefined);
          if (!v) return;
          expect(WEBHOOK_REQUEST_PATHS[m.name as keyof typeof WEBHOOK_REQUEST_PATHS]).to.equal(
            v.recordPath,
          );
          const request = { tenantId: "acme", recordId: "inv-1", recordVersion: 1 };
          const d = m.sign(m.secret.example, {
            ...v.delivery(request, {
              eventType: "RecordVerificationRequested",
              correlationId: "corr-7",
              uuid: crypto.randomUUID(),
              nowSeconds: NOW,
            }),
            url: `https://${DOMAIN}/${m.name}`,
            nowSeconds: NOW,
          });
          const received = asReceived(d);
          expect(m.spec.verify(received, [m.secret.example])).to.deep.equal({
            ok: true,
            secretIndex: 0,
          });
          const parsed = m.spec.parse(received.body, received.headers, received.url);
          expect(parsed.eventType).to.equal("RecordVerificationRequested");
          // The event's correlation id: the signed one, else the delivery id.
          expect(parsed.correlationId ?? parsed.deliveryId).to.equal("corr-7");
          // `$.detail.payload[.field...]` inside the event's detail
          const at = v.recordPath
            .split(".")
            .slice(3)
            .reduce((o: any, k) => o?.[k], parsed.payload);
          expect(at).to.deep.equal(request);
        });

        it("has its rows in docs/webhooks.md's tables", () => {
          expect(m.docs.length).to.be.greaterThan(0);
          for (const row of m.docs) {
            const label = row.label ?? `\`${m.name}\``;
            expect(schemes).to.include(
              `| ${label} | ${row.signature} | ${row.replayWindow} | ${row.deliveryId} | ${row.deduplicationKey} | ${row.detailType} |`,
            );
            expect(replays).to.contain(label).and.contain(row.resent).and.contain(row.residualRisk);
          }
        });
      });
    }
  });

  it("docs/webhooks.md's provider tables are the modules' rows (npm run docs regenerates them)", () => {
    expect(fs.readFileSync(WEBHOOKS_DOC, "utf8")).to.equal(generatedWebhooksDoc());
  });

  it("the receiver runs each module's spec; generic HMAC in the scheme it is configured with", () => {
    for (const m of PROVIDER_MODULES) {
      expect(providerSpec(m.name)).to.equal(m.spec);
      expect(PROVIDER_SPECS[m.name]).to.equal(m.spec);
      expect(PROVIDER_MODULE[m.name]).to.equal(m);
    }
    expect(providerSpec("hmac", "body")).to.equal(HMAC_BODY_ONLY);
    expect(hmacSpec("headers")).to.equal(PROVIDER_MODULE.hmac.spec);
  });

  describe("every provider in the list through the receiver and the relay (deliveries on local DynamoDB)", function () {
    let ddb: LocalDynamo;
    let streams: RelayStreams;
    before(async () => {
      ddb = await startLocalDynamo();
      streams = new RelayStreams(ddb.client);
    });
    after(async () => ddb?.close());

    for (const m of PROVIDER_MODULES as readonly ProviderModule[]) {
      it(`${m.name}: its signed sample is published once, a resend is a duplicate`, async () => {
        const table = `providers-${m.name}`;
        await createIdempotencyTable(ddb.client, table);
        const entries: Array<{ Source: string; DetailType: string; Detail: string }> = [];
        streams.feed(
          table,
          makeRelay({
            config: {
              eventBusArn: "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
              maxEntryBytes: 262144,
              deadLetterQueueUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/bus-dlq",
            },
            sqs: { send: async () => Promise.reject(new Error("no dead letter expected")) },
            eventBridge: {
              send: async (command: { input: { Entries: typeof entries } }) => {
                entries.push(...command.input.Entries);
                return {
                  FailedEntryCount: 0,
                  Entries: command.input.Entries.map((_, i) => ({ EventId: `ev-${i}` })),
                };
              },
            },
            publisher: { baseDelayMs: 1 },
          }),
        );
        const handler = makeHandler({
          config: {
            provider: m.name as never,
            secretArn: `arn:aws:secretsmanager:eu-west-1:123456789012:secret:${m.name}`,
            idempotencyTable: table,
            idempotencyTtlSeconds: 3600,
            maxEntryBytes: 262144,
            toleranceSeconds: 300,
            payloadPrefix: `${m.name}/`,
          },
          secrets: {
            get: async () => m.secret.example,
            getSigningSecrets: async () => [m.secret.example],
            ageMs: () => 0,
          },
          dynamodb: streams.client,
          now: () => NOW * 1000,
        });
        const d = signedSample(m, m.secret.example, `marker-${m.name}`);
        const answers = [];
        for (let i = 0; i < 2; i++) {
          answers.push(await handler(functionUrlEvent(m.name, d), context()));
        }
        await streams.settled();
        expect(answers.map((a) => a.statusCode)).to.deep.equal([200, 200]);
        const deliveryId = deliveryIdOf(entries[0]);
        expect(answers.map((a) => a.body)).to.deep.equal([
          m.spec.ok("accepted", deliveryId).body,
          m.spec.ok("duplicate", deliveryId).body,
        ]);
        expect(entries).to.have.length(1);
        expect(entries[0].Source).to.equal(`switchyard.webhooks.${m.name}`);
        expect(entries[0].Detail).to.contain(`marker-${m.name}`);
      });
    }
  });
});

const hub = {
  busArn: "arn:aws:events:eu-west-1:123456789012:event-bus/bus",
  dlqArn: "arn:aws:sqs:eu-west-1:123456789012:bus-dlq",
  dlqUrl: "https://sqs.eu-west-1.amazonaws.com/123456789012/bus-dlq",
};

function deliveryIdOf(entry: { Detail: string }): string {
  return JSON.parse(entry.Detail).deliveryId;
}

function context(): Context {
  return {
    awsRequestId: crypto.randomUUID(),
    functionName: "receiver",
    getRemainingTimeInMillis: () => 10_000,
  } as unknown as Context;
}

/** A Function URL event of a signed delivery posted to the Function URL it was signed for. */
function functionUrlEvent(provider: string, d: SignedDelivery): LambdaFunctionURLEvent {
  const u = new URL(d.url);
  return {
    version: "2.0",
    routeKey: "$default",
    rawPath: u.pathname,
    rawQueryString: u.search.slice(1),
    headers: { host: DOMAIN, ...d.headers },
    requestContext: {
      domainName: DOMAIN,
      http: { method: "POST", path: `/${provider}`, sourceIp: "192.0.2.1" },
      requestId: crypto.randomUUID(),
      timeEpoch: NOW * 1000,
    },
    body: d.body,
    isBase64Encoded: false,
  } as unknown as LambdaFunctionURLEvent;
}
