// ResNet-18 as torchvision defines it (`torchvision.models.resnet18()`), for
// [3, 224, 224] images and 1000 classes: 11,689,512 parameters and 20 batch
// norms. Shared by the `classics` example and `tests/classics.rs`.
//
// torchvision's `BasicBlock` is relu(bn2(conv2(relu(bn1(conv1(x))))) + s(x)),
// with s the identity, or `downsample` (a 1×1 stride-2 conv and a batch norm)
// in the first block of stages 2 to 4. Here a block is a `residual` or an
// `add` with the `downsample` branch, and its closing relu is the item after
// it. torchvision's `avgpool` (`AdaptiveAvgPool2d((1, 1))`) followed by
// `torch.flatten(x, 1)` is `global_avg_pool`.
//
// Every window fits without `round`: where a stride 2 leaves a row out (the
// stem's (224 + 3 + 3 − 7) / 2, the max pool's (112 + 1 + 1 − 3) / 2, the 3×3
// stride-2 convs' (56 + 1 + 1 − 3) / 2), the row is bottom padding; the 1×1
// stride-2 projections skip every other row by design (the stride gap).
//
// Names: the items carry torchvision's names where a Rust identifier can,
// so `conv1`, `bn1`, `fc` are the same; torchvision's `layer<S>.<B>` (stage
// S, block B) is our item `layer<S>_<B>`, whose branch 0 holds the block's
// `conv1`, `bn1`, `conv2`, `bn2` and whose branch 1 is `downsample`:
//   conv1.weight                      [64, 3, 7, 7]    ↔ conv1.weight
//   layer1.0.conv1.weight             [64, 64, 3, 3]   ↔ layer1_0.0.conv1.weight
//   layer2.0.bn2.running_var          [128]            ↔ layer2_0.0.bn2.running_var
//   layer2.0.downsample.0.weight      [128, 64, 1, 1]  ↔ layer2_0.1.0.weight
//   layer4.1.bn2.num_batches_tracked  []               ↔ layer4_1.0.bn2.num_batches_tracked
// The relus between blocks have no parameters and are named by their index.

nn::network! {
    /// ResNet-18 (torchvision): a 7×7 stride-2 stem and a max pool, four
    /// stages of two basic blocks (64, 128, 256, 512 channels at 56², 28²,
    /// 14², 7²), global average pool, dense.
    pub struct ResNet18<[3, 224, 224]> {
        conv1: conv(64, kernel = 7, stride = 2, pad = 3, bias = false), // [64, 112, 112]
        bn1: batch_norm,
        relu,
        maxpool: max_pool(3, stride = 2, pad = 1),                      // [64, 56, 56]
        layer1_0: residual {
            conv1: conv(64, kernel = 3, pad = 1, bias = false), bn1: batch_norm, relu,
            conv2: conv(64, kernel = 3, pad = 1, bias = false), bn2: batch_norm,
        },
        relu,
        layer1_1: residual {
            conv1: conv(64, kernel = 3, pad = 1, bias = false), bn1: batch_norm, relu,
            conv2: conv(64, kernel = 3, pad = 1, bias = false), bn2: batch_norm,
        } => [64, 56, 56],
        relu,
        layer2_0: add {
            [conv1: conv(128, kernel = 3, stride = 2, pad = 1, bias = false), bn1: batch_norm, relu,
             conv2: conv(128, kernel = 3, pad = 1, bias = false), bn2: batch_norm],
            [conv(128, kernel = 1, stride = 2, bias = false), batch_norm],
        },
        relu,
        layer2_1: residual {
            conv1: conv(128, kernel = 3, pad = 1, bias = false), bn1: batch_norm, relu,
            conv2: conv(128, kernel = 3, pad = 1, bias = false), bn2: batch_norm,
        } => [128, 28, 28],
        relu,
        layer3_0: add {
            [conv1: conv(256, kernel = 3, stride = 2, pad = 1, bias = false), bn1: batch_norm, relu,
             conv2: conv(256, kernel = 3, pad = 1, bias = false), bn2: batch_norm],
            [conv(256, kernel = 1, stride = 2, bias = false), batch_norm],
        },
        relu,
        layer3_1: residual {
            conv1: conv(256, kernel = 3, pad = 1, bias = false), bn1: batch_norm, relu,
            conv2: conv(256, kernel = 3, pad = 1, bias = false), bn2: batch_norm,
        } => [256, 14, 14],
        relu,
        layer4_0: add {
            [conv1: conv(512, kernel = 3, stride = 2, pad = 1, bias = false), bn1: batch_norm, relu,
             conv2: conv(512, kernel = 3, pad = 1, bias = false), bn2: batch_norm],
            [conv(512, kernel = 1, stride = 2, bias = false), batch_norm],
        },
        relu,
        layer4_1: residual {
            conv1: conv(512, kernel = 3, pad = 1, bias = false), bn1: batch_norm, relu,
            conv2: conv(512, kernel = 3, pad = 1, bias = false), bn2: batch_norm,
        } => [512, 7, 7],
        relu,
        avgpool: global_avg_pool,                                       // [512]
        fc: dense(1000),
    }
}
