// The event S3 sends a bucket notification's function when an object is created: one record of
// event version 2.1, as the S3 user guide's "Event message structure" gives it. The local run
// sends it after a PutObject, the bench sends it to each cold start of the ingestion function.

/**
 * An object key as S3 writes it in an event message: URL-encoded, a space as "+" (the S3 user
 * guide's event structure: "red flower.jpg" becomes "red+flower.jpg"), "@" as "%40" (LocalStack's
 * AWS-validated test_key_encoding snapshot), every character but letters, digits, "-_.~" and "/"
 * encoded as Python's urllib quote encodes it (LocalStack's notifications), "/" kept so prefixes
 * stay readable. handlers/records/s3Ingestion.ts decodeKey undoes it.
 */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key)
    .replace(/[!'()*]/g, (c) => `%${c.charCodeAt(0).toString(16).toUpperCase()}`)
    .replace(/%2F/g, "/")
    .replace(/%20/g, "+");
}

export interface ObjectCreated {
  region: string;
  bucket: string;
  /** The object's key, as stored (encoded here). */
  key: string;
  size: number;
  eTag: string;
  /** The notification configuration's Id (S3 generates one where none is declared). */
  configurationId: string;
  /** Orders events of the same key (hexadecimal, grows with each write). */
  sequencer: string;
  eventTime?: Date;
}

/** The whole event a function gets for one ObjectCreated:Put. */
export function objectCreatedEvent(o: ObjectCreated) {
  return {
    Records: [
      {
        eventVersion: "2.1",
        eventSource: "aws:s3",
        awsRegion: o.region,
        eventTime: (o.eventTime ?? new Date()).toISOString(),
        eventName: "ObjectCreated:Put",
        s3: {
          s3SchemaVersion: "1.0",
          configurationId: o.configurationId,
          bucket: { name: o.bucket, arn: `arn:aws:s3:::${o.bucket}` },
          object: {
            key: s3EventKey(o.key),
            size: o.size,
            eTag: o.eTag,
            sequencer: o.sequencer,
          },
        },
      },
    ],
  };
}
