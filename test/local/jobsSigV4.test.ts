// The jobs API's AWS_IAM methods verify SigV4 as API Gateway does (local/sigv4.ts): over the body
// actually received, whatever a signed x-amz-content-sha256 header claims.
import { expect } from "chai";
import { SignatureV4 } from "@smithy/signature-v4";
import { SwitchyardLocal } from "../../local/runtime";
import { LOCAL_CALLER_CREDENTIALS, Sha256 } from "../../local/sigv4";

describe("local runtime: the jobs API's SigV4 check", function () {
  this.timeout(120_000);
  let local: SwitchyardLocal;
  let jobsUrl: string;

  before(async () => {
    local = await SwitchyardLocal.start({
      // What executes is under test here, not what moto shows: only the tables and buckets.
      moto: "engine",
      stack: "dev",
      speed: 0.001,
      log: () => undefined,
    });
    jobsUrl = (await local.scenarioTarget()).jobsUrl!;
  });
  after(async () => local?.stop());

  const job = (text: string) => JSON.stringify({ type: "checksum", input: { text } });

  /** A POST /jobs signed over `signedBody`, sent with `sentBody`. */
  async function post(
    signedBody: string,
    sentBody: string,
    o: { applyChecksum?: boolean; secretAccessKey?: string } = {},
  ): Promise<Response> {
    const u = new URL(`${jobsUrl}/jobs`);
    const signer = new SignatureV4({
      credentials: {
        ...LOCAL_CALLER_CREDENTIALS,
        ...(o.secretAccessKey ? { secretAccessKey: o.secretAccessKey } : {}),
      },
      region: "eu-west-1",
      service: "execute-api",
      sha256: Sha256 as any,
      applyChecksum: o.applyChecksum ?? false,
    });
    const signed = await signer.sign({
      method: "POST",
      protocol: u.protocol,
      hostname: u.hostname,
      port: Number(u.port),
      path: u.pathname,
      query: {},
      headers: { host: u.host, "content-type": "application/json" },
      body: signedBody,
    } as any);
    return fetch(u, { method: "POST", headers: (signed as any).headers, body: sentBody });
  }

  it("accepts a request signed by the caller's key", async () => {
    const res = await post(job("a"), job("a"));
    expect(res.status, await res.text()).to.equal(202);
  });

  it("answers 403 to a body other than the one signed", async () => {
    const res = await post(job("a"), job("tampered"));
    expect(res.status).to.equal(403);
    expect(res.headers.get("x-amzn-errortype")).to.equal("InvalidSignatureException");
  });

  it("answers 403 to a body other than the one signed even when x-amz-content-sha256 (signed) names the signed one", async () => {
    const res = await post(job("a"), job("tampered"), { applyChecksum: true });
    expect(res.status).to.equal(403);
  });

  it("answers 403 to a wrong secret", async () => {
    const res = await post(job("a"), job("a"), { secretAccessKey: "not-the-secret" });
    expect(res.status).to.equal(403);
  });
});
