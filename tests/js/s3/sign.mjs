// Signs S3 requests with AWS's own SigV4 implementation (@smithy/signature-v4, what
// @aws-sdk/client-s3 signs with), for tests/unit/aws/s3_client_test.cpp, which signs the same
// requests with ddb2pg's signer and compares the Authorization headers byte for byte. s3rver does
// not verify signatures, so this is the check that S3 signing matches the SDK's.
//
//   node sign.mjs REQUESTS_JSON   → prints one Authorization header per request, one per line
// Each request: {"method","host","path" (encoded once),"query" (decoded),"headers","body"}; signed
// as AKIDEXAMPLE / wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY, us-east-1, at 2026-01-01T00:00:00Z.
import { SignatureV4 } from "@smithy/signature-v4";
import { createHash, createHmac } from "node:crypto";

class Sha256 {
  constructor(secret) {
    this.hash = secret ? createHmac("sha256", Buffer.from(secret)) : createHash("sha256");
  }
  update(data) {
    this.hash.update(typeof data === "string" ? Buffer.from(data, "utf8") : Buffer.from(data));
  }
  async digest() {
    return new Uint8Array(this.hash.digest());
  }
}

const signer = new SignatureV4({
  service: "s3",
  region: "us-east-1",
  credentials: { accessKeyId: "AKIDEXAMPLE", secretAccessKey: "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY" },
  sha256: Sha256,
  uriEscapePath: false,
  applyChecksum: true,
});
for (const request of JSON.parse(process.argv[2])) {
  const signed = await signer.sign(
    { protocol: "http:", hostname: request.host, method: request.method, path: request.path,
      query: request.query, headers: { host: request.host, ...request.headers }, body: request.body },
    { signingDate: new Date("2026-01-01T00:00:00Z") });
  console.log(signed.headers.authorization);
}
