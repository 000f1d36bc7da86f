// VGG-16 (configuration D of Simonyan and Zisserman) as torchvision defines
// it (`torchvision.models.vgg16()`, without batch norm), for [3, 224, 224]
// images and 1000 classes: 138,357,544 parameters. Shared by the `classics`
// example and `tests/classics.rs`.
//
// torchvision's module is features → avgpool → flatten → classifier. Its
// `avgpool`, an `AdaptiveAvgPool2d((7, 7))`, is left out: on a 224 × 224
// input the features are already [512, 7, 7], and an adaptive pool to the
// size it is given is the identity. torchvision flattens with
// `torch.flatten(x, 1)` outside its sub-modules; here that is item 31.
//
// Names: torchvision's `features.<i>` is our item `<i>` (0 to 30, the same
// numbers), and its `classifier.<j>` is our item `32 + j`:
//   features.0.weight   [64, 3, 3, 3]    ↔ 0.weight
//   features.28.bias    [512]            ↔ 28.bias
//   classifier.0.weight [4096, 25088]    ↔ 32.weight
//   classifier.6.bias   [1000]           ↔ 38.bias

nn::network! {
    /// VGG-16 (torchvision): thirteen 3×3 convolutions in five stages, each
    /// closed by a 2×2 max pool, and three dense layers with dropout 0.5
    /// after the first two.
    pub struct Vgg16<[3, 224, 224]> {
        // features
        conv(64, kernel = 3, pad = 1), relu,        // 0, 1
        conv(64, kernel = 3, pad = 1), relu,        // 2, 3
        max_pool(2),                                // 4: [64, 112, 112]
        conv(128, kernel = 3, pad = 1), relu,       // 5, 6
        conv(128, kernel = 3, pad = 1), relu,       // 7, 8
        max_pool(2),                                // 9: [128, 56, 56]
        conv(256, kernel = 3, pad = 1), relu,       // 10, 11
        conv(256, kernel = 3, pad = 1), relu,       // 12, 13
        conv(256, kernel = 3, pad = 1), relu,       // 14, 15
        max_pool(2),                                // 16: [256, 28, 28]
        conv(512, kernel = 3, pad = 1), relu,       // 17, 18
        conv(512, kernel = 3, pad = 1), relu,       // 19, 20
        conv(512, kernel = 3, pad = 1), relu,       // 21, 22
        max_pool(2),                                // 23: [512, 14, 14]
        conv(512, kernel = 3, pad = 1), relu,       // 24, 25
        conv(512, kernel = 3, pad = 1), relu,       // 26, 27
        conv(512, kernel = 3, pad = 1), relu,       // 28, 29
        max_pool(2) => [512, 7, 7],                 // 30
        // (avgpool: the identity on this input, left out)
        flatten,                                    // 31: [25088]
        // classifier
        dense(4096), relu, dropout(0.5),            // 32, 33, 34: classifier.0 to .2
        dense(4096), relu, dropout(0.5),            // 35, 36, 37: classifier.3 to .5
        dense(1000),                                // 38: classifier.6
    }
}
