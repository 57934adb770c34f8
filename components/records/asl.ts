// Amazon States Language types: the JSONPath subset of the states, retriers, catchers and
// conditions a workflow of this program uses, typed over its state names so that every `Next`,
// `Default` and `StartAt` names a state the definition has. Types and constants only.

export type JsonValue =
  null | boolean | number | string | JsonValue[] | { [key: string]: JsonValue };
/** A payload template: keys ending in `.$` hold a path or an intrinsic function. */
export type PayloadTemplate = { [key: string]: JsonValue };

export interface Retrier {
  readonly ErrorEquals: string[];
  readonly IntervalSeconds: number;
  /** Retries after the first attempt. */
  readonly MaxAttempts: number;
  readonly BackoffRate: number;
  readonly MaxDelaySeconds?: number;
  readonly JitterStrategy?: "FULL" | "NONE";
}

export interface Catcher<N extends string = string> {
  readonly ErrorEquals: string[];
  readonly ResultPath: string;
  readonly Next: N;
}

export interface PassState<N extends string = string> {
  readonly Type: "Pass";
  readonly Comment?: string;
  readonly Parameters: PayloadTemplate;
  readonly ResultPath?: string;
  readonly Next: N;
}

interface TaskStateBase<Resource extends string, Parameters, N extends string> {
  readonly Type: "Task";
  readonly Comment?: string;
  readonly Resource: Resource;
  readonly Parameters: Parameters;
  readonly ResultSelector?: PayloadTemplate;
  readonly ResultPath: string;
  readonly TimeoutSeconds: number;
  readonly Retry: Retrier[];
  readonly Catch?: Catcher<N>[];
  readonly Next: N;
}

export const HTTP_INVOKE = "arn:aws:states:::http:invoke";
export const SNS_PUBLISH = "arn:aws:states:::sns:publish";

/** Parameters of an HTTP Task; auth headers come only from the EventBridge connection. */
export interface HttpInvokeParameters {
  readonly ApiEndpoint: string;
  readonly Method: "POST";
  readonly Authentication: { readonly ConnectionArn: string };
  readonly Headers: Record<string, string>;
  readonly RequestBody: PayloadTemplate;
}
export type HttpTaskState<N extends string = string> = TaskStateBase<
  typeof HTTP_INVOKE,
  HttpInvokeParameters,
  N
>;

export interface SnsMessageAttribute {
  readonly DataType: "String";
  readonly "StringValue.$": string;
}
export interface SnsPublishParameters {
  readonly TopicArn: string;
  readonly "Subject.$": string;
  readonly "Message.$": string;
  readonly MessageAttributes: Record<string, SnsMessageAttribute>;
}
export type SnsPublishTaskState<N extends string = string> = TaskStateBase<
  typeof SNS_PUBLISH,
  SnsPublishParameters,
  N
>;

export interface WaitState<N extends string = string> {
  readonly Type: "Wait";
  readonly Comment?: string;
  readonly Seconds: number;
  readonly Next: N;
}

export type DataTest = { readonly Variable: string } & (
  | { readonly IsPresent: boolean }
  | { readonly IsBoolean: boolean }
  | { readonly BooleanEquals: boolean }
  | { readonly StringEquals: string }
  | { readonly IsString: boolean }
  | { readonly NumericGreaterThanEquals: number }
);
export type Condition =
  | DataTest
  | { readonly And: Condition[] }
  | { readonly Or: Condition[] }
  | { readonly Not: Condition };
export type ChoiceRule<N extends string = string> = Condition & { readonly Next: N };

export interface ChoiceState<N extends string = string> {
  readonly Type: "Choice";
  readonly Comment?: string;
  readonly Choices: ChoiceRule<N>[];
  readonly Default: N;
}

export interface SucceedState {
  readonly Type: "Succeed";
  readonly Comment?: string;
}

export interface FailState {
  readonly Type: "Fail";
  readonly Comment?: string;
  readonly Error: string;
  readonly Cause: string;
}

export type State<N extends string = string> =
  | PassState<N>
  | HttpTaskState<N>
  | SnsPublishTaskState<N>
  | WaitState<N>
  | ChoiceState<N>
  | SucceedState
  | FailState;

/** The error an HTTP Task fails with when the endpoint answers `status`. */
export const httpError = (status: number) => `States.Http.StatusCode.${status}`;

/** A whole definition: `States` maps each name of `N` to its state. */
export interface AslDefinition<N extends string, S extends { readonly [K in N]: State<N> }> {
  readonly Comment: string;
  readonly StartAt: N;
  readonly States: S;
}
