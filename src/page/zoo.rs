//! The model zoo's names: a model id made from what a person typed or a file's name, and the
//! one-line description of a model shown next to it.

use crate::model::weights::Metadata;
use crate::train::Defense;

/// `name` made into a model id (lowercase; anything but letters, digits, `-`, `_`, `.` becomes
/// `-`), or why it cannot be one.
pub fn model_id(name: &str) -> Result<String, String> {
    let id: String = name
        .trim()
        .trim_end_matches(".safetensors")
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.') { c.to_ascii_lowercase() } else { '-' })
        .collect();
    if id.is_empty() || id.len() > 48 {
        return Err(format!("`{}` cannot name a model: use 1–48 letters, digits, `-`, `_` or `.`", name.trim()));
    }
    Ok(id)
}

/// One line describing a model's training and measured accuracy.
pub fn describe(metadata: &Metadata) -> String {
    let mut text = format!("{} · {}", metadata.architecture, metadata.defense);
    if metadata.defense.parse::<Defense>().is_ok_and(|d| d != Defense::None) {
        text.push_str(&format!(" ε={}", metadata.epsilon));
    }
    text.push_str(&format!(" · {} epoch{}", metadata.epochs, if metadata.epochs == 1 { "" } else { "s" }));
    if let Some(a) = metadata.clean_accuracy {
        text.push_str(&format!(" · test accuracy {:.2}%", a * 100.0));
    }
    text
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::model::Architecture;

    #[test]
    fn a_name_becomes_an_id_or_says_why_not() {
        assert_eq!(model_id("My CNN.safetensors").as_deref(), Ok("my-cnn"));
        assert_eq!(model_id(" mlp_v2.1 ").as_deref(), Ok("mlp_v2.1"));
        assert!(model_id("   ").unwrap_err().contains("cannot name a model"));
        assert!(model_id(&"x".repeat(49)).is_err());
    }

    #[test]
    fn a_description_says_how_a_model_was_trained_and_how_it_does() {
        let mut m = Metadata::untrained(Architecture::Cnn);
        m.defense = "pgd".into();
        m.epsilon = 0.3;
        m.epochs = 1;
        m.clean_accuracy = Some(0.9812);
        assert_eq!(describe(&m), "cnn · pgd ε=0.3 · 1 epoch · test accuracy 98.12%");
    }
}
