// The account and region the program is evaluated in under the mocks, and that the local run
// serves: the ARNs the mocks make, the region of every local client, function sandbox and printed
// AWS CLI command. A module of its own, so that what only needs these two (the ops script, the
// function sandboxes' host) does not load Pulumi with local/mocks.ts.
export const ACCOUNT = "123456789012";
export const REGION = "eu-west-1";
