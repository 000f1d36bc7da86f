//! Blocks in every form, nested, with batch norm and dropout: shapes,
//! names and a forward and backward pass in both modes.
use nn::prelude::*;

nn::network! {
    /// A stem, a residual block, a projection block, an inception-like
    /// concat with a nested add, and a classifier with dropout.
    pub struct Blocks<[3, 8, 8]> {
        conv(8, kernel = 3, pad = 1, bias = false),        // 0
        batch_norm,                                         // 1
        relu,                                               // 2
        residual {                                          // 3: [8, 8, 8]
            conv(8, kernel = 3, pad = 1, bias = false),
            batch_norm,
            relu,
            conv(8, kernel = 3, pad = 1, bias = false),
            batch_norm,
        },
        relu,                                               // 4
        down: add {                                         // [16, 4, 4]
            [conv(16, kernel = 3, stride = 2, pad = 1), batch_norm],
            [conv(16, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [16, 4, 4],
        mix: concat {                                       // [4 + 6 + 16, 4, 4]
            [conv(4, kernel = 1), relu],
            [max_pool(3, stride = 1, pad = 1), conv(6, kernel = 1)],
            [add { [conv(16, kernel = 1)], [] }],
        } => [26, 4, 4],
        global_avg_pool,                                    // [26]
        dropout(0.5),
        dense(12),
        batch_norm,                                         // per feature
        relu,
        dropout(0),
        concat { [dense(3)], [], [dense(2)] },              // [3 + 12 + 2]
        dense(10),
    }
}

fn main() {
    assert_eq!(Blocks::OUTPUT_SHAPE, [10]);
    let names: Vec<&str> = Blocks::TENSORS.iter().map(|t| t.name).collect();
    for name in [
        "0.weight",
        "1.weight",
        "3.0.0.weight",
        "3.0.4.bias",
        "down.0.0.bias",
        "down.1.1.weight",
        "mix.1.1.weight",
        "mix.2.0.0.0.weight",
        "13.0.0.weight",
        "14.weight",
    ] {
        assert!(names.contains(&name), "{name} in {names:?}");
    }
    let buffers: Vec<&str> = Blocks::BUFFERS.iter().map(|t| t.name).collect();
    assert!(buffers.contains(&"3.0.1.running_mean"));
    assert!(buffers.contains(&"10.num_batches_tracked"));
    let mut net = Blocks::new(1);
    let x = vec![0.5f32; 2 * Blocks::INPUT_LEN];
    let y = net.forward(&x).to_vec();
    assert_eq!(y.len(), 20);
    net.backward(&[1.0; 20]);
    assert!(net.input_grad().iter().all(|g| g.is_finite()));
    assert_eq!(net.buffer("1.num_batches_tracked"), Some(&[1.0][..]));
    net.eval();
    let z = net.forward(&x).to_vec();
    assert!(z.iter().all(|v| v.is_finite()));
    assert_eq!(net.buffer("1.num_batches_tracked"), Some(&[1.0][..]));
    println!("{}", Blocks::summary());
}
