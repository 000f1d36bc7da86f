//! Messages mode of the UI suite: the cases are compiled by whatever compiler
//! runs the tests, and only the error messages of the `.stderr` snapshots are
//! required, not rustc's layout around them.
//!
//! What is compared, for each `error` block of a snapshot:
//!
//! - `error: ...` (an error the macro reports): the text after `error: ` and
//!   the continuation lines under it, that is, the lines indented by at least
//!   the width of `error: ` that come before the `-->` line. rustc prints a
//!   message holding line breaks that way, and the macro's messages use them
//!   (the formula, the input shape, `= help: ...`). It is compared with the
//!   `message` of an error diagnostic in the compiler's JSON output, line by
//!   line, each line trimmed of surrounding whitespace.
//! - `error[E0277]: ...` (an error rustc reports): the error code and the text
//!   of the first line, compared with the code and the first line of an error
//!   diagnostic's `message`. That line is either rustc's title for the code
//!   (`mismatched types`) or, for a trait bound that the runtime annotates with
//!   `#[diagnostic::on_unimplemented]`, the `message` the crate wrote. The
//!   rest of such a block (labels such as ``expected `3072`, found `784` ``,
//!   notes, `required by` chains, how types are spelled in them) is rustc's
//!   own wording and layout, which may change from one version to the next,
//!   so it is not compared.
//!
//! Not compared: the `-->` lines, line numbers, the source excerpt and its
//! carets, `= note:` and `= help:` lines that rustc adds under the excerpt,
//! `note:` and `help:` blocks, warnings, and the order of the errors. Each
//! expected message must be matched by its own error (a message that a
//! snapshot holds twice must be reported twice); errors that the snapshot does
//! not hold are allowed, so that an error does not cascade is only checked by
//! the snapshots.
//!
//! A compile-fail case passes when it does not compile, nothing shows a panic
//! of the proc macro or of the compiler, and every expected message is found.
//! A pass case passes when it compiles and its program exits successfully.
//!
//! All cases are `[[bin]]` targets of one scratch package under the target
//! directory (`tests/nn-ui-messages`), depending on `nn-shapes` (library
//! `nn`) by path (a case can use `nn` and the standard library, nothing
//! else), compiled with the flags trybuild uses and built by a single
//! `cargo build --keep-going --message-format=json`; the diagnostics are
//! attributed to the cases by target name.

use serde_json::Value;
use std::collections::{BTreeMap, BTreeSet};
use std::fmt;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

/// Text that shows a panic of the proc macro or of the compiler. A panicking
/// rustc also writes `thread 'rustc' panicked at`, which newer compilers
/// spell `thread 'rustc' (1234) panicked at`: that line is recognised by its
/// two parts.
pub const PANIC_MARKERS: &[&str] = &[
    "proc macro panicked",
    "internal compiler error",
    "the compiler unexpectedly panicked",
];

/// The flags trybuild compiles the cases with, so that the messages are
/// produced under the same configuration as the snapshots.
const RUSTFLAGS: &[&str] = &["--cfg", "trybuild", "--verbose", "-A", "dead_code"];

/// The scratch package's name.
const PACKAGE: &str = "nn-ui-messages";

/// One error message, as compared in messages mode.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Message {
    /// `Some("E0277")` for `error[E0277]: ...`, `None` for `error: ...`.
    pub code: Option<String>,
    /// The compared lines, each trimmed: the first line and its continuation
    /// lines without a code, the first line alone with one.
    pub lines: Vec<String>,
}

impl Message {
    /// The message of an error diagnostic from the compiler's JSON output.
    pub fn from_diagnostic(code: Option<&str>, message: &str) -> Message {
        let mut lines: Vec<String> = message.lines().map(|l| l.trim().to_string()).collect();
        if code.is_some() {
            lines.truncate(1);
        }
        while lines.last().is_some_and(|l| l.is_empty()) {
            lines.pop();
        }
        Message {
            code: code.map(str::to_string),
            lines,
        }
    }
}

impl fmt::Display for Message {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match &self.code {
            Some(code) => write!(f, "error[{code}]: ")?,
            None => write!(f, "error: ")?,
        }
        for (i, line) in self.lines.iter().enumerate() {
            if i > 0 {
                write!(f, "\n  ")?;
            }
            write!(f, "{line}")?;
        }
        Ok(())
    }
}

/// The error messages of a `.stderr` snapshot, in order.
pub fn parse_snapshot(stderr: &str) -> Vec<Message> {
    let mut messages = Vec::new();
    let mut lines = stderr.lines().peekable();
    while let Some(line) = lines.next() {
        let Some((code, first, width)) = error_header(line) else {
            continue;
        };
        let mut text = vec![first.trim().to_string()];
        // Skipped for a coded error (only its first line is compared), still
        // consumed so that its own lines are never read as a header.
        let indent = " ".repeat(width);
        while let Some(next) = lines.peek() {
            if !next.starts_with(&indent) || is_layout(next) {
                break;
            }
            if code.is_none() {
                text.push(next.trim().to_string());
            }
            lines.next();
        }
        messages.push(Message { code, lines: text });
    }
    messages
}

/// `error: text` or `error[CODE]: text` at the start of a line: the code, the
/// text, and the width of what precedes the text.
fn error_header(line: &str) -> Option<(Option<String>, &str, usize)> {
    if let Some(text) = line.strip_prefix("error: ") {
        return Some((None, text, "error: ".len()));
    }
    let (code, text) = line.strip_prefix("error[")?.split_once("]: ")?;
    if code.is_empty() || !code.chars().all(|c| c.is_ascii_alphanumeric()) {
        return None;
    }
    let width = "error[".len() + code.len() + "]: ".len();
    Some((Some(code.to_string()), text, width))
}

/// rustc's layout under a message: the `-->` and `:::` locations and the
/// `|` gutter of the source excerpt.
fn is_layout(line: &str) -> bool {
    let t = line.trim_start();
    t.starts_with("-->") || t.starts_with(":::") || t.starts_with('|')
}

/// What the build reported for one case.
#[derive(Debug, Default, Clone)]
pub struct CaseBuild {
    /// Cargo produced the case's binary.
    pub compiled: bool,
    /// The binary, when it was produced.
    pub executable: Option<PathBuf>,
    /// The messages of its error diagnostics.
    pub errors: Vec<Message>,
    /// The lines of its diagnostics (or of cargo's report about it) that show
    /// a panic of the proc macro or the compiler.
    pub panics: Vec<String>,
    /// Its diagnostics as rustc rendered them.
    pub rendered: String,
}

/// The build of all cases, from cargo's JSON output.
#[derive(Debug, Default)]
pub struct Build {
    /// By target name.
    pub cases: BTreeMap<String, CaseBuild>,
    /// Rendered errors of other targets (`nn` or its dependencies).
    pub other_errors: Vec<String>,
    /// Lines of cargo's stderr that show a panic no case could be named for.
    pub unattributed_panics: Vec<String>,
}

/// Attributes cargo's `--message-format=json` output (`stdout`) and its
/// human-readable `stderr` to the targets `names`.
pub fn read_build(stdout: &str, stderr: &str, names: &BTreeSet<String>) -> Build {
    let mut build = Build::default();
    for name in names {
        build.cases.insert(name.clone(), CaseBuild::default());
    }
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        let target = v["target"]["name"].as_str().unwrap_or_default();
        let is_bin = v["target"]["kind"]
            .as_array()
            .is_some_and(|k| k.iter().any(|k| k == "bin"));
        let case = if is_bin {
            build.cases.get_mut(target)
        } else {
            None
        };
        match v["reason"].as_str() {
            Some("compiler-artifact") => {
                if let Some(case) = case {
                    case.compiled = true;
                    case.executable = v["executable"].as_str().map(PathBuf::from);
                }
            }
            Some("compiler-message") => {
                let m = &v["message"];
                let level = m["level"].as_str().unwrap_or_default();
                let rendered = m["rendered"].as_str().unwrap_or_default();
                let Some(case) = case else {
                    if level.starts_with("error") {
                        build.other_errors.push(rendered.to_string());
                    }
                    continue;
                };
                case.rendered.push_str(rendered);
                let mut texts = vec![level, m["message"].as_str().unwrap_or_default(), rendered];
                if let Some(children) = m["children"].as_array() {
                    texts.extend(children.iter().filter_map(|c| c["message"].as_str()));
                }
                for text in texts {
                    for l in text.lines().filter(|l| shows_panic(l)) {
                        if !case.panics.iter().any(|p| p == l.trim()) {
                            case.panics.push(l.trim().to_string());
                        }
                    }
                }
                if level == "error" {
                    case.errors.push(Message::from_diagnostic(
                        m["code"]["code"].as_str(),
                        m["message"].as_str().unwrap_or_default(),
                    ));
                }
            }
            _ => {}
        }
    }
    read_stderr(stderr, &mut build);
    build
}

fn shows_panic(line: &str) -> bool {
    PANIC_MARKERS.iter().any(|m| line.contains(m))
        || (line.contains("thread 'rustc'") && line.contains(" panicked"))
}

/// Cargo's stderr holds what rustc printed outside its JSON (a panicking
/// compiler's message and backtrace, interleaved between parallel jobs) and,
/// for each target that failed, `could not compile `pkg` (bin "name")`, with
/// `Caused by: ... (exit status: 101)` when rustc itself crashed: that status
/// names the case, the panic lines are kept for the report.
fn read_stderr(stderr: &str, build: &mut Build) {
    let lines: Vec<&str> = stderr.lines().collect();
    let panic_lines: Vec<String> = lines
        .iter()
        .filter(|l| shows_panic(l))
        .map(|l| l.trim().to_string())
        .collect();
    let mut named = false;
    for (i, line) in lines.iter().enumerate() {
        if !line.contains("could not compile") {
            continue;
        }
        let Some(name) = line
            .split_once("(bin \"")
            .and_then(|(_, rest)| rest.split_once('"'))
            .map(|(name, _)| name)
        else {
            continue;
        };
        let Some(case) = build.cases.get_mut(name) else {
            continue;
        };
        let report = lines[i + 1..]
            .iter()
            .take_while(|l| !l.starts_with("error") && !l.starts_with("warning"));
        for l in report {
            if l.contains("exit status: 101") || l.contains("signal: ") {
                // The end of `process didn't exit successfully: `rustc ...` (...)`.
                let status = l.rsplit('`').next().unwrap_or(l).trim();
                case.panics.push(format!("rustc ended with {status}"));
                case.panics.extend(panic_lines.iter().cloned());
                named = true;
            }
        }
    }
    if !named {
        build.unattributed_panics = panic_lines;
    }
}

/// The problems of a compile-fail case (none: it passes).
pub fn check_compile_fail(expected: &[Message], build: &CaseBuild) -> Vec<String> {
    let mut problems = Vec::new();
    if !build.panics.is_empty() {
        // The panic decides the case; its messages would only add noise.
        problems.push(format!(
            "the proc macro or the compiler panicked:\n{}",
            indent(&build.panics.join("\n"))
        ));
        return problems;
    }
    if build.compiled {
        problems.push(format!(
            "compiled successfully; it must fail with:\n{}",
            list(expected)
        ));
        return problems;
    }
    if build.errors.is_empty() {
        problems.push(format!(
            "did not compile, but no error was reported for it; expected:\n{}",
            list(expected)
        ));
        return problems;
    }
    let mut unused: Vec<&Message> = build.errors.iter().collect();
    let mut missing = Vec::new();
    for e in expected {
        match unused.iter().position(|f| *f == e) {
            Some(i) => {
                unused.remove(i);
            }
            None => missing.push(e.clone()),
        }
    }
    if !missing.is_empty() {
        problems.push(format!(
            "{} expected message(s) missing from the compiler's diagnostics:\n{}\n\
             messages found ({}):\n{}",
            missing.len(),
            list(&missing),
            build.errors.len(),
            list(&build.errors)
        ));
    }
    problems
}

/// The problems of a pass case before it is run (none: it compiled cleanly).
pub fn check_pass(build: &CaseBuild) -> Vec<String> {
    let mut problems = Vec::new();
    if !build.panics.is_empty() {
        problems.push(format!(
            "the proc macro or the compiler panicked:\n{}",
            indent(&build.panics.join("\n"))
        ));
    }
    if !build.compiled {
        problems.push(format!(
            "did not compile:\n{}",
            indent(build.rendered.trim_end())
        ));
    }
    problems
}

fn list(messages: &[Message]) -> String {
    if messages.is_empty() {
        return indent("(none)");
    }
    let shown: Vec<String> = messages.iter().map(|m| indent(&m.to_string())).collect();
    shown.join("\n")
}

fn indent(text: &str) -> String {
    let lines: Vec<String> = text.lines().map(|l| format!("    {l}")).collect();
    lines.join("\n")
}

/// One case: a `.rs` file of a group directory.
struct Case {
    /// `tests/ui/<group>/<file>.rs`, as shown in reports.
    shown: String,
    path: PathBuf,
    /// The `[[bin]]` name: `<group>-<file stem>`.
    target: String,
    pass: bool,
}

/// Compiles every case of the `pass` and `compile_fail` groups of `ui_dir`
/// (a directory of the package at `root`) and panics with a report of every
/// case that does not behave as described in the module documentation.
pub fn run(root: &Path, ui_dir: &str, pass: &[&str], compile_fail: &[&str]) {
    let start = Instant::now();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| env!("CARGO").into());
    let cases = collect_cases(root, ui_dir, pass, compile_fail);
    let (edition, target_dir) = metadata(&cargo, root);
    let project = target_dir.join("tests").join(PACKAGE);
    fs::create_dir_all(&project).expect("create the scratch package's directory");
    fs::write(project.join("Cargo.toml"), manifest(root, &edition, &cases))
        .expect("write the scratch package's Cargo.toml");
    // The workspace's versions of the dependencies, already downloaded.
    if let Ok(lock) = fs::read(root.join("Cargo.lock")) {
        fs::write(project.join("Cargo.lock"), lock).expect("copy Cargo.lock");
    }

    let output = Command::new(&cargo)
        .current_dir(&project)
        .args(["build", "--bins", "--keep-going", "--offline", "--quiet"])
        .args(["--message-format=json", "--color=never"])
        .env("CARGO_TARGET_DIR", project.join("target"))
        .env("CARGO_ENCODED_RUSTFLAGS", RUSTFLAGS.join("\u{1f}"))
        .env_remove("RUSTFLAGS")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .unwrap_or_else(|e| panic!("could not run {cargo:?}: {e}"));
    let built = start.elapsed();
    let stdout = String::from_utf8_lossy(&output.stdout);
    let stderr = String::from_utf8_lossy(&output.stderr);
    let names = cases.iter().map(|c| c.target.clone()).collect();
    let build = read_build(&stdout, &stderr, &names);
    let reached = build
        .cases
        .values()
        .any(|b| b.compiled || !b.errors.is_empty() || !b.panics.is_empty());
    if !output.status.success() && !reached {
        panic!(
            "messages mode: `cargo build` in {} failed before compiling any case:\n{}",
            project.display(),
            stderr.trim_end()
        );
    }
    if !build.other_errors.is_empty() {
        panic!(
            "messages mode: `nn` or a dependency did not compile, so the cases could not be \
             checked:\n{}",
            build.other_errors.join("\n")
        );
    }

    let mut failures = Vec::new();
    if !build.unattributed_panics.is_empty() {
        failures.push(format!(
            "the compiler panicked while building the cases (cargo did not say which):\n{}",
            indent(&build.unattributed_panics.join("\n"))
        ));
    }
    let mut messages = 0;
    for case in &cases {
        let b = &build.cases[&case.target];
        let problems = if case.pass {
            let mut p = check_pass(b);
            if p.is_empty() {
                p.extend(run_pass(b, &project));
            }
            p
        } else {
            let snapshot = case.path.with_extension("stderr");
            match fs::read_to_string(&snapshot) {
                Err(e) => vec![format!(
                    "no snapshot {} ({e}); write it with \
                     `TRYBUILD=overwrite cargo test --test ui` on the snapshots' compiler",
                    snapshot.display()
                )],
                Ok(text) => {
                    let expected = parse_snapshot(&text);
                    messages += expected.len();
                    if expected.is_empty() {
                        vec![format!(
                            "its snapshot {} holds no error",
                            snapshot.display()
                        )]
                    } else {
                        check_compile_fail(&expected, b)
                    }
                }
            }
        };
        for p in problems {
            failures.push(format!("{}: {p}", case.shown));
        }
    }

    let passes = cases.iter().filter(|c| c.pass).count();
    eprintln!(
        "messages mode: {passes} pass cases, {} compile-fail cases ({messages} messages), \
         built in {:.1} s, checked in {:.1} s",
        cases.len() - passes,
        built.as_secs_f64(),
        start.elapsed().as_secs_f64()
    );
    if !failures.is_empty() {
        panic!(
            "messages mode: {} problem(s):\n\n{}\n",
            failures.len(),
            failures.join("\n\n")
        );
    }
}

/// The cases of the groups, sorted; panics on an empty group.
fn collect_cases(root: &Path, ui_dir: &str, pass: &[&str], compile_fail: &[&str]) -> Vec<Case> {
    let groups = pass
        .iter()
        .map(|g| (g, true))
        .chain(compile_fail.iter().map(|g| (g, false)));
    let mut cases = Vec::new();
    let mut targets = BTreeSet::new();
    for (group, is_pass) in groups {
        let dir = root.join(ui_dir).join(group);
        let entries = fs::read_dir(&dir).unwrap_or_else(|e| panic!("read {}: {e}", dir.display()));
        let mut files: Vec<PathBuf> = entries
            .map(|e| e.expect("read a directory entry").path())
            .filter(|p| p.extension().is_some_and(|x| x == "rs"))
            .collect();
        files.sort();
        assert!(!files.is_empty(), "no case in {}", dir.display());
        for path in files {
            let file = path.file_name().unwrap().to_string_lossy().into_owned();
            let stem = path.file_stem().unwrap().to_string_lossy();
            let target: String = format!("{group}-{stem}")
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '-' })
                .collect();
            assert!(targets.insert(target.clone()), "two cases named {target}");
            cases.push(Case {
                shown: format!("{ui_dir}/{group}/{file}"),
                path,
                target,
                pass: is_pass,
            });
        }
    }
    cases
}

/// The root package's edition and the target directory, from `cargo metadata`.
fn metadata(cargo: &std::ffi::OsStr, root: &Path) -> (String, PathBuf) {
    let output = Command::new(cargo)
        .args(["metadata", "--no-deps", "--format-version=1", "--offline"])
        .arg("--manifest-path")
        .arg(root.join("Cargo.toml"))
        .output()
        .unwrap_or_else(|e| panic!("could not run cargo metadata: {e}"));
    let v: Value = serde_json::from_slice(&output.stdout).unwrap_or_else(|e| {
        panic!(
            "cargo metadata: {e}\n{}",
            String::from_utf8_lossy(&output.stderr)
        )
    });
    let manifest = root.join("Cargo.toml");
    let package = v["packages"]
        .as_array()
        .and_then(|ps| {
            ps.iter()
                .find(|p| p["manifest_path"].as_str().map(Path::new) == Some(&manifest))
        })
        .expect("cargo metadata lists the root package");
    let edition = package["edition"].as_str().expect("an edition").to_string();
    let target = v["target_directory"].as_str().expect("a target directory");
    (edition, PathBuf::from(target))
}

/// The scratch package: every case a `[[bin]]`, `nn-shapes` (library `nn`) by path.
fn manifest(root: &Path, edition: &str, cases: &[Case]) -> String {
    let mut m = format!(
        "[package]\nname = \"{PACKAGE}\"\nversion = \"0.0.0\"\nedition = \"{edition}\"\n\
         publish = false\nautobins = false\n\n\
         [workspace]\n\n\
         [dependencies]\nnn-shapes = {{ path = {} }}\n\n\
         [profile.dev]\ndebug = false\n",
        toml_string(root)
    );
    for case in cases {
        m.push_str(&format!(
            "\n[[bin]]\nname = \"{}\"\npath = {}\ntest = false\nbench = false\n",
            case.target,
            toml_string(&case.path)
        ));
    }
    m
}

fn toml_string(path: &Path) -> String {
    let s = path.to_string_lossy();
    format!("\"{}\"", s.replace('\\', "\\\\").replace('"', "\\\""))
}

/// Runs a pass case's program.
fn run_pass(build: &CaseBuild, dir: &Path) -> Vec<String> {
    let Some(exe) = &build.executable else {
        return vec!["compiled, but cargo did not say where its program is".to_string()];
    };
    match Command::new(exe).current_dir(dir).output() {
        Err(e) => vec![format!("could not run {}: {e}", exe.display())],
        Ok(out) if out.status.success() => Vec::new(),
        Ok(out) => vec![format!(
            "compiled, but its program failed ({}):\n{}",
            out.status,
            indent(String::from_utf8_lossy(&out.stderr).trim_end())
        )],
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn msg(code: Option<&str>, lines: &[&str]) -> Message {
        Message {
            code: code.map(str::to_string),
            lines: lines.iter().map(|l| l.to_string()).collect(),
        }
    }

    const MACRO_ERRORS: &str = "\
error: conv: output height and width (28 + 0 + 0 − 5) / 2 + 1 leave the last input row and column unused (23 mod 2 = 1)
         the remainder may only cover padding or a stride gap
         this layer's input is [1, 28, 28]
         = help: pad = 1 gives [6, 13, 13]
 --> tests/ui/shape/several-independent-errors.rs:5:9
  |
5 |         conv(6, kernel = 5, stride = 2) => [6, 12, 12],
  |         ^^^^

error: dense: `in = 400` but the input has 256 features
         this layer's input is [256]
         = help: write `in = 256`, or remove `in`
  --> tests/ui/shape/several-independent-errors.rs:11:25
   |
11 |         dense(120, in = 400),
   |                         ^^^
";

    #[test]
    fn a_macro_error_is_its_first_line_and_continuation_lines() {
        assert_eq!(
            parse_snapshot(MACRO_ERRORS),
            vec![
                msg(
                    None,
                    &[
                        "conv: output height and width (28 + 0 + 0 − 5) / 2 + 1 leave the last \
                         input row and column unused (23 mod 2 = 1)",
                        "the remainder may only cover padding or a stride gap",
                        "this layer's input is [1, 28, 28]",
                        "= help: pad = 1 gives [6, 13, 13]",
                    ]
                ),
                msg(
                    None,
                    &[
                        "dense: `in = 400` but the input has 256 features",
                        "this layer's input is [256]",
                        "= help: write `in = 256`, or remove `in`",
                    ]
                ),
            ]
        );
    }

    #[test]
    fn a_one_line_error_stops_at_the_location() {
        let s = "error: expected `,`\n --> tests/ui/parse/missing-comma.rs:5:9\n  |\n\
                 5 |         relu,\n  |         ^^^^\n";
        assert_eq!(parse_snapshot(s), vec![msg(None, &["expected `,`"])]);
    }

    #[test]
    fn a_rustc_error_is_its_code_and_first_line() {
        let s = "\
error[E0308]: mismatched types
  --> tests/ui/train/dataset-wrong-sample-size.rs:16:43
   |
16 |     let _ = nn::train::evaluate(&mut net, &digits, &SoftmaxCrossEntropy, 32);
   |             -------------------           ^^^^^^^ expected `3072`, found `784`
   |
   = note: expected reference `&Dataset<3072>`
              found reference `&Dataset<784>`
note: function defined here
  --> nn-runtime/src/train.rs
   |
   | pub fn evaluate<N, L, const LEN: usize>(
   |        ^^^^^^^^

error[E0277]: the data set's samples do not match the network's input
              a second line of rustc's
  --> tests/ui/train/x.rs:3:5
   |
   = help: the trait `Fits<3072>` is not implemented for `Dataset<784>`
";
        assert_eq!(
            parse_snapshot(s),
            vec![
                msg(Some("E0308"), &["mismatched types"]),
                msg(
                    Some("E0277"),
                    &["the data set's samples do not match the network's input"]
                ),
            ]
        );
    }

    #[test]
    fn warnings_notes_and_span_less_notes_are_not_messages() {
        let s = "\
warning: unused variable: `x`
 --> tests/ui/pass/x.rs:2:9
  |
2 |     let x = 1;
  |         ^ help: if this is intentional, prefix it with an underscore: `_x`
  |
  = note: `#[warn(unused_variables)]` on by default

error: no span here
  = note: rustc's own note, indented by the gutter
help: a help block
error[E0599]: no method named `foo`
";
        assert_eq!(
            parse_snapshot(s),
            vec![
                msg(None, &["no span here"]),
                msg(Some("E0599"), &["no method named `foo`"]),
            ]
        );
    }

    #[test]
    fn a_diagnostic_is_compared_by_trimmed_lines() {
        let found = Message::from_diagnostic(
            None,
            "dense: `in = 400` but the input has 256 features\n  this layer's input is [256]\n",
        );
        assert_eq!(
            found,
            msg(
                None,
                &[
                    "dense: `in = 400` but the input has 256 features",
                    "this layer's input is [256]"
                ]
            )
        );
        let coded = Message::from_diagnostic(Some("E0277"), "first line\nmore of rustc's");
        assert_eq!(coded, msg(Some("E0277"), &["first line"]));
    }

    fn failed(errors: Vec<Message>) -> CaseBuild {
        CaseBuild {
            errors,
            ..CaseBuild::default()
        }
    }

    #[test]
    fn every_expected_message_found_passes() {
        let expected = parse_snapshot(MACRO_ERRORS);
        let mut found = expected.clone();
        found.reverse();
        found.push(msg(Some("E0433"), &["an error the snapshot does not hold"]));
        assert_eq!(
            check_compile_fail(&expected, &failed(found)),
            Vec::<String>::new()
        );
    }

    #[test]
    fn a_missing_message_fails_and_shows_what_was_found() {
        let expected = parse_snapshot(MACRO_ERRORS);
        let mut found = expected.clone();
        found[1].lines[0] = "dense: `in = 400` but the input has 255 features".to_string();
        let problems = check_compile_fail(&expected, &failed(found));
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(p.starts_with("1 expected message(s) missing"), "{p}");
        let (missing, shown) = p.split_once("messages found (2):").expect(p);
        assert!(missing.contains("has 256 features"), "{p}");
        assert!(!missing.contains("conv: output height"), "{p}");
        assert!(shown.contains("has 255 features"), "{p}");
        assert!(shown.contains("conv: output height"), "{p}");
    }

    #[test]
    fn a_continuation_line_is_part_of_the_message() {
        let expected = parse_snapshot(MACRO_ERRORS);
        let mut found = expected.clone();
        found[0].lines.pop();
        let problems = check_compile_fail(&expected, &failed(found));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("= help: pad = 1"), "{}", problems[0]);
    }

    #[test]
    fn a_message_expected_twice_must_be_found_twice() {
        let once = msg(None, &["unknown layer `maxpool`; did you mean `max_pool`?"]);
        let expected = vec![once.clone(), once.clone()];
        assert_eq!(
            check_compile_fail(&expected, &failed(vec![once.clone()])).len(),
            1
        );
        assert!(check_compile_fail(&expected, &failed(expected.clone())).is_empty());
    }

    #[test]
    fn the_error_code_is_compared() {
        let expected = vec![msg(Some("E0308"), &["mismatched types"])];
        let found = vec![msg(Some("E0277"), &["mismatched types"])];
        assert_eq!(check_compile_fail(&expected, &failed(found)).len(), 1);
    }

    #[test]
    fn a_case_that_compiles_fails() {
        let expected = parse_snapshot(MACRO_ERRORS);
        let build = CaseBuild {
            compiled: true,
            ..CaseBuild::default()
        };
        let problems = check_compile_fail(&expected, &build);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].starts_with("compiled successfully"),
            "{}",
            problems[0]
        );
    }

    #[test]
    fn a_failure_without_errors_fails() {
        let expected = parse_snapshot(MACRO_ERRORS);
        let problems = check_compile_fail(&expected, &failed(Vec::new()));
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(
            problems[0].contains("no error was reported"),
            "{}",
            problems[0]
        );
    }

    /// A line of `cargo build --message-format=json` for an error of `bin`.
    fn json_error(bin: &str, code: Option<&str>, message: &str, children: &[&str]) -> String {
        let children: Vec<Value> = children
            .iter()
            .map(|c| {
                serde_json::json!({"message": c, "code": null, "level": "help",
                "spans": [], "children": [], "rendered": null})
            })
            .collect();
        let code = code.map(|c| serde_json::json!({"code": c, "explanation": null}));
        serde_json::json!({
            "reason": "compiler-message",
            "package_id": "path+file:///scratch#nn-ui-messages@0.0.0",
            "manifest_path": "/scratch/Cargo.toml",
            "target": {"kind": ["bin"], "crate_types": ["bin"], "name": bin,
                "src_path": "/ws/tests/ui/x.rs", "edition": "2021", "doc": true,
                "doctest": false, "test": false},
            "message": {"$message_type": "diagnostic", "message": message, "code": code,
                "level": "error", "spans": [], "children": children,
                "rendered": format!("error: {message}\n")}
        })
        .to_string()
    }

    fn json_artifact(bin: &str) -> String {
        serde_json::json!({
            "reason": "compiler-artifact",
            "package_id": "path+file:///scratch#nn-ui-messages@0.0.0",
            "target": {"kind": ["bin"], "crate_types": ["bin"], "name": bin,
                "src_path": "/ws/tests/ui/pass/x.rs"},
            "profile": {}, "features": [], "filenames": ["/t/debug/pass-x"],
            "executable": "/t/debug/pass-x", "fresh": false
        })
        .to_string()
    }

    fn names(n: &[&str]) -> BTreeSet<String> {
        n.iter().map(|s| s.to_string()).collect()
    }

    #[test]
    fn diagnostics_are_attributed_to_their_case() {
        let stdout = [
            json_error(
                "shape-a",
                None,
                "conv: bad\n  this layer's input is [3]",
                &[],
            ),
            json_error("parse-b", Some("E0308"), "mismatched types", &[]),
            json_artifact("pass-x"),
            r#"{"reason":"build-finished","success":false}"#.to_string(),
        ]
        .join("\n");
        let b = read_build(&stdout, "", &names(&["shape-a", "parse-b", "pass-x"]));
        assert!(b.other_errors.is_empty() && b.unattributed_panics.is_empty());
        let a = &b.cases["shape-a"];
        assert!(!a.compiled && a.panics.is_empty());
        assert_eq!(
            a.errors,
            vec![msg(None, &["conv: bad", "this layer's input is [3]"])]
        );
        assert_eq!(
            b.cases["parse-b"].errors,
            vec![msg(Some("E0308"), &["mismatched types"])]
        );
        let x = &b.cases["pass-x"];
        assert!(x.compiled && x.errors.is_empty());
        assert_eq!(x.executable, Some(PathBuf::from("/t/debug/pass-x")));
    }

    #[test]
    fn a_proc_macro_panic_fails_even_with_every_message_found() {
        let expected = vec![msg(None, &["conv: bad"])];
        let stdout = [
            json_error("shape-a", None, "conv: bad", &[]),
            json_error(
                "shape-a",
                None,
                "proc macro panicked",
                &["message: index out of bounds"],
            ),
        ]
        .join("\n");
        let b = read_build(&stdout, "", &names(&["shape-a"]));
        let problems = check_compile_fail(&expected, &b.cases["shape-a"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("panicked"), "{}", problems[0]);
        assert!(
            problems[0].contains("proc macro panicked"),
            "{}",
            problems[0]
        );
    }

    /// rustc 1.95 with `-Z treat-err-as-bug=1` on the case `shape-a`: the
    /// diagnostic that panics comes in the JSON with the level
    /// `error: internal compiler error`, the rest on stderr (shortened here).
    const ICE_STDERR: &str = "\
thread 'rustc' (2890) panicked at /rustc-dev/59807616e1fa2540724bfbac14d7976d7e4a3860/compiler/rustc_errors/src/lib.rs:1531:17:
aborting due to `-Z treat-err-as-bug=1`
stack backtrace:
   0: __rustc::rust_begin_unwind
note: Some details are omitted, run with `RUST_BACKTRACE=full` for a verbose backtrace.

error: the compiler unexpectedly panicked. This is a bug

note: we would appreciate a bug report: https://github.com/rust-lang/rust/issues/new?labels=C-bug%2C+I-ICE%2C+T-compiler&template=ice.md

query stack during panic:
#0 [typeck] type-checking `main`
end of query stack
error: could not compile `nn-ui-messages` (bin \"parse-b\") due to 1 previous error
error: could not compile `nn-ui-messages` (bin \"shape-a\")

Caused by:
  process didn't exit successfully: `rustc --crate-name shape_a --edition=2021` (exit status: 101)
";

    #[test]
    fn a_compiler_crash_is_attributed_by_its_exit_status() {
        let b = read_build("", ICE_STDERR, &names(&["shape-a", "parse-b"]));
        assert!(b.unattributed_panics.is_empty());
        assert!(b.cases["parse-b"].panics.is_empty());
        let problems = check_compile_fail(&[msg(None, &["conv: bad"])], &b.cases["shape-a"]);
        assert_eq!(problems.len(), 1, "{problems:?}");
        let p = &problems[0];
        assert!(p.contains("rustc ended with (exit status: 101)"), "{p}");
        assert!(p.contains("thread 'rustc' (2890) panicked"), "{p}");
        assert!(p.contains("compiler unexpectedly panicked"), "{p}");
    }

    #[test]
    fn an_internal_compiler_error_diagnostic_fails() {
        let line = json_error("shape-a", Some("E0308"), "mismatched types", &[]).replace(
            r#""level":"error","spans""#,
            r#""level":"error: internal compiler error","spans""#,
        );
        assert!(line.contains("internal compiler error"));
        let b = read_build(&line, "", &names(&["shape-a"]));
        let problems = check_compile_fail(&[msg(None, &["conv: bad"])], &b.cases["shape-a"]);
        assert!(
            problems[0].contains("panicked:\n    error: internal compiler error"),
            "{problems:?}"
        );
    }

    #[test]
    fn a_compiler_panic_no_case_is_named_for_is_kept() {
        let stderr = "thread 'rustc' panicked at somewhere\n";
        let b = read_build("", stderr, &names(&["shape-a"]));
        assert_eq!(
            b.unattributed_panics,
            vec!["thread 'rustc' panicked at somewhere".to_string()]
        );
    }

    #[test]
    fn errors_of_other_targets_are_kept_apart() {
        let line = json_error("nn_runtime", None, "expected `;`", &[])
            .replace(r#""kind":["bin"]"#, r#""kind":["lib"]"#);
        let b = read_build(&line, "", &names(&["nn_runtime"]));
        assert_eq!(b.other_errors, vec!["error: expected `;`\n".to_string()]);
        assert!(b.cases["nn_runtime"].errors.is_empty());
    }

    #[test]
    fn a_pass_case_that_does_not_compile_fails() {
        let b = CaseBuild {
            rendered: "error: conv: bad\n".to_string(),
            errors: vec![msg(None, &["conv: bad"])],
            ..CaseBuild::default()
        };
        let problems = check_pass(&b);
        assert_eq!(problems.len(), 1, "{problems:?}");
        assert!(problems[0].contains("did not compile:\n    error: conv: bad"));
    }
}
