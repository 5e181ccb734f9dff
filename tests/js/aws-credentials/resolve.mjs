// Resolves credentials with the AWS SDK for JavaScript v3's default Node.js chain
// (fromNodeProviderChain) in the environment it is given, and prints what it got as one JSON
// line: {"accessKeyId": "...", "expiration": "ISO-8601" | null}. The secret is never printed.
// Used by tests/integration/aws/credential_sdk_crosscheck_test.cpp to compare with ddb2pg.
import { fromNodeProviderChain } from "@aws-sdk/credential-providers";

try {
  const credentials = await fromNodeProviderChain()();
  console.log(JSON.stringify({
    accessKeyId: credentials.accessKeyId,
    expiration: credentials.expiration ? credentials.expiration.toISOString() : null,
  }));
} catch (error) {
  console.log(JSON.stringify({ error: String(error && error.message ? error.message : error) }));
  process.exitCode = 1;
}
