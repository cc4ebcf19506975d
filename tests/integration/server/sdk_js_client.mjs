// The AWS SDK for JavaScript v3 against the local S3 endpoint, default checksums on (CRC32 on
// uploads, aws-chunked with a trailing checksum for streams). Run by s3_endpoint_test.cpp with
// S3_ENDPOINT, S3_BUCKET and the AWS_* credentials in the environment.
import { Readable } from "node:stream";
import {
  S3Client, PutObjectCommand, GetObjectCommand, HeadObjectCommand, ListObjectsV2Command,
  CreateMultipartUploadCommand, UploadPartCommand, CompleteMultipartUploadCommand, DeleteObjectsCommand,
  CopyObjectCommand,
} from "@aws-sdk/client-s3";

const endpoint = process.env.S3_ENDPOINT;
const Bucket = process.env.S3_BUCKET;
const credentials = { accessKeyId: process.env.AWS_ACCESS_KEY_ID, secretAccessKey: process.env.AWS_SECRET_ACCESS_KEY };
const s3 = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, credentials, maxAttempts: 1 });

function check(name, cond, detail = "") {
  if (!cond) {
    console.log(`FAILED ${name} ${detail}`);
    process.exit(1);
  }
  console.log(`ok ${name}`);
}

async function code(promise) {
  try {
    await promise;
    return null;
  } catch (e) {
    return e.name || e.Code;
  }
}

const body = Buffer.from("hello from the javascript sdk");
const put = await s3.send(new PutObjectCommand({ Bucket, Key: "js/hello.txt", Body: body, ContentType: "text/plain" }));
check("put with default checksum", put.ETag && put.ChecksumCRC32, JSON.stringify(put));
const got = await s3.send(new GetObjectCommand({ Bucket, Key: "js/hello.txt" }));
check("get", Buffer.from(await got.Body.transformToByteArray()).equals(body));
check("content type", got.ContentType === "text/plain", got.ContentType);

// A stream of known length: aws-chunked with a trailing checksum.
const streamed = Buffer.alloc(3 * 1024 * 1024 + 17, 7);
const stream = Readable.from([streamed.subarray(0, 1000000), streamed.subarray(1000000)]);
const sput = await s3.send(new PutObjectCommand({ Bucket, Key: "js/stream.bin", Body: stream,
                                                  ContentLength: streamed.length }));
check("streamed put", sput.ETag, JSON.stringify(sput));
const shead = await s3.send(new HeadObjectCommand({ Bucket, Key: "js/stream.bin" }));
check("streamed size", shead.ContentLength === streamed.length, shead.ContentLength);

// Multipart.
const { UploadId } = await s3.send(new CreateMultipartUploadCommand({ Bucket, Key: "js/multi.bin" }));
const p1 = Buffer.alloc(5 * 1024 * 1024, 1), p2 = Buffer.from("last part");
const e1 = await s3.send(new UploadPartCommand({ Bucket, Key: "js/multi.bin", UploadId, PartNumber: 1, Body: p1 }));
const e2 = await s3.send(new UploadPartCommand({ Bucket, Key: "js/multi.bin", UploadId, PartNumber: 2, Body: p2 }));
const done = await s3.send(new CompleteMultipartUploadCommand({
  Bucket, Key: "js/multi.bin", UploadId,
  MultipartUpload: { Parts: [{ PartNumber: 1, ETag: e1.ETag }, { PartNumber: 2, ETag: e2.ETag }] },
}));
check("multipart etag", /-2"$/.test(done.ETag), done.ETag);
const mget = await s3.send(new GetObjectCommand({ Bucket, Key: "js/multi.bin" }));
check("multipart body", Buffer.from(await mget.Body.transformToByteArray()).equals(Buffer.concat([p1, p2])));

await s3.send(new CopyObjectCommand({ Bucket, Key: "js/copy.txt", CopySource: `${Bucket}/js/hello.txt` }));
const list = await s3.send(new ListObjectsV2Command({ Bucket, Prefix: "js/" }));
const keys = (list.Contents || []).map((o) => o.Key);
check("list", JSON.stringify(keys) === JSON.stringify(["js/copy.txt", "js/hello.txt", "js/multi.bin", "js/stream.bin"]),
      JSON.stringify(keys));
const del = await s3.send(new DeleteObjectsCommand({ Bucket, Delete: { Objects: keys.map((Key) => ({ Key })) } }));
check("delete objects", (del.Deleted || []).length === 4 && !del.Errors, JSON.stringify(del));
check("no such key", (await code(s3.send(new HeadObjectCommand({ Bucket, Key: "js/hello.txt" })))) === "NotFound");

const bad = new S3Client({ endpoint, region: "us-east-1", forcePathStyle: true, maxAttempts: 1,
                           credentials: { accessKeyId: credentials.accessKeyId, secretAccessKey: "wrong" } });
check("wrong secret refused",
      (await code(bad.send(new ListObjectsV2Command({ Bucket })))) === "SignatureDoesNotMatch");
check("wrong secret cannot write",
      (await code(bad.send(new PutObjectCommand({ Bucket, Key: "js/evil", Body: "x" })))) === "SignatureDoesNotMatch");
console.log("sdk-js: all checks passed");
