//! SES v2 as the [`Mailer`] port.

use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_sesv2::primitives::Blob;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message, RawMessage};
use baton_domain::BatonError;
use baton_domain::ports::{Mail, Mailer};

use crate::errors::sdk_error;

/// How many times one mail is tried. The SDK already retries throttling and 5xx within a try;
/// these tries also cover what it does not (a refusal such as `MessageRejected`, which SES also
/// answers while an identity or sending quota is being sorted out) and a throttling burst longer
/// than its own backoff.
pub const MAIL_ATTEMPTS: u32 = 3;

/// The pause before the second try; the third waits twice as long. Short: `approve` sends mail
/// inside an HTTP request that must answer well within API Gateway's 29 s.
const RETRY_PAUSE: Duration = Duration::from_millis(400);

/// Sends mail through SES.
#[derive(Debug, Clone)]
pub struct SesMailer {
    ses: aws_sdk_sesv2::Client,
}

impl SesMailer {
    /// A mailer over `ses`.
    pub fn new(ses: aws_sdk_sesv2::Client) -> Self {
        SesMailer { ses }
    }
}

fn content(text: &str) -> Result<Content, BatonError> {
    Content::builder()
        .data(text)
        .charset("UTF-8")
        .build()
        .map_err(|e| BatonError::internal(e.to_string()))
}

/// What SES sends: `Simple` (SES builds the MIME message) for a mail without attachments or
/// extra headers, else `Raw`, a MIME message of our own ([`crate::mime`]). Extra headers that
/// could add headers of their own are refused, and nothing is sent.
fn email_content(from: &str, mail: &Mail) -> Result<EmailContent, BatonError> {
    if let Some(problem) = crate::mime::header_problem(&mail.headers) {
        return Err(BatonError::invalid(format!("mail to {} not sent: {problem}", mail.to)));
    }
    if mail.attachments.is_empty() && mail.headers.is_empty() {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        return Ok(EmailContent::builder().simple(message).build());
    }
    let text = crate::mime::message(from, mail, chrono::Utc::now(), &crate::mime::boundary_token());
    let raw = RawMessage::builder()
        .data(Blob::new(text.into_bytes()))
        .build()
        .map_err(|e| BatonError::internal(e.to_string()))?;
    Ok(EmailContent::builder().raw(raw).build())
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), BatonError> {
        let email = email_content(from, mail)?;
        let mut attempt = 1;
        loop {
            let sent = self
                .ses
                .send_email()
                .from_email_address(from)
                .destination(Destination::builder().to_addresses(&mail.to).build())
                .content(email.clone())
                .send()
                .await;
            let error = match sent {
                Ok(_) => return Ok(()),
                Err(e) => sdk_error(&format!("sending mail to {}", mail.to), e),
            };
            if attempt >= MAIL_ATTEMPTS {
                return Err(BatonError {
                    kind: error.kind,
                    message: format!("{} (tried {attempt} times)", error.message),
                });
            }
            tracing::warn!(attempt, error = %error, "mail not sent; trying again");
            tokio::time::sleep(RETRY_PAUSE * attempt).await;
            attempt += 1;
        }
    }
}
