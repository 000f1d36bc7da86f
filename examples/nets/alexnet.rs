// AlexNet as torchvision defines it (`torchvision.models.alexnet()`, the
// "one weird trick" variant of Krizhevsky's network), for [3, 224, 224]
// images and 1000 classes: 61,100,840 parameters. Shared by the `classics`
// example and `tests/classics.rs`.
//
// torchvision's module is features → avgpool → flatten → classifier. Its
// `avgpool`, an `AdaptiveAvgPool2d((6, 6))`, is left out: on a 224 × 224
// input the features are already [256, 6, 6], and an adaptive pool to the
// size it is given is the identity. torchvision flattens with
// `torch.flatten(x, 1)` outside its sub-modules; here that is item 13.
//
// Every window fits without `round`: the first conv's (224 + 2 + 2 − 11) / 4
// leaves 1 row, which is bottom padding (PyTorch drops it too), and the
// pools' (55 − 3) / 2, (27 − 3) / 2, (13 − 3) / 2 leave none.
//
// Names: torchvision's `features.<i>` is our item `<i>` (0 to 12, the same
// numbers), and its `classifier.<j>` is our item `14 + j`:
//   features.0.weight   [64, 3, 11, 11]  ↔ 0.weight
//   features.10.bias    [256]            ↔ 10.bias
//   classifier.1.weight [4096, 9216]     ↔ 15.weight
//   classifier.6.bias   [1000]           ↔ 20.bias

nn::network! {
    /// AlexNet (torchvision): five convolutions and three dense layers,
    /// dropout 0.5 before the first two dense layers.
    pub struct AlexNet<[3, 224, 224]> {
        // features
        conv(64, kernel = 11, stride = 4, pad = 2), // 0: [64, 55, 55]
        relu,
        max_pool(3, stride = 2),                    // 2: [64, 27, 27]
        conv(192, kernel = 5, pad = 2),             // 3: [192, 27, 27]
        relu,
        max_pool(3, stride = 2),                    // 5: [192, 13, 13]
        conv(384, kernel = 3, pad = 1),             // 6
        relu,
        conv(256, kernel = 3, pad = 1),             // 8
        relu,
        conv(256, kernel = 3, pad = 1),             // 10
        relu,
        max_pool(3, stride = 2) => [256, 6, 6],     // 12
        // (avgpool: the identity on this input, left out)
        flatten,                                    // 13: [9216]
        // classifier
        dropout(0.5),                               // 14: classifier.0
        dense(4096),                                // 15: classifier.1
        relu,
        dropout(0.5),                               // 17: classifier.3
        dense(4096),                                // 18: classifier.4
        relu,
        dense(1000),                                // 20: classifier.6
    }
}
