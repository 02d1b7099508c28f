//! One way to name the choices a user makes (attack, defense, architecture, noise, backend): a
//! single table of variants and their names gives the list of them, each one's name, `Display`,
//! `FromStr` with a message that lists the valid names, and serde as the name (what the CLI, the
//! page, share links, weights metadata and worker messages all use).

/// Declares `enum $name` from `Variant = "name"` lines; `$what` names the kind of choice in
/// parse errors ("unknown attack `x` (expected one of fgsm, pgd, …)").
macro_rules! choices {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident ($what:literal) {
            $( $(#[$vmeta:meta])* $variant:ident = $text:literal, )+
        }
    ) => {
        $(#[$meta])*
        #[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
        $vis enum $name {
            $( $(#[$vmeta])* $variant, )+
        }

        impl $name {
            /// Every choice, in the order the CLI and the page list them.
            pub const ALL: [$name; [$($text),+].len()] = [$($name::$variant),+];

            /// The name the CLI, the page, share links and weights files use.
            pub fn name(self) -> &'static str {
                match self {
                    $( $name::$variant => $text, )+
                }
            }
        }

        impl ::std::fmt::Display for $name {
            fn fmt(&self, f: &mut ::std::fmt::Formatter<'_>) -> ::std::fmt::Result {
                f.write_str(self.name())
            }
        }

        impl ::std::str::FromStr for $name {
            type Err = String;
            fn from_str(s: &str) -> Result<Self, Self::Err> {
                $name::ALL.into_iter().find(|c| c.name() == s).ok_or_else(|| {
                    let names: Vec<&str> = $name::ALL.iter().map(|c| c.name()).collect();
                    format!("unknown {} `{s}` (expected one of {})", $what, names.join(", "))
                })
            }
        }

        impl ::serde::Serialize for $name {
            fn serialize<S: ::serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
                serializer.serialize_str(self.name())
            }
        }

        impl<'de> ::serde::Deserialize<'de> for $name {
            fn deserialize<D: ::serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
                let name = <String as ::serde::Deserialize>::deserialize(deserializer)?;
                name.parse().map_err(::serde::de::Error::custom)
            }
        }
    };
}


#[cfg(test)]
mod tests {
    choices! {
        /// A test choice.
        enum Fruit ("fruit") {
            /// An apple.
            Apple = "apple",
            /// A blood orange.
            BloodOrange = "blood-orange",
        }
    }

    #[test]
    fn a_choice_reads_and_writes_its_name_everywhere() {
        assert_eq!(Fruit::ALL, [Fruit::Apple, Fruit::BloodOrange]);
        assert_eq!(Fruit::BloodOrange.to_string(), "blood-orange");
        assert_eq!("apple".parse::<Fruit>(), Ok(Fruit::Apple));
        assert_eq!("pear".parse::<Fruit>().unwrap_err(), "unknown fruit `pear` (expected one of apple, blood-orange)");
        assert_eq!(serde_json::to_string(&Fruit::BloodOrange).unwrap(), "\"blood-orange\"");
        assert_eq!(serde_json::from_str::<Fruit>("\"apple\"").unwrap(), Fruit::Apple);
        assert!(serde_json::from_str::<Fruit>("\"pear\"").unwrap_err().to_string().contains("expected one of"));
    }
}
