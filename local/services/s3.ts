// S3: the declared buckets and their objects live in moto (created there by the apply at start);
// PutObject is the engine's: the object is written through to moto, then the bucket's declared
// notifications invoke their functions. Every other S3 operation is proxied to moto.
import type { S3Client } from "@aws-sdk/client-s3";
import { REGION } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { Runtime } from "./context";
import { objectCreatedEvent } from "../s3Notifications";
import { randomUUID } from "crypto";
import { LOCAL_CREDENTIALS } from "../credentials";

export class S3Service {
  private s3?: S3Client;
  /** The last event's sequencer: S3's grows with each write. */
  private sequencer = 0;
  /** Ids S3 gave configurations declared without one, once each. */
  private readonly generatedIds = new Map<object, string>();

  private configurationId(notification: string, f: { id?: string }): string {
    if (f.id) return f.id;
    let id = this.generatedIds.get(f);
    if (!id) this.generatedIds.set(f, (id = `${notification}-${randomUUID()}`));
    return id;
  }

  constructor(private readonly rt: Runtime) {}

  private buckets() {
    return this.rt.of("aws:s3/bucketV2:BucketV2").concat(this.rt.of("aws:s3/bucket:Bucket"));
  }

  private client(): S3Client {
    // Loaded on the first put, not with the runtime.
    const { S3Client } = require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
    this.s3 ??= new S3Client({
      endpoint: this.rt.services.moto.url,
      region: REGION,
      forcePathStyle: true,
      credentials: LOCAL_CREDENTIALS,
      maxAttempts: 1,
    });
    return this.s3;
  }

  /**
   * PutObject: writes the object to moto (once the program is applied there) and notifies the
   * bucket's functions; returns the ETag. moto's answer (NoSuchBucket...) is the caller's.
   */
  async put(bucket: string, key: string, body: Buffer, contentType?: string): Promise<string> {
    await this.rt.services.moto.applied;
    let etag: string;
    try {
      const { PutObjectCommand } =
        require("@aws-sdk/client-s3") as typeof import("@aws-sdk/client-s3");
      const out = await this.client().send(
        new PutObjectCommand({ Bucket: bucket, Key: key, Body: body, ContentType: contentType }),
      );
      etag = (out.ETag ?? "").replace(/"/g, "");
    } catch (e: any) {
      const status = e.$metadata?.httpStatusCode ?? 500;
      throw new AwsError(
        e.Code ?? e.name,
        e.message,
        status,
        e.name === "NoSuchBucket" ? { BucketName: bucket } : {},
      );
    }
    this.rt.log(`  s3 ${bucket}/${key} (${body.length} bytes)`);
    // A bucket's id is its name in AWS; the mocks give ids of their own, so accept both.
    const ids = new Set([
      bucket,
      ...this.buckets()
        .filter((b) => (b.inputs.bucket ?? b.name) === bucket)
        .map((b) => `${b.name}-id`),
    ]);
    for (const n of this.rt
      .of("aws:s3/bucketNotification:BucketNotification")
      .filter((x) => ids.has(x.inputs.bucket))) {
      for (const f of n.inputs.lambdaFunctions ?? []) {
        if (!(f.events ?? []).some((e: string) => e.startsWith("s3:ObjectCreated"))) continue;
        if (f.filterPrefix && !key.startsWith(f.filterPrefix)) continue;
        if (f.filterSuffix && !key.endsWith(f.filterSuffix)) continue;
        this.rt.services.lambda.lambdas.invokeAsync(
          f.lambdaFunctionArn,
          objectCreatedEvent({
            region: REGION,
            bucket,
            key,
            size: body.length,
            eTag: etag,
            configurationId: this.configurationId(n.name, f),
            sequencer: (++this.sequencer).toString(16).toUpperCase().padStart(18, "0"),
          }),
        );
      }
    }
    return etag;
  }

  /** The bucket names served, for the summary. */
  bucketNames(): string[] {
    return this.buckets().map((b) => b.inputs.bucket ?? b.name);
  }

  endpoint(): Pick<LocalServices, "s3Put"> {
    return {
      s3Put: (bucket, key, body, contentType) => this.put(bucket, key, body, contentType),
    };
  }

  stop(): void {
    this.s3?.destroy();
  }
}
