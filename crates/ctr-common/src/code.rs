//! Error codes as Rust enums: one enum per crate, declared with
//! [`error_codes!`](crate::error_codes), each variant carrying its stable
//! string, a one-line meaning and the usual fix.
//!
//! The strings are a public API (JavaScript users match on them), so they
//! never change once released. `crates/ctr-codes` reads every enum and
//! generates the TypeScript unions (`packages/*/src/codes.ts`) and
//! `docs/errors.md` from them.

/// What every crate's `Code` enum offers (implemented by
/// [`error_codes!`](crate::error_codes)).
pub trait ErrorCode: Copy + Eq + std::fmt::Debug + 'static {
    /// The stable string, e.g. `ENS_EXEC`.
    fn as_str(self) -> &'static str;
    /// What the code means, one line, lower case.
    fn meaning(self) -> &'static str;
    /// What usually fixes it, one line, lower case.
    fn fix(self) -> &'static str;
    /// Every code of the enum, in declaration order.
    fn all() -> &'static [Self];
}

/// Declare a crate's error-code enum.
///
/// ```
/// ctr_common::error_codes! {
///     /// Codes of an example crate.
///     pub enum Code {
///         /// the thing does not exist
///         NotFound = "EEXAMPLE_NOT_FOUND" => "create it first",
///     }
/// }
/// use ctr_common::ErrorCode;
/// assert_eq!(Code::NotFound.as_str(), "EEXAMPLE_NOT_FOUND");
/// assert_eq!(Code::NotFound.fix(), "create it first");
/// ```
///
/// Each variant has exactly one doc line (its meaning, shown in
/// `docs/errors.md`), its stable string and its usual fix.
#[macro_export]
macro_rules! error_codes {
    (
        $(#[$meta:meta])*
        $vis:vis enum $name:ident {
            $(
                #[doc = $meaning:literal]
                $variant:ident = $code:literal => $fix:literal,
            )*
        }
    ) => {
        $(#[$meta])*
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        $vis enum $name {
            $(
                #[doc = $meaning]
                #[doc = ""]
                #[doc = concat!("`", $code, "`. Usual fix: ", $fix, ".")]
                $variant,
            )*
        }

        impl $name {
            /// The stable string, e.g. as matched on by JavaScript users.
            pub const fn as_str(self) -> &'static str {
                match self {
                    $( $name::$variant => $code, )*
                }
            }

            /// The variant whose string is `code`, if any: match on it
            /// where a code string must be told apart in a pattern.
            pub fn from_code(code: &str) -> Option<Self> {
                match code {
                    $( $code => Some($name::$variant), )*
                    _ => None,
                }
            }
        }

        impl $crate::ErrorCode for $name {
            fn as_str(self) -> &'static str {
                $name::as_str(self)
            }
            fn meaning(self) -> &'static str {
                match self {
                    $( $name::$variant => $meaning.trim_ascii(), )*
                }
            }
            fn fix(self) -> &'static str {
                match self {
                    $( $name::$variant => $fix, )*
                }
            }
            fn all() -> &'static [Self] {
                &[ $( $name::$variant, )* ]
            }
        }

        impl ::core::fmt::Display for $name {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(self.as_str())
            }
        }

        impl From<$name> for String {
            fn from(c: $name) -> String {
                c.as_str().to_string()
            }
        }

        impl PartialEq<$name> for String {
            fn eq(&self, c: &$name) -> bool {
                self == c.as_str()
            }
        }

        impl PartialEq<$name> for &str {
            fn eq(&self, c: &$name) -> bool {
                *self == c.as_str()
            }
        }
    };
}

error_codes! {
    /// Codes any ctr crate or package can raise, whatever its own prefix.
    pub enum Code {
        /// a bug in ctr: a panic or an impossible state, caught before it reached node
        Internal = "EINTERNAL" => "report it with the message; the operation did not complete",
        /// the package has no native addon for this platform (raised by the addon loader)
        UnsupportedPlatform = "ECTR_UNSUPPORTED_PLATFORM" => "run on linux x64 with glibc, the platforms listed in the message",
        /// the native addon file is missing from the installed package (raised by the addon loader)
        NativeMissing = "ECTR_NATIVE_MISSING" => "reinstall the package, or run `pnpm run build` in a checkout",
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn strings_meanings_and_fixes() {
        assert_eq!(Code::Internal.as_str(), "EINTERNAL");
        assert_eq!(Code::all().len(), 3);
        assert!(Code::Internal.meaning().starts_with("a bug"));
        assert_eq!(String::from(Code::Internal), "EINTERNAL");
        let owned = format!("E{}", "INTERNAL");
        assert!(owned == Code::Internal);
        assert!("EINTERNAL" == Code::Internal);
        assert_eq!(Code::NativeMissing.to_string(), "ECTR_NATIVE_MISSING");
        assert_eq!(Code::from_code("EINTERNAL"), Some(Code::Internal));
        assert_eq!(Code::from_code("ENOPE_X"), None);
    }
}
