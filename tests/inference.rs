//! Classes and probabilities: `predict_class` is the argmax of `predict`'s
//! outputs, `predict_proba` their softmax (each sample's summing to 1, as a
//! softmax computed apart in f64 gives them, also for logits that would
//! overflow `exp`), not applied twice after a network's own `softmax`; one
//! sample and a batch agree, in evaluation and in training mode. Misuse
//! panics with the network's name and the lengths, at the caller's line.
//! The typed entry points (`predict_sample` and the others, taking
//! `[f32; N]` arrays, slices or `Vec`s) give what the slice ones give, bit
//! for bit.

use nn::parallel::Replicas;
use nn::prelude::*;
use nn::Mode;
use nn_runtime::testing::random_vec;
use std::cell::{Cell, RefCell};
use std::panic::{self, AssertUnwindSafe};

nn::network! {
    struct Tiny<[4]> { dense(3), relu, dense(5) }
}

nn::network! {
    /// `Tiny` with a softmax after it: the same parameters from a seed.
    struct TinyProbs<[4]> { dense(3), relu, dense(5), softmax }
}

nn::network! {
    /// Batch norm and dropout, whose training and evaluation passes differ.
    struct Normed<[2, 6, 6]> {
        conv(4, kernel = 3, pad = 1), batch_norm, relu, max_pool(2),
        flatten, dropout(0.3), dense(7),
    }
}

nn::network! {
    /// An output of three dimensions: 32 scores per sample.
    struct Maps<[1, 4, 4]> { conv(2, kernel = 3, pad = 1) }
}

// networks named as the generated code's generic parameter (`LEN`), beside
// other networks, a raw name among them
#[allow(non_camel_case_types)]
mod clashing_names {
    nn::network! {
        pub struct LEN<[4]> { dense(3) }
    }
    nn::network! {
        pub struct LEN_LEN<[4]> { dense(2) }
    }
    nn::network! {
        pub struct r#Raw<[4]> { dense(1) }
    }
}

nn::network! {
    struct SoftmaxThenDropout<[4]> { dense(5), softmax, dropout(0.5) }
}

nn::network! {
    struct SoftmaxBranches<[4]> { add { [dense(5), softmax], [dense(5), softmax] } }
}

/// The index of the first largest value (every value here is a number).
fn first_max(values: &[f32]) -> usize {
    let mut best = 0;
    for (i, &v) in values.iter().enumerate() {
        if v > values[best] {
            best = i;
        }
    }
    best
}

/// Softmax in f64, the maximum subtracted.
fn softmax64(values: &[f32]) -> Vec<f64> {
    let max = values
        .iter()
        .fold(f64::NEG_INFINITY, |m, &v| m.max(v as f64));
    let e: Vec<f64> = values.iter().map(|&v| (v as f64 - max).exp()).collect();
    let sum: f64 = e.iter().sum();
    e.iter().map(|v| v / sum).collect()
}

/// Checks that each sample's `probs` sum to 1 and are the f64 softmax of
/// its `outputs`.
fn assert_softmax_of(probs: &[f32], outputs: &[f32], len: usize, what: &str) {
    assert_eq!(probs.len(), outputs.len(), "{what}");
    for (s, (p, y)) in probs.chunks(len).zip(outputs.chunks(len)).enumerate() {
        let sum: f64 = p.iter().map(|&v| v as f64).sum();
        assert!((sum - 1.0).abs() < 1e-5, "{what}: sample {s} sums to {sum}");
        for (i, (&got, want)) in p.iter().zip(softmax64(y)).enumerate() {
            assert!(
                (got as f64 - want).abs() < 1e-6,
                "{what}: sample {s}, class {i}: {got}, softmax gives {want}"
            );
        }
    }
}

/// `predict`'s outputs for `x`, with `predict_classes`, `predict_class`,
/// `predict_proba_batch` and `predict_proba` of every sample checked
/// against them (evaluation mode).
fn check_eval<N: Network>(net: &mut N, x: &[f32]) -> Vec<f32> {
    let batch = x.len() / N::INPUT_LEN;
    let what = format!("{} on {batch} samples", N::NAME);
    let mut outputs = vec![f32::NAN; batch * N::OUTPUT_LEN];
    net.predict(x, &mut outputs);
    let want: Vec<usize> = outputs.chunks(N::OUTPUT_LEN).map(first_max).collect();
    let mut classes = vec![usize::MAX; batch];
    net.predict_classes(x, &mut classes);
    assert_eq!(classes, want, "{what}: predict_classes");
    let mut probs = vec![f32::NAN; outputs.len()];
    net.predict_proba_batch(x, &mut probs);
    assert_softmax_of(&probs, &outputs, N::OUTPUT_LEN, &what);
    // one sample: what `predict` gives for it alone (a batch's chunks may
    // round it otherwise in the last bits)
    let (mut one, mut one_probs) = (vec![f32::NAN; N::OUTPUT_LEN], vec![0.0; N::OUTPUT_LEN]);
    for (s, sample) in x.chunks(N::INPUT_LEN).enumerate() {
        net.predict(sample, &mut one);
        let what = format!("{what}: sample {s}");
        assert_eq!(net.predict_class(sample), first_max(&one), "{what}");
        net.predict_proba_batch(sample, &mut one_probs);
        assert_eq!(net.predict_proba(sample), one_probs, "{what}");
        assert_softmax_of(&one_probs, &one, N::OUTPUT_LEN, &what);
    }
    outputs
}

#[test]
fn classes_and_probabilities_follow_predict_in_evaluation_mode() {
    let mut net = Normed::new(1);
    // running statistics away from their starting values
    for step in 0..3 {
        net.forward(&random_vec(5 * Normed::INPUT_LEN, 10 + step));
    }
    net.eval();
    // one chunk, a chunk and a bit, several
    for batch in [1, 3, Normed::INFER_CHUNK + 1, 2 * Normed::INFER_CHUNK + 3] {
        let x = random_vec(batch * Normed::INPUT_LEN, 100 + batch as u64);
        check_eval(&mut net, &x);
    }

    let mut maps = Maps::new(2);
    maps.eval();
    let x = random_vec(3 * Maps::INPUT_LEN, 7);
    let outputs = check_eval(&mut maps, &x);
    assert_eq!(
        outputs.len(),
        3 * 32,
        "every value of a [2, 4, 4] output is a score"
    );
}

#[test]
fn logits_that_overflow_exp_give_probabilities() {
    let mut net = Tiny::new(3);
    net.eval();
    // e^400 is infinite in f32 (and e^-400 is 0): without the maximum
    // subtracted, every probability would be NaN
    net.tensor_mut("2.bias")
        .unwrap()
        .copy_from_slice(&[400.0, 390.0, -400.0, 0.0, 395.0]);
    let x = random_vec(4 * Tiny::INPUT_LEN, 4);
    let outputs = check_eval(&mut net, &x);
    assert!(
        outputs.iter().any(|&y| y.exp().is_infinite()),
        "{outputs:?}"
    );
    let p = net.predict_proba(&x[..4]);
    assert!(
        p[0] > p[4] && p[4] > p[1] && p[1] > 0.0 && p[2] == 0.0,
        "{p:?}"
    );
}

#[test]
fn a_last_softmax_is_not_applied_twice() {
    // only the last row counts: a dropout after the softmax, or a block's
    // merge of softmaxed branches, is not a softmax
    let ends = [
        TinyProbs::ENDS_IN_SOFTMAX,
        Tiny::ENDS_IN_SOFTMAX,
        SoftmaxThenDropout::ENDS_IN_SOFTMAX,
        SoftmaxBranches::ENDS_IN_SOFTMAX,
    ];
    assert_eq!(ends, [true, false, false, false]);

    let (mut logits, mut probs) = (Tiny::new(5), TinyProbs::new(5));
    assert_eq!(logits.params(), probs.params());
    logits.eval();
    probs.eval();
    let x = random_vec(6 * 4, 6);
    let (mut own, mut applied, mut kept) = (vec![0.0; 6 * 5], vec![0.0; 6 * 5], vec![0.0; 6 * 5]);
    probs.predict(&x, &mut own);
    logits.predict_proba_batch(&x, &mut applied);
    probs.predict_proba_batch(&x, &mut kept);
    // the network's softmax layer and predict_proba's compute alike
    assert_eq!(applied, own);
    assert_eq!(kept, own, "the network's probabilities, as they are");
    let mut one = [0.0; 5];
    probs.predict(&x[..4], &mut one);
    assert_eq!(probs.predict_proba(&x[..4]), one);
    assert_eq!(logits.predict_proba(&x[..4]), one);
    assert_eq!(probs.predict_class(&x[..4]), first_max(&one));
}

#[test]
fn training_mode_classifies_what_forward_gives() {
    let mut net = Normed::new(8);
    assert!(net.is_training());
    let x = random_vec(5 * Normed::INPUT_LEN, 9);
    // dropout draws anew on each pass: each method's pass is set to draw
    // what the forward pass it is checked against drew
    let (seed, step) = net.dropout_state();
    let outputs = net.forward(&x).to_vec();
    net.set_dropout_state(seed, step);
    let mut classes = vec![0; 5];
    net.predict_classes(&x, &mut classes);
    let want: Vec<usize> = outputs.chunks(7).map(first_max).collect();
    assert_eq!(classes, want);
    // and keeps what backward needs, as forward does
    net.backward(&[0.1; 5 * 7]);

    net.set_dropout_state(seed, step);
    let mut probs = vec![0.0; 5 * 7];
    net.predict_proba_batch(&x, &mut probs);
    assert_softmax_of(&probs, &outputs, 7, "training mode");
    net.backward(&[0.1; 5 * 7]);

    net.set_dropout_state(seed, step);
    let one = net.forward(&x[..Normed::INPUT_LEN]).to_vec();
    net.set_dropout_state(seed, step);
    assert_eq!(net.predict_class(&x[..Normed::INPUT_LEN]), first_max(&one));
    net.set_dropout_state(seed, step);
    let p = net.predict_proba(&x[..Normed::INPUT_LEN]).to_vec();
    assert_softmax_of(&p, &one, 7, "one sample in training mode");
    // the probabilities took the outputs' place: backward needs a forward
    let (_, _, message) = panic_of(|| net.backward(&[0.1; 7]));
    assert_says(&message, &["Normed: backward needs a forward pass first"]);
}

thread_local! {
    /// Whether this thread's next panic is expected (and not printed).
    static EXPECTING: Cell<bool> = const { Cell::new(false) };
    /// Where that panic happened and its message.
    static CAUGHT: RefCell<Option<(String, u32, String)>> = const { RefCell::new(None) };
}

/// Runs `f`, which must panic, and gives the panic's file, line and
/// message.
fn panic_of(f: impl FnOnce()) -> (String, u32, String) {
    static HOOK: std::sync::Once = std::sync::Once::new();
    HOOK.call_once(|| {
        let others = panic::take_hook();
        panic::set_hook(Box::new(move |info| {
            if !EXPECTING.get() {
                return others(info);
            }
            let at = info.location().expect("a panic's location");
            let payload = info.payload();
            let message = (payload.downcast_ref::<String>().cloned())
                .or_else(|| payload.downcast_ref::<&str>().map(|m| m.to_string()))
                .unwrap_or_default();
            CAUGHT.set(Some((at.file().to_string(), at.line(), message)));
        }));
    });
    EXPECTING.set(true);
    CAUGHT.set(None);
    let result = panic::catch_unwind(AssertUnwindSafe(f));
    EXPECTING.set(false);
    assert!(result.is_err(), "no panic");
    CAUGHT.take().expect("the hook saw the panic")
}

/// The message of `$call`'s panic, checked to be reported at this line of
/// this file (keep the call on the macro's line).
macro_rules! panics_here {
    ($call:expr) => {{
        let (file, line, message) = panic_of(|| {
            std::hint::black_box($call);
        });
        assert_eq!((file.as_str(), line), (file!(), line!()), "{message}");
        message
    }};
}

fn assert_says(message: &str, parts: &[&str]) {
    for part in parts {
        assert!(message.contains(part), "`{part}` not in: {message}");
    }
}

#[test]
fn misuse_panics_at_the_callers_line_with_the_lengths() {
    let mut net = Tiny::new(1);
    let (x, mut out, mut classes) = (vec![0.5f32; 3 * 4], vec![0.0f32; 3 * 5], vec![0; 3]);
    for mode in [Mode::Eval, Mode::Train] {
        match mode {
            Mode::Eval => net.eval(),
            Mode::Train => net.train(),
        }
        let m = panics_here!(net.predict_class(&x[..3]));
        assert_says(
            &m,
            &[
                "Tiny: predict_class takes one sample of 4 floats, got 3",
                "predict_classes",
            ],
        );
        let m = panics_here!(net.predict_class(&x[..8]));
        assert_says(&m, &["Tiny", "of 4 floats, got 8"]);
        let m = panics_here!(net.predict_proba(&x[..5]));
        assert_says(
            &m,
            &[
                "Tiny: predict_proba takes one sample of 4 floats, got 5",
                "predict_proba_batch",
            ],
        );
        let m = panics_here!(net.predict_classes(&x[..7], &mut classes));
        assert_says(&m, &["Tiny", "input of 7 floats", "samples of 4 floats"]);
        let m = panics_here!(net.predict_classes(&x, &mut classes[..2]));
        assert_says(
            &m,
            &["Tiny: predict_classes: 3 samples need 3 classes, `classes` holds 2"],
        );
        let m = panics_here!(net.predict_proba_batch(&x[..0], &mut out));
        assert_says(&m, &["Tiny", "input of 0 floats"]);
        let m = panics_here!(net.predict_proba_batch(&x, &mut out[..14]));
        assert_says(&m, &["Tiny: predict_proba_batch: 3 samples need 15 probabilities (5 each), `probs` holds 14"]);
        // the entry points that were there before
        let m = panics_here!(net.forward(&x[..6]));
        assert_says(&m, &["Tiny", "input of 6 floats"]);
        let m = panics_here!(net.predict(&x, &mut out[..10]));
        assert_says(&m, &["Tiny", "output buffer of 10 floats for 15 outputs"]);
    }
    net.forward(&x);
    let m = panics_here!(net.backward(&out[..5]));
    assert_says(&m, &["Tiny", "output gradient of 5 floats", "batch of 3"]);
    let m = panics_here!(net.backward_params(&out[..5]));
    assert_says(&m, &["Tiny", "output gradient of 5 floats"]);
    net.backward_params(&out);
    let m = panics_here!(net.input_grad());
    assert_says(&m, &["Tiny: input_grad needs `backward`"]);
    let mut replicas = Replicas::new(&net, 2);
    let m = panics_here!(replicas.predict(&x, &mut out[..5]));
    assert_says(&m, &["Tiny", "output buffer of 5 floats for 3 outputs"]);
}

/// `n` samples of `Tiny` as arrays, and the same values flat.
fn tiny_samples(n: usize, seed: u64) -> (Vec<[f32; 4]>, Vec<f32>) {
    let flat = random_vec(n * 4, seed);
    let arrays = flat
        .chunks_exact(4)
        .map(|s| s.try_into().unwrap())
        .collect();
    (arrays, flat)
}

#[test]
fn typed_entry_points_give_what_the_slice_ones_give() {
    let (arrays, flat) = tiny_samples(6, 21);
    let vecs: Vec<Vec<f32>> = arrays.iter().map(|a| a.to_vec()).collect();
    for mode in [Mode::Eval, Mode::Train] {
        let mut typed = Tiny::new(3);
        match mode {
            Mode::Eval => typed.eval(),
            Mode::Train => typed.train(),
        }
        // one sample: an array, a slice, a `Vec`, against `predict_class`
        // and `predict` on the slice
        for (i, x) in arrays.iter().enumerate() {
            let mut want = [0.0f32; 5];
            typed.predict(&flat[i * 4..i * 4 + 4], &mut want);
            assert_eq!(typed.predict_sample(x), &want);
            assert_eq!(typed.predict_sample(&flat[i * 4..i * 4 + 4]), &want);
            assert_eq!(typed.predict_sample(&vecs[i]), &want);
            let class = typed.predict_class(&flat[i * 4..i * 4 + 4]);
            assert_eq!(typed.predict_sample_class(x), class);
            assert_eq!(typed.predict_sample_class(&vecs[i]), class);
        }
        // a batch: arrays (one pass over the batch) and `Vec`s (a sample
        // at a time), against `predict` and `predict_classes`
        let mut want = vec![0.0f32; 6 * 5];
        typed.predict(&flat, &mut want);
        let mut outputs = [[f32::NAN; 5]; 6];
        typed.predict_samples(&arrays, &mut outputs);
        assert_eq!(outputs.as_flattened(), &want[..]);
        let mut one_at_a_time = [[f32::NAN; 5]; 6];
        typed.predict_samples(&vecs, &mut one_at_a_time);
        // (`Vec`s go a sample at a time: the batch's outputs here, as
        // `Tiny` has no batch statistics and 6 samples are one chunk)
        assert_eq!(one_at_a_time, outputs);
        let mut want_classes = [0; 6];
        typed.predict_classes(&flat, &mut want_classes);
        let (mut classes, mut classes_of_vecs) = ([9; 6], [9; 6]);
        typed.predict_sample_classes(&arrays, &mut classes);
        typed.predict_sample_classes(&vecs, &mut classes_of_vecs);
        assert_eq!(classes, want_classes);
        assert_eq!(classes_of_vecs, want_classes);
    }
}

#[test]
fn networks_may_be_named_as_generated_generic_parameters() {
    use clashing_names::{Raw, LEN, LEN_LEN};
    let x = [0.5f32, -1.0, 2.0, 0.25];
    let (mut a, mut b, mut c) = (LEN::new(1), LEN_LEN::new(1), Raw::new(1));
    let mut want = [0.0f32; 3];
    a.predict(&x, &mut want);
    assert_eq!(a.predict_sample(&x), &want);
    let mut want = [0.0f32; 2];
    b.predict(&x, &mut want);
    assert_eq!(b.predict_sample(&x), &want);
    let mut want = [0.0f32; 1];
    c.predict(&x, &mut want);
    assert_eq!(c.predict_sample(&x), &want);
}

#[test]
fn references_and_boxes_of_samples_are_samples() {
    let (arrays, flat) = tiny_samples(4, 23);
    let mut net = Tiny::new(4);
    net.eval();
    let mut want = vec![0.0f32; 4 * 5];
    net.predict(&flat, &mut want);
    let mut want_classes = [0; 4];
    net.predict_classes(&flat, &mut want_classes);
    for (i, x) in arrays.iter().enumerate() {
        let want = &want[i * 5..i * 5 + 5];
        let slice: &[f32] = &x[..];
        assert_eq!(net.predict_sample(&x), want, "&&[f32; 4]");
        assert_eq!(net.predict_sample(&slice), want, "&&[f32]");
        assert_eq!(net.predict_sample(&Box::new(*x)), want, "&Box<[f32; 4]>");
        let boxed: Box<[f32]> = slice.into();
        assert_eq!(net.predict_sample(&boxed), want, "&Box<[f32]>");
        assert_eq!(net.predict_sample_class(&&x), want_classes[i]);
    }
    // batches of references and of boxes, a sample at a time
    let refs: Vec<&[f32; 4]> = arrays.iter().collect();
    let boxes: Vec<Box<[f32; 4]>> = arrays.iter().copied().map(Box::new).collect();
    let (mut of_refs, mut of_boxes) = ([[f32::NAN; 5]; 4], [[f32::NAN; 5]; 4]);
    net.predict_samples(&refs, &mut of_refs);
    net.predict_samples(&boxes, &mut of_boxes);
    assert_eq!(of_refs.as_flattened(), &want[..]);
    assert_eq!(of_boxes.as_flattened(), &want[..]);
    let mut classes = [9; 4];
    net.predict_sample_classes(&refs, &mut classes);
    assert_eq!(classes, want_classes);
    // a reference to a slice of the wrong length still panics at the caller's line
    let short: &[f32] = &flat[..3];
    let m = panics_here!(net.predict_sample(&&short));
    assert_says(
        &m,
        &["Tiny: predict_sample takes one sample of 4 floats, got 3"],
    );
}

#[test]
fn typed_outputs_of_several_dimensions_are_flat_arrays() {
    let mut net = Maps::new(2);
    net.eval();
    let x = [0.25f32; 16];
    let mut want = [0.0f32; 32];
    net.predict(&x, &mut want);
    let out: &[f32; 32] = net.predict_sample(&x);
    assert_eq!(out, &want);
}

#[test]
fn typed_misuse_panics_at_the_callers_line_with_the_lengths() {
    let mut net = Tiny::new(1);
    let (arrays, flat) = tiny_samples(3, 5);
    let short = vec![vec![0.5f32; 4], vec![0.5f32; 3]];
    let (mut outputs, mut classes) = ([[0.0f32; 5]; 3], [0usize; 3]);
    for mode in [Mode::Eval, Mode::Train] {
        match mode {
            Mode::Eval => net.eval(),
            Mode::Train => net.train(),
        }
        let m = panics_here!(net.predict_sample(&flat[..3]));
        assert_says(
            &m,
            &[
                "Tiny: predict_sample takes one sample of 4 floats, got 3",
                "predict_samples",
            ],
        );
        let m = panics_here!(net.predict_sample_class(&flat[..8].to_vec()));
        assert_says(
            &m,
            &["Tiny: predict_sample_class takes one sample of 4 floats, got 8"],
        );
        let m = panics_here!(net.predict_samples(&arrays, &mut outputs[..2]));
        assert_says(
            &m,
            &["Tiny: predict_samples: 3 samples, but `outputs` holds 2 arrays"],
        );
        let m = panics_here!(net.predict_samples(&arrays[..0], &mut outputs[..0]));
        assert_says(&m, &["Tiny: predict_samples: no samples"]);
        let m = panics_here!(net.predict_samples(&short, &mut outputs[..2]));
        assert_says(&m, &["Tiny", "one sample of 4 floats, got 3"]);
        let m = panics_here!(net.predict_sample_classes(&arrays, &mut classes[..1]));
        assert_says(
            &m,
            &["Tiny: predict_sample_classes: 3 samples, but `classes` holds 1"],
        );
        let m = panics_here!(net.predict_sample_classes(&short, &mut classes[..2]));
        assert_says(&m, &["Tiny", "one sample of 4 floats, got 3"]);
    }
}

#[test]
fn a_data_sets_samples_are_typed_samples() {
    let (arrays, flat) = tiny_samples(5, 9);
    let labels = vec![0, 4, 2, 1, 3];
    let data = nn::data::Dataset::<4>::from_samples(arrays.clone(), labels.clone(), 5).unwrap();
    assert_eq!(data.inputs(), &flat[..]);
    assert_eq!(data.samples(), &arrays[..]);
    assert_eq!(data.input(3), &arrays[3]);
    // the same data set from flat floats, and a wrong count of labels
    let same = nn::data::Dataset::<4>::new(flat.clone(), labels, 5).unwrap();
    assert_eq!(same.samples(), data.samples());
    assert!(nn::data::Dataset::<4>::from_samples(arrays, vec![0; 4], 5).is_err());

    let mut net = Tiny::new(4);
    net.eval();
    let (mut want, mut classes) = ([0; 5], [9; 5]);
    net.predict_classes(data.inputs(), &mut want);
    net.predict_sample_classes(data.samples(), &mut classes);
    assert_eq!(classes, want);
    assert_eq!(net.predict_sample_class(data.input(2)), want[2]);
}
