//! When two typed names are the same person: what a reserved name is compared by.

use unicode_normalization::UnicodeNormalization;
use unicode_security::confusable_detection::skeleton;

/// The form a name is compared in: NFKC (so `ｄａｎａ` is `dana`), case folded,
/// inner spaces collapsed, then reduced to its UTS #39 confusable skeleton (so
/// a Cyrillic `а` or a `rn` standing for `m` does not make a new name).
pub fn name_key(name: &str) -> String {
    let folded = name.nfkc().collect::<String>().to_lowercase();
    let spaced = folded.split_whitespace().collect::<Vec<_>>().join(" ");
    // The skeleton maps to prototypes that may be upper case (`I` for `l`).
    skeleton(&spaced).collect::<String>().to_lowercase()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn look_alikes_of_a_name_share_its_key() {
        let dana = name_key("dana");
        for same in [
            "Dana",
            " DANA ",
            "ｄａｎａ",
            "d\u{0430}na", // Cyrillic а
            "dan\u{0251}", // Latin alpha
            "ⅾana",        // small roman numeral five hundred
        ] {
            assert_eq!(name_key(same), dana, "{same:?}");
        }
        assert_eq!(name_key("rnary"), name_key("mary"));
        assert_eq!(name_key("Ana  Lee"), name_key("ana lee"));
        assert_ne!(name_key("dan"), dana);
        assert_ne!(name_key("dina"), dana);
    }
}
