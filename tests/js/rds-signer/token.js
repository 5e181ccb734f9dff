// Prints the RDS IAM authentication token that AWS's own signer (@aws-sdk/rds-signer) builds,
// for comparison with ddb2pg's (tests/unit/aws/rds_auth_token_test.cpp).
//
//   node token.js '{"hostname":"…","port":5432,"username":"…","region":"…",
//                   "accessKeyId":"…","secretAccessKey":"…","sessionToken":"…","time":"2024-01-02T03:04:05Z"}'
//
// The signer reads the time from `new Date()`; the clock is pinned to `time` by replacing Date
// with a subclass whose argument-less constructor and now() return that instant.
"use strict";
const { Signer } = require("@aws-sdk/rds-signer");

const input = JSON.parse(process.argv[2]);
const pinned = Date.parse(input.time);
if (Number.isNaN(pinned)) throw new Error(`bad time ${input.time}`);
const RealDate = Date;
class PinnedDate extends RealDate {
  constructor(...args) {
    if (args.length === 0) super(pinned);
    else super(...args);
  }
  static now() { return pinned; }
}
globalThis.Date = PinnedDate;

const credentials = { accessKeyId: input.accessKeyId, secretAccessKey: input.secretAccessKey };
if (input.sessionToken) credentials.sessionToken = input.sessionToken;
const signer = new Signer({
  hostname: input.hostname,
  port: input.port,
  username: input.username,
  region: input.region,
  credentials,
});
signer.getAuthToken().then(
  (token) => process.stdout.write(token + "\n"),
  (error) => { process.stderr.write(String(error) + "\n"); process.exit(1); });
