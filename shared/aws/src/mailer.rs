//! SES v2 as the [`Mailer`] port.

use async_trait::async_trait;
use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
use baton_domain::BatonError;
use baton_domain::ports::{Mail, Mailer};

use crate::errors::sdk_error;

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

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, from: &str, mail: &Mail) -> Result<(), BatonError> {
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(
                Body::builder()
                    .text(content(&mail.text)?)
                    .html(content(&mail.html)?)
                    .build(),
            )
            .build();
        self.ses
            .send_email()
            .from_email_address(from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .send()
            .await
            .map_err(|e| sdk_error(&format!("sending mail to {}", mail.to), e))?;
        Ok(())
    }
}
