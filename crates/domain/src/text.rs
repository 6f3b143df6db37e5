//! Folding text for comparisons that ignore case: one key for a name however it is cased or
//! composed, the same in Rust and on every backend.

use unicase::UniCase;
use unicode_normalization::UnicodeNormalization;

/// The caseless key of `text`: canonical decomposition, full Unicode case folding (`ß` and `SS`
/// both become `ss`, `Σ` and final `ς` both `σ`), then NFC. Two texts a reader takes for the same
/// word apart from case — `Facturación` and `FACTURACIÓN`, `élan` typed precomposed or as `e`
/// and a combining accent — get the same key. Databases compare keys as plain text: SQLite's
/// `lower()` and `NOCASE` know only ASCII, and PostgreSQL's `lower()` depends on the locale.
pub fn fold_case(text: &str) -> String {
    let decomposed: String = text.nfd().collect();
    UniCase::new(decomposed).to_folded_case().nfc().collect()
}

#[cfg(test)]
mod tests {
    use super::fold_case;

    #[test]
    fn case_and_composition_fold_to_one_key() {
        let same = [
            ("Facturación", "FACTURACIÓN"),
            ("élan", "ÉLAN"),
            ("élan", "e\u{301}lan"),
            ("Straße", "STRASSE"),
            ("ὈΔΥΣΣΕΎΣ", "ὀδυσσεύς"),
            ("Ǆemal", "ǆemal"),
            ("İstanbul", "i\u{307}stanbul"),
        ];
        for (left, right) in same {
            assert_eq!(fold_case(left), fold_case(right), "{left} ~ {right}");
        }
        assert_eq!(fold_case("FACTURACIÓN"), "facturación");
        assert_ne!(fold_case("resume"), fold_case("résumé"));
        assert_eq!(fold_case(""), "");
    }
}
