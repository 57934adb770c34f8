// The credentials the local run signs its own calls with: its SDK clients (to its AWS endpoint and
// to moto_server), its functions' sandboxes and the AWS CLI commands it prints. Its endpoint and
// moto_server accept them. No AWS account has them.
export const LOCAL_CREDENTIALS = { accessKeyId: "local", secretAccessKey: "local" } as const;
