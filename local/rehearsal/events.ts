// EventBridge: the bus, its archive, the connection and API destination, rules and their targets,
// with the parameters the AWS provider sends for each input.
import {
  CreateApiDestinationCommand,
  CreateArchiveCommand,
  CreateConnectionCommand,
  CreateEventBusCommand,
  DescribeConnectionCommand,
  PutRuleCommand,
  PutTargetsCommand,
} from "@aws-sdk/client-eventbridge";
import { defined, nonEmpty, TypeRehearsal } from "./step";

type KV = { key: string; value: string; isValueSecret?: boolean };
const keyValues = (list: KV[] | undefined) =>
  nonEmpty(list?.map((p) => ({ Key: p.key, Value: p.value, IsValueSecret: p.isValueSecret })));

export const eventsRehearsals: Record<string, TypeRehearsal> = {
  "aws:cloudwatch/eventBus:EventBus": {
    operations: ["CreateEventBus"],
    async apply(s) {
      const out = await s.send(
        "CreateEventBus",
        { Name: "name", Description: "description", KmsKeyIdentifier: "kmsKeyIdentifier" },
        () =>
          s.clients.events.send(
            new CreateEventBusCommand(
              defined({
                Name: s.name,
                Description: s.inputs.description,
                EventSourceName: s.inputs.eventSourceName,
                KmsKeyIdentifier: s.inputs.kmsKeyIdentifier,
              }),
            ),
          ),
      );
      return { outputs: { id: s.name, arn: out.EventBusArn } };
    },
  },

  "aws:cloudwatch/eventArchive:EventArchive": {
    operations: ["CreateArchive"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateArchive",
        {
          ArchiveName: "name",
          EventSourceArn: "eventSourceArn",
          EventPattern: "eventPattern",
          RetentionDays: "retentionDays",
          Description: "description",
        },
        () =>
          s.clients.events.send(
            new CreateArchiveCommand(
              defined({
                ArchiveName: s.name,
                EventSourceArn: i.eventSourceArn,
                Description: i.description,
                EventPattern: i.eventPattern,
                RetentionDays: i.retentionDays,
              }),
            ),
          ),
      );
      return { outputs: { id: s.name, arn: out.ArchiveArn } };
    },
  },

  "aws:cloudwatch/eventConnection:EventConnection": {
    operations: ["CreateConnection", "DescribeConnection"],
    async apply(s) {
      const i = s.inputs;
      const a = i.authParameters ?? {};
      const http = a.invocationHttpParameters;
      const AuthParameters = defined({
        ApiKeyAuthParameters: a.apiKey
          ? { ApiKeyName: a.apiKey.key, ApiKeyValue: a.apiKey.value }
          : undefined,
        BasicAuthParameters: a.basic
          ? { Username: a.basic.username, Password: a.basic.password }
          : undefined,
        OAuthParameters: a.oauth
          ? defined({
              AuthorizationEndpoint: a.oauth.authorizationEndpoint,
              HttpMethod: a.oauth.httpMethod,
              ClientParameters: a.oauth.clientParameters
                ? {
                    ClientID: a.oauth.clientParameters.clientId,
                    ClientSecret: a.oauth.clientParameters.clientSecret,
                  }
                : undefined,
            })
          : undefined,
        InvocationHttpParameters: http
          ? defined({
              BodyParameters: keyValues(http.bodies),
              HeaderParameters: keyValues(http.headers),
              QueryStringParameters: keyValues(http.queryStrings),
            })
          : undefined,
      });
      const out = await s.send(
        "CreateConnection",
        {
          Name: "name",
          AuthorizationType: "authorizationType",
          AuthParameters: "authParameters",
          ApiKeyName: "authParameters.apiKey.key",
          ApiKeyValue: "authParameters.apiKey.value",
          Description: "description",
        },
        () =>
          s.clients.events.send(
            new CreateConnectionCommand(
              defined({
                Name: s.name,
                Description: i.description,
                AuthorizationType: i.authorizationType,
                AuthParameters,
              }),
            ),
          ),
      );
      // The connection keeps its credentials in a secret EventBridge manages: the secret's ARN is
      // what the verification workflow's role may read.
      const described = await s.send("DescribeConnection", { Name: "name" }, () =>
        s.clients.events.send(new DescribeConnectionCommand({ Name: s.name })),
      );
      return {
        outputs: { id: s.name, arn: out.ConnectionArn, secretArn: described.SecretArn },
      };
    },
  },

  "aws:cloudwatch/eventApiDestination:EventApiDestination": {
    operations: ["CreateApiDestination"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateApiDestination",
        {
          Name: "name",
          ConnectionArn: "connectionArn",
          InvocationEndpoint: "invocationEndpoint",
          HttpMethod: "httpMethod",
          InvocationRateLimitPerSecond: "invocationRateLimitPerSecond",
          Description: "description",
        },
        () =>
          s.clients.events.send(
            new CreateApiDestinationCommand(
              defined({
                Name: s.name,
                Description: i.description,
                ConnectionArn: i.connectionArn,
                InvocationEndpoint: i.invocationEndpoint,
                HttpMethod: i.httpMethod,
                InvocationRateLimitPerSecond: i.invocationRateLimitPerSecond,
              }),
            ),
          ),
      );
      return { outputs: { id: s.name, arn: out.ApiDestinationArn } };
    },
  },

  "aws:cloudwatch/eventRule:EventRule": {
    operations: ["PutRule"],
    async apply(s) {
      const i = s.inputs;
      const bus = i.eventBusName ?? "default";
      const out = await s.send(
        "PutRule",
        {
          Name: "name",
          EventBusName: "eventBusName",
          EventPattern: "eventPattern",
          ScheduleExpression: "scheduleExpression",
          State: "state",
          Description: "description",
          RoleArn: "roleArn",
        },
        () =>
          s.clients.events.send(
            new PutRuleCommand(
              defined({
                Name: s.name,
                EventBusName: i.eventBusName,
                EventPattern: i.eventPattern,
                ScheduleExpression: i.scheduleExpression,
                State: i.state ?? (i.isEnabled === false ? "DISABLED" : "ENABLED"),
                Description: i.description,
                RoleArn: i.roleArn,
              }),
            ),
          ),
      );
      // The provider's id of a rule on a custom bus is "<bus>/<rule>".
      return { outputs: { id: bus === "default" ? s.name : `${bus}/${s.name}`, arn: out.RuleArn } };
    },
  },

  "aws:cloudwatch/eventTarget:EventTarget": {
    operations: ["PutTargets"],
    async apply(s) {
      const i = s.inputs;
      const t = i.inputTransformer;
      const http = i.httpParameters;
      const target = defined({
        Id: i.targetId ?? s.resource.name,
        Arn: i.arn,
        RoleArn: i.roleArn,
        Input: i.input,
        InputPath: i.inputPath,
        InputTransformer: t
          ? defined({ InputPathsMap: nonEmpty(t.inputPaths), InputTemplate: t.inputTemplate })
          : undefined,
        RetryPolicy: i.retryPolicy
          ? defined({
              MaximumRetryAttempts: i.retryPolicy.maximumRetryAttempts,
              MaximumEventAgeInSeconds: i.retryPolicy.maximumEventAgeInSeconds,
            })
          : undefined,
        DeadLetterConfig: i.deadLetterConfig ? { Arn: i.deadLetterConfig.arn } : undefined,
        HttpParameters: http
          ? defined({
              HeaderParameters: nonEmpty(http.headerParameters),
              PathParameterValues: nonEmpty(http.pathParameterValues),
              QueryStringParameters: nonEmpty(http.queryStringParameters),
            })
          : undefined,
        SqsParameters: i.sqsTarget ? { MessageGroupId: i.sqsTarget.messageGroupId } : undefined,
        KinesisParameters: i.kinesisTarget
          ? { PartitionKeyPath: i.kinesisTarget.partitionKeyPath }
          : undefined,
      });
      const inputsOf = {
        Rule: "rule",
        EventBusName: "eventBusName",
        Id: "targetId",
        Arn: "arn",
        RoleArn: "roleArn",
        Input: "input",
        InputPath: "inputPath",
        InputTransformer: "inputTransformer",
        InputPathsMap: "inputTransformer.inputPaths",
        InputTemplate: "inputTransformer.inputTemplate",
        RetryPolicy: "retryPolicy",
        MaximumRetryAttempts: "retryPolicy.maximumRetryAttempts",
        MaximumEventAgeInSeconds: "retryPolicy.maximumEventAgeInSeconds",
        DeadLetterConfig: "deadLetterConfig.arn",
        HttpParameters: "httpParameters",
      };
      await s.send("PutTargets", inputsOf, async () => {
        const answer = await s.clients.events.send(
          new PutTargetsCommand(
            defined({ Rule: i.rule, EventBusName: i.eventBusName, Targets: [target] }),
          ),
        );
        // PutTargets answers 200 with the targets it refused: the provider fails on them too.
        const failed = answer.FailedEntries?.[0];
        if ((answer.FailedEntryCount ?? 0) > 0 && failed)
          throw Object.assign(new Error(failed.ErrorMessage ?? "target refused"), {
            name: failed.ErrorCode ?? "FailedEntry",
          });
        return answer;
      });
      return { outputs: { id: `${i.eventBusName ?? "default"}-${i.rule}-${target.Id}` } };
    },
  },
};
