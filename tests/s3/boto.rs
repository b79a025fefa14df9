//! boto3 with its default settings (CRC checksums in aws-chunked trailers since botocore 1.36),
//! and checksums that do not match: S3's `BadDigest`, and nothing stored.

use super::{ok, s3};
use crate::common::*;

fn python(server: &Server, script: &str) -> String {
    server.boto3(&format!("c = client('s3')\n{script}"))
}

#[test]
fn boto3_default_checksums_and_bad_digests() {
    let server = Server::in_process(&[]);
    ok(s3(&server, &["mb", "s3://boto"]));
    let out = python(
        &server,
        "import io, hashlib\n\
         for size in (0, 1, 70000, 9 * 1024 * 1024):\n\
         \x20   body = bytes(i % 251 for i in range(size))\n\
         \x20   c.put_object(Bucket='boto', Key=f'k{size}', Body=body)\n\
         \x20   c.upload_fileobj(io.BytesIO(body), 'boto', f'f{size}')\n\
         \x20   for k in (f'k{size}', f'f{size}'):\n\
         \x20       got = c.get_object(Bucket='boto', Key=k)['Body'].read()\n\
         \x20       assert got == body, (k, len(got))\n\
         r = c.put_object(Bucket='boto', Key='crc', Body=b'abc', ChecksumAlgorithm='SHA256')\n\
         print(r.get('ChecksumSHA256'))\n\
         try:\n\
         \x20   c.put_object(Bucket='boto', Key='bad', Body=b'abc', ChecksumCRC32='AAAAAA==')\n\
         \x20   print('stored')\n\
         except botocore.exceptions.ClientError as e:\n\
         \x20   print(e.response['Error']['Code'])\n\
         try:\n\
         \x20   c.head_object(Bucket='boto', Key='bad')\n\
         \x20   print('bad exists')\n\
         except botocore.exceptions.ClientError as e:\n\
         \x20   print(e.response['Error']['Code'])\n",
    );
    let lines: Vec<&str> = out.lines().collect();
    // SHA-256 of "abc", as S3 reports it.
    assert_eq!(
        lines,
        [
            "ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=",
            "BadDigest",
            "404"
        ],
        "{out}"
    );
}
