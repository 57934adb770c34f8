// Stripe's signature scheme against its published test vectors, then tampering, wrong and
// previous secrets, stale and future timestamps and missing headers; and the module's own
// signing verified and parsed by its spec.
import { expect } from "chai";
import * as crypto from "crypto";
import { PROVIDER_MODULE } from "../../../../handlers/webhooks/providers";
import { signStripe, verifyStripe } from "../../../../handlers/webhooks/providers/stripe";
import { asReceived, BAD, DOMAIN, NOW, OK0, OK1, req } from "./request";

describe("Stripe (Stripe-Signature)", () => {
  const secret = "whsec_test_secret";
  const body = '{"id":"evt_1","object":"event","type":"payment_intent.succeeded"}';
  const expectedV1 = crypto.createHmac("sha256", secret).update(`${NOW}.${body}`).digest("hex");

  it("accepts a header built as Stripe documents it: t=<unix>,v1=<hex HMAC of '<t>.<body>'>", () => {
    expect(signStripe(secret, NOW, body)).to.equal(`t=${NOW},v1=${expectedV1}`);
    expect(
      verifyStripe(req(body, { "stripe-signature": `t=${NOW},v1=${expectedV1}` }), [secret]),
    ).to.deep.equal(OK0);
    // Several v1 signatures (Stripe signs with each active secret while one is rolled) and a v0.
    const multi = `t=${NOW},v1=${"0".repeat(64)},v1=${expectedV1},v0=abc`;
    expect(verifyStripe(req(body, { "stripe-signature": multi }), [secret])).to.deep.equal(OK0);
  });

  it("rejects tampering, a wrong secret, stale and future timestamps", () => {
    const header = signStripe(secret, NOW, body);
    expect(verifyStripe(req(body + " ", { "stripe-signature": header }), [secret])).to.deep.equal(
      BAD,
    );
    expect(verifyStripe(req(body, { "stripe-signature": header }), ["whsec_other"])).to.deep.equal(
      BAD,
    );
    // The timestamp is signed: changing it breaks the signature.
    expect(
      verifyStripe(req(body, { "stripe-signature": header.replace(`t=${NOW}`, `t=${NOW + 1}`) }), [
        secret,
      ]),
    ).to.deep.equal(BAD);
    const stale = signStripe(secret, NOW - 301, body);
    expect(verifyStripe(req(body, { "stripe-signature": stale }), [secret])).to.deep.equal({
      ok: false,
      status: 403,
      reason: "Stripe-Signature timestamp is older than 300 s",
    });
    const future = signStripe(secret, NOW + 301, body);
    expect(verifyStripe(req(body, { "stripe-signature": future }), [secret])).to.deep.equal({
      ok: false,
      status: 403,
      reason: "Stripe-Signature timestamp is more than 300 s in the future",
    });
    expect(
      verifyStripe(req(body, { "stripe-signature": signStripe(secret, NOW - 300, body) }), [
        secret,
      ]),
    ).to.deep.equal(OK0);
    expect(
      verifyStripe(req(body, { "stripe-signature": `v1=${expectedV1}` }), [secret]).ok,
    ).to.equal(false);
  });

  it("accepts the previous secret and answers 401 without the header", () => {
    expect(
      verifyStripe(req(body, { "stripe-signature": signStripe(secret, NOW, body) }), [
        "whsec_new",
        secret,
      ]),
    ).to.deep.equal(OK1);
    expect(verifyStripe(req(body, {}), [secret])).to.deep.include({ ok: false, status: 401 });
  });

  it("through its module: t and v1 over '<t>.<body>'; the event's id and type from the body, the window enforced", () => {
    const m = PROVIDER_MODULE.stripe;
    const d = m.sign("whsec_s", {
      body: JSON.stringify({ id: "evt_1", type: "invoice.paid" }),
      contentType: "application/json",
      id: "evt_1",
      url: `https://${DOMAIN}/stripe`,
      nowSeconds: NOW,
    });
    const received = asReceived(d);
    expect(m.spec.verify(received, ["whsec_s"])).to.deep.equal({ ok: true, secretIndex: 0 });
    expect(m.spec.parse(received.body, received.headers, received.url)).to.deep.include({
      deliveryId: "evt_1",
      replayKey: "evt_1",
      eventType: "invoice.paid",
    });
    expect(m.spec.verify(asReceived(d, NOW + 301), ["whsec_s"])).to.deep.include({
      ok: false,
      status: 403,
    });
  });
});
