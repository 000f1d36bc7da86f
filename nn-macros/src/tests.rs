//! The macro never panics: property tests feed the whole pipeline random
//! and mutated token streams and check that each gives either a network or
//! a clean `compile_error!`, and that what it emits is valid Rust syntax.

use crate::expand;
use proc_macro2::TokenStream;
use proptest::prelude::*;
use std::str::FromStr;

const LENET: &str = "
    /// LeNet-5
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5) => [16, 10, 10], relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }";

const BLOCKS: &str = "
    pub struct Res<[4, 8, 8]> {
        conv(8, kernel = 3, pad = 1), batch_norm, relu,
        residual { conv(8, kernel = 3, pad = 1, bias = false), batch_norm(momentum = 0.2), relu, dropout(0.1) },
        down: add {
            [conv(16, kernel = 3, stride = 2, pad = 1), batch_norm],
            [conv(16, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [16, 4, 4],
        concat { [conv(4, kernel = 1)], [max_pool(3, stride = 1, pad = 1)], [add { [relu], [] }] },
        global_avg_pool, dropout(0.5), dense(10),
    }";

/// Pieces the language is made of, and some it is not: every layer kind
/// (from the registry, so a new kind is in the vocabulary at once) and
/// these.
const EXTRA: &[&str] = &[
    "maxpool",
    "momentum",
    "eps",
    "[conv(4, kernel = 1)]",
    "[relu]",
    "kernel",
    "stride",
    "pad",
    "in",
    "bias",
    "round",
    "init",
    "seq",
    "all",
    "last",
    "same",
    "valid",
    "floor",
    "ceil",
    "he",
    "true",
    "false",
    "=",
    "=>",
    ",",
    ":",
    "-",
    "(",
    ")",
    "[",
    "]",
    "{",
    "}",
    "0",
    "1",
    "2",
    "3",
    "5",
    "7",
    "28",
    "1048576",
    "1048577",
    "4294967296",
    "99999999999999999999999999",
    "0.5",
    "-1",
    "1e400",
    "(3, 5)",
    "(1, 2, 3, 4)",
    "(0, 0)",
    "[1, 28, 28]",
    "[]",
    "[0]",
    "[3, 32, 32]",
    "struct",
    "pub",
    "Net",
    "<",
    ">",
    "#[doc = \"x\"]",
    "'a",
    "\"text\"",
    "::",
    ";",
];

fn vocabulary() -> Vec<&'static str> {
    let mut words = crate::layers::names();
    words.extend_from_slice(EXTRA);
    words
}

/// Runs the pipeline; fails the property if the output is neither a clean
/// error nor parseable Rust, or if an error points anywhere but at the
/// user's tokens.
fn run(source: &str) -> Result<(), TestCaseError> {
    let Ok(tokens) = TokenStream::from_str(source) else {
        return Ok(());
    };
    let out = expand::network(tokens);
    let text = out.to_string();
    if !text.contains("compile_error") {
        prop_assert!(
            syn::parse2::<syn::File>(out).is_ok(),
            "expansion is not valid Rust:\n{text}"
        );
        return Ok(());
    }
    for span in error_spans(out) {
        // a span of the source has its place in it; one the macro made up
        // (`Span::call_site()`) is empty
        let range = span.byte_range();
        prop_assert!(
            !range.is_empty() && range.end <= source.len(),
            "an error at {range:?}, not at the user's tokens, in `{source}`:\n{text}"
        );
    }
    Ok(())
}

/// The span of each `compile_error!` in `tokens` (syn gives the macro's
/// name the error's span).
fn error_spans(tokens: TokenStream) -> Vec<proc_macro2::Span> {
    let mut spans = Vec::new();
    for tree in tokens {
        match tree {
            proc_macro2::TokenTree::Ident(i) if i == "compile_error" => spans.push(i.span()),
            proc_macro2::TokenTree::Group(g) => spans.extend(error_spans(g.stream())),
            _ => {}
        }
    }
    spans
}

#[test]
fn an_error_at_the_call_site_would_be_caught() {
    // the check above on an error the macro did not place
    let made_up = syn::Error::new(proc_macro2::Span::call_site(), "x").to_compile_error();
    let spans = error_spans(made_up);
    assert_eq!(spans.len(), 1);
    assert!(spans[0].byte_range().is_empty());
    // and on one it did
    let source = "struct Net<[0]> { dense(2) }";
    let out = expand::network(TokenStream::from_str(source).unwrap());
    let spans = error_spans(out);
    assert!(!spans.is_empty());
    assert!(spans.iter().all(|s| !s.byte_range().is_empty()));
}

fn pieces(source: &str) -> Vec<String> {
    // split into tokens the way a person edits: by whitespace and punctuation
    let mut out = Vec::new();
    let mut word = String::new();
    for ch in source.chars() {
        if ch.is_alphanumeric() || ch == '_' || ch == '.' {
            word.push(ch);
        } else {
            if !word.is_empty() {
                out.push(std::mem::take(&mut word));
            }
            if !ch.is_whitespace() {
                out.push(ch.to_string());
            }
        }
    }
    out
}

#[derive(Debug, Clone)]
enum Edit {
    Delete(usize),
    Insert(usize, usize),
    Replace(usize, usize),
}

fn edit() -> impl Strategy<Value = Edit> {
    let n = vocabulary().len();
    prop_oneof![
        any::<usize>().prop_map(Edit::Delete),
        (any::<usize>(), 0..n).prop_map(|(a, b)| Edit::Insert(a, b)),
        (any::<usize>(), 0..n).prop_map(|(a, b)| Edit::Replace(a, b)),
    ]
}

/// The expansion checks each runtime layer's sizes against the macro's at
/// compile time: LeNet-5's first conv has 6·(1·5·5 + 1) = 156 parameters,
/// 784 inputs and 6·28·28 = 4704 outputs per sample.
#[test]
fn the_expansion_checks_each_layer_against_the_runtime() {
    let out = expand::network(TokenStream::from_str(LENET).unwrap()).to_string();
    let checks = out.matches(":: core :: assert !").count();
    // every layer but flatten (a view) and the ReLUs, which the max pools
    // after them apply, has its check
    assert_eq!(checks, 9, "{out}");
    assert!(out.contains(":: IN == 784"), "{out}");
    assert!(out.contains(":: OUT == 4704"), "{out}");
    assert!(out.contains(":: PARAMS == 156"), "{out}");
    assert!(out.contains("layer `c2`"), "{out}");
}

#[test]
fn a_failed_check_emits_the_errors_and_a_stub_of_the_same_items() {
    let bad = LENET.replace("kernel = 5)", "kernel = 50)");
    let out = expand::network(TokenStream::from_str(&bad).unwrap()).to_string();
    assert!(out.contains("compile_error"), "{out}");
    assert!(syn::parse2::<syn::File>(TokenStream::from_str(&out).unwrap()).is_ok());
    let good = expand::network(TokenStream::from_str(LENET).unwrap()).to_string();
    // the same items: the struct, its constants and functions, the impls
    for item in [
        "pub struct LeNet5",
        "pub const INPUT_SHAPE",
        "pub const OUTPUT_SHAPE",
        "pub const WORKSPACE_BYTES_PER_SAMPLE",
        "pub fn new",
        "pub fn summary",
        "TakesInput < 784 >",
        "Generated for LeNet5",
        "fn backward_layers",
    ] {
        assert!(good.contains(item), "expansion lacks {item}");
        assert!(out.contains(item), "stub lacks {item}");
    }
}

#[test]
fn the_valid_networks_expand() {
    for net in [LENET, BLOCKS] {
        run(net).unwrap();
        let out = expand::network(TokenStream::from_str(net).unwrap()).to_string();
        assert!(!out.contains("compile_error"), "{out}");
    }
}

/// The expansion of a network on `[4, 6, 6]` with items `body`.
fn expand_items(body: &str) -> String {
    let source = format!("struct Net<[4, 6, 6]> {{ {body} }}");
    expand::network(TokenStream::from_str(&source).unwrap()).to_string()
}

/// How many calls of the merge function `f` an expansion's training pass
/// holds (forward or backward: the inference pass repeats the forward calls
/// with its own slots).
fn merges(out: &str, f: &str) -> usize {
    let training =
        &out[out.find("fn forward_layers").unwrap()..out.find("fn infer_layers").unwrap()];
    let backward = &out[out.find("fn backward_layers").unwrap()..];
    (training.to_owned() + backward)
        .matches(&format!("merge :: {f}"))
        .count()
}

/// An `add` merges without copies where its branches let it: one branch's
/// last layer writes the block's output (the first branch's, or of two
/// branches the last one that ends in a conv, which runs the sum in
/// inference) and every branch's last layer reads the block's output
/// gradient; only an identity branch, and a branch writing the output
/// whose last layer differentiates through its own output, need the
/// merge's loops.
#[test]
fn add_merges_in_place_where_the_branches_allow() {
    let residual = expand_items("residual { conv(4, kernel = 3, pad = 1), batch_norm }");
    assert_eq!(merges(&residual, "add_forward"), 1, "{residual}");
    assert_eq!(merges(&residual, "add_backward"), 1, "{residual}");
    let projection =
        expand_items("add { [conv(4, kernel = 3, pad = 1)], [conv(4, kernel = 1), batch_norm] }");
    assert_eq!(merges(&projection, "add_forward"), 1);
    assert_eq!(merges(&projection, "add_backward"), 0);
    // tanh differentiates through its output: the sum goes to a slot of its own
    let tanh_first =
        expand_items("add { [conv(4, kernel = 1), tanh], [conv(4, kernel = 1), relu] }");
    assert_eq!(merges(&tanh_first, "add_forward"), 2);
    assert_eq!(merges(&tanh_first, "add_backward"), 0);
    // the conv of the last branch writes the output: tanh's branch adds in
    let conv_last = expand_items("add { [conv(4, kernel = 1), tanh], [conv(4, kernel = 1)] }");
    assert_eq!(merges(&conv_last, "add_forward"), 1);
    assert_eq!(merges(&conv_last, "add_backward"), 0);
}

/// A `concat` merges without copies where its branches let it: a branch
/// whose last layer takes an output stride (conv, and the activations that
/// do not differentiate through their output) writes its part of each
/// output sample and reads its part of the gradient; an identity branch, a
/// pool, a batch norm or a sigmoid last need the merge's loops.
#[test]
fn concat_merges_in_place_where_the_branches_allow() {
    let cases = [
        ("[conv(2, kernel = 1)], [conv(2, kernel = 1), relu]", 0),
        (
            "[conv(2, kernel = 1), leaky_relu(0.1)], [conv(2, kernel = 1), batch_norm, relu]",
            0,
        ),
        ("[conv(2, kernel = 1)], []", 1),
        (
            "[conv(2, kernel = 1)], [max_pool(3, stride = 1, pad = 1)]",
            1,
        ),
        (
            "[conv(2, kernel = 1), batch_norm], [conv(2, kernel = 1), sigmoid]",
            2,
        ),
        (
            "[add { [conv(2, kernel = 1)], [conv(2, kernel = 1)] }], [conv(2, kernel = 1)]",
            1,
        ),
    ];
    for (branches, copies) in cases {
        let out = expand_items(&format!("concat {{ {branches} }}"));
        assert_eq!(merges(&out, "concat_forward"), copies, "{branches}");
        assert_eq!(merges(&out, "concat_backward"), copies, "{branches}");
    }
}

/// Applies random edits to a network's pieces.
fn mutate(source: &str, edits: Vec<Edit>) -> String {
    let vocabulary = vocabulary();
    let mut p = pieces(source);
    for e in edits {
        let n = p.len().max(1);
        match e {
            Edit::Delete(i) if !p.is_empty() => {
                p.remove(i % n);
            }
            Edit::Delete(_) => {}
            Edit::Insert(i, w) => p.insert(i % (p.len() + 1), vocabulary[w].to_string()),
            Edit::Replace(i, w) if !p.is_empty() => p[i % n] = vocabulary[w].to_string(),
            Edit::Replace(..) => {}
        }
    }
    p.join(" ")
}

/// Random items, blocks among them, nested up to three deep.
fn items() -> impl Strategy<Value = String> {
    let layer = prop::sample::select(vec![
        "conv(4, kernel = 1)",
        "conv(8, kernel = 3, pad = 1)",
        "conv(4, kernel = 3, stride = 2, pad = 1)",
        "max_pool(2)",
        "batch_norm",
        "dropout(0.5)",
        "relu",
        "flatten",
        "dense(4)",
        "global_avg_pool",
        "gru(4, seq = all)",
        "lstm(3)",
        "rnn(2, seq = all)",
    ])
    .prop_map(String::from);
    layer.prop_recursive(3, 24, 4, |inner| {
        let list = prop::collection::vec(inner, 0..4).prop_map(|v| v.join(", "));
        prop_oneof![
            prop::collection::vec(list.clone(), 0..4).prop_map(|branches| format!(
                "add {{ {} }}",
                branches
                    .iter()
                    .map(|b| format!("[{b}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            prop::collection::vec(list.clone(), 0..4).prop_map(|branches| format!(
                "concat {{ {} }}",
                branches
                    .iter()
                    .map(|b| format!("[{b}]"))
                    .collect::<Vec<_>>()
                    .join(", ")
            )),
            list.prop_map(|items| format!("residual {{ {items} }}")),
        ]
    })
}

proptest! {
    #![proptest_config(ProptestConfig { cases: 2000, ..ProptestConfig::default() })]

    #[test]
    fn mutated_networks_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        run(&mutate(LENET, edits))?;
    }

    #[test]
    fn mutated_block_networks_never_panic(edits in prop::collection::vec(edit(), 1..6)) {
        run(&mutate(BLOCKS, edits))?;
    }

    #[test]
    fn random_block_trees_never_panic(
        input in prop::sample::select(vec!["[4, 8, 8]", "[3, 5, 5]", "[16]", "[4, 4]", "[7, 3]"]),
        body in prop::collection::vec(items(), 1..5),
    ) {
        run(&format!("struct Net<{input}> {{ {} }}", body.join(", ")))?;
    }

    #[test]
    fn random_layer_lists_never_panic(
        input in prop::sample::select(vec!["[1, 28, 28]", "[3, 7, 9]", "[784]", "[10, 32]", "[1, 1, 1]", "[2, 1048576, 1]"]),
        body in prop::collection::vec(0..vocabulary().len(), 0..40),
    ) {
        let vocabulary = vocabulary();
        let body: Vec<&str> = body.into_iter().map(|i| vocabulary[i]).collect();
        run(&format!("struct Net<{input}> {{ {} }}", body.join(" ")))?;
    }

    #[test]
    fn random_arguments_never_panic(
        layer in prop::sample::select(vec!["conv(4, ", "max_pool(", "avg_pool(", "dense(", "leaky_relu(", "conv(", "lstm(", "gru(4, ", "rnn("]),
        args in prop::collection::vec((prop::sample::select(vec!["", "kernel = ", "stride = ", "pad = ", "in = ", "round = ", "bias = ", "init = ", "seq = "]),
                                      prop::sample::select(vec!["0", "1", "2", "3", "7", "1048576", "(1, 2)", "(0, 1, 0, 1)", "(2, 0, 2, 0)", "same", "valid", "ceil", "floor", "-2", "0.5", "(3, 0)", "99999999999999999999", "all", "last"])), 0..5),
        input in prop::sample::select(vec!["[1, 5, 5]", "[3, 8, 7]", "[2, 1, 9]", "[12]", "[4, 4]"]),
        tail in prop::sample::select(vec!["", ", flatten, dense(3)", ", relu, global_avg_pool", ", softmax"]),
    ) {
        let args: Vec<String> = args.into_iter().map(|(k, v)| format!("{k}{v}")).collect();
        run(&format!("struct Net<{input}> {{ {layer}{}){tail} }}", args.join(", ")))?;
    }
}

/// How many layers of an expansion's training pass run in place.
fn in_place(out: &str) -> usize {
    let training =
        &out[out.find("fn forward_layers").unwrap()..out.find("fn infer_layers").unwrap()];
    training.matches("forward_in_place").count()
}

/// A ReLU, sigmoid or tanh overwrites its input when the node right
/// before it in the same list made that input and does not read it in
/// backward (a block's output, which no backward reads); not when the
/// input is the network's or a branch's (others read it), nor after a
/// layer that differentiates through its output, nor as a branch's last
/// layer writing the block's output.
#[test]
fn activations_run_in_place_where_nothing_else_reads_their_input() {
    let cases = [
        ("conv(4, kernel = 3, pad = 1), relu", 1),
        ("conv(4, kernel = 3, pad = 1), batch_norm, relu, relu", 2),
        ("relu, conv(4, kernel = 1)", 0),
        ("conv(4, kernel = 1), tanh, sigmoid", 1),
        ("conv(4, kernel = 1), leaky_relu(0.1), prelu", 0),
        ("flatten, relu", 0),
        (
            "residual { relu, conv(4, kernel = 1), relu, conv(4, kernel = 1) }",
            1,
        ),
        (
            "add { [conv(4, kernel = 1), relu], [conv(4, kernel = 1)] }",
            0,
        ),
        ("concat { [conv(4, kernel = 1), relu], [] }, relu", 1),
        (
            "residual { conv(4, kernel = 3, pad = 1), batch_norm }, relu",
            1,
        ),
        // the tanh's output is a slot of its own, the sum another
        (
            "add { [conv(4, kernel = 1), tanh], [conv(4, kernel = 1)] }, relu",
            1,
        ),
        ("residual { conv(4, kernel = 1) }, sigmoid, relu", 1),
    ];
    for (items, want) in cases {
        let out = expand_items(items);
        assert!(!out.contains("compile_error"), "{items}: {out}");
        assert_eq!(in_place(&out), want, "{items}");
    }
}
