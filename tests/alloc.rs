//! After warm-up, inference (on one thread and on two, classes and
//! probabilities and the typed entry points included) and training forward/backward allocate
//! nothing: a counting global allocator watches a LeNet-5, a ResNet-20 and
//! stacked recurrent layers through many steps, and the augmentation of
//! training batches; `Replicas` holds the parameters once for all its
//! threads and no gradients, and its scratch is zeroed memory rather than
//! a copy; a trainer on two threads copies no parameters above 2 MiB.
//! (One test in this binary, so no other test allocates meanwhile.)

use nn::prelude::*;
use std::alloc::{GlobalAlloc, Layout, System};
use std::sync::atomic::{AtomicUsize, Ordering};

struct Counting;

static ALLOCATIONS: AtomicUsize = AtomicUsize::new(0);
/// Bytes asked for, freed or not.
static BYTES: AtomicUsize = AtomicUsize::new(0);
/// Bytes asked for without zeroing (`alloc`, `realloc`): what is then
/// written, page by page, rather than left to the system's zeroed pages.
static DIRTY_BYTES: AtomicUsize = AtomicUsize::new(0);

/// Whether the calling thread is the process's main thread, on which the
/// test harness waits for the test (run on a thread the harness spawns)
/// and runs none of our code. It allocates when it first blocks on the
/// test's result: on a loaded machine, after the test has begun counting
/// (4 allocations in 20 runs of 25 with three busy loops beside them).
fn harness_thread() -> bool {
    #[cfg(target_os = "linux")]
    {
        // SAFETY: both calls only read the caller's ids
        unsafe { libc::gettid() == libc::getpid() }
    }
    #[cfg(not(target_os = "linux"))]
    {
        false
    }
}

/// Counts an allocation of `size` bytes (`dirty` when not zeroed) made by
/// any thread but the harness's.
fn count(size: usize, dirty: bool) {
    if harness_thread() {
        return;
    }
    ALLOCATIONS.fetch_add(1, Ordering::SeqCst);
    BYTES.fetch_add(size, Ordering::SeqCst);
    if dirty {
        DIRTY_BYTES.fetch_add(size, Ordering::SeqCst);
    }
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), true);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count(layout.size(), false);
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count(new_size, true);
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[path = "../examples/nets/resnet20.rs"]
mod resnet20;

nn::network! {
    /// Every recurrent kind, stacked, a digit read as its rows.
    struct Rows<[28, 28]> {
        lstm(32, seq = all), gru(16, seq = all), rnn(16), dense(10),
    }
}

nn::network! {
    struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

nn::network! {
    /// 636,010 parameters (2.5 MB): more than a trainer copies for each
    /// further thread.
    struct Wide<[1, 28, 28]> {
        flatten, dense(800), relu, dense(10),
    }
}

/// The count is every thread's but the harness's main thread, and the
/// harness allocates on the test's thread when a test ends: so one test,
/// which runs the others in turn.
#[test]
fn steady_state_allocates_nothing() {
    // the count sees this thread's allocations (not the harness's thread's)
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    drop(std::hint::black_box(Box::new(7u64)));
    assert_eq!(ALLOCATIONS.load(Ordering::SeqCst) - before, 1);
    inference_and_training_allocate_nothing_after_warm_up();
    resnet20_steps_allocate_nothing_after_warm_up();
    recurrent_steps_allocate_nothing_after_warm_up();
    augmentation_allocates_nothing_after_warm_up();
    a_trainer_on_two_threads_copies_no_large_parameters();
}

/// A trainer on two threads gives the second gradients of its own, but no
/// copy of parameters above 2 MiB: all that `fit` allocates, zeroed or
/// not, freed or not, is the second thread's gradients and less than as
/// much again.
fn a_trainer_on_two_threads_copies_no_large_parameters() {
    use nn::data::Dataset;
    use nn::loss::SoftmaxCrossEntropy;
    use nn::optim::Sgd;
    use nn::train::{TrainConfig, Trainer};
    let inputs = (0..16 * 784).map(|i| (i % 97) as f32 / 97.0).collect();
    let data = Dataset::new(inputs, (0..16).map(|i| i % 10).collect(), 10).unwrap();
    let mut net = Wide::new(1);
    let config = TrainConfig {
        threads: 2,
        ..TrainConfig::new(1, 16)
    };
    let mut trainer = Trainer::new(SoftmaxCrossEntropy, Sgd::new(0.01), config);
    let before = BYTES.load(Ordering::SeqCst);
    trainer.fit(&mut net, &data, None).unwrap();
    let bytes = BYTES.load(Ordering::SeqCst) - before;
    let params = Wide::PARAM_BYTES;
    assert!(
        (params..2 * params).contains(&bytes),
        "a trainer on two threads allocated {bytes} bytes for a network of {params} bytes of \
         parameters"
    );
}

fn augmentation_allocates_nothing_after_warm_up() {
    use nn::data::augment::{Augmentation, HorizontalFlip, RandomCrop, RandomShift};
    const BATCH: usize = 64;
    let augmentation = Augmentation::new([3, 32, 32], 5)
        .then(RandomCrop::new(4))
        .then(HorizontalFlip::new(0.5))
        .then(RandomShift::new(2));
    let mut inputs: Vec<f32> = (0..BATCH * 3072).map(|i| (i % 251) as f32).collect();
    let indices: Vec<usize> = (0..BATCH).map(|i| 7 * i + 3).collect();
    let mut scratch = Vec::new();
    // the first batch grows the scratch buffer to a sample
    augmentation.apply_batch(&mut inputs, 0, &indices, &mut scratch);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for epoch in 1..4 {
        augmentation.apply_batch(&mut inputs, epoch, &indices, &mut scratch);
        augmentation.apply(&mut inputs[..3072], epoch, 1, &mut scratch);
    }
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "allocations in augmenting batches after warm-up"
    );
}

fn inference_and_training_allocate_nothing_after_warm_up() {
    const BATCH: usize = 64;
    let mut net = LeNet5::new(3);
    let batch: Vec<f32> = (0..BATCH * 784).map(|i| (i % 97) as f32 / 97.0).collect();
    let d_out = vec![0.01f32; BATCH * 10];
    let mut logits = vec![0.0f32; BATCH * 10];

    // inference on one sample needs no warm-up: construction made room
    // for it (the memory plan's inference slots)
    net.eval();
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    net.predict(&batch[..784], &mut logits[..10]);
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "allocations in single-sample inference after construction"
    );
    assert!(logits[0].is_finite());

    // nor does evaluation-mode inference on a batch: it goes through in
    // chunks that fit the activations made at construction; nor classes
    // and probabilities, of one sample or of a batch
    net.eval();
    let mut classes = vec![0usize; BATCH];
    let samples: Vec<[f32; 784]> = (batch.chunks_exact(784))
        .map(|s| s.try_into().unwrap())
        .collect();
    let mut typed = vec![[0.0f32; 10]; BATCH];
    let mut typed_classes = vec![0usize; BATCH];
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    net.predict(&batch, &mut logits);
    let class = net.predict_class(&batch[..784]);
    let p = net.predict_proba(&batch[..784])[class];
    net.predict_classes(&batch, &mut classes);
    net.predict_proba_batch(&batch, &mut logits);
    // and the typed entry points
    let typed_class = net.predict_sample_class(&samples[0]);
    let typed_score = net.predict_sample(&samples[0])[class];
    net.predict_samples(&samples, &mut typed);
    net.predict_sample_classes(&samples, &mut typed_classes);
    assert_eq!(
        ALLOCATIONS.load(Ordering::SeqCst) - before,
        0,
        "allocations in batch inference after construction"
    );
    assert!(p > 0.0 && classes[0] == class);
    assert!(typed_class == class && typed_classes == classes);
    assert_eq!(typed[0].map(f32::to_bits), logits_of(&mut net, &batch));
    assert!(typed_score.is_finite());
    net.train();

    // warm-up: the largest batch sizes the buffers
    net.forward(&batch);
    net.backward(&d_out);

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut checksum = 0.0f32;
    for step in 0..5 {
        // training step: forward, backward, a plain SGD update
        net.zero_grad();
        net.forward(&batch);
        net.backward(&d_out);
        let (params, grads) = net.params_and_grads();
        params
            .iter_mut()
            .zip(grads)
            .for_each(|(p, g)| *p -= 0.01 * g);
        // inference: one sample, a short batch, a full batch into a buffer
        checksum += net.forward(&batch[..784])[0];
        checksum += net.forward(&batch[..7 * 784])[step];
        net.predict(&batch, &mut logits);
        checksum += logits[step];
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(checksum.is_finite());
    assert_eq!(after - before, 0, "allocations during steady-state steps");

    // batch inference on two threads, after a warm-up batch, and one
    // sample split across both; one copy of the parameters for both
    // threads, and no gradients
    let (bytes, dirty) = (
        BYTES.load(Ordering::SeqCst),
        DIRTY_BYTES.load(Ordering::SeqCst),
    );
    let mut replicas = nn::parallel::Replicas::new(&net, 2);
    let bytes = BYTES.load(Ordering::SeqCst) - bytes;
    let dirty = DIRTY_BYTES.load(Ordering::SeqCst) - dirty;
    // (LeNet-5 prepares nothing for inference: FIXED_BYTES is its
    // parameters, gradients, buffers and scratch)
    let buffers = LeNet5::FIXED_BYTES - 2 * LeNet5::PARAM_BYTES - LeNet5::SCRATCH_BYTES;
    // the parameters copied once, the buffers for the copy (whose own pass
    // state runs the caller's share) and the other thread; the scratch is
    // zeroed memory, not a copy of the source's: pages it takes only as a
    // pass writes them
    let copied = LeNet5::PARAM_BYTES + 2 * buffers;
    assert!(
        dirty <= copied + 16 * 1024,
        "Replicas on two threads wrote {dirty} bytes of new memory; the parameters once and \
         two sets of buffers are {copied}"
    );
    let without_grads = LeNet5::PARAM_BYTES + 2 * (buffers + LeNet5::SCRATCH_BYTES);
    assert!(
        bytes <= without_grads + 64 * 1024,
        "Replicas on two threads took {bytes} bytes; the parameters once, and scratch and \
         buffers for the copy and the other thread are {without_grads}"
    );
    // from a network moved in: its parameters not copied at all
    let moved = LeNet5::new(1);
    let bytes = BYTES.load(Ordering::SeqCst);
    let from_network = nn::parallel::Replicas::from_network(moved, 2);
    let bytes = BYTES.load(Ordering::SeqCst) - bytes;
    let fresh = 2 * (buffers + LeNet5::SCRATCH_BYTES);
    assert!(
        bytes <= fresh + 64 * 1024,
        "Replicas::from_network on two threads took {bytes} bytes; scratch and buffers for \
         the copy and the other thread are {fresh}"
    );
    drop(from_network);
    replicas.predict(&batch, &mut logits);
    replicas.predict(&batch[..784], &mut logits[..10]);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    for step in 0..5 {
        replicas.predict(&batch, &mut logits);
        replicas.predict(&batch[..7 * 784], &mut logits[..7 * 10]);
        replicas.predict(&batch[..784], &mut logits[..10]);
        checksum += logits[step];
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(checksum.is_finite());
    assert_eq!(
        after - before,
        0,
        "allocations in two-thread batch inference"
    );
}

/// The first sample's outputs when `predict` computes the whole batch, as
/// bits.
fn logits_of(net: &mut LeNet5, batch: &[f32]) -> [u32; 10] {
    let mut all = vec![0.0f32; batch.len() / 784 * 10];
    net.predict(batch, &mut all);
    std::array::from_fn(|i| all[i].to_bits())
}

/// Warms `net` up on `batch`, then counts the allocations of `steps`
/// rounds of: a training step (forward, backward — with the input gradient
/// when `input_grad`, else `backward_params` — and an SGD update), then in
/// evaluation mode a forward pass of one sample and of the batch, and
/// `predict` on the batch. Returns the count and a checksum of the outputs.
fn count_steps<N: Network>(
    net: &mut N,
    batch: &[f32],
    steps: usize,
    input_grad: bool,
) -> (usize, f32) {
    let samples = batch.len() / N::INPUT_LEN;
    let d_out = vec![0.01f32; samples * N::OUTPUT_LEN];
    let mut logits = vec![0.0f32; samples * N::OUTPUT_LEN];
    net.forward(batch);
    net.backward(&d_out);

    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut checksum = 0.0f32;
    for step in 0..steps {
        net.train();
        net.zero_grad();
        net.forward(batch);
        if input_grad {
            net.backward(&d_out);
            checksum += net.input_grad()[step];
        } else {
            net.backward_params(&d_out);
        }
        let (params, grads) = net.params_and_grads();
        params
            .iter_mut()
            .zip(grads)
            .for_each(|(p, g)| *p -= 0.01 * g);
        net.eval();
        checksum += net.forward(&batch[..N::INPUT_LEN])[step];
        checksum += net.forward(batch)[step];
        // a few samples at a time (ResNet-20: each conv with its batch norm
        // and ReLU)
        net.predict(batch, &mut logits);
        checksum += logits[step];
    }
    (ALLOCATIONS.load(Ordering::SeqCst) - before, checksum)
}

/// A ResNet-20 training step (blocks, batch norm's running statistics) and
/// inference in both modes, `predict`, and one sample at a time shared out
/// among two threads allocate nothing once the buffers have grown.
fn resnet20_steps_allocate_nothing_after_warm_up() {
    let mut net = resnet20::ResNet20::new(1);
    let batch: Vec<f32> = (0..4 * 3072).map(|i| (i % 89) as f32 / 89.0).collect();
    let (allocations, checksum) = count_steps(&mut net, &batch, 2, false);
    assert!(checksum.is_finite());
    assert_eq!(net.buffer("1.num_batches_tracked"), Some(&[3.0][..]));
    assert_eq!(allocations, 0, "allocations during ResNet-20 steps");

    // one sample shared out among two threads, its convs by Winograd's
    // algorithm in buffers of each thread's own, grown on the first call
    net.eval();
    let mut replicas = nn::parallel::Replicas::new(&net, 2);
    replicas.set_sample_split(nn::parallel::SampleSplit::Shared);
    let mut out = [0.0f32; 10];
    replicas.predict(&batch[..3072], &mut out);
    let before = ALLOCATIONS.load(Ordering::SeqCst);
    let mut checksum = 0.0;
    for sample in batch.chunks_exact(3072) {
        replicas.predict(sample, &mut out);
        checksum += out[0];
    }
    let after = ALLOCATIONS.load(Ordering::SeqCst);
    assert!(checksum.is_finite());
    assert_eq!(
        after - before,
        0,
        "allocations of ResNet-20 shared out among threads"
    );
}

/// Training steps through time (the states kept per sample, backward's
/// working space, the transposed weights) and inference of stacked
/// recurrent layers allocate nothing once the buffers have grown.
fn recurrent_steps_allocate_nothing_after_warm_up() {
    let mut net = Rows::new(1);
    let batch: Vec<f32> = (0..16 * 784).map(|i| (i % 83) as f32 / 83.0).collect();
    let (allocations, checksum) = count_steps(&mut net, &batch, 3, true);
    assert!(checksum.is_finite());
    assert_eq!(allocations, 0, "allocations during recurrent steps");
}
