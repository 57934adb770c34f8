// Job outcomes on the bus: the jobs error handler's on-failure destination is the hub's bus, so a
// failure record it could not write reaches the bus from Lambda itself (no Switchyard publisher).
import type { EventContract } from "./contract";
import { typeNameOf } from "./contract";

/** What Lambda names an on-failure destination's event on EventBridge. */
export const LAMBDA_DESTINATION_SOURCE = "lambda";
export const LAMBDA_FAILURE_DETAIL_TYPE = "Lambda Function Invocation Result - Failure";

export const JOB_FAILURE_UNRECORDED: EventContract = {
  source: LAMBDA_DESTINATION_SOURCE,
  detailType: LAMBDA_FAILURE_DETAIL_TYPE,
  typeName: typeNameOf(LAMBDA_FAILURE_DETAIL_TYPE),
  description:
    "The jobs error handler failed every attempt to record a failed job: Lambda's invocation record, whose requestPayload is the processing function's failure record (job id, parameters, error).",
  publishedBy: "Lambda (the jobs error handler's on-failure destination)",
  // Lambda's invocation record (AWS's shape, which may grow): open to more fields.
  detail: {
    type: "object",
    required: ["version", "timestamp", "requestContext", "requestPayload", "responseContext"],
    properties: {
      version: { type: "string" },
      timestamp: { type: "string", format: "date-time" },
      requestContext: {
        type: "object",
        required: ["requestId", "functionArn", "condition", "approximateInvokeCount"],
        properties: {
          requestId: { type: "string" },
          functionArn: { type: "string" },
          condition: { type: "string" },
          approximateInvokeCount: { type: "integer", minimum: 1 },
        },
      },
      requestPayload: {},
      responseContext: {
        type: "object",
        properties: {
          statusCode: { type: "integer" },
          executedVersion: { type: "string" },
          functionError: { type: "string" },
        },
      },
      responsePayload: {},
    },
  },
};
