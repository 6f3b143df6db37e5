//! Turning a search box's text into the terms both backends search for.

/// Most terms one search uses; the rest are ignored.
const MAX_TERMS: usize = 10;
/// Longest term kept, in characters; longer ones are cut (no real word is longer).
const MAX_TERM_LEN: usize = 64;

/// The words of `query`: split at white space and control characters only (no backend indexes
/// either, and PostgreSQL refuses NUL in text), duplicates dropped, and words without a letter or
/// digit dropped (no backend indexes them). A word is not split further here: each
/// backend hands it, as plain text and never as query syntax, to the tokenizer that indexed the
/// stored text, so a character splits words in a search exactly where it did in that text, and
/// a search for a text's own words finds it.
pub(crate) fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| c.is_whitespace() || c.is_control()) {
        if terms.len() == MAX_TERMS {
            break;
        }
        if !word.chars().any(char::is_alphanumeric) {
            continue;
        }
        let term: String = word.chars().take(MAX_TERM_LEN).collect();
        if !terms.contains(&term) {
            terms.push(term);
        }
    }
    terms
}

#[cfg(test)]
mod tests {
    use super::terms;

    #[test]
    fn words_are_split_at_white_space_and_kept_as_written() {
        assert_eq!(
            terms("Facturación  duplicada!"),
            ["Facturación", "duplicada!"]
        );
        assert_eq!(
            terms("a\" OR 1=1 -- & | ! NEAR(x) aːb ⑴⑵"),
            ["a\"", "OR", "1=1", "NEAR(x)", "aːb", "⑴⑵"]
        );
        assert!(terms("  ¿? -- ").is_empty());
        assert_eq!(terms("k5a\0b5\u{1}c"), ["k5a", "b5", "c"]);
        assert_eq!(terms(&"word ".repeat(30)).len(), 1);
        let many: String = (0..30).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).len(), 10);
        assert_eq!(terms(&"x".repeat(100))[0].chars().count(), 64);
    }
}
