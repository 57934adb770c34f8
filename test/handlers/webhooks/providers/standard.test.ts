// Standard Webhooks's signature scheme against its published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers; and the module's own
// signing verified and parsed by its spec.
import { expect } from "chai";
import * as crypto from "crypto";
import { PROVIDER_MODULE } from "../../../../handlers/webhooks/providers";
import {
  signStandard,
  standardKey,
  verifyStandard,
} from "../../../../handlers/webhooks/providers/standard";
import { asReceived, BAD, jsonBody, DOMAIN, NOW, OK0, OK1, req } from "./request";

describe("Standard Webhooks (webhook-id / webhook-timestamp / webhook-signature)", () => {
  const secret = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw";
  const id = "msg_p5jXN8AQM9LWM0D4loKWxJek";
  const ts = 1614265330;
  const payload = '{"test": 2432232314}';
  const sig = "v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=";
  const headers = (s = sig, t = String(ts)) => ({
    "webhook-id": id,
    "webhook-timestamp": t,
    "webhook-signature": s,
  });
  const at = { nowSeconds: ts };

  it("reproduces and accepts the library test vector", () => {
    expect(signStandard(secret, id, ts, payload)).to.equal(sig);
    expect(verifyStandard(req(payload, headers(), at), [secret])).to.deep.equal(OK0);
    expect(
      verifyStandard(req(payload, headers(`v1,bm9wZQ== ${sig} v1a,ignored`), at), [secret]),
    ).to.deep.equal(OK0);
    expect(standardKey(secret)).to.deep.equal(standardKey("MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw"));
  });

  it("rejects tampered body, id and timestamp, a wrong secret, stale and future timestamps", () => {
    expect(verifyStandard(req('{"test": 2432232315}', headers(), at), [secret])).to.deep.equal(BAD);
    expect(
      verifyStandard(req(payload, { ...headers(), "webhook-id": "msg_other" }, at), [secret]),
    ).to.deep.equal(BAD);
    expect(verifyStandard(req(payload, headers(sig, String(ts + 1)), at), [secret])).to.deep.equal(
      BAD,
    );
    expect(
      verifyStandard(req(payload, headers(), at), [
        "whsec_" + Buffer.from("other").toString("base64"),
      ]),
    ).to.deep.equal(BAD);
    expect(
      verifyStandard(req(payload, headers(), { nowSeconds: ts + 301 }), [secret]),
    ).to.deep.equal({
      ok: false,
      status: 403,
      reason: "webhook-timestamp is older than 300 s",
    });
    expect(
      verifyStandard(req(payload, headers(), { nowSeconds: ts - 301 }), [secret]),
    ).to.deep.equal({
      ok: false,
      status: 403,
      reason: "webhook-timestamp is more than 300 s in the future",
    });
  });

  it("accepts the previous secret; answers 401 when a header is missing", () => {
    const other = "whsec_" + crypto.randomBytes(24).toString("base64");
    expect(verifyStandard(req(payload, headers(), at), [other, secret])).to.deep.equal(OK1);
    expect(
      verifyStandard(req(payload, { "webhook-id": id, "webhook-timestamp": String(ts) }, at), [
        secret,
      ]),
    ).to.deep.include({ status: 401 });
    expect(
      verifyStandard(
        req(payload, { "webhook-signature": sig, "webhook-timestamp": String(ts) }, at),
        [secret],
      ),
    ).to.deep.include({ status: 401 });
  });

  it("through its module: id, timestamp and body under the whsec_ key; the id is the delivery id and the key", () => {
    const m = PROVIDER_MODULE.standard;
    const secret = m.secret.generate(crypto.randomBytes);
    expect(secret).to.match(/^whsec_[A-Za-z0-9+/]+={0,2}$/);
    const d = m.sign(secret, {
      body: jsonBody("s"),
      contentType: "application/json",
      id: "msg_1",
      url: `https://${DOMAIN}/standard`,
      nowSeconds: NOW,
    });
    const received = asReceived(d);
    expect(m.spec.verify(received, [secret])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: "msg_1",
      replayKey: "msg_1",
      eventType: "thing.happened",
    });
    expect(
      m.spec.verify({ ...received, headers: { ...received.headers, "webhook-id": "msg_2" } }, [
        secret,
      ]),
    ).to.deep.include({ ok: false, status: 403 });
  });
});
