// IAM roles and policies, CloudWatch log groups, Step Functions state machines and Lambda functions
// (code, URL, permissions, event source mappings, asynchronous invocation settings).
import {
  CreateLogGroupCommand,
  PutResourcePolicyCommand,
  PutRetentionPolicyCommand,
} from "@aws-sdk/client-cloudwatch-logs";
import {
  AttachRolePolicyCommand,
  CreatePolicyCommand,
  CreateRoleCommand,
  PutRolePolicyCommand,
} from "@aws-sdk/client-iam";
import {
  AddPermissionCommand,
  CreateEventSourceMappingCommand,
  CreateFunctionCommand,
  CreateFunctionUrlConfigCommand,
  PutFunctionConcurrencyCommand,
  PutFunctionEventInvokeConfigCommand,
} from "@aws-sdk/client-lambda";
import { CreateStateMachineCommand } from "@aws-sdk/client-sfn";
import { defined, nonEmpty, Step, TypeRehearsal } from "./step";
import { writeZip } from "../../lib/zip";

/** The code of a function whose archive this process does not hold: it answers with an error. */
const PLACEHOLDER_CODE =
  'exports.handler = async () => { throw new Error("placeholder: the rehearsal had no archive of this function"); };\n';

/** The role a policy or attachment names (its name, or its ARN). */
const roleName = (role: string) => role.replace(/^arn:aws:iam::\d+:role\/(?:.*\/)?/, "");

/** The function a permission or setting names: its name, or its ARN (kept: Lambda takes both). */
const functionOf = (s: Step, input: string) => s.inputs[input] as string;

const destination = (d?: { destination?: string; destinationArn?: string }) =>
  d ? { Destination: d.destination ?? d.destinationArn } : undefined;

export const computeRehearsals: Record<string, TypeRehearsal> = {
  "aws:iam/role:Role": {
    operations: ["CreateRole", "PutRolePolicy", "AttachRolePolicy"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateRole",
        {
          RoleName: "name",
          AssumeRolePolicyDocument: "assumeRolePolicy",
          Description: "description",
          Path: "path",
          MaxSessionDuration: "maxSessionDuration",
          PermissionsBoundary: "permissionsBoundary",
        },
        () =>
          s.clients.iam.send(
            new CreateRoleCommand(
              defined({
                RoleName: s.name,
                AssumeRolePolicyDocument: i.assumeRolePolicy,
                Description: i.description,
                Path: i.path,
                MaxSessionDuration: i.maxSessionDuration,
                PermissionsBoundary: i.permissionsBoundary,
              }),
            ),
          ),
      );
      // Policies the Role resource itself carries (the separate RolePolicy resources come later).
      for (const p of i.inlinePolicies ?? [])
        if (p.name && p.policy)
          await s.send(
            "PutRolePolicy",
            { PolicyName: "inlinePolicies[].name", PolicyDocument: "inlinePolicies[].policy" },
            () =>
              s.clients.iam.send(
                new PutRolePolicyCommand({
                  RoleName: s.name,
                  PolicyName: p.name,
                  PolicyDocument: p.policy,
                }),
              ),
          );
      for (const arn of i.managedPolicyArns ?? [])
        await s.send("AttachRolePolicy", { PolicyArn: "managedPolicyArns" }, () =>
          s.clients.iam.send(new AttachRolePolicyCommand({ RoleName: s.name, PolicyArn: arn })),
        );
      return { outputs: { id: s.name, arn: out.Role?.Arn } };
    },
  },

  "aws:iam/rolePolicy:RolePolicy": {
    operations: ["PutRolePolicy"],
    async apply(s) {
      const role = roleName(s.inputs.role);
      await s.send(
        "PutRolePolicy",
        { RoleName: "role", PolicyName: "name", PolicyDocument: "policy", Policy: "policy" },
        () =>
          s.clients.iam.send(
            new PutRolePolicyCommand({
              RoleName: role,
              PolicyName: s.name,
              PolicyDocument: s.inputs.policy,
            }),
          ),
      );
      return { outputs: { id: `${role}:${s.name}` } };
    },
  },

  "aws:iam/rolePolicyAttachment:RolePolicyAttachment": {
    operations: ["AttachRolePolicy"],
    async apply(s) {
      const role = roleName(s.inputs.role);
      const awsManaged = String(s.inputs.policyArn).startsWith("arn:aws:iam::aws:policy/");
      await s.send("AttachRolePolicy", { RoleName: "role", PolicyArn: "policyArn" }, async () => {
        try {
          return await s.clients.iam.send(
            new AttachRolePolicyCommand({ RoleName: role, PolicyArn: s.inputs.policyArn }),
          );
        } catch (e) {
          // moto holds AWS-managed policies only when started to load them.
          if (awsManaged && (e as Error).name === "NoSuchEntityException")
            (e as Error).message +=
              " (moto has AWS-managed policies only when started with MOTO_IAM_LOAD_MANAGED_POLICIES=true: REHEARSAL_MOTO_ENV)";
          throw e;
        }
      });
      return { outputs: { id: `${role}-${s.resource.name}` } };
    },
  },

  "aws:iam/policy:Policy": {
    operations: ["CreatePolicy"],
    async apply(s) {
      const out = await s.send(
        "CreatePolicy",
        { PolicyName: "name", PolicyDocument: "policy", Description: "description", Path: "path" },
        () =>
          s.clients.iam.send(
            new CreatePolicyCommand(
              defined({
                PolicyName: s.name,
                PolicyDocument: s.inputs.policy,
                Description: s.inputs.description,
                Path: s.inputs.path,
              }),
            ),
          ),
      );
      return { outputs: { id: out.Policy?.Arn, arn: out.Policy?.Arn } };
    },
  },

  "aws:cloudwatch/logGroup:LogGroup": {
    operations: ["CreateLogGroup", "PutRetentionPolicy"],
    async apply(s) {
      const i = s.inputs;
      await s.send(
        "CreateLogGroup",
        { logGroupName: "name", kmsKeyId: "kmsKeyId", logGroupClass: "logGroupClass" },
        () =>
          s.clients.logs.send(
            new CreateLogGroupCommand(
              defined({
                logGroupName: s.name,
                kmsKeyId: i.kmsKeyId,
                logGroupClass: i.logGroupClass,
              }),
            ),
          ),
      );
      if (i.retentionInDays !== undefined && i.retentionInDays !== 0)
        await s.send("PutRetentionPolicy", { retentionInDays: "retentionInDays" }, () =>
          s.clients.logs.send(
            new PutRetentionPolicyCommand({
              logGroupName: s.name,
              retentionInDays: i.retentionInDays,
            }),
          ),
        );
      return {
        outputs: { id: s.name, arn: `arn:aws:logs:${s.region}:${s.account}:log-group:${s.name}` },
      };
    },
  },

  "aws:cloudwatch/logResourcePolicy:LogResourcePolicy": {
    operations: ["PutResourcePolicy"],
    async apply(s) {
      await s.send(
        "PutResourcePolicy",
        { policyName: "policyName", policyDocument: "policyDocument" },
        () =>
          s.clients.logs.send(
            new PutResourcePolicyCommand({
              policyName: s.inputs.policyName,
              policyDocument: s.inputs.policyDocument,
            }),
          ),
      );
      return { outputs: { id: s.inputs.policyName } };
    },
  },

  "aws:sfn/stateMachine:StateMachine": {
    operations: ["CreateStateMachine"],
    async apply(s) {
      const i = s.inputs;
      const log = i.loggingConfiguration;
      const out = await s.send(
        "CreateStateMachine",
        {
          name: "name",
          definition: "definition",
          roleArn: "roleArn",
          type: "type",
          loggingConfiguration: "loggingConfiguration",
          level: "loggingConfiguration.level",
          logGroupArn: "loggingConfiguration.logDestination",
          tracingConfiguration: "tracingConfiguration",
        },
        () =>
          s.clients.sfn.send(
            new CreateStateMachineCommand(
              defined({
                name: s.name,
                definition: i.definition,
                roleArn: i.roleArn,
                type: i.type,
                loggingConfiguration: log
                  ? defined({
                      level: log.level,
                      includeExecutionData: log.includeExecutionData,
                      destinations: log.logDestination
                        ? [{ cloudWatchLogsLogGroup: { logGroupArn: log.logDestination } }]
                        : undefined,
                    })
                  : undefined,
                tracingConfiguration: i.tracingConfiguration
                  ? { enabled: i.tracingConfiguration.enabled }
                  : undefined,
                publish: i.publish,
              }),
            ),
          ),
      );
      if (i.type && i.type !== "STANDARD")
        s.note(
          `moto 5.2.1 keeps every state machine STANDARD: type ${i.type} was sent but is not kept`,
        );
      return { outputs: { id: out.stateMachineArn, arn: out.stateMachineArn } };
    },
  },

  "aws:lambda/function:Function": {
    operations: ["CreateFunction", "PutFunctionConcurrency"],
    async apply(s) {
      const i = s.inputs;
      let code = await s.code(s.resource.name);
      if (!code) {
        s.note("placeholder code: no archive of this function in this process");
        code = writeZip([{ name: "__index.js", data: Buffer.from(PLACEHOLDER_CODE) }]);
      }
      const zipFile = code;
      const out = await s.send(
        "CreateFunction",
        {
          FunctionName: "name",
          Role: "role",
          Runtime: "runtime",
          Handler: "handler",
          ZipFile: "code",
          Description: "description",
          Timeout: "timeout",
          MemorySize: "memorySize",
          Architectures: "architectures",
          Variables: "environment.variables",
          Environment: "environment",
          LoggingConfig: "loggingConfig",
          LogGroup: "loggingConfig.logGroup",
          LogFormat: "loggingConfig.logFormat",
          TracingConfig: "tracingConfig",
          DeadLetterConfig: "deadLetterConfig",
          Layers: "layers",
        },
        () =>
          s.clients.lambda.send(
            new CreateFunctionCommand(
              defined({
                FunctionName: s.name,
                Role: i.role,
                Runtime: i.runtime,
                Handler: i.handler,
                Code: { ZipFile: zipFile },
                Description: i.description,
                Timeout: i.timeout,
                MemorySize: i.memorySize,
                Architectures: nonEmpty(i.architectures),
                Environment: i.environment?.variables
                  ? { Variables: i.environment.variables }
                  : undefined,
                LoggingConfig: i.loggingConfig
                  ? defined({
                      LogFormat: i.loggingConfig.logFormat,
                      LogGroup: i.loggingConfig.logGroup,
                      ApplicationLogLevel: i.loggingConfig.applicationLogLevel,
                      SystemLogLevel: i.loggingConfig.systemLogLevel,
                    })
                  : undefined,
                TracingConfig: i.tracingConfig ? { Mode: i.tracingConfig.mode } : undefined,
                DeadLetterConfig: i.deadLetterConfig
                  ? { TargetArn: i.deadLetterConfig.targetArn }
                  : undefined,
                Layers: nonEmpty(i.layers),
                Publish: i.publish,
              }),
            ),
          ),
      );
      // -1 (the provider's default) leaves the function unreserved.
      if (i.reservedConcurrentExecutions !== undefined && i.reservedConcurrentExecutions >= 0)
        await s.send(
          "PutFunctionConcurrency",
          { ReservedConcurrentExecutions: "reservedConcurrentExecutions" },
          () =>
            s.clients.lambda.send(
              new PutFunctionConcurrencyCommand({
                FunctionName: s.name,
                ReservedConcurrentExecutions: i.reservedConcurrentExecutions,
              }),
            ),
        );
      const arn = out.FunctionArn!;
      return {
        outputs: {
          id: s.name,
          arn,
          invokeArn: `arn:aws:apigateway:${s.region}:lambda:path/2015-03-31/functions/${arn}/invocations`,
        },
      };
    },
  },

  "aws:lambda/functionUrl:FunctionUrl": {
    operations: ["CreateFunctionUrlConfig"],
    async apply(s) {
      const i = s.inputs;
      const cors = i.cors;
      const out = await s.send(
        "CreateFunctionUrlConfig",
        {
          FunctionName: "functionName",
          AuthType: "authorizationType",
          InvokeMode: "invokeMode",
          Qualifier: "qualifier",
          Cors: "cors",
        },
        () =>
          s.clients.lambda.send(
            new CreateFunctionUrlConfigCommand(
              defined({
                FunctionName: functionOf(s, "functionName"),
                Qualifier: i.qualifier,
                AuthType: i.authorizationType,
                InvokeMode: i.invokeMode,
                Cors: cors
                  ? defined({
                      AllowCredentials: cors.allowCredentials,
                      AllowHeaders: nonEmpty(cors.allowHeaders),
                      AllowMethods: nonEmpty(cors.allowMethods),
                      AllowOrigins: nonEmpty(cors.allowOrigins),
                      ExposeHeaders: nonEmpty(cors.exposeHeaders),
                      MaxAge: cors.maxAge,
                    })
                  : undefined,
              }),
            ),
          ),
      );
      return { outputs: { id: i.functionName, functionUrl: out.FunctionUrl } };
    },
  },

  "aws:lambda/permission:Permission": {
    operations: ["AddPermission"],
    async apply(s) {
      const i = s.inputs;
      const statementId = i.statementId ?? s.resource.name;
      await s.send(
        "AddPermission",
        {
          FunctionName: "function",
          StatementId: "statementId",
          Action: "action",
          Principal: "principal",
          SourceArn: "sourceArn",
          SourceAccount: "sourceAccount",
          Qualifier: "qualifier",
          FunctionUrlAuthType: "functionUrlAuthType",
          InvokedViaFunctionUrl: "invokedViaFunctionUrl",
          EventSourceToken: "eventSourceToken",
          PrincipalOrgID: "principalOrgId",
        },
        () =>
          s.clients.lambda.send(
            new AddPermissionCommand(
              defined({
                FunctionName: functionOf(s, "function"),
                StatementId: statementId,
                Action: i.action,
                Principal: i.principal,
                SourceArn: i.sourceArn,
                SourceAccount: i.sourceAccount,
                Qualifier: i.qualifier,
                FunctionUrlAuthType: i.functionUrlAuthType,
                InvokedViaFunctionUrl: i.invokedViaFunctionUrl,
                EventSourceToken: i.eventSourceToken,
                PrincipalOrgID: i.principalOrgId,
              }),
            ),
          ),
      );
      return { outputs: { id: statementId } };
    },
  },

  "aws:lambda/eventSourceMapping:EventSourceMapping": {
    operations: ["CreateEventSourceMapping"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateEventSourceMapping",
        {
          EventSourceArn: "eventSourceArn",
          FunctionName: "functionName",
          BatchSize: "batchSize",
          StartingPosition: "startingPosition",
          BisectBatchOnFunctionError: "bisectBatchOnFunctionError",
          MaximumBatchingWindowInSeconds: "maximumBatchingWindowInSeconds",
          MaximumRecordAgeInSeconds: "maximumRecordAgeInSeconds",
          MaximumRetryAttempts: "maximumRetryAttempts",
          ParallelizationFactor: "parallelizationFactor",
          FunctionResponseTypes: "functionResponseTypes",
          DestinationConfig: "destinationConfig",
          Destination: "destinationConfig.onFailure.destinationArn",
        },
        () =>
          s.clients.lambda.send(
            new CreateEventSourceMappingCommand(
              defined({
                EventSourceArn: i.eventSourceArn,
                FunctionName: functionOf(s, "functionName"),
                Enabled: i.enabled,
                BatchSize: i.batchSize,
                StartingPosition: i.startingPosition,
                BisectBatchOnFunctionError: i.bisectBatchOnFunctionError,
                MaximumBatchingWindowInSeconds: i.maximumBatchingWindowInSeconds,
                MaximumRecordAgeInSeconds: i.maximumRecordAgeInSeconds,
                MaximumRetryAttempts: i.maximumRetryAttempts,
                ParallelizationFactor: i.parallelizationFactor,
                TumblingWindowInSeconds: i.tumblingWindowInSeconds,
                FunctionResponseTypes: nonEmpty(i.functionResponseTypes),
                DestinationConfig: i.destinationConfig
                  ? defined({ OnFailure: destination(i.destinationConfig.onFailure) })
                  : undefined,
                FilterCriteria: i.filterCriteria?.filters
                  ? {
                      Filters: i.filterCriteria.filters.map((f: { pattern: string }) => ({
                        Pattern: f.pattern,
                      })),
                    }
                  : undefined,
              }),
            ),
          ),
      );
      return { outputs: { id: out.UUID, arn: out.EventSourceMappingArn } };
    },
  },

  "aws:lambda/functionEventInvokeConfig:FunctionEventInvokeConfig": {
    operations: ["PutFunctionEventInvokeConfig"],
    async apply(s) {
      const i = s.inputs;
      const d = i.destinationConfig;
      await s.send(
        "PutFunctionEventInvokeConfig",
        {
          FunctionName: "functionName",
          Qualifier: "qualifier",
          MaximumRetryAttempts: "maximumRetryAttempts",
          MaximumEventAgeInSeconds: "maximumEventAgeInSeconds",
          DestinationConfig: "destinationConfig",
          Destination: "destinationConfig.onFailure.destination",
        },
        () =>
          s.clients.lambda.send(
            new PutFunctionEventInvokeConfigCommand(
              defined({
                FunctionName: functionOf(s, "functionName"),
                Qualifier: i.qualifier,
                MaximumRetryAttempts: i.maximumRetryAttempts,
                MaximumEventAgeInSeconds: i.maximumEventAgeInSeconds,
                DestinationConfig: d
                  ? defined({
                      OnFailure: destination(d.onFailure),
                      OnSuccess: destination(d.onSuccess),
                    })
                  : undefined,
              }),
            ),
          ),
      );
      return { outputs: { id: i.functionName } };
    },
  },
};
