//! Compile-time behaviour of `nn::network!` (SPEC §1–§3, §6), with trybuild.
//!
//! - `ui/pass/`: programs that must compile and run (every layer kind, every
//!   argument form, the shape rules' edge cases).
//! - `ui/parse/`: mistakes found before any shape is known: syntax, unknown
//!   layers and arguments, out-of-range values, invalid input shapes, names.
//! - `ui/shape/`: mistakes found by shape inference (SPEC §3).
//! - `ui/train/`: runtime types that must match the network (SPEC §5, §7).
//!
//! Each compile-fail file holds one mistake (or one commented family) and its
//! `.stderr` snapshot. Regenerate with `TRYBUILD=overwrite cargo test --test ui`
//! and read the diff: the messages are user-facing API (STYLE §3). Stderr
//! depends on the compiler version; these snapshots were made with rustc 1.95.

/// The compiler the snapshots were made with.
const SNAPSHOT_RUSTC: &str = "rustc 1.95.";

#[test]
fn ui() {
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).into_owned())
            .unwrap_or_default();
    if !rustc.starts_with(SNAPSHOT_RUSTC) {
        eprintln!(
            "skipping the UI snapshots: they were made with {SNAPSHOT_RUSTC}x, this is {}",
            rustc.trim()
        );
        return;
    }
    let t = trybuild::TestCases::new();
    t.pass("tests/ui/pass/*.rs");
    t.compile_fail("tests/ui/parse/*.rs");
    t.compile_fail("tests/ui/shape/*.rs");
    t.compile_fail("tests/ui/train/*.rs");
}
