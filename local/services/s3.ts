// S3: objects of the declared buckets are files (.switchyard/s3/<stack>/<bucket>/<key> with
// --persist, else a temporary folder); a put notifies the bucket's declared Lambda functions.
import * as fs from "fs";
import * as path from "path";
import { createHash } from "crypto";
import { REGION } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { temporaryDir } from "../artifacts";
import { Runtime } from "./context";

export class S3Service {
  /** Where the objects are kept. */
  public dir = "";

  constructor(
    private readonly rt: Runtime,
    private readonly opts: { persist?: boolean; stateDir: string },
  ) {}

  build(stack: string): void {
    this.dir = this.opts.persist
      ? path.join(this.opts.stateDir, "s3", stack)
      : temporaryDir("switchyard-s3-");
  }

  private buckets() {
    return this.rt.of("aws:s3/bucketV2:BucketV2").concat(this.rt.of("aws:s3/bucket:Bucket"));
  }

  private requireBucket(bucket: string): void {
    if (!this.buckets().some((b) => (b.inputs.bucket ?? b.name) === bucket))
      throw new AwsError("NoSuchBucket", "The specified bucket does not exist", 404, {
        BucketName: bucket,
      });
  }

  private file(bucket: string, key: string): string {
    const file = path.resolve(this.dir, bucket, key);
    if (!file.startsWith(path.resolve(this.dir, bucket) + path.sep))
      throw new AwsError("InvalidArgument", "Invalid object key", 400);
    return file;
  }

  /** PutObject: writes the object and notifies the bucket's functions; returns the ETag. */
  put(bucket: string, key: string, body: Buffer, contentType?: string): string {
    const etag = createHash("md5").update(body).digest("hex");
    this.requireBucket(bucket);
    const file = this.file(bucket, key);
    fs.mkdirSync(path.dirname(file), { recursive: true });
    fs.writeFileSync(file, body);
    fs.writeFileSync(`${file}.meta.json`, JSON.stringify({ contentType }));
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
        this.rt.services.lambda.lambdas.invokeAsync(f.lambdaFunctionArn, {
          Records: [
            {
              eventVersion: "2.1",
              eventSource: "aws:s3",
              awsRegion: REGION,
              eventTime: new Date().toISOString(),
              eventName: "ObjectCreated:Put",
              s3: {
                s3SchemaVersion: "1.0",
                bucket: { name: bucket, arn: `arn:aws:s3:::${bucket}` },
                object: {
                  key: encodeURIComponent(key).replace(/%20/g, "+"),
                  size: body.length,
                  eTag: etag,
                },
              },
            },
          ],
        });
      }
    }
    return etag;
  }

  /** GetObject. */
  get(bucket: string, key: string): { body: Buffer; contentType?: string; etag: string } {
    this.requireBucket(bucket);
    const file = this.file(bucket, key);
    if (!fs.existsSync(file))
      throw new AwsError("NoSuchKey", "The specified key does not exist.", 404, { Key: key });
    const body = fs.readFileSync(file);
    const meta = fs.existsSync(`${file}.meta.json`)
      ? JSON.parse(fs.readFileSync(`${file}.meta.json`, "utf8"))
      : {};
    return {
      body,
      contentType: meta.contentType,
      etag: createHash("md5").update(body).digest("hex"),
    };
  }

  /** The bucket names served, for the summary. */
  bucketNames(): string[] {
    return this.buckets().map((b) => b.inputs.bucket ?? b.name);
  }

  endpoint(): Pick<LocalServices, "s3Put" | "s3Get"> {
    return {
      s3Put: async (bucket, key, body, contentType) => this.put(bucket, key, body, contentType),
      s3Get: async (bucket, key) => this.get(bucket, key),
    };
  }

  /** A run without --persist leaves no objects behind. */
  stop(): void {
    if (!this.opts.persist && this.dir) fs.rmSync(this.dir, { recursive: true, force: true });
  }
}
