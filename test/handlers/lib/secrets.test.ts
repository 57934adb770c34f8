import { expect } from "chai";
import {
  GetSecretValueCommand,
  InternalServiceError,
  ResourceNotFoundException,
  SecretsManagerClient,
} from "@aws-sdk/client-secrets-manager";
import { makeSecretReader, parseSigningSecrets } from "../../../handlers/lib/secrets";
import { mockInstance } from "../../support/aws";

const client = new SecretsManagerClient({
  region: "eu-west-1",
  credentials: { accessKeyId: "x", secretAccessKey: "x" },
});
const sm = mockInstance(client);
const ARN = "arn:aws:secretsmanager:eu-west-1:123456789012:secret:s-AbCdEf";

describe("handlers/lib/secrets", () => {
  let now = 0;
  let value = "v1";
  let delayMs = 0;
  beforeEach(() => {
    sm.reset();
    now = 1_000_000;
    value = "v1";
    delayMs = 0;
    sm.on(GetSecretValueCommand).callsFake(async (input) => {
      if (delayMs) await new Promise((r) => setTimeout(r, delayMs));
      if (input.SecretId !== ARN) {
        throw new ResourceNotFoundException({
          message: "Secrets Manager can't find the specified secret.",
          $metadata: { httpStatusCode: 400 },
        });
      }
      return { ARN, SecretString: value };
    });
  });
  after(() => sm.restore());
  const calls = () => sm.commandCalls(GetSecretValueCommand).length;

  it("reads a secret once per TTL", async () => {
    const r = makeSecretReader({ client, ttlMs: 60_000, now: () => now });
    expect(await r.get(ARN)).to.equal("v1");
    value = "v2";
    now += 59_999;
    expect(await r.get(ARN)).to.equal("v1");
    expect(calls()).to.equal(1);
    now += 1;
    expect(await r.get(ARN)).to.equal("v2");
    expect(calls()).to.equal(2);
    expect(sm.commandCalls(GetSecretValueCommand)[0].args[0].input).to.deep.equal({
      SecretId: ARN,
    });
  });

  it("coalesces concurrent reads of the same secret into one call", async () => {
    delayMs = 30;
    const r = makeSecretReader({ client, now: () => now });
    const values = await Promise.all(Array.from({ length: 10 }, () => r.get(ARN)));
    expect(values).to.deep.equal(Array(10).fill("v1"));
    expect(calls()).to.equal(1);
  });

  it("re-reads earlier when asked for a younger value, and reports the cached age", async () => {
    const r = makeSecretReader({ client, now: () => now });
    expect(r.ageMs(ARN)).to.equal(undefined);
    await r.get(ARN);
    now += 6000;
    expect(r.ageMs(ARN)).to.equal(6000);
    value = "v2";
    expect(await r.get(ARN, { maxAgeMs: 5000 })).to.equal("v2");
    expect(calls()).to.equal(2);
  });

  it("keeps serving the last value when a refresh fails transiently, but fails when it has none or the error is permanent", async () => {
    const r = makeSecretReader({ client, ttlMs: 1000, now: () => now });
    await r.get(ARN);
    now += 2000;
    sm.on(GetSecretValueCommand).rejects(
      new InternalServiceError({ message: "boom", $metadata: { httpStatusCode: 500 } }),
    );
    expect(await r.get(ARN)).to.equal("v1");
    const fresh = makeSecretReader({ client, now: () => now });
    try {
      await fresh.get(ARN);
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.name).to.equal("InternalServiceError");
    }
    sm.on(GetSecretValueCommand).rejects(
      new ResourceNotFoundException({ message: "gone", $metadata: { httpStatusCode: 400 } }),
    );
    try {
      await r.get(ARN);
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.name).to.equal("ResourceNotFoundException");
    }
  });

  it("does not cache failures: the next call tries again", async () => {
    const r = makeSecretReader({ client, now: () => now });
    try {
      await r.get("arn:other");
      expect.fail("should throw");
    } catch (e: any) {
      expect(e.name).to.equal("ResourceNotFoundException");
    }
    try {
      await r.get("arn:other");
    } catch {
      /* expected */
    }
    expect(calls()).to.equal(2);
  });

  describe("signing secrets", () => {
    it("reads a plain string as the current secret only", () => {
      expect(parseSigningSecrets("s3cr3t")).to.deep.equal(["s3cr3t"]);
      expect(parseSigningSecrets("whsec_abc=")).to.deep.equal(["whsec_abc="]);
    });
    it("reads JSON {current, previous} as current then previous, dropping an empty or equal previous", () => {
      expect(parseSigningSecrets('{"current":"new","previous":"old"}')).to.deep.equal([
        "new",
        "old",
      ]);
      expect(parseSigningSecrets('{"current":"new","previous":""}')).to.deep.equal(["new"]);
      expect(parseSigningSecrets('{"current":"same","previous":"same"}')).to.deep.equal(["same"]);
      expect(parseSigningSecrets('{"current":"new"}')).to.deep.equal(["new"]);
    });
    it("rejects JSON without a current secret and an empty secret", () => {
      expect(() => parseSigningSecrets('{"previous":"old"}')).to.throw(
        'signing secret JSON must have a non-empty string "current"',
      );
      expect(() => parseSigningSecrets("")).to.throw("signing secret is empty");
    });
    it("getSigningSecrets reads through the cache", async () => {
      value = JSON.stringify({ current: "a", previous: "b" });
      const r = makeSecretReader({ client, now: () => now });
      expect(await r.getSigningSecrets(ARN)).to.deep.equal(["a", "b"]);
      expect(await r.getSigningSecrets(ARN)).to.deep.equal(["a", "b"]);
      expect(calls()).to.equal(1);
    });
  });
});
