//! Batch inference on several threads gives a single network's outputs for
//! every way a batch can split, bit for bit, and follows parameter updates;
//! inference in evaluation mode, a few samples at a time, gives what a
//! forward pass gives.

use nn::parallel::{Replicas, SampleSplit};
use nn::prelude::*;
use nn_runtime::testing::{assert_close, random_vec};

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    struct Tiny<[4]> { dense(3), relu, dense(2) }
}

nn::network! {
    struct SmallResNet<[3, 16, 16]> {
        conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
        residual { conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
                   conv(16, kernel = 3, pad = 1, bias = false), batch_norm },
        relu,
        add { [conv(24, kernel = 3, stride = 2, pad = 1), batch_norm, relu, conv(24, kernel = 3, pad = 1)],
              [conv(24, kernel = 1, stride = 2)] },
        relu, global_avg_pool, dense(10),
    }
}

nn::network! {
    struct SmallInception<[4, 8, 8]> {
        conv(8, kernel = 3, pad = 1, bias = false), batch_norm, relu,
        concat {
            [conv(4, kernel = 1), relu],
            [conv(4, kernel = 1, bias = false), batch_norm, relu, conv(6, kernel = 3, pad = 1), batch_norm],
            [max_pool(3, stride = 1, pad = 1), conv(3, kernel = 1, bias = false), batch_norm, relu],
            [],
        },
        global_avg_pool, dense(5),
    }
}

/// A `concat` whose branches end in convs with their batch norm and ReLU:
/// each writes its part of every output sample, in training and in
/// inference.
#[test]
fn evaluation_predict_writes_concat_parts_in_place() {
    let mut net = SmallInception::new(9);
    for step in 0..3 {
        net.forward(&random_vec(6 * 4 * 8 * 8, 200 + step));
    }
    net.tensor_mut("3.0.0.bias")
        .unwrap()
        .iter_mut()
        .for_each(|p| *p += 0.2);
    net.eval();
    for batch in [1, 2, 5] {
        let x = random_vec(batch * 4 * 8 * 8, 300 + batch as u64);
        let mut out = vec![f32::NAN; batch * 5];
        net.predict(&x, &mut out);
        assert_close(&out, net.forward(&x), 1e-5, &format!("batch {batch}"));
    }
}

/// One sample on several threads: its convolutions' output positions
/// shared out among them, the outputs a single network's, bit for bit.
#[test]
fn one_sample_split_across_threads_matches_one_network() {
    let mut single = SmallResNet::new(3);
    single.eval();
    for threads in [2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        for split in [SampleSplit::Shared, SampleSplit::Alone, SampleSplit::Auto] {
            replicas.set_sample_split(split);
            // (`Auto` tries both ways in its first calls)
            for seed in 0..4 {
                let x = random_vec(3 * 16 * 16, seed);
                let mut out = vec![f32::NAN; 10];
                replicas.predict(&x, &mut out);
                let what = format!("{threads} threads, {split:?}, input {seed}");
                assert_eq!(out, single.forward(&x), "{what}");
            }
        }
    }
}

nn::network! {
    /// A conv that runs by Winograd's algorithm (32 channels in and out,
    /// on CPUs with AVX2 and FMA or AVX-512) and a dense layer wide enough
    /// (2,048 → 40) to be shared out.
    struct Wide<[3, 8, 8]> {
        conv(32, kernel = 3, pad = 1), relu, conv(32, kernel = 3, pad = 1), relu,
        flatten, dense(40), relu, dense(10),
    }
}

/// One sample on several threads through Winograd's convolution and a
/// dense layer whose outputs the threads share: the single network's
/// outputs, bit for bit.
#[test]
fn one_sample_through_winograd_and_a_wide_dense_layer_matches_one_network() {
    let mut single = Wide::new(8);
    single.eval();
    for threads in [2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        replicas.set_sample_split(SampleSplit::Shared);
        for seed in 0..3 {
            let x = random_vec(3 * 8 * 8, 40 + seed);
            let (mut out, mut want) = (vec![f32::NAN; 10], vec![0.0; 10]);
            replicas.predict(&x, &mut out);
            single.predict(&x, &mut want);
            assert_eq!(out, want, "{threads} threads, input {seed}");
        }
    }
}

/// Inference in evaluation mode goes a few samples at a time (sixteen here),
/// each conv applying the batch norm and ReLU after it, the last conv of a
/// residual branch the block's sum and the ReLU after the block too, and
/// gives what one forward pass over the whole batch gives; it keeps nothing
/// for backward.
#[test]
fn evaluation_predict_in_chunks_matches_forward() {
    assert_eq!(SmallResNet::INFER_CHUNK, 16);
    // the batch norms after convs and the ReLUs after those, folded; the
    // sums of both blocks (an identity, and a 1×1 conv's branch that adds
    // the other branch's output) and the ReLUs after them
    let folded: Vec<&str> = SmallResNet::LAYERS
        .iter()
        .filter(|l| l.strategy() == nn::Strategy::Folded)
        .map(|l| l.name)
        .collect();
    assert_eq!(
        folded,
        ["1", "2", "3.0.1", "3.0.2", "3.0.4", "3", "4", "5.0.1", "5.0.2", "5", "6"]
    );
    let mut net = SmallResNet::new(5);
    // running statistics of their own, and parameters of batch norms and a
    // conv's bias away from 1 and 0
    for step in 0..3 {
        net.forward(&random_vec(8 * 3 * 16 * 16, 100 + step));
    }
    let shifts = [
        ("1.weight", 0.7),
        ("3.0.4.bias", -0.2),
        ("5.0.0.bias", 0.3),
        ("5.0.1.weight", 1.3),
    ];
    for (name, v) in shifts {
        net.tensor_mut(name)
            .unwrap()
            .iter_mut()
            .for_each(|p| *p += v);
    }
    net.eval();
    for batch in [1, 3, 15, 16, 17, 35] {
        let x = random_vec(batch * 3 * 16 * 16, batch as u64);
        let mut out = vec![f32::NAN; batch * 10];
        net.predict(&x, &mut out);
        assert_close(&out, net.forward(&x), 1e-5, &format!("batch {batch}"));
    }
}

#[test]
#[should_panic(expected = "backward needs a forward pass first")]
fn evaluation_predict_keeps_nothing_for_backward() {
    let mut net = SmallResNet::new(5);
    net.forward(&[0.5; 2 * 3 * 16 * 16]);
    net.eval();
    net.predict(&[0.5; 3 * 16 * 16], &mut [0.0; 10]);
    net.backward(&[1.0; 10]);
}

#[test]
fn every_split_matches_one_network() {
    let mut single = LeNet5::new(7);
    single.eval();
    for threads in [1, 2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        assert_eq!(replicas.threads(), threads);
        // fewer samples than threads, uneven shares, even shares, shares
        // below 16 of a batch above
        for batch in [1, 2, 5, 20, 64] {
            let x = random_vec(batch * 784, batch as u64);
            let mut out = vec![f32::NAN; batch * 10];
            replicas.predict(&x, &mut out);
            let what = format!("{threads} threads, batch {batch}");
            let mut want = vec![0.0; batch * 10];
            single.predict(&x, &mut want);
            assert_eq!(out, want, "{what}");
            // a forward pass over the whole batch: its dense layers take
            // another kernel from 16 samples
            assert_close(&out, single.forward(&x), 1e-5, &what);
        }
    }
}

nn::network! {
    struct Mlp<[64]> { dense(48), relu, dense(8) }
}

/// A network whose batches go through 16 samples at a time (dense layers
/// round differently from 16 samples on): the shares are whole chunks,
/// so each thread rounds as the single network does.
#[test]
fn every_split_of_a_dense_network_matches_one_network() {
    let mut single = Mlp::new(4);
    single.eval();
    assert_eq!(Mlp::INFER_CHUNK, 16);
    for threads in [2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        for batch in [5, 20, 40, 64] {
            let x = random_vec(batch * 64, 50 + batch as u64);
            let (mut out, mut want) = (vec![f32::NAN; batch * 8], vec![0.0; batch * 8]);
            replicas.predict(&x, &mut out);
            single.predict(&x, &mut want);
            assert_eq!(out, want, "{threads} threads, batch {batch}");
        }
    }
}

#[test]
fn sync_copies_new_parameters() {
    let mut net = Tiny::new(1);
    let mut replicas = Replicas::new(&net, 2);
    net.params_mut().iter_mut().for_each(|p| *p += 0.25);
    let x = random_vec(6 * 4, 3);
    let mut out = vec![0.0; 6 * 2];
    replicas.predict(&x, &mut out);
    assert_ne!(out, net.forward(&x), "replicas hold copies, not views");
    replicas.sync(&net);
    replicas.predict(&x, &mut out);
    assert_eq!(out, net.forward(&x));
}

/// `Replicas::from_network` runs the network it is given as `new` runs a
/// copy: the same outputs, bit for bit, in evaluation mode whatever the
/// network's mode was.
#[test]
fn a_network_moved_in_gives_a_copys_outputs() {
    let mut net = SmallResNet::new(5);
    let x = random_vec(5 * 768, 2);
    // a training pass: running statistics that are not the initial ones
    net.forward(&x);
    let mut copied = Replicas::new(&net, 2);
    let mut moved = Replicas::from_network(net, 2);
    let (mut a, mut b) = (vec![0.0f32; 5 * 10], vec![0.0f32; 5 * 10]);
    copied.predict(&x, &mut a);
    moved.predict(&x, &mut b);
    assert_eq!(a, b);
    copied.predict(&x[..768], &mut a[..10]);
    moved.predict(&x[..768], &mut b[..10]);
    assert_eq!(a[..10], b[..10]);
}

#[test]
#[should_panic(expected = "output buffer of 3 floats for 2 outputs of 2 floats")]
fn a_wrong_output_buffer_is_refused() {
    let net = Tiny::new(1);
    let mut replicas = Replicas::new(&net, 2);
    replicas.predict(&[0.0; 8], &mut [0.0; 3]);
}

nn::network! {
    /// Recurrent layers keep their weights transposed for inference.
    struct Rows<[9, 5]> {
        gru(6, seq = all), lstm(4, seq = all), rnn(3), dense(2),
    }
}

/// `predict` on recurrent layers (weights transposed once, and one
/// sample's input product for all its steps at once) gives what `forward`
/// gives on the whole batch (a product per step for all the samples), one
/// sample at a time and together, and again after the parameters change.
#[test]
fn evaluation_predict_of_recurrent_layers_matches_forward() {
    let mut net = Rows::new(2);
    net.eval();
    let batch = 5;
    for change in [0.0, 0.3] {
        net.params_mut().iter_mut().for_each(|p| *p += change * *p);
        let x = random_vec(batch * 45, 7);
        let whole = net.forward(&x).to_vec();
        let mut out = vec![f32::NAN; batch * 2];
        net.predict(&x, &mut out);
        assert_close(&out, &whole, 1e-6, &format!("batch, change {change}"));
        for n in 0..batch {
            let mut one = [f32::NAN; 2];
            net.predict(&x[n * 45..(n + 1) * 45], &mut one);
            let what = format!("sample {n}, change {change}");
            assert_close(&one, &whole[n * 2..(n + 1) * 2], 1e-6, &what);
        }
    }
}

nn::network! {
    /// Sums that a conv runs in `predict`, in the places a block can be:
    /// a branch that is one conv reading the block's input (the residual),
    /// the identity branch first, a block inside a branch, a block in a
    /// `concat` branch with a ReLU after it that does not write over it,
    /// an im2col conv (stride 2) and an in-place one (8 channels) doing
    /// the sum, and an `add` whose last branch ends in a ReLU (not folded).
    struct Shortcuts<[8, 10, 10]> {
        residual { conv(8, kernel = 3, pad = 1), batch_norm },
        relu,
        add { [], [conv(8, kernel = 3, pad = 1, bias = false), batch_norm] },
        residual {
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            residual { conv(16, kernel = 3, pad = 1), batch_norm }, relu,
            conv(8, kernel = 1),
        },
        concat {
            [add { [conv(16, kernel = 1, stride = 2), batch_norm, relu, conv(16, kernel = 3, pad = 1)],
                   [conv(16, kernel = 3, stride = 2, pad = 1), batch_norm] },
             relu],
            [max_pool(2)],
        },
        add { [conv(24, kernel = 1), relu], [] },
        relu, global_avg_pool, dense(5),
    }
}

/// Every block whose last conv runs the sum in `predict` (and the ReLU
/// after it) gives what `forward` gives, on one thread and on two.
#[test]
fn evaluation_predict_through_folded_sums_matches_forward() {
    let folded: Vec<&str> = Shortcuts::LAYERS
        .iter()
        .filter(|l| l.strategy() == nn::Strategy::Folded)
        .map(|l| l.name)
        .collect();
    // the merges "0", "2", "3", "3.0.3" and "4.0.0"; the ReLUs "1" and
    // "3.0.4" after the first and the inner residual; not the ReLU
    // "4.0.1", which writes the concat's part, nor "5" or "6"
    for name in ["0", "1", "2", "3", "3.0.3", "3.0.4", "4.0.0"] {
        assert!(folded.contains(&name), "{name} in {folded:?}");
    }
    for name in ["4.0.1", "5", "6"] {
        assert!(!folded.contains(&name), "{name} in {folded:?}");
    }
    let mut net = Shortcuts::new(3);
    for step in 0..2 {
        net.forward(&random_vec(4 * 800, 200 + step));
    }
    for name in ["0.0.1.bias", "2.1.1.weight", "4.0.0.1.1.bias"] {
        net.tensor_mut(name)
            .unwrap()
            .iter_mut()
            .for_each(|p| *p += 0.4);
    }
    net.eval();
    for batch in [1, 3, 17] {
        let x = random_vec(batch * 800, 300 + batch as u64);
        let mut out = vec![f32::NAN; batch * 5];
        net.predict(&x, &mut out);
        assert_close(&out, net.forward(&x), 1e-5, &format!("batch {batch}"));
    }
    let mut replicas = Replicas::new(&net, 2);
    replicas.set_sample_split(SampleSplit::Shared);
    let x = random_vec(800, 400);
    let (mut shared, mut single) = (vec![f32::NAN; 5], vec![f32::NAN; 5]);
    replicas.predict(&x, &mut shared);
    net.predict(&x, &mut single);
    assert_eq!(shared, single);
    assert_close(&single, net.forward(&x), 1e-5, "one sample");
}
