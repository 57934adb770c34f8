// What the local run needs once the program is declared: the service modules built from it (all
// but moto and the sample subscriber, which start before it is evaluated), the AWS endpoint, the
// control and console servers, and the first-run banner. SwitchyardLocal loads this module while
// esbuild bundles the program's functions in its own process (local/program.ts, `meanwhile`):
// transpiling and loading these 34 files (about 325 KB of TypeScript) fills a wait in which this
// process would otherwise sit idle, instead of coming before the evaluation.
export { createAwsEndpoint } from "./awsEndpoint";
export { LOCAL_CALLER_CREDENTIALS } from "./apigateway";
export { pipelineTarget } from "./pipelineScenarios";
export { DynamoDbService } from "./services/dynamodb";
export { SqsService } from "./services/sqs";
export { SnsService } from "./services/sns";
export { S3Service } from "./services/s3";
export { SecretsManagerService } from "./services/secretsmanager";
export { EventBridgeService } from "./services/eventbridge";
export { StepFunctionsService } from "./services/stepfunctions";
export { LambdaService } from "./services/lambda";
export { FunctionUrlsService } from "./services/functionUrls";
export { RestApisService } from "./services/restApis";
export { RecordsApiService } from "./services/records";
export { ControlService } from "./services/control";
export { CONSOLE_MAX_BODY_BYTES, ConsoleServer } from "./console/server";
export {
  consoleLines,
  demoTenant,
  ingressTenant,
  inspectLines,
  issueDemoTenantKey,
  outboundLines,
  secretSource,
  webhookLines,
  webhookReceivers,
} from "./firstRun";
