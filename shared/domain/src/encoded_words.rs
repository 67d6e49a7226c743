//! RFC 2047 "encoded-words" for S3 user metadata.
//!
//! S3 user metadata travels as HTTP headers, which carry printable ASCII on one line. CI's
//! notes hold commas, quotes, newlines and any language, so `baton push` sends every value
//! that is not plain printable ASCII as UTF-8 encoded-words (`=?UTF-8?B?...?=`), the encoding
//! S3 itself documents for non-ASCII metadata (it may decode such values on write and encode
//! them again on read, with either `B` or `Q`). [`decode`] is therefore tolerant: `B` and `Q`,
//! any case, several words in a row (the white space between them dropped, as RFC 2047 §6.2
//! says), plain text around them kept, and anything malformed left exactly as it came.

use base64::Engine;

/// Longest encoded-word RFC 2047 §2 allows.
const MAX_WORD: usize = 75;
/// `=?UTF-8?B?` and `?=`.
const WORD_OVERHEAD: usize = 12;

/// Whether `value` can travel as a header value unchanged: printable ASCII, no surrounding
/// white space (S3 and proxies trim it), and nothing a decoder would take for an encoded-word.
fn is_plain(value: &str) -> bool {
    value.bytes().all(|b| (0x20..0x7f).contains(&b)) && value.trim() == value && !value.contains("=?")
}

/// `value` as it can travel in an S3 metadata header: unchanged when plain, otherwise UTF-8
/// `B` encoded-words of at most 75 characters each, separated by spaces.
pub fn encode(value: &str) -> String {
    if is_plain(value) {
        return value.to_string();
    }
    // Base64 of 3n bytes is 4n characters; a word holds (75 - 12) / 4 * 3 = 45 bytes, split
    // only at character boundaries so every word is valid UTF-8 on its own.
    let max_bytes = (MAX_WORD - WORD_OVERHEAD) / 4 * 3;
    let mut words = Vec::new();
    let mut chunk = String::new();
    for c in value.chars() {
        if chunk.len() + c.len_utf8() > max_bytes {
            words.push(word(&chunk));
            chunk.clear();
        }
        chunk.push(c);
    }
    if !chunk.is_empty() {
        words.push(word(&chunk));
    }
    words.join(" ")
}

fn word(text: &str) -> String {
    format!(
        "=?UTF-8?B?{}?=",
        base64::engine::general_purpose::STANDARD.encode(text.as_bytes())
    )
}

/// One encoded-word at the start of `text`: its decoded text and its length in `text`.
fn decode_word(text: &str) -> Option<(String, usize)> {
    let rest = text.strip_prefix("=?")?;
    let (charset, rest) = rest.split_once('?')?;
    let (encoding, rest) = rest.split_once('?')?;
    let end = rest.find("?=")?;
    let encoded = &rest[..end];
    if encoded.contains(|c: char| c.is_whitespace()) {
        return None;
    }
    // RFC 2231 allows a language after the charset: `UTF-8*en`.
    let charset = charset.split('*').next().unwrap_or(charset).to_ascii_lowercase();
    let bytes = match encoding {
        "B" | "b" => base64::engine::general_purpose::STANDARD
            .decode(encoded)
            .or_else(|_| base64::engine::general_purpose::STANDARD_NO_PAD.decode(encoded.trim_end_matches('=')))
            .ok()?,
        "Q" | "q" => decode_q(encoded)?,
        _ => return None,
    };
    let decoded = match charset.as_str() {
        "utf-8" | "utf8" | "us-ascii" => String::from_utf8(bytes).ok()?,
        // Latin-1 maps each byte to the code point of the same number.
        "iso-8859-1" | "latin1" => bytes.iter().map(|&b| char::from(b)).collect(),
        _ => return None,
    };
    // Everything before the encoded text, the encoded text, and the closing `?=`.
    let consumed = text.len() - rest.len() + end + 2;
    Some((decoded, consumed))
}

/// The `Q` encoding: `_` is a space, `=XX` a byte, everything else itself.
fn decode_q(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len());
    let mut bytes = text.bytes();
    while let Some(b) = bytes.next() {
        match b {
            b'_' => out.push(b' '),
            b'=' => {
                let hi = char::from(bytes.next()?).to_digit(16)?;
                let lo = char::from(bytes.next()?).to_digit(16)?;
                out.push(u8::try_from(hi * 16 + lo).ok()?);
            }
            other => out.push(other),
        }
    }
    Some(out)
}

/// `value` with every encoded-word in it decoded; white space between two encoded-words is
/// dropped, everything else kept as it came.
pub fn decode(value: &str) -> String {
    if !value.contains("=?") {
        return value.to_string();
    }
    let mut out = String::with_capacity(value.len());
    let mut rest = value;
    // White space seen since the last encoded-word, held back in case another word follows.
    let mut pending_space = String::new();
    let mut after_word = false;
    while !rest.is_empty() {
        if let Some((decoded, used)) = decode_word(rest) {
            if !after_word {
                out.push_str(&pending_space);
            }
            pending_space.clear();
            out.push_str(&decoded);
            after_word = true;
            rest = &rest[used..];
            continue;
        }
        let Some(c) = rest.chars().next() else { break };
        if c.is_whitespace() && after_word {
            pending_space.push(c);
        } else {
            out.push_str(&pending_space);
            pending_space.clear();
            out.push(c);
            after_word = false;
        }
        rest = &rest[c.len_utf8()..];
    }
    out.push_str(&pending_space);
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plain_ascii_travels_unchanged() {
        for value in ["3f2c1d9", "Fix login, add \"remember me\"", "https://ci/1?a=b&c=d"] {
            assert_eq!(encode(value), value);
            assert_eq!(decode(value), value);
        }
    }

    #[test]
    fn anything_else_round_trips_as_ascii_words_of_at_most_75_characters() {
        let notes = "Admissions form, \"v2\"\nNouveau: é → ü 日本語 ".repeat(8);
        let encoded = encode(&notes);
        assert!(encoded.is_ascii(), "{encoded}");
        assert!(!encoded.contains('\n'));
        assert!(encoded.split(' ').count() > 1);
        for word in encoded.split(' ') {
            assert!(word.len() <= MAX_WORD, "{word}");
            assert!(word.starts_with("=?UTF-8?B?") && word.ends_with("?="), "{word}");
        }
        assert_eq!(decode(&encoded), notes);
    }

    #[test]
    fn words_are_filled_to_45_bytes_and_split_only_beyond() {
        // 45 bytes (é is two) fit one word of 72 characters; one byte more starts a second.
        let full = format!("é{}", "a".repeat(43));
        assert_eq!(full.len(), 45);
        let encoded = encode(&full);
        assert_eq!(encoded.split(' ').count(), 1, "{encoded}");
        assert_eq!(encoded.len(), 12 + 60);
        let over = format!("{full}b");
        let over_encoded = encode(&over);
        let words: Vec<&str> = over_encoded.split(' ').collect();
        assert_eq!(words.len(), 2, "{words:?}");
        assert_eq!(decode(words[0]), full);
        assert_eq!(decode(words[1]), "b");
        // A character is never split across words: é does not fit after 44 bytes.
        let edge = format!("{}é", "a".repeat(44));
        let words: Vec<String> = encode(&edge).split(' ').map(decode).collect();
        assert_eq!(words, ["a".repeat(44), "é".to_string()]);
    }

    #[test]
    fn text_between_words_is_kept_and_only_white_space_between_words_dropped() {
        assert_eq!(decode("=?UTF-8?B?aGk=?=x=?UTF-8?B?aGk=?="), "hixhi");
        assert_eq!(decode("=?UTF-8?B?aGk=?=  =?UTF-8?B?aGk=?="), "hihi");
        assert_eq!(decode("a =?UTF-8?B?aGk=?= b"), "a hi b");
        assert_eq!(decode(" =?UTF-8?B?aGk=?= "), " hi ");
    }

    #[test]
    fn values_that_look_encoded_or_carry_outer_spaces_are_encoded() {
        for value in [" padded", "trailing ", "=?UTF-8?B?aGk=?="] {
            let encoded = encode(value);
            assert_ne!(encoded, value);
            assert_eq!(decode(&encoded), value);
        }
    }

    #[test]
    fn decodes_what_s3_and_mail_tools_write() {
        assert_eq!(decode("=?utf-8?q?caf=C3=A9_cr=C3=A8me?="), "café crème");
        assert_eq!(decode("=?UTF-8?B?w6k=?= =?UTF-8?B?4oaS?="), "é→");
        assert_eq!(decode("see =?ISO-8859-1?Q?caf=E9?= now"), "see café now");
        assert_eq!(decode("=?UTF-8*en?B?aGk=?="), "hi");
    }

    #[test]
    fn malformed_words_are_left_as_they_came() {
        for value in [
            "=?UTF-8?B?",
            "=?x-unknown?B?aGk=?=",
            "=?UTF-8?Z?aGk=?=",
            "=?UTF-8?Q?=Z1?=",
            "a =? b",
        ] {
            assert_eq!(decode(value), value);
        }
    }
}
