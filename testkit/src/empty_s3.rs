//! A stand-in for a bucket in which every deleted key is gone for good: it answers every
//! request with an empty `ListObjectVersions` result. The fleet needs no more of S3: its
//! permanent deletes name their media by key, and the function only checks that no current
//! version of the key still serves the media. moto would be the bottleneck at a fleet's rate.

use tokio::io::{AsyncWriteExt, BufReader};
use tokio::net::TcpListener;

use super::endpoint::read_request;

const EMPTY_LISTING: &str = "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\
<ListVersionsResult xmlns=\"http://s3.amazonaws.com/doc/2006-03-01/\">\
<Name>media</Name><Prefix></Prefix><KeyMarker></KeyMarker><VersionIdMarker></VersionIdMarker>\
<MaxKeys>1000</MaxKeys><IsTruncated>false</IsTruncated></ListVersionsResult>";

/// A running stand-in; stops when dropped.
pub struct EmptyS3 {
    /// `http://127.0.0.1:<port>`, for `AWS_ENDPOINT_URL_S3`.
    pub url: String,
    task: tokio::task::JoinHandle<()>,
}

impl Drop for EmptyS3 {
    fn drop(&mut self) {
        self.task.abort();
    }
}

impl EmptyS3 {
    /// Starts listening on a free loopback port.
    pub async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("address"));
        let task = tokio::spawn(async move {
            while let Ok((stream, _)) = listener.accept().await {
                tokio::spawn(async move {
                    let (read, mut write) = stream.into_split();
                    let mut reader = BufReader::new(read);
                    while read_request(&mut reader).await.is_some() {
                        let response = format!(
                            "HTTP/1.1 200 OK\r\ncontent-type: application/xml\r\ncontent-length: {}\r\n\r\n{EMPTY_LISTING}",
                            EMPTY_LISTING.len()
                        );
                        if write.write_all(response.as_bytes()).await.is_err() {
                            return;
                        }
                    }
                });
            }
        });
        Self { url, task }
    }
}
