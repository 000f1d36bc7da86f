// He et al.'s ResNet-20 for 32×32 colour images (CIFAR-10), with projection
// shortcuts (a 1×1 stride-2 conv and batch norm) where the channels double:
// 272,474 parameters. Shared by the `resnet20` example and the tests.

nn::network! {
    /// ResNet-20: a 16-channel stem, three stages of three basic blocks
    /// (16, 32, 64 channels; 32², 16², 8²), global average pool, dense.
    pub struct ResNet20<[3, 32, 32]> {
        conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
        residual {
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        residual {
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        residual {
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(16, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        add {
            [conv(32, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
             conv(32, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(32, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [32, 16, 16],
        relu,
        residual {
            conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(32, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        residual {
            conv(32, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(32, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        add {
            [conv(64, kernel = 3, stride = 2, pad = 1, bias = false), batch_norm, relu,
             conv(64, kernel = 3, pad = 1, bias = false), batch_norm],
            [conv(64, kernel = 1, stride = 2, bias = false), batch_norm],
        } => [64, 8, 8],
        relu,
        residual {
            conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(64, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        residual {
            conv(64, kernel = 3, pad = 1, bias = false), batch_norm, relu,
            conv(64, kernel = 3, pad = 1, bias = false), batch_norm,
        },
        relu,
        global_avg_pool,
        dense(10),
    }
}
