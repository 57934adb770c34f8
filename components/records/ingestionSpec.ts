// Record ingestion's defaults and its stream source check: pure, so the stack's config table
// (config/keys.ts) reads and states the same values as the RecordIngestion component.

/** A DynamoDB table whose changes become records. */
export interface RecordStreamSource {
  /** ARN of the table. */
  readonly tableArn: string;
  /** ARN of its stream; NEW_AND_OLD_IMAGES (removed items are sent with their old image). */
  readonly streamArn: string;
  /** Item attribute holding the tenant id. Default "tenantId". */
  readonly tenantAttribute?: string;
  /** Item attribute holding the record id. Default "recordId". */
  readonly idAttribute?: string;
  /** Item attribute holding the record version (else the change's time). Default "recordVersion". */
  readonly versionAttribute?: string;
  /** The records API collection. Default the table's name. */
  readonly collection?: string;
}

export const RECORD_INGESTION_DEFAULTS = {
  prefix: "incoming/",
  maxObjectBytes: 52428800,
  timeout: 300,
  protect: false,
};

export const TABLE_ARN = /^arn:aws[a-z-]*:dynamodb:[a-z0-9-]+:\d{12}:table\/[A-Za-z0-9_.-]{3,255}$/;
const ATTRIBUTE = /^[^\s]{1,255}$/;

/** Checks a stream source and fills in its defaults. */
export function resolveStreamSource(s: RecordStreamSource): Required<RecordStreamSource> {
  if (typeof s.tableArn !== "string" || !TABLE_ARN.test(s.tableArn)) {
    throw new Error(
      `streamSource.tableArn must be a DynamoDB table ARN like arn:aws:dynamodb:eu-west-1:111122223333:table/orders, got ${JSON.stringify(s.tableArn)}`,
    );
  }
  if (
    typeof s.streamArn !== "string" ||
    !s.streamArn.startsWith(`${s.tableArn}/stream/`) ||
    s.streamArn.length <= s.tableArn.length + 8
  ) {
    throw new Error(
      `streamSource.streamArn must be the stream of ${s.tableArn} (${s.tableArn}/stream/<label>), got ${JSON.stringify(s.streamArn)}`,
    );
  }
  const r = {
    tenantAttribute: "tenantId",
    idAttribute: "recordId",
    versionAttribute: "recordVersion",
    collection: s.tableArn.split("/")[1],
    ...s,
  };
  for (const k of ["tenantAttribute", "idAttribute", "versionAttribute", "collection"] as const) {
    if (typeof r[k] !== "string" || !ATTRIBUTE.test(r[k])) {
      throw new Error(
        `streamSource.${k} must be 1-255 characters without spaces, got ${JSON.stringify(r[k])}`,
      );
    }
  }
  return r;
}
