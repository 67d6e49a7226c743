//! What people may read of an error: Baton's words, never AWS internals. Raw SDK and Step
//! Functions errors name role ARNs and account ids; the logs keep them whole, while pages, mails
//! and the JSON API show them through [`internals`].

/// What an ARN is replaced with.
pub const ARN_WORDS: &str = "(an AWS resource)";
/// What an account id is replaced with.
pub const ACCOUNT_WORDS: &str = "(an AWS account)";

/// Characters that end an ARN inside a sentence or a JSON string.
fn ends_arn(c: char) -> bool {
    c.is_whitespace() || matches!(c, '"' | '\'' | ',' | ';' | ')' | ']' | '}' | '<' | '>')
}

/// Whether `rest` starts an ARN: `arn:` then a partition (`aws`, `aws-cn`, `aws-us-gov`...) and `:`.
fn starts_arn(rest: &str) -> bool {
    let Some(after) = rest
        .get(..4)
        .filter(|p| p.eq_ignore_ascii_case("arn:"))
        .map(|_| &rest[4..])
    else {
        return false;
    };
    match after.find(':') {
        Some(n) if n > 0 => after[..n].bytes().all(|b| b.is_ascii_lowercase() || b == b'-'),
        _ => false,
    }
}

/// `text` with every ARN and every AWS account id (12 digits standing alone) replaced by words.
pub fn internals(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    let mut previous: Option<char> = None;
    while let Some(c) = rest.chars().next() {
        let boundary = previous.is_none_or(|p| !p.is_ascii_alphanumeric());
        if boundary && starts_arn(rest) {
            let end = rest.find(ends_arn).unwrap_or(rest.len());
            out.push_str(ARN_WORDS);
            previous = rest[..end].chars().last();
            rest = &rest[end..];
            continue;
        }
        if boundary && c.is_ascii_digit() {
            let digits = rest.bytes().take_while(u8::is_ascii_digit).count();
            let after = rest[digits..].chars().next();
            if digits == 12 && after.is_none_or(|a| !a.is_ascii_alphanumeric()) {
                out.push_str(ACCOUNT_WORDS);
            } else {
                out.push_str(&rest[..digits]);
            }
            previous = rest[..digits].chars().last();
            rest = &rest[digits..];
            continue;
        }
        out.push(c);
        previous = Some(c);
        rest = &rest[c.len_utf8()..];
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn arns_and_account_ids_become_words() {
        let raw = "User: arn:aws:sts::123456789012:assumed-role/baton-Deploy/x is not authorized to perform: \
                   dynamodb:PutItem on resource: arn:aws-us-gov:dynamodb:eu-west-1:123456789012:table/baton-Table \
                   (account 123456789012)";
        let shown = internals(raw);
        assert!(!shown.contains("arn:"), "{shown}");
        assert!(!shown.contains("123456789012"), "{shown}");
        assert!(
            shown.starts_with("User: (an AWS resource) is not authorized"),
            "{shown}"
        );
        assert!(shown.ends_with("(account (an AWS account))"), "{shown}");
    }

    #[test]
    fn ordinary_words_and_numbers_stay() {
        for text in [
            "Patient API 1.4.2 failed: 3 of 12 replicas started",
            "release 1234567890123 (13 digits), order 12345678901 (11)",
            "learn: nothing here; harness:x",
            "id abc123456789012 stays",
            // `arn:` needs a partition before its next colon.
            "see arn::thing",
            "ARN:AWS:x (a partition is lower case)",
        ] {
            assert_eq!(internals(text), text);
        }
    }

    #[test]
    fn an_arn_inside_json_ends_at_its_quote() {
        let shown = internals(r#"{"Resource":"arn:aws:lambda:eu-west-1:123456789012:function:baton-ingest"}"#);
        assert_eq!(shown, r#"{"Resource":"(an AWS resource)"}"#);
    }
}
