//! Where DeleteWhatsAppMessageMedia is sent: an explicit endpoint URL, else the regional
//! host (FIPS and the China partition included).

use reqwest::Url;

use super::{ConfigError, EndpointSettings};

/// The path of the DeleteWhatsAppMessageMedia operation.
const MEDIA_PATH: &str = "/v1/whatsapp/media";
/// The path of GetLinkedWhatsAppBusinessAccountPhoneNumber, which tells whether a phone
/// number exists.
const PHONE_PATH: &str = "/v1/whatsapp/waba/phone/details";

/// A resolved endpoint for the media operation.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `scheme://host[:port][/base-path]/v1/whatsapp/media`, without a query.
    pub media_url: String,
    /// `scheme://host[:port][/base-path]/v1/whatsapp/waba/phone/details`, without a query.
    pub phone_url: String,
    /// The `Host` header that is both signed and sent.
    pub host: String,
}

/// Resolves the endpoint for `region` as the AWS SDKs do for this service.
pub fn resolve(settings: &EndpointSettings, region: &str) -> Result<Endpoint, ConfigError> {
    let base = match &settings.url_override {
        Some(url) => url.clone(),
        None => regional_url(region, settings.use_fips)?,
    };
    let url = Url::parse(&base)
        .map_err(|e| ConfigError::new("AWS_ENDPOINT_URL_SOCIALMESSAGING", e.to_string()))?;
    let host = url.host_str().ok_or_else(|| {
        ConfigError::new("AWS_ENDPOINT_URL_SOCIALMESSAGING", "the URL has no host")
    })?;
    let host = match url.port() {
        Some(port) => format!("{host}:{port}"),
        None => host.to_owned(),
    };
    let base_path = url.path().trim_end_matches('/');
    Ok(Endpoint {
        media_url: format!("{}://{host}{base_path}{MEDIA_PATH}", url.scheme()),
        phone_url: format!("{}://{host}{base_path}{PHONE_PATH}", url.scheme()),
        host,
    })
}

fn regional_url(region: &str, use_fips: bool) -> Result<String, ConfigError> {
    let valid = !region.is_empty()
        && region
            .bytes()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-');
    if !valid {
        return Err(ConfigError::new(
            "AWS_REGION",
            format!("expected a region name such as us-east-1, got {region:?}"),
        ));
    }
    let service = if use_fips {
        "social-messaging-fips"
    } else {
        "social-messaging"
    };
    let domain = if region.starts_with("cn-") {
        "amazonaws.com.cn"
    } else {
        "amazonaws.com"
    };
    Ok(format!("https://{service}.{region}.{domain}"))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn settings(url: Option<&str>, fips: bool) -> EndpointSettings {
        EndpointSettings {
            url_override: url.map(str::to_owned),
            use_fips: fips,
        }
    }

    #[test]
    fn regional_hosts() {
        let e = resolve(&settings(None, false), "eu-west-1").unwrap();
        assert_eq!(
            e.media_url,
            "https://social-messaging.eu-west-1.amazonaws.com/v1/whatsapp/media"
        );
        assert_eq!(e.host, "social-messaging.eu-west-1.amazonaws.com");

        let e = resolve(&settings(None, true), "us-gov-west-1").unwrap();
        assert_eq!(e.host, "social-messaging-fips.us-gov-west-1.amazonaws.com");

        let e = resolve(&settings(None, false), "cn-north-1").unwrap();
        assert_eq!(e.host, "social-messaging.cn-north-1.amazonaws.com.cn");
    }

    #[test]
    fn explicit_endpoint_wins_and_keeps_its_port() {
        let e = resolve(&settings(Some("http://127.0.0.1:4566"), true), "us-east-1").unwrap();
        assert_eq!(e.media_url, "http://127.0.0.1:4566/v1/whatsapp/media");
        assert_eq!(e.host, "127.0.0.1:4566");

        // A default port is not part of the Host header, as HTTP clients send it.
        let e = resolve(
            &settings(Some("https://proxy.example.com:443/base"), false),
            "x",
        )
        .unwrap();
        assert_eq!(
            e.media_url,
            "https://proxy.example.com/base/v1/whatsapp/media"
        );
        assert_eq!(e.host, "proxy.example.com");
    }

    #[test]
    fn a_bad_region_names_the_variable() {
        let err = resolve(&settings(None, false), "us east 1").unwrap_err();
        assert_eq!(err.variable, "AWS_REGION");
    }
}
