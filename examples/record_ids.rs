//! Recording the media ids on an S3 object after PostWhatsAppMessageMedia returned them,
//! exactly as docs/deploying.md shows it in Rust (`tests/docs.rs` checks that the two match, and
//! runs this program against moto's S3 server).
//!
//! ```text
//! cargo run --example record_ids -- <bucket> <key> <version-id or ""> <media-id> <phone-number-id>
//! ```
//!
//! It takes the Region, credentials and endpoint from the environment, as every AWS SDK
//! does.

// docs: begin
use aws_sdk_s3::types::{Tag, Tagging};

/// Records the ids as tags on exactly `version_id` of the object, keeping its other tags:
/// PutObjectTagging replaces the whole tag set.
pub async fn record_ids(
    s3: &aws_sdk_s3::Client,
    bucket: &str,
    key: &str,
    version_id: Option<&str>,
    media_id: &str,
    phone_number_id: &str,
) -> Result<(), Box<dyn std::error::Error>> {
    let ids = [
        ("whatsapp-media-id", media_id),
        ("whatsapp-origination-phone-number-id", phone_number_id),
    ];
    let current = s3
        .get_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .send()
        .await?;
    let mut tags: Vec<Tag> = current
        .tag_set()
        .iter()
        .filter(|tag| ids.iter().all(|(name, _)| tag.key() != *name))
        .cloned()
        .collect();
    for (name, value) in ids {
        tags.push(Tag::builder().key(name).value(value).build()?);
    }
    s3.put_object_tagging()
        .bucket(bucket)
        .key(key)
        .set_version_id(version_id.map(str::to_owned))
        .tagging(Tagging::builder().set_tag_set(Some(tags)).build()?)
        .send()
        .await?;
    Ok(())
}
// docs: end

#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let [bucket, key, version_id, media_id, phone_number_id] = &args[..] else {
        return Err(
            "usage: record_ids <bucket> <key> <version-id or \"\"> <media-id> <phone-number-id>"
                .into(),
        );
    };
    let config = aws_config::load_defaults(aws_config::BehaviorVersion::latest()).await;
    let s3 = aws_sdk_s3::Client::new(&config);
    let version_id = Some(version_id.as_str()).filter(|v| !v.is_empty());
    record_ids(&s3, bucket, key, version_id, media_id, phone_number_id).await?;
    println!(
        "tagged s3://{bucket}/{key} ({}) with media {media_id}",
        version_id.unwrap_or("current version")
    );
    Ok(())
}
