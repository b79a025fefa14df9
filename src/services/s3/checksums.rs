//! The integrity checks of an upload: `Content-MD5` and the `x-amz-checksum-*` values, sent as
//! headers or, as botocore 1.36 and later do by default, as aws-chunked trailers named by
//! `x-amz-trailer`. Every algorithm asked for is computed while the body streams in and compared
//! once it has all arrived; a mismatch is S3's `BadDigest` and nothing is stored.

use s3s::checksum::ChecksumHasher;
use s3s::crypto::{Checksum as _, Crc32, Crc32c, Crc64Nvme, Md5, Sha1, Sha256};
use s3s::dto::Checksum;
use s3s::{s3_error, S3Request, S3Result};

use base64::Engine as _;

const ALGORITHMS: [(&str, &str); 5] = [
    ("x-amz-checksum-crc32", "CRC32"),
    ("x-amz-checksum-crc32c", "CRC32C"),
    ("x-amz-checksum-crc64nvme", "CRC64NVME"),
    ("x-amz-checksum-sha1", "SHA1"),
    ("x-amz-checksum-sha256", "SHA256"),
];

/// What one upload must match, and the hashes that will tell.
pub struct Checks {
    md5: Md5,
    content_md5: Option<String>,
    hasher: ChecksumHasher,
    /// `(header, value)` sent before the body.
    sent: Vec<(&'static str, String)>,
    trailer: Option<s3s::TrailingHeaders>,
}

impl Checks {
    pub fn of<T>(req: &S3Request<T>, content_md5: Option<&str>) -> Self {
        let header = |name: &str| req.headers.get(name).and_then(|v| v.to_str().ok());
        let trailer_names = header("x-amz-trailer")
            .unwrap_or_default()
            .to_ascii_lowercase();
        let mut hasher = ChecksumHasher::default();
        let mut sent = Vec::new();
        for (name, _) in ALGORITHMS {
            let in_header = header(name);
            if in_header.is_none() && !trailer_names.split(',').any(|t| t.trim() == name) {
                continue;
            }
            if let Some(value) = in_header {
                sent.push((name, value.to_owned()));
            }
            match name {
                "x-amz-checksum-crc32" => hasher.crc32 = Some(Crc32::new()),
                "x-amz-checksum-crc32c" => hasher.crc32c = Some(Crc32c::new()),
                "x-amz-checksum-crc64nvme" => hasher.crc64nvme = Some(Crc64Nvme::new()),
                "x-amz-checksum-sha1" => hasher.sha1 = Some(Sha1::new()),
                _ => hasher.sha256 = Some(Sha256::new()),
            }
        }
        Checks {
            md5: Md5::new(),
            content_md5: content_md5.map(str::to_owned),
            hasher,
            sent,
            trailer: req.trailing_headers.clone(),
        }
    }

    pub fn update(&mut self, chunk: &[u8]) {
        self.md5.update(chunk);
        self.hasher.update(chunk);
    }

    /// The body's MD5 and checksums, once every value sent matched them.
    pub fn verify(self) -> S3Result<([u8; 16], Checksum)> {
        let digest = self.md5.finalize();
        if let Some(sent) = &self.content_md5 {
            if *sent != base64::engine::general_purpose::STANDARD.encode(digest) {
                return Err(s3_error!(
                    BadDigest,
                    "The Content-MD5 you specified did not match what we received."
                ));
            }
        }
        let computed = self.hasher.finalize();
        let mut sent = self.sent;
        if let Some(trailers) = self.trailer.and_then(|t| t.take()) {
            for (name, _) in ALGORITHMS {
                if let Some(v) = trailers.get(name).and_then(|v| v.to_str().ok()) {
                    sent.push((name, v.to_owned()));
                }
            }
        }
        for (name, value) in sent {
            let ours = match name {
                "x-amz-checksum-crc32" => &computed.checksum_crc32,
                "x-amz-checksum-crc32c" => &computed.checksum_crc32c,
                "x-amz-checksum-crc64nvme" => &computed.checksum_crc64nvme,
                "x-amz-checksum-sha1" => &computed.checksum_sha1,
                _ => &computed.checksum_sha256,
            };
            if ours.as_deref() != Some(value.as_str()) {
                let label = ALGORITHMS
                    .iter()
                    .find(|(n, _)| *n == name)
                    .map_or("checksum", |(_, l)| *l);
                return Err(s3_error!(
                    BadDigest,
                    "The {label} you specified did not match the calculated checksum."
                ));
            }
        }
        Ok((digest, computed))
    }
}
