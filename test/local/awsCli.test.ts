// The tests' way of running the AWS CLI (test/support/awsCli.ts) is the CLI itself: a command run
// through the forked entry point prints and exits exactly as the `aws` script run by a shell does.
import { expect } from "chai";
import { execFile, execFileSync } from "child_process";
import { AWS_CLI_V2, awsCli, awsCliLine, pathCliPython, plainAwsLine } from "../support/awsCli";

const run = (file: string, args: string[]) =>
  new Promise<{ code: number; stdout: string; stderr: string }>((resolve) =>
    execFile(file, args, { env: ENV, timeout: 60_000 }, (err, stdout, stderr) =>
      resolve({ code: err ? Number((err as { code?: number }).code ?? 1) : 0, stdout, stderr }),
    ),
  );

// Nothing listens on port 9 (discard): a command that sends a request fails the same way in both.
const ENV = {
  ...process.env,
  AWS_ACCESS_KEY_ID: "local",
  AWS_SECRET_ACCESS_KEY: "local",
  AWS_DEFAULT_REGION: "eu-west-1",
  AWS_MAX_ATTEMPTS: "1",
};
const COMMANDS: string[][] = [
  ["--version"],
  ["sqs", "list-queues", "--endpoint-url", "http://127.0.0.1:9"],
  ["events", "put-events"],
  ["no-such-service", "x"],
];

describe("the AWS CLI as the tests run it: forked from a process that imported it", function () {
  this.timeout(120_000);

  for (const args of COMMANDS)
    it(`aws ${args.join(" ")}: the v2's output and exit code, as /usr/bin/aws gives them`, async () => {
      const [direct, forked] = await Promise.all([run(AWS_CLI_V2, args), awsCli(args, ENV)]);
      expect(forked).to.deep.equal(direct);
    });

  it("a printed line through the `aws` on PATH: what bash running it gives", async () => {
    const python = pathCliPython();
    expect(python, "the aws on PATH is a Python script").to.be.a("string");
    const line = `aws events put-events --endpoint-url http://127.0.0.1:9 --entries '[{"Source":"a b","DetailType":"x","Detail":"{}"}]'`;
    expect(plainAwsLine(line)).to.equal(true);
    const [direct, forked] = await Promise.all([
      run("bash", ["-c", line]),
      awsCliLine(python!, line, ENV),
    ]);
    expect(forked).to.deep.equal(direct);
  });

  it("starts a new server when its server was killed: the next command still runs", async () => {
    expect((await awsCli(["--version"], ENV)).code).to.equal(0);
    const servers = execFileSync("ps", ["-o", "pid=,args=", "--ppid", String(process.pid)], {
      encoding: "utf8",
    })
      .split("\n")
      .filter((l) => l.includes("awsCliServer.py"))
      .map((l) => Number(l.trim().split(/\s+/)[0]));
    expect(servers).to.not.be.empty;
    for (const pid of servers) process.kill(pid, "SIGKILL");
    await new Promise((r) => setTimeout(r, 200));
    const again = await awsCli(["--version"], ENV);
    expect(again.code).to.equal(0);
    expect(again.stdout).to.match(/^aws-cli\/2\./);
  });

  it("takes only lines a shell splits without expanding anything", () => {
    expect(
      plainAwsLine(`aws sqs receive-message --queue-url "http://h/1/q" --attribute-names All`),
    ).to.equal(true);
    expect(plainAwsLine(`aws s3 ls '$HOME'`)).to.equal(true);
    for (const line of [
      "aws s3 ls $HOME",
      'aws s3 ls "$HOME"',
      "aws s3 ls `pwd`",
      "aws s3 ls *",
      "aws s3 ls | head",
      "aws s3 ls; rm x",
      "aws s3 ls > out",
      "aws s3 ls 'unterminated",
      "aws s3 ls ~/x",
      "echo aws s3 ls",
    ])
      expect(plainAwsLine(line), line).to.equal(false);
  });
});
