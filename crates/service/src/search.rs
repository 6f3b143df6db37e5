//! Turning a search box's text into the terms both backends search for.

/// Most terms one search uses; the rest are ignored.
const MAX_TERMS: usize = 10;
/// Longest term kept; longer ones are cut (no real word is longer).
const MAX_TERM_LEN: usize = 64;

/// The words of `query`: runs of letters and digits, lower-cased, duplicates dropped. Anything
/// else separates words, so no search syntax of either backend can be injected.
pub(crate) fn terms(query: &str) -> Vec<String> {
    let mut terms: Vec<String> = Vec::new();
    for word in query.split(|c: char| !c.is_alphanumeric()) {
        if word.is_empty() || terms.len() == MAX_TERMS {
            continue;
        }
        let term: String = word.to_lowercase().chars().take(MAX_TERM_LEN).collect();
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
    fn words_are_split_and_cleaned() {
        assert_eq!(
            terms("Facturación  duplicada!"),
            ["facturación", "duplicada"]
        );
        assert_eq!(
            terms("a\" OR 1=1 -- & | ! NEAR(x)"),
            ["a", "or", "1", "near", "x"]
        );
        assert!(terms("  ¿? ").is_empty());
        assert_eq!(terms(&"word ".repeat(30)).len(), 1);
        let many: String = (0..30).map(|i| format!("w{i} ")).collect();
        assert_eq!(terms(&many).len(), 10);
    }
}
