//! The LeNet-5 summary: output shapes, parameters, multiply-adds
//! and receptive field of every layer, the totals, and the printed table.

use nn::prelude::*;

nn::network! {
    /// LeNet-5 for 28×28 grey digits.
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2),
        relu,
        max_pool(2),
        c2: conv(16, kernel = 5) => [16, 10, 10],
        relu,
        max_pool(2),
        flatten,
        dense(120), relu,
        dense(84), relu,
        dense(10),
    }
}

#[test]
fn lenet5_constants() {
    assert_eq!(LeNet5::PARAM_COUNT, 61_706);
    assert_eq!(LeNet5::PARAM_BYTES, 61_706 * 4);
    assert_eq!(LeNet5::INPUT_SHAPE, [1, 28, 28]);
    assert_eq!(LeNet5::OUTPUT_SHAPE, [10]);
    assert_eq!((LeNet5::INPUT_LEN, LeNet5::OUTPUT_LEN), (784, 10));
    // the values of training, in f32. Kept for backward: the input (c1's
    // backward reads it), each pool's output (read by the next layer's
    // backward) and the positions of its maxima (a byte per output: a
    // quarter of a float), the dense layers' outputs (their ReLUs run in
    // place; each next layer's backward reads them) and the output:
    // 784 + 1176 + 294 + 400 + 100 + 120 + 84 + 10 = 2968. The convs'
    // outputs are read by their pools' forward only (each pool applies
    // the ReLU before it). The most at once is while the first pool runs:
    // the input, c1's output, the pool's output and its positions; every
    // later value fits where c1's output was.
    let acts = 784 + 4704 + 1176 + 294;
    // the gradients, as planned: at most, while the first pool runs
    // backward, the input's (kept for `input_grad`), the pool's output's,
    // c1's output's and the pool's working space beside its positions
    let grads = 784 + 1176 + 4704 + 294;
    assert_eq!(LeNet5::WORKSPACE_BYTES_PER_SAMPLE, (acts + grads) * 4);
    // without the plan: a slot for every value (the ReLUs' too) and every
    // gradient
    let unplanned = 784 + 4704 * 2 + 1176 + 294 + 1600 * 2 + 400 + 100 + 120 * 2 + 84 * 2 + 10;
    assert_eq!(
        LeNet5::UNPLANNED_WORKSPACE_BYTES_PER_SAMPLE,
        2 * unplanned * 4
    );
    // inference: the conv writes the ReLU's output (4,704) straight from
    // the input (784), the pool its output (1,176) beside them, and every
    // later value fits where those were
    assert_eq!(LeNet5::INFERENCE_BYTES_PER_SAMPLE, (784 + 4704 + 1176) * 4);
    // the typenum lengths are the same numbers
    use nn::typenum::Unsigned;
    assert_eq!(<<LeNet5 as Network>::InputLen as Unsigned>::USIZE, 784);
    assert_eq!(<<LeNet5 as Network>::OutputLen as Unsigned>::USIZE, 10);
}

#[test]
fn lenet5_layers() {
    // (name, output shape, parameters, multiply-adds, receptive field)
    type Row = (&'static str, &'static [usize], usize, usize, [usize; 2]);
    let want: [Row; 12] = [
        ("0", &[6, 28, 28], 156, 6 * 28 * 28 * 25, [5, 5]),
        ("1", &[6, 28, 28], 0, 0, [5, 5]),
        ("2", &[6, 14, 14], 0, 0, [6, 6]),
        ("c2", &[16, 10, 10], 2_416, 16 * 10 * 10 * 150, [14, 14]),
        ("4", &[16, 10, 10], 0, 0, [14, 14]),
        ("5", &[16, 5, 5], 0, 0, [16, 16]),
        ("6", &[400], 0, 0, [28, 28]),
        ("7", &[120], 48_120, 48_000, [28, 28]),
        ("8", &[120], 0, 0, [28, 28]),
        ("9", &[84], 10_164, 10_080, [28, 28]),
        ("10", &[84], 0, 0, [28, 28]),
        ("11", &[10], 850, 840, [28, 28]),
    ];
    let layers = <LeNet5 as Network>::LAYERS;
    assert_eq!(layers.len(), want.len());
    for (l, (name, shape, params, macs, rf)) in layers.iter().zip(want) {
        assert_eq!(
            (l.name, l.output_shape, l.params, l.macs, l.receptive_field),
            (name, shape, params, macs, rf),
            "layer {name}"
        );
    }
    let summary = LeNet5::summary();
    assert_eq!(summary.macs(), 416_520);
    let names: Vec<&str> = <LeNet5 as Network>::TENSORS
        .iter()
        .map(|t| t.name)
        .collect();
    assert_eq!(
        names,
        [
            "0.weight",
            "0.bias",
            "c2.weight",
            "c2.bias",
            "7.weight",
            "7.bias",
            "9.weight",
            "9.bias",
            "11.weight",
            "11.bias"
        ]
    );
}

#[test]
fn lenet5_table() {
    let table = LeNet5::summary().to_string();
    println!("{table}");
    let row = |name: &str| {
        table
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name))
            .unwrap_or_else(|| panic!("no row {name}:\n{table}"))
    };
    for cell in ["conv 5x5 pad 2", "[6, 28, 28]", "156", "117,600", "5x5"] {
        assert!(row("0").contains(cell), "row 0 lacks {cell}: {}", row("0"));
    }
    for cell in ["conv 5x5", "[16, 10, 10]", "2,416", "240,000", "14x14"] {
        assert!(
            row("c2").contains(cell),
            "row c2 lacks {cell}: {}",
            row("c2")
        );
    }
    assert!(row("7").contains("48,120"));
    assert!(table.contains("parameters: 61,706"), "{table}");
    assert!(table.contains("mult-adds per sample: 416,520"), "{table}");
}

/// The strategy column says what this machine runs: the in-place (implicit)
/// conv kernels need AVX-512, or AVX2 with FMA; elsewhere every conv
/// product copies its patches out. A ReLU after a conv is folded into it
/// for inference.
#[test]
fn lenet5_strategies_are_what_this_cpu_runs() {
    #[cfg(target_arch = "x86_64")]
    let in_place = std::is_x86_feature_detected!("avx512f")
        || (std::is_x86_feature_detected!("avx2") && std::is_x86_feature_detected!("fma"));
    #[cfg(not(target_arch = "x86_64"))]
    let in_place = false;
    let (c1, c2) = if in_place {
        // 6 output channels: the weight gradient copies its patches out;
        // c2's input gradient as a convolution of dY (14 × 14 from 10 × 10)
        // would be half padding: col2im
        ("implicit gemm, dW im2col", "implicit gemm, dX col2im")
    } else {
        ("im2col + gemm", "im2col + gemm")
    };
    // each conv's ReLU is applied by the max pool after it
    let pooled = "into max_pool";
    let want = [
        c1, pooled, "direct", c2, pooled, "direct", "view", "gemm", "direct", "gemm", "direct",
        "gemm",
    ];
    let got: Vec<String> = <LeNet5 as Network>::LAYERS
        .iter()
        .map(|l| l.strategy().to_string())
        .collect();
    assert_eq!(got, want);
    let table = LeNet5::summary().to_string();
    let c2_row = table.lines().find(|l| l.starts_with("c2 ")).unwrap();
    assert!(c2_row.trim_end().ends_with(c2), "{table}");
}

nn::network! {
    /// A block of each kind, nested, with batch norm.
    struct Blocks<[3, 16, 16]> {
        conv(4, kernel = 3, pad = 1, bias = false),
        batch_norm,
        res: residual { conv(4, kernel = 3, pad = 1), relu },
        concat {
            [conv(2, kernel = 1)],
            [conv(2, kernel = 5, pad = 2), add { [conv(2, kernel = 3, pad = 1)], [] }],
        },
        flatten,
        dense(3),
    }
}

#[test]
fn blocks_table() {
    let summary = Blocks::summary();
    let table = summary.to_string();
    println!("{table}");
    let rows: Vec<&str> = table.lines().collect();
    // the last row of that name and kind (a block's merge row comes after
    // its header row)
    let row = |name: &str, kind: &str| {
        *rows
            .iter()
            .rfind(|l| {
                let mut cells = l.split_whitespace();
                cells.next() == Some(name) && cells.next() == Some(kind)
            })
            .unwrap_or_else(|| panic!("no row {name} {kind}:\n{table}"))
    };
    // a block's row has its totals; its branches and their layers are
    // indented under it; the merge row gives the output shape
    assert!(row("res", "residual").starts_with("res "));
    assert!(row("res", "residual").contains("148"));
    assert!(!row("res", "residual").contains('['));
    assert!(row("res.0", "branch").starts_with("  res.0 "));
    assert!(row("res.0.0", "conv").starts_with("    res.0.0 "));
    assert!(row("res.1", "identity").contains("[4, 16, 16]"));
    assert!(row("res", "add").contains("[4, 16, 16]"));
    let concat = row("3", "concat");
    assert!(concat.starts_with("3 ") && concat.contains("[4, 16, 16]"));
    // branch 1: a 5x5 conv (2·(4·25 + 1) = 202) and a nested add (2·(2·9 + 1) = 38)
    assert!(row("3.1", "branch").contains("240"));
    assert!(row("3.1.1.0.0", "conv").starts_with("        3.1.1.0.0 "));
    // the receptive field through the branches is the largest: 3 + 2 + 4 + 2
    assert!(concat.contains("11x11"), "{concat}");
    // batch norm's running statistics are counted apart from parameters
    assert!(row("1", "batch_norm").contains("8 + 9 buffers"));
    assert_eq!(summary.buffers, 9);
    assert_eq!(Blocks::BUFFER_COUNT, 9);
    assert!(table.contains("buffers (running statistics, not trained): 9"));
    // totals count layers and merges once, not block and branch rows
    let layer_params: usize = Blocks::LAYERS
        .iter()
        .filter(|l| l.role == nn::Role::Layer)
        .map(|l| l.params)
        .sum();
    assert_eq!(layer_params, Blocks::PARAM_COUNT);
    assert_eq!(
        summary.macs(),
        Blocks::LAYERS
            .iter()
            .filter(|l| l.role == nn::Role::Layer)
            .map(|l| l.macs)
            .sum::<usize>()
    );
}

nn::network! {
    struct Tiny<[6]> { dense(4) }
}

nn::network! {
    /// 134 M features into 4: a transposed chunk of 64 samples would be
    /// 34 GB of scratch.
    struct Wide<[2048, 65536]> { flatten, dense(4) }
}

#[test]
fn every_buffer_is_in_the_memory_constants() {
    // a dense layer's scratch: 64 samples of its input and output, transposed
    assert_eq!(Tiny::SCRATCH_BYTES, 64 * (6 + 4) * 4);
    assert_eq!(Tiny::FIXED_BYTES, (2 * 28 + 64 * (6 + 4)) * 4);
    assert_eq!(<Tiny as Network>::FIXED_BYTES, Tiny::FIXED_BYTES);
    let text = Tiny::summary().to_string();
    assert!(
        text.contains(
            "memory whatever the batch: 2,784 bytes (parameters, gradients, buffers, \
             2,560 bytes of scratch)"
        ),
        "{text}"
    );
    // too wide for a transposed chunk within the budget: none, no scratch
    assert_eq!(Wide::SCRATCH_BYTES, 0);
    assert_eq!(Wide::FIXED_BYTES, 2 * Wide::PARAM_BYTES);
}

nn::network! {
    /// Recurrent layers over a sequence of 12 steps of 5 features.
    pub struct Recurrent<[12, 5]> {
        gru(8, seq = all),
        lstm(6),
        dense(3),
    }
}

/// A recurrent row: its output, parameters and multiply-adds per sequence
/// (both products at every step), a matrix product; the states it keeps
/// for backward count in the training workspace.
#[test]
fn recurrent_rows() {
    type Row = (&'static str, &'static str, &'static [usize], usize, usize);
    let want: [Row; 3] = [
        (
            "0",
            "gru 8, every step",
            &[12, 8],
            24 * (5 + 8 + 2),
            12 * 24 * (5 + 8),
        ),
        (
            "1",
            "lstm 6, last step",
            &[6],
            24 * (8 + 6 + 2),
            12 * 24 * (8 + 6),
        ),
        ("2", "dense", &[3], 3 * 7, 18),
    ];
    let layers = <Recurrent as Network>::LAYERS;
    assert_eq!(layers.len(), want.len());
    for (l, (name, kind, shape, params, macs)) in layers.iter().zip(want) {
        assert_eq!(
            (l.name, l.kind, l.output_shape, l.params, l.macs),
            (name, kind, shape, params, macs)
        );
        assert_eq!(l.strategy().to_string(), "gemm", "{name}");
    }
    assert_eq!(Recurrent::PARAM_COUNT, 360 + 384 + 21);
    // the input, the outputs, and what the gru (5·T·H + 3·H) and the lstm
    // (6·T·H) keep
    let (gru_saved, lstm_saved) = (5 * 12 * 8 + 3 * 8, 6 * 12 * 6);
    let acts = 60 + 96 + 6 + 3 + gru_saved + lstm_saved;
    // the gradients, as planned: the input's, and while the gru runs
    // backward its output's and its working space
    let grads = 60 + 96 + gru_saved;
    assert_eq!(Recurrent::WORKSPACE_BYTES_PER_SAMPLE, (acts + grads) * 4);
    let table = Recurrent::summary().to_string();
    assert!(table.contains("gru 8, every step"), "{table}");
}
