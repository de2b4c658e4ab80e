//! The error codes of this crate: stable strings (`EOCI_*`), each with its
//! meaning and usual fix. `crates/ctr-codes` generates the TypeScript union and
//! `docs/errors.md` from this file; add a code here, then run `pnpm run codes`.

ctr_common::error_codes! {
    /// Codes of `ctr-oci`: reading and validating an OCI bundle and its `config.json`.
    pub enum Code {
        /// the bundle directory or its config.json cannot be read
        Bundle = "EOCI_BUNDLE" => "pass the directory that holds config.json (`--bundle`), readable by the runtime",
        /// config.json is well-formed JSON but breaks a rule of the runtime spec (`path` names the field)
        Invalid = "EOCI_INVALID" => "correct the field named in the message, as config.md of the runtime spec describes it",
        /// config.json (or a process.json) is not valid JSON
        Json = "EOCI_JSON" => "fix the syntax at the line and column in the message",
        /// a field of config.json has the wrong type (`path` names it)
        Type = "EOCI_TYPE" => "give the field the type the runtime spec defines (string, number, array, object)",
    }
}
