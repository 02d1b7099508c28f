//! A form field's text as a typed value, once, at the edge: [`FieldValue::read`] parses what a
//! person typed (the message says what is wrong), [`FieldValue::show`] writes a value back as
//! text. Ranges are not checked here: they live on the configs (`TrainConfig::validate`,
//! `AttackConfig::validate`), which the page checks every edit against.

/// A value a text field edits.
pub trait FieldValue: Sized {
    /// The value of `text` (surrounding spaces ignored), or why it is not one.
    fn read(text: &str) -> Result<Self, String>;
    /// The value as the field shows it.
    fn show(&self) -> String;
}

macro_rules! numbers {
    ($($t:ty => $what:literal),*) => {$(
        impl FieldValue for $t {
            fn read(text: &str) -> Result<Self, String> {
                let text = text.trim();
                text.parse().map_err(|_| if text.is_empty() { format!("enter {}", $what) } else { format!("`{text}` is not {}", $what) })
            }
            fn show(&self) -> String {
                self.to_string()
            }
        }
    )*};
}

numbers!(f32 => "a number", f64 => "a number", usize => "a whole number ≥ 0", u64 => "a whole number ≥ 0");

/// An optional value: an empty field is `None`.
impl<T: FieldValue> FieldValue for Option<T> {
    fn read(text: &str) -> Result<Self, String> {
        if text.trim().is_empty() { Ok(None) } else { T::read(text).map(Some) }
    }
    fn show(&self) -> String {
        self.as_ref().map(T::show).unwrap_or_default()
    }
}

/// A list of numbers, separated by commas or spaces (`0.1, 0.3`).
impl FieldValue for Vec<f32> {
    fn read(text: &str) -> Result<Self, String> {
        text.split([',', ' ']).filter(|t| !t.trim().is_empty()).map(f32::read).collect()
    }
    fn show(&self) -> String {
        self.iter().map(f32::show).collect::<Vec<_>>().join(", ")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_becomes_a_value_once_and_bad_text_says_why() {
        assert_eq!(f32::read(" 0.3 "), Ok(0.3));
        assert_eq!(usize::read("64"), Ok(64));
        assert_eq!(<Option<usize>>::read(""), Ok(None));
        assert_eq!(<Option<usize>>::read("5000"), Ok(Some(5000)));
        assert_eq!(usize::read("-1").unwrap_err(), "`-1` is not a whole number ≥ 0");
        assert_eq!(f64::read("fast").unwrap_err(), "`fast` is not a number");
        assert_eq!(f32::read("").unwrap_err(), "enter a number");
        assert!(<Option<usize>>::read("1e3").is_err());
        assert_eq!(<Vec<f32>>::read("0.05, 0.1 0.3"), Ok(vec![0.05, 0.1, 0.3]));
        assert_eq!(<Vec<f32>>::read("0.1, x").unwrap_err(), "`x` is not a number");
        assert_eq!(vec![0.1f32, 0.3].show(), "0.1, 0.3");
    }

    #[test]
    fn a_shown_value_reads_back_as_itself() {
        for x in [0.3f32, 0.002, 1e-4, 6.0] {
            assert_eq!(f32::read(&x.show()), Ok(x));
        }
        assert_eq!(<Option<usize>>::read(&None::<usize>.show()), Ok(None));
        assert_eq!(u64::read(&u64::MAX.show()), Ok(u64::MAX));
    }
}
