// SigV4 pieces shared by the local API Gateway (which verifies signatures) and the demo (which
// signs): @smithy/signature-v4 is the AWS SDK's own signer; it needs a SHA-256 constructor.
import { createHash, createHmac } from "crypto";
import { SignatureV4 } from "@smithy/signature-v4";

/** Credentials that stand for the jobs API's caller role when signing local requests. */
export const LOCAL_CALLER_CREDENTIALS = {
  accessKeyId: "AKIASWITCHYARDLOCAL",
  secretAccessKey: "switchyard-local-secret",
};

/** The hash interface @smithy/signature-v4 expects, on node:crypto. */
export class Sha256 {
  private readonly h: ReturnType<typeof createHash> | ReturnType<typeof createHmac>;
  constructor(secret?: string | Uint8Array) {
    this.h = secret ? createHmac("sha256", Buffer.from(secret as any)) : createHash("sha256");
  }
  update(d: string | Uint8Array): void {
    this.h.update(typeof d === "string" ? Buffer.from(d, "utf8") : d);
  }
  async digest(): Promise<Uint8Array> {
    return new Uint8Array(this.h.digest());
  }
}

export function executeApiSigner(region: string): SignatureV4 {
  return new SignatureV4({
    credentials: LOCAL_CALLER_CREDENTIALS,
    region,
    service: "execute-api",
    sha256: Sha256 as any,
  });
}
