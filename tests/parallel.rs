//! Batch inference on several threads gives a single network's outputs for
//! every way a batch can split (bit for bit when every share and the whole
//! batch are on the same side of 16 samples, where dense layers change
//! kernels), and follows parameter updates.

use nn::parallel::Replicas;
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

/// One sample on several threads: its convolutions' output positions
/// shared out among them, the outputs a single network's, bit for bit.
#[test]
fn one_sample_split_across_threads_matches_one_network() {
    let mut single = SmallResNet::new(3);
    single.eval();
    for threads in [2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        for seed in 0..3 {
            let x = random_vec(3 * 16 * 16, seed);
            let mut out = vec![f32::NAN; 10];
            replicas.predict(&x, &mut out);
            assert_eq!(out, single.forward(&x), "{threads} threads, input {seed}");
        }
    }
}

#[test]
fn every_split_matches_one_network() {
    let mut single = LeNet5::new(7);
    for threads in [1, 2, 3] {
        let mut replicas = Replicas::new(&single, threads);
        assert_eq!(replicas.threads(), threads);
        // fewer samples than threads, uneven shares, even shares, shares
        // below 16 of a batch above
        for batch in [1, 2, 5, 20, 64] {
            let x = random_vec(batch * 784, batch as u64);
            let mut out = vec![f32::NAN; batch * 10];
            replicas.predict(&x, &mut out);
            let want = single.forward(&x);
            let what = format!("{threads} threads, batch {batch}");
            let share = batch.div_ceil(threads);
            if (share >= 16) == (batch >= 16) {
                assert_eq!(out, want, "{what}");
            } else {
                assert_close(&out, want, 1e-5, &what);
            }
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

#[test]
#[should_panic(expected = "output buffer of 3 floats for 2 outputs of 2 floats")]
fn a_wrong_output_buffer_is_refused() {
    let net = Tiny::new(1);
    let mut replicas = Replicas::new(&net, 2);
    replicas.predict(&[0.0; 8], &mut [0.0; 3]);
}
