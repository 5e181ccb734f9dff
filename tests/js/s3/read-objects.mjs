// Reads every object under a prefix with AWS's own S3 client (@aws-sdk/client-s3, pinned in
// package-lock.json), for tests/integration/aws/s3_client_test.cpp, which compares what it prints
// with what ddb2pg's S3 client read from the same server.
//
//   node read-objects.mjs ENDPOINT BUCKET PREFIX RANGE_FIRST RANGE_LAST
// Credentials and region come from the environment (AWS_ACCESS_KEY_ID, ...). Prints one JSON
// object: {"objects": [{"key", "size", "etag", "sha256", "rangeSha256", "inflatedSha256"}]}
// (inflatedSha256 only for keys ending in .gz).
import { S3Client, ListObjectsV2Command, GetObjectCommand, HeadObjectCommand } from "@aws-sdk/client-s3";
import { createHash } from "node:crypto";
import { gunzipSync } from "node:zlib";

const [endpoint, bucket, prefix, rangeFirst, rangeLast] = process.argv.slice(2);
const client = new S3Client({ endpoint, forcePathStyle: true });
const sha256 = (bytes) => createHash("sha256").update(bytes).digest("hex");
const bytesOf = async (response) => Buffer.from(await response.Body.transformToByteArray());

const objects = [];
let token;
do {
  const page = await client.send(new ListObjectsV2Command({ Bucket: bucket, Prefix: prefix, ContinuationToken: token, MaxKeys: 2 }));
  for (const entry of page.Contents ?? []) {
    const head = await client.send(new HeadObjectCommand({ Bucket: bucket, Key: entry.Key }));
    const body = await bytesOf(await client.send(new GetObjectCommand({ Bucket: bucket, Key: entry.Key })));
    const range = await bytesOf(await client.send(
      new GetObjectCommand({ Bucket: bucket, Key: entry.Key, Range: `bytes=${rangeFirst}-${rangeLast}` })));
    const object = {
      key: entry.Key,
      size: Number(head.ContentLength),
      etag: head.ETag.replaceAll('"', ""),
      sha256: sha256(body),
      rangeSha256: sha256(range),
    };
    if (entry.Key.endsWith(".gz")) object.inflatedSha256 = sha256(gunzipSync(body));
    objects.push(object);
  }
  token = page.IsTruncated ? page.NextContinuationToken : undefined;
} while (token);
console.log(JSON.stringify({ objects }));
