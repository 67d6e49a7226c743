//! S3 event notifications as they arrive in SQS message bodies, read tolerantly: the real AWS
//! shape, moto's (no `userIdentity`, no `sequencer`), `s3:TestEvent`, and the same wrapped in an
//! SNS envelope.

use serde::Deserialize;

/// One uploaded object named by a notification.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Upload {
    /// Event name, e.g. `ObjectCreated:Put`.
    pub event_name: String,
    /// Bucket name.
    pub bucket: String,
    /// Object key, URL-decoded.
    pub key: String,
    /// Identifies this upload of the key: the ETag, else the sequencer, else the version id.
    pub tag: String,
    /// The ETag the event names, without quotes.
    pub etag: Option<String>,
    /// The S3 version the event names (a versioned bucket): ingest reads exactly it.
    pub version_id: Option<String>,
}

/// What a message body held.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Notification {
    /// S3's `s3:TestEvent`, sent when a notification is configured: acknowledge and ignore.
    Test,
    /// Records of uploads.
    Uploads(Vec<Upload>),
}

#[derive(Deserialize)]
struct Body {
    #[serde(rename = "Records", default)]
    records: Option<Vec<Record>>,
    #[serde(rename = "Event", default)]
    event: Option<String>,
    /// SNS envelope.
    #[serde(rename = "Type", default)]
    sns_type: Option<String>,
    #[serde(rename = "Message", default)]
    message: Option<String>,
}

#[derive(Deserialize)]
struct Record {
    #[serde(rename = "eventName", default)]
    event_name: String,
    s3: S3Entity,
}

#[derive(Deserialize)]
struct S3Entity {
    bucket: Bucket,
    object: Object,
}

#[derive(Deserialize)]
struct Bucket {
    name: String,
}

#[derive(Deserialize)]
struct Object {
    key: String,
    #[serde(rename = "eTag", default)]
    e_tag: Option<String>,
    #[serde(default)]
    sequencer: Option<String>,
    #[serde(rename = "versionId", default)]
    version_id: Option<String>,
}

/// Reads a message body. An error means the body is not an S3 notification at all.
pub fn parse(body: &str) -> Result<Notification, String> {
    let parsed: Body =
        serde_json::from_str(body).map_err(|e| format!("the message is not an S3 event notification: {e}"))?;
    if parsed.sns_type.as_deref() == Some("Notification")
        && let Some(inner) = parsed.message
    {
        return parse(&inner);
    }
    if parsed.event.as_deref() == Some("s3:TestEvent") {
        return Ok(Notification::Test);
    }
    let records = parsed
        .records
        .ok_or("the message has neither Records nor an s3:TestEvent")?;
    Ok(Notification::Uploads(
        records
            .into_iter()
            .map(|r| {
                let object = r.s3.object;
                let etag = object
                    .e_tag
                    .map(|t| t.trim_matches('"').to_string())
                    .filter(|t| !t.is_empty());
                // "null" is S3's name for the version of an object written while versioning
                // was off: not a version id to ask for.
                let version_id = object.version_id.filter(|v| !v.is_empty() && v != "null");
                Upload {
                    event_name: r.event_name,
                    bucket: r.s3.bucket.name,
                    key: decode_key(&object.key),
                    tag: etag
                        .clone()
                        .or(object.sequencer)
                        .or_else(|| version_id.clone())
                        .unwrap_or_default(),
                    etag,
                    version_id,
                }
            })
            .collect(),
    ))
}

/// S3 form-URL-encodes keys in notifications (`+` for space; moto also encodes `/` as `%2F`).
/// Decoded as `application/x-www-form-urlencoded`: `+` becomes a space, then percent-decoding.
pub fn decode_key(raw: &str) -> String {
    percent_encoding::percent_decode_str(&raw.replace('+', " "))
        .decode_utf8_lossy()
        .into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    const AWS: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-27T10:00:00.000Z","eventName":"ObjectCreated:Put","userIdentity":{"principalId":"AWS:AIDA"},"requestParameters":{"sourceIPAddress":"1.2.3.4"},"responseElements":{"x-amz-request-id":"R"},"s3":{"s3SchemaVersion":"1.0","configurationId":"packages","bucket":{"name":"baton-artefacts","ownerIdentity":{"principalId":"A"},"arn":"arn:aws:s3:::baton-artefacts"},"object":{"key":"packages/web/1.0.0/my+site.zip","size":10,"eTag":"0123abc","sequencer":"0055AED6DCD90281E5"}}}]}"#;
    const MOTO: &str = r#"{"Records":[{"eventVersion":"2.1","eventSource":"aws:s3","awsRegion":"eu-west-1","eventTime":"2026-11-27T10:00:00.000Z","eventName":"ObjectCreated:Put","s3":{"s3SchemaVersion":"1.0","configurationId":"packages","bucket":{"name":"baton-artefacts","arn":"arn:aws:s3:::baton-artefacts"},"object":{"key":"packages%2Fweb%2F1.0.0%2Fsite%2B1.zip","size":10,"eTag":"\"e1\""}}}]}"#;

    #[test]
    fn reads_the_aws_shape_and_decodes_the_key() {
        let Notification::Uploads(u) = parse(AWS).unwrap() else {
            panic!("uploads")
        };
        assert_eq!(u[0].key, "packages/web/1.0.0/my site.zip");
        assert_eq!(u[0].tag, "0123abc");
        assert_eq!(u[0].bucket, "baton-artefacts");
        assert_eq!(u[0].event_name, "ObjectCreated:Put");
    }

    #[test]
    fn reads_motos_shape_with_encoded_slashes() {
        let Notification::Uploads(u) = parse(MOTO).unwrap() else {
            panic!("uploads")
        };
        assert_eq!(u[0].key, "packages/web/1.0.0/site+1.zip");
        assert_eq!(u[0].tag, "e1");
        assert_eq!(u[0].version_id, None);
    }

    #[test]
    fn reads_the_version_an_event_names() {
        let versioned = AWS.replace(
            r#""eTag":"0123abc""#,
            r#""eTag":"0123abc","versionId":"3HL4kqtJlcpXroDTDmJ"#,
        );
        let versioned = versioned.replace(r#"JlcpXroDTDmJ"#, r#"JlcpXroDTDmJ""#);
        let Notification::Uploads(u) = parse(&versioned).unwrap() else {
            panic!("uploads")
        };
        assert_eq!(u[0].version_id.as_deref(), Some("3HL4kqtJlcpXroDTDmJ"));
        assert_eq!(u[0].etag.as_deref(), Some("0123abc"));
        let unversioned = AWS.replace(r#""eTag":"0123abc""#, r#""eTag":"0123abc","versionId":"null""#);
        let Notification::Uploads(u) = parse(&unversioned).unwrap() else {
            panic!("uploads")
        };
        assert_eq!(u[0].version_id, None);
    }

    #[test]
    fn test_events_and_sns_envelopes_are_understood() {
        let test = r#"{"Service":"Amazon S3","Event":"s3:TestEvent","Time":"2026-11-27T10:00:00Z","Bucket":"baton-artefacts","RequestId":"x","HostId":"y"}"#;
        assert_eq!(parse(test).unwrap(), Notification::Test);
        let sns = serde_json::json!({"Type":"Notification","MessageId":"m","Message": MOTO}).to_string();
        assert!(matches!(parse(&sns).unwrap(), Notification::Uploads(u) if u.len() == 1));
    }

    #[test]
    fn other_bodies_are_errors() {
        assert!(parse("not json").is_err());
        assert!(parse(r#"{"hello":"world"}"#).is_err());
    }
}
