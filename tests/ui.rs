//! Compile-time behaviour of `nn::network!`: programs that must compile, and
//! mistakes that must be refused with a given message.
//!
//! - `ui/pass/`: programs that must compile and run (every layer kind, every
//!   argument form, the shape rules' edge cases).
//! - `ui/parse/`: mistakes found before any shape is known: syntax, unknown
//!   layers and arguments, out-of-range values, invalid input shapes, names.
//! - `ui/shape/`: mistakes found by shape inference.
//! - `ui/block/`: mistakes in blocks (`add`, `concat`, `residual`) and in the
//!   layers that train and evaluate differently (`batch_norm`, `dropout`).
//! - `ui/train/`: runtime types that must match the network.
//!
//! Each compile-fail file holds one mistake (or one commented family) and its
//! `.stderr` snapshot; the messages are user-facing API.
//!
//! The test runs in one of two modes:
//!
//! - snapshots, on the compiler the snapshots were made with (rustc 1.95):
//!   trybuild compares each case's whole stderr with its snapshot.
//! - messages, on any other compiler, where rustc's layout differs: every pass
//!   case must compile and run, and every compile-fail case must fail to
//!   compile, without a panic of the proc macro or the compiler, with each
//!   error message of its snapshot among its diagnostics (see the `ui_messages`
//!   module for exactly what is compared). All cases are built by one cargo
//!   invocation.
//!
//! `NN_UI_MODE=messages` (or `NN_UI_MODE=snapshots`) forces a mode.
//!
//! Regenerate the snapshots on rustc 1.95 with
//! `TRYBUILD=overwrite cargo test --test ui` and read the diff.

mod ui_messages;

use std::path::Path;

/// The compiler the snapshots were made with.
const SNAPSHOT_RUSTC: &str = "rustc 1.95.";

/// The environment variable that forces a mode.
const MODE_VAR: &str = "NN_UI_MODE";

const PASS: &[&str] = &["pass"];
const COMPILE_FAIL: &[&str] = &["parse", "shape", "block", "train"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Mode {
    Snapshots,
    Messages,
}

/// The mode for the `NN_UI_MODE` value `forced` and the compiler `rustc`
/// (its `--version` line).
fn mode(forced: Option<&str>, rustc: &str) -> Result<Mode, String> {
    match forced.map(str::trim) {
        Some("messages") => Ok(Mode::Messages),
        Some("snapshots") => Ok(Mode::Snapshots),
        None | Some("") if rustc.starts_with(SNAPSHOT_RUSTC) => Ok(Mode::Snapshots),
        None | Some("") => Ok(Mode::Messages),
        Some(other) => Err(format!(
            "{MODE_VAR}={other:?}: expected `messages` or `snapshots` (or nothing, to choose by \
             the compiler)"
        )),
    }
}

#[test]
fn ui() {
    let rustc =
        std::process::Command::new(std::env::var("RUSTC").unwrap_or_else(|_| "rustc".into()))
            .arg("--version")
            .output()
            .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_string())
            .unwrap_or_default();
    let forced = std::env::var(MODE_VAR).ok();
    let mode = mode(forced.as_deref(), &rustc).unwrap_or_else(|e| panic!("{e}"));
    if mode == Mode::Messages && forced.is_none() && std::env::var_os("TRYBUILD").is_some() {
        panic!(
            "TRYBUILD is set, but this is {rustc} and the snapshots were made with \
             {SNAPSHOT_RUSTC}x, so only their messages are checked and nothing is written; \
             set {MODE_VAR}=snapshots to run trybuild with this compiler anyway"
        );
    }
    match mode {
        Mode::Snapshots => {
            let t = trybuild::TestCases::new();
            for group in PASS {
                t.pass(format!("tests/ui/{group}/*.rs"));
            }
            for group in COMPILE_FAIL {
                t.compile_fail(format!("tests/ui/{group}/*.rs"));
            }
        }
        Mode::Messages => {
            eprintln!("checking the UI messages with {rustc}");
            ui_messages::run(
                Path::new(env!("CARGO_MANIFEST_DIR")),
                "tests/ui",
                PASS,
                COMPILE_FAIL,
            );
        }
    }
}

/// Every directory of `tests/ui` is a group that one of the lists runs.
#[test]
fn every_group_is_run() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/ui");
    for entry in std::fs::read_dir(&dir).expect("read tests/ui") {
        let path = entry.expect("read a directory entry").path();
        if !path.is_dir() {
            continue;
        }
        let name = path.file_name().unwrap().to_string_lossy().into_owned();
        assert!(
            PASS.contains(&name.as_str()) || COMPILE_FAIL.contains(&name.as_str()),
            "tests/ui/{name} is not in PASS or COMPILE_FAIL, so none of its cases run"
        );
    }
}

#[test]
fn the_mode_follows_the_compiler_unless_forced() {
    let snapshot = "rustc 1.95.0 (59807616e 2026-04-14)";
    let other = "rustc 1.89.0 (29483883e 2025-08-04)";
    assert_eq!(mode(None, snapshot), Ok(Mode::Snapshots));
    assert_eq!(mode(None, other), Ok(Mode::Messages));
    assert_eq!(mode(Some(""), other), Ok(Mode::Messages));
    assert_eq!(mode(Some("messages"), snapshot), Ok(Mode::Messages));
    assert_eq!(mode(Some("snapshots"), other), Ok(Mode::Snapshots));
    assert!(mode(Some("message"), snapshot).is_err());
}
