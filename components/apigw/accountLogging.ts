import * as aws from "@pulumi/aws";
import * as pulumi from "@pulumi/pulumi";

/** AWS's managed policy for exactly this role (create and write API Gateway log groups). */
export const PUSH_TO_CLOUDWATCH_POLICY =
  "arn:aws:iam::aws:policy/service-role/AmazonAPIGatewayPushToCloudWatchLogs";

/**
 * The account-and-region API Gateway setting that lets API Gateway write logs: without it a stage
 * with access logging fails to deploy. It is a singleton per account and region, so exactly one
 * stack per account and region should declare it (`apiGatewayAccountLogging`); the role serves
 * every REST API of the region, hence AWS's managed policy rather than one scoped to our groups.
 */
export class ApiGatewayAccountLogging extends pulumi.ComponentResource {
  public readonly role: aws.iam.Role;
  public readonly account: aws.apigateway.Account;

  constructor(name: string, opts?: pulumi.ComponentResourceOptions) {
    super("switchyard:apigw:AccountLogging", name, {}, opts);
    this.role = new aws.iam.Role(
      name,
      {
        description: "API Gateway writes access and execution logs to CloudWatch Logs",
        // AWS documents this trust without conditions; it does not say which source keys API
        // Gateway sends when it assumes the role, and a wrong condition silently stops all logs.
        assumeRolePolicy: JSON.stringify({
          Version: "2012-10-17",
          Statement: [
            {
              Effect: "Allow",
              Principal: { Service: "apigateway.amazonaws.com" },
              Action: "sts:AssumeRole",
            },
          ],
        }),
      },
      { parent: this },
    );
    const attachment = new aws.iam.RolePolicyAttachment(
      name,
      { role: this.role.name, policyArn: PUSH_TO_CLOUDWATCH_POLICY },
      { parent: this },
    );
    this.account = new aws.apigateway.Account(
      name,
      { cloudwatchRoleArn: this.role.arn },
      { parent: this, dependsOn: [attachment] },
    );
    this.registerOutputs({ roleArn: this.role.arn });
  }
}
