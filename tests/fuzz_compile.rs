//! Fuzzing of `network!` through the whole compiler: seeded mutations of
//! valid definitions (a token deleted, a number made 0, huge or negative, a
//! word of the language inserted, two tokens swapped) are compiled in
//! batches by rustc, and every error must be the macro's, pointing at the
//! user's tokens: none inside `nn`'s own code (such as a constant of the
//! runtime failing to evaluate), none without a place, and no panic of the
//! macro or the compiler. What the macro accepts must compile.
//!
//! The macro's own property tests (`nn-macros/src/tests.rs`) run it on
//! thousands more definitions in-process; this test is what finds the
//! mistakes that only rustc sees. Two passes: all the mutations in one
//! crate, each in a module of its own; then, as one crate again, those that
//! had no error (an error in one network can keep rustc from the later
//! checks of the others, so the second pass must have none at all).
//!
//! `NN_FUZZ_CASES` sets the number of mutations (default 400),
//! `NN_FUZZ_SEED` the seed.

use nn_runtime::testing::env_or;
use rand::{Rng, SeedableRng};
use rand_chacha::ChaCha8Rng;
use serde_json::Value;
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Valid definitions to mutate: every layer kind, blocks, windows with
/// padding and strides, recurrent layers over a sequence.
const BASES: &[&str] = &[
    "struct Net<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5) => [16, 10, 10], relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }",
    "struct Net<[4, 8, 8]> {
        conv(8, kernel = 3, pad = 1), batch_norm, relu,
        residual { conv(8, kernel = 3, pad = 1, bias = false), batch_norm(momentum = 0.2), relu, dropout(0.1) },
        down: add {
            [conv(16, kernel = 3, stride = 2, pad = 1), batch_norm],
            [conv(16, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [16, 4, 4],
        concat { [conv(4, kernel = 1)], [max_pool(3, stride = 1, pad = 1)], [add { [relu], [] }] },
        global_avg_pool, dropout(0.5), dense(10),
    }",
    "struct Net<[3, 9, 7]> {
        conv(5, kernel = (3, 2), stride = (2, 1), pad = (1, 1, 0, 1)), leaky_relu(0.1),
        avg_pool(2, round = ceil), conv(4, kernel = 1, pad = 1), prelu, tanh,
        max_pool(2, stride = 1, pad = 1), flatten, dense(6, bias = false), sigmoid, softmax,
    }",
    "struct Net<[12]> { dense(8), batch_norm, relu, dropout(0.25), dense(4, in = 8), softmax }",
    "struct Net<[6, 5]> { gru(4, seq = all), tanh, lstm(3, seq = all, in = 4), residual { rnn(3, seq = all) }, lstm(2), dense(2) }",
];

/// Words a mutation may insert: layer kinds, argument names and values.
const WORDS: &[&str] = &[
    "conv",
    "dense",
    "max_pool",
    "avg_pool",
    "global_avg_pool",
    "flatten",
    "relu",
    "batch_norm",
    "dropout",
    "rnn",
    "lstm",
    "gru",
    "seq",
    "all",
    "last",
    "residual",
    "add",
    "concat",
    "kernel",
    "stride",
    "pad",
    "in",
    "bias",
    "round",
    "same",
    "valid",
    "ceil",
    "floor",
    "=",
    ",",
    "=>",
    ":",
    "-",
    "0",
    "1",
    "2",
    "3",
    "0.5",
    "1048576",
    "[]",
    "(2, 3)",
    "[3]",
    "add { [relu], [] }",
];

/// Delimiters, which a mutation leaves alone: one out of place is an error
/// of the whole file, before any macro runs.
const DELIMITERS: &[&str] = &["(", ")", "[", "]", "{", "}"];

/// Numbers a mutation may put in place of one.
const NUMBERS: &[&str] = &[
    "0",
    "1",
    "2",
    "3",
    "7",
    "64",
    "1048576",
    "1048577",
    "2147483648",
    "-1",
    "--1",
    "99999999999999999999",
    "0.0",
    "1.5",
];

/// `source` split the way a person edits: words, numbers, punctuation
/// (`=>` as one).
fn pieces(source: &str) -> Vec<String> {
    let mut out: Vec<String> = Vec::new();
    let mut word = String::new();
    for ch in source.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '.' {
            word.push(ch);
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if ch == '>' && out.last().is_some_and(|p| p == "=") {
                *out.last_mut().unwrap() = "=>".into();
            } else if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
        }
    }
    out
}

/// One to three edits of a base definition, its delimiters kept.
fn mutation(rng: &mut ChaCha8Rng) -> String {
    let mut p = pieces(BASES[rng.gen_range(0..BASES.len())]);
    for _ in 0..rng.gen_range(1..4) {
        let i = rng.gen_range(0..p.len());
        let j = (i + 1).min(p.len() - 1);
        if DELIMITERS.contains(&p[i].as_str()) || DELIMITERS.contains(&p[j].as_str()) {
            continue;
        }
        match rng.gen_range(0..4) {
            0 => {
                p.remove(i);
            }
            1 => {
                // a number changed (or, failing one, a word inserted)
                match p
                    .iter()
                    .enumerate()
                    .filter(|(_, w)| w.parse::<f64>().is_ok())
                    .nth(rng.gen_range(0..8))
                {
                    Some((j, _)) => p[j] = NUMBERS[rng.gen_range(0..NUMBERS.len())].into(),
                    None => p.insert(i, WORDS[rng.gen_range(0..WORDS.len())].into()),
                }
            }
            2 => p.insert(i, WORDS[rng.gen_range(0..WORDS.len())].into()),
            _ => p.swap(i, j),
        }
    }
    p.join(" ")
}

/// Uses of a case's network, so that its code is generated for it (the
/// runtime's constants are evaluated only for the layers a program uses);
/// `main` calls them all, and is never run.
const USE: &str = "
    pub fn run() {
        use nn::prelude::*;
        let mut net = Net::new(0);
        let x = vec![0.5; 2 * Net::INPUT_LEN];
        let y = net.forward(&x).to_vec();
        net.backward(&y);
        net.eval();
        let mut out = vec![0.0; y.len()];
        net.predict(&x, &mut out);
        println!(\"{}\", Net::summary());
    }";

/// A crate of `cases`, each a module with its `network!` (named `Net`) and
/// its uses; returns the source and each case's first and last line.
fn crate_source(cases: &[(usize, String)]) -> (String, Vec<(usize, usize, usize)>) {
    let calls: String = cases
        .iter()
        .map(|(id, _)| format!("case_{id}::run(); "))
        .collect();
    let mut src = format!("#![allow(dead_code, unused)]\nfn main() {{ {calls} }}\n");
    let mut lines = Vec::new();
    for (id, case) in cases {
        let first = src.lines().count() + 1;
        src.push_str(&format!(
            "mod case_{id} {{\n    nn::network! {{\n        {case}\n    }}\n{USE}\n}}\n"
        ));
        lines.push((*id, first, src.lines().count()));
    }
    (src, lines)
}

/// What a build said: per error, the file and line of its primary span
/// (if it has one), its code (rustc's own errors have one, the macro's do
/// not) and its text; and whatever showed a panic.
struct Build {
    errors: Vec<Diagnostic>,
    panics: Vec<String>,
}

/// An error: the file and line of its primary span, its code, its text.
type Diagnostic = (Option<(String, usize)>, Option<String>, String);

fn build(dir: &Path, root: &Path, source: &str) -> Build {
    fs::create_dir_all(dir.join("src")).unwrap();
    let manifest = format!(
        "[package]\nname = \"nn-fuzz-cases\"\nversion = \"0.0.0\"\nedition = \"2021\"\npublish = false\n\n\
         [workspace]\n\n[dependencies]\nnn-shapes = {{ path = {:?} }}\n\n[profile.dev]\ndebug = false\n",
        root.to_string_lossy()
    );
    fs::write(dir.join("Cargo.toml"), manifest).unwrap();
    if let Ok(lock) = fs::read(root.join("Cargo.lock")) {
        fs::write(dir.join("Cargo.lock"), lock).unwrap();
    }
    fs::write(dir.join("src/main.rs"), source).unwrap();
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let out = Command::new(cargo)
        .current_dir(dir)
        .args([
            "build",
            "--offline",
            "--message-format=json",
            "--color=never",
        ])
        .env("CARGO_TARGET_DIR", dir.join("target"))
        .env_remove("RUSTFLAGS")
        .env("CARGO_INCREMENTAL", "0")
        .output()
        .expect("cargo runs");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    let mut b = Build {
        errors: Vec::new(),
        panics: Vec::new(),
    };
    let markers = [
        "proc macro panicked",
        "internal compiler error",
        "unexpectedly panicked",
    ];
    for line in stderr
        .lines()
        .filter(|l| markers.iter().any(|m| l.contains(m)))
    {
        b.panics.push(line.to_string());
    }
    for line in stdout.lines() {
        let Ok(v) = serde_json::from_str::<Value>(line) else {
            continue;
        };
        if v["reason"] != "compiler-message" {
            continue;
        }
        let m = &v["message"];
        let text = m["rendered"].as_str().unwrap_or_default().to_string();
        if markers.iter().any(|k| text.contains(k)) {
            b.panics.push(text.clone());
        }
        if m["level"] != "error" {
            continue;
        }
        if v["target"]["name"] != "nn-fuzz-cases" {
            // `nn` itself did not build: not the cases' doing
            panic!("a dependency failed to build:\n{text}");
        }
        let place = m["spans"]
            .as_array()
            .and_then(|s| s.iter().find(|s| s["is_primary"] == true))
            .map(|s| {
                (
                    s["file_name"].as_str().unwrap_or_default().to_string(),
                    s["line_start"].as_u64().unwrap_or(0) as usize,
                )
            });
        // "aborting due to N previous errors" has no span and says nothing
        if place.is_none() && text.starts_with("error: aborting due to") {
            continue;
        }
        let code = m["code"]["code"].as_str().map(String::from);
        b.errors.push((place, code, text));
    }
    b
}

/// The case whose lines hold `line`.
fn case_at(lines: &[(usize, usize, usize)], line: usize) -> Option<usize> {
    lines
        .iter()
        .find(|&&(_, first, last)| (first..=last).contains(&line))
        .map(|&(id, ..)| id)
}

#[test]
fn mutated_definitions_fail_only_at_the_users_tokens() {
    let root = Path::new(env!("CARGO_MANIFEST_DIR"));
    let dir = PathBuf::from(env!("CARGO_TARGET_TMPDIR")).join("nn-fuzz-compile");
    let (seed, count) = (
        env_or("NN_FUZZ_SEED", 20261126),
        env_or("NN_FUZZ_CASES", 400),
    );
    let mut rng = ChaCha8Rng::seed_from_u64(seed);
    // the bases themselves first: they must compile
    let cases: Vec<(usize, String)> = (BASES.iter().map(|b| b.to_string()))
        .chain((0..count as usize).map(|_| mutation(&mut rng)))
        .enumerate()
        .collect();
    let mut problems = Vec::new();
    let shown = |id: usize| format!("case {id} of seed {seed}: `{}`", cases[id].1);

    // pass 1: everything; errors must be at the cases' own lines
    let (source, lines) = crate_source(&cases);
    let first = build(&dir, root, &source);
    problems.extend(first.panics.iter().map(|p| format!("a panic: {p}")));
    let mut failed = std::collections::BTreeSet::new();
    for (place, code, text) in &first.errors {
        match place {
            Some((file, line)) if file == "src/main.rs" => match (case_at(&lines, *line), code) {
                (Some(id), None) => {
                    failed.insert(id);
                }
                (Some(id), Some(code)) => problems.push(format!(
                    "{}: rustc's {code}, not the macro's error:\n{text}",
                    shown(id)
                )),
                (None, _) => problems.push(format!("an error outside every case:\n{text}")),
            },
            Some((file, line)) => problems.push(format!(
                "an error inside {file}:{line}, not at the user's tokens:\n{text}"
            )),
            None => problems.push(format!("an error with no place:\n{text}")),
        }
    }
    assert!(
        (0..BASES.len()).all(|base| !failed.contains(&base)),
        "a valid definition failed:\n{}",
        (first.errors.iter())
            .filter(|(place, ..)| place
                .as_ref()
                .and_then(|(_, line)| case_at(&lines, *line))
                .is_some_and(|id| id < BASES.len()))
            .map(|(.., text)| text.as_str())
            .collect::<Vec<_>>()
            .join("\n")
    );
    assert!(
        !failed.is_empty() && failed.len() < cases.len(),
        "the mutations should be a mix of valid and invalid definitions ({} of {} failed)",
        failed.len(),
        cases.len()
    );

    // pass 2: what had no error must compile on its own
    let accepted: Vec<(usize, String)> = cases
        .iter()
        .filter(|(id, _)| !failed.contains(id))
        .cloned()
        .collect();
    let (source, lines) = crate_source(&accepted);
    let second = build(&dir, root, &source);
    problems.extend(second.panics.iter().map(|p| format!("a panic: {p}")));
    for (place, _, text) in &second.errors {
        let case = place
            .as_ref()
            .filter(|(file, _)| file == "src/main.rs")
            .and_then(|(_, line)| case_at(&lines, *line))
            .map_or("a case".to_string(), shown);
        problems.push(format!(
            "{case} passed the macro but did not compile:\n{text}"
        ));
    }
    eprintln!(
        "{} definitions: {} refused by the macro, {} compiled",
        cases.len(),
        failed.len(),
        accepted.len()
    );
    assert!(
        problems.is_empty(),
        "{} problems:\n\n{}",
        problems.len(),
        problems.join("\n\n")
    );
}
