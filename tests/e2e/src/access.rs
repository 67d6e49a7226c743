//! Signing in to the status pages as a viewer would: an emailed link, its confirm page, the
//! session cookie.

use std::time::{Duration, Instant};

use anyhow::{Context, Result, bail};
use reqwest::header::{LOCATION, SET_COOKIE};

use crate::Harness;

/// A client that does not follow redirects (sign-in answers 303 with the cookie).
pub fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap_or_default()
}

/// The value of a form's hidden `name` field in `page`.
pub fn hidden(page: &str, name: &str) -> Option<String> {
    let marker = format!("name=\"{name}\" value=\"");
    let at = page.find(&marker)? + marker.len();
    let rest = &page[at..];
    Some(rest[..rest.find('"')?].to_string())
}

impl Harness {
    /// Signs `email` in and makes [`Harness::get`] read as them from now on (names and links
    /// shown, as signed-in viewers see them).
    pub async fn read_as(&self, email: &str) -> Result<()> {
        let cookie = self.sign_in(email).await?;
        if let Ok(mut viewer) = self.viewer.lock() {
            *viewer = Some(cookie);
        }
        Ok(())
    }

    /// Signs `email` in through the mailed link and answers the session cookie (`name=value`),
    /// checking on the way that opening the link alone sets no cookie, the cookie's flags, and
    /// that the link works once.
    pub async fn sign_in(&self, email: &str) -> Result<String> {
        let http = client();
        let base = &self.stack.http_url;
        let before = self.mails().len();
        let asked = http
            .post(format!("{base}/sign-in"))
            .form(&[("email", email)])
            .send()
            .await?;
        if asked.status() != 200 {
            bail!("POST /sign-in: {}", asked.status());
        }
        let deadline = Instant::now() + Duration::from_secs(30);
        let mail = loop {
            if let Some(mail) = self
                .mails()
                .into_iter()
                .skip(before)
                .find(|m| m.to.iter().any(|t| t == email))
            {
                break mail;
            }
            if Instant::now() > deadline {
                bail!("no sign-in mail to {email}");
            }
            tokio::time::sleep(Duration::from_millis(20)).await;
        };
        let link = mail
            .links
            .iter()
            .find(|l| l.contains("/sign-in/confirm?token="))
            .context("a sign-in link in the mail")?
            .clone();
        // Opening the link (as a mail scanner would) signs no one in.
        let opened = http.get(&link).send().await?;
        if opened.status() != 200 || opened.headers().get(SET_COOKIE).is_some() {
            bail!("opening the sign-in link: {} {:?}", opened.status(), opened.headers());
        }
        let token = hidden(&opened.text().await?, "token").context("the confirm form")?;
        let used = http
            .post(format!("{base}/sign-in/confirm"))
            .form(&[("token", token.as_str())])
            .send()
            .await?;
        if used.status() != 303 || used.headers().get(LOCATION).is_none_or(|l| l != "/") {
            bail!("using the sign-in link: {}", used.status());
        }
        let set = used.headers()[SET_COOKIE].to_str()?.to_string();
        if !(set.contains("HttpOnly") && set.contains("SameSite=Lax") && set.contains("Max-Age=604800"))
            || set.contains("Secure")
        {
            bail!("session cookie flags: {set}");
        }
        let again = http
            .post(format!("{base}/sign-in/confirm"))
            .form(&[("token", token.as_str())])
            .send()
            .await?;
        if again.status() != 410 {
            bail!("a used sign-in link answered {}", again.status());
        }
        Ok(set.split(';').next().unwrap_or_default().to_string())
    }

    /// Makes an API token named `name` on the account page of the viewer whose session is
    /// `cookie`, as they would, and answers it.
    pub async fn api_token(&self, cookie: &str, name: &str) -> Result<String> {
        let base = &self.stack.http_url;
        let account = client()
            .get(format!("{base}/account"))
            .header(reqwest::header::COOKIE, cookie)
            .send()
            .await?
            .text()
            .await?;
        let guard = hidden(&account, "guard").context("the account page's form guard")?;
        let made = client()
            .post(format!("{base}/account/tokens"))
            .header(reqwest::header::COOKIE, cookie)
            .form(&[("name", name), ("guard", guard.as_str())])
            .send()
            .await?
            .text()
            .await?;
        let start = made.find("baton_").context("the new token on the page")?;
        Ok(made[start..start + 49].to_string())
    }
}
