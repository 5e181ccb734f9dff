// The local S3 server of the tests: s3rver (pinned in package-lock.json), started by
// scripts/servers on a loopback port with the bucket ddb2pg-test.
//
//   node server.mjs DATA_DIR PORT
//
// DynamoDB Local takes any access key (each selects a database of its own) and the tests'
// sources sign every AWS call with that key; s3rver knows only the key "S3RVER". Any other key is
// taken as that account here, so a source reaches both servers with one set of credentials.
// s3rver does not check SigV4 signatures at all (its "Signature version 4 calculation is
// unimplemented"): ddb2pg's S3 signing is checked against AWS's published S3 examples
// and against the AWS SDK's own signer (sign.mjs), both in tests/unit/aws/s3_client_test.cpp.
import S3rver from "s3rver";
import AWSAccount from "s3rver/lib/models/account.js";

const [directory, port] = process.argv.slice(2);
const lookup = AWSAccount.registry.get.bind(AWSAccount.registry);
AWSAccount.registry.get = (accessKeyId) => lookup(accessKeyId) ?? AWSAccount.DUMMY_ACCOUNT;

const server = new S3rver({
  address: "127.0.0.1",
  port: Number(port),
  directory,
  silent: true,
  vhostBuckets: false,
  configureBuckets: [{ name: "ddb2pg-test", configs: [] }],
});
await server.run();
process.on("SIGTERM", async () => {
  await server.close();
  process.exit(0);
});
