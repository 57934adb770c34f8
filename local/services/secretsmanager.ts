// Secrets Manager: the declared secret versions (by ARN), and the secret EventBridge keeps for
// each connection's credentials; GetSecretValue finds one by ARN or name.
import { arnFor, connectionSecretArn } from "../mocks";
import { AwsError, LocalServices } from "../awsEndpoint";
import { nameOf, Runtime, unsecret } from "./context";

export class SecretsManagerService {
  public readonly secrets = new Map<string, string>();

  constructor(private readonly rt: Runtime) {}

  build(): void {
    // A secret's id is its ARN in AWS; the mocks give ids of their own, so map them back.
    const secretArns = new Map(
      this.rt
        .of("aws:secretsmanager/secret:Secret")
        .map((x) => [`${x.name}-id`, arnFor(x.type, x.name, x.inputs)]),
    );
    for (const v of this.rt.of("aws:secretsmanager/secretVersion:SecretVersion")) {
      const secretString = unsecret(v.inputs.secretString);
      const id = String(v.inputs.secretId);
      if (secretString !== undefined)
        this.secrets.set(secretArns.get(id) ?? id, String(secretString));
    }
    for (const c of this.rt.of("aws:cloudwatch/eventConnection:EventConnection")) {
      const auth = unsecret(c.inputs.authParameters);
      const apiKey = auth?.apiKey ? { key: auth.apiKey.key, value: auth.apiKey.value } : undefined;
      // EventBridge stores connection credentials in a secret of its own.
      const secretArn = connectionSecretArn(nameOf(c));
      this.secrets.set(
        secretArn,
        JSON.stringify({ api_key_name: apiKey?.key, api_key_value: apiKey?.value }),
      );
    }
  }

  getSecretValue(id: string): { ARN: string; Name: string; SecretString: string } {
    for (const [arn, value] of this.secrets) {
      const name = arn.split(":secret:")[1]?.replace(/-[A-Za-z0-9]{6}$/, "");
      if (id === arn || id === name) return { ARN: arn, Name: name ?? arn, SecretString: value };
    }
    throw new AwsError(
      "ResourceNotFoundException",
      "Secrets Manager can't find the specified secret.",
    );
  }

  endpoint(): Pick<LocalServices, "getSecretValue"> {
    return { getSecretValue: async (id) => this.getSecretValue(id) };
  }
}
