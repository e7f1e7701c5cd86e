//! Recording the media ids on an S3 object after PostWhatsAppMessageMedia returned them,
//! exactly as the README shows it in Rust (tests/readme.rs checks that the two match).
//! Staging uses it, so every sample runs through it.

// README: begin
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
// README: end
