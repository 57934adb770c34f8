// WAFv2 web ACLs and their association with an API Gateway stage.
import { AssociateWebACLCommand, CreateWebACLCommand } from "@aws-sdk/client-wafv2";
import { defined, TypeRehearsal } from "./step";

/** Field names whose API spelling is not the input's with a capital first letter. */
const API_NAMES: Readonly<Record<string, string>> = {
  cloudwatchMetricsEnabled: "CloudWatchMetricsEnabled",
  arn: "ARN",
  ipSetReferenceStatement: "IPSetReferenceStatement",
  ipSetForwardedIpConfig: "IPSetForwardedIPConfig",
  forwardedIpConfig: "ForwardedIPConfig",
  sqliMatchStatement: "SqliMatchStatement",
  xssMatchStatement: "XssMatchStatement",
  uriPath: "UriPath",
};

/**
 * A WAF rule, action or statement block as the API spells it: the provider expands each nested
 * block field by field, which for WAFv2 is the input's name with a capital first letter.
 */
function asApi(v: unknown): any {
  if (Array.isArray(v)) return v.map(asApi);
  if (v && typeof v === "object")
    return Object.fromEntries(
      Object.entries(v as Record<string, unknown>)
        .filter(([, x]) => x !== undefined)
        .map(([k, x]) => [API_NAMES[k] ?? k.charAt(0).toUpperCase() + k.slice(1), asApi(x)]),
    );
  return v;
}

export const wafRehearsals: Record<string, TypeRehearsal> = {
  "aws:wafv2/webAcl:WebAcl": {
    operations: ["CreateWebACL"],
    async apply(s) {
      const i = s.inputs;
      const out = await s.send(
        "CreateWebACL",
        {
          Name: "name",
          Scope: "scope",
          DefaultAction: "defaultAction",
          Rules: "rules",
          VisibilityConfig: "visibilityConfig",
          MetricName: "visibilityConfig.metricName",
          Description: "description",
        },
        () =>
          s.clients.wafv2.send(
            new CreateWebACLCommand(
              defined({
                Name: s.name,
                Scope: i.scope,
                Description: i.description,
                DefaultAction: asApi(i.defaultAction),
                Rules: asApi(i.rules ?? []),
                VisibilityConfig: asApi(i.visibilityConfig),
              }),
            ),
          ),
      );
      return { outputs: { id: out.Summary?.Id, arn: out.Summary?.ARN } };
    },
  },

  "aws:wafv2/webAclAssociation:WebAclAssociation": {
    operations: ["AssociateWebACL"],
    async apply(s) {
      await s.send("AssociateWebACL", { WebACLArn: "webAclArn", ResourceArn: "resourceArn" }, () =>
        s.clients.wafv2.send(
          new AssociateWebACLCommand({
            WebACLArn: s.inputs.webAclArn,
            ResourceArn: s.inputs.resourceArn,
          }),
        ),
      );
      return { outputs: { id: `${s.inputs.webAclArn},${s.inputs.resourceArn}` } };
    },
  },
};
