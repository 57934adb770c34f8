// The event S3 sends a bucket notification's function when an object is created: one record of
// event version 2.1, as the S3 user guide's "Event message structure" gives it. The local run
// sends it after a PutObject, the bench sends it to each cold start of the ingestion function.

/**
 * An object key as S3 writes it in an event message: URL-encoded as a form value (a space is "+",
 * "@" is "%40"; LocalStack's AWS-validated test_key_encoding snapshot gives "a@b" as "a%40b"),
 * with "/" left as it is (S3's documented examples and LocalStack's notifications keep key
 * prefixes readable). handlers/records/s3Ingestion.ts decodeKey undoes it.
 */
export function s3EventKey(key: string): string {
  return encodeURIComponent(key).replace(/%2F/g, "/").replace(/%20/g, "+");
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
