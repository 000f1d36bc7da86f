//! Runs LeNet-5 training steps on a fixed batch for a profiler:
//! `cargo build --release --example profile_step && perf record target/release/examples/profile_step`.
use nn::prelude::*;

nn::network! {
    pub struct LeNet5<[1, 28, 28]> {
        conv(6, kernel = 5, pad = 2), relu, max_pool(2),
        c2: conv(16, kernel = 5), relu, max_pool(2),
        flatten, dense(120), relu, dense(84), relu, dense(10),
    }
}

fn main() {
    let steps: usize = std::env::args()
        .nth(1)
        .and_then(|s| s.parse().ok())
        .unwrap_or(300);
    let mut net = LeNet5::new(1);
    let x = nn::testing::random_vec(64 * 784, 5);
    let dy = nn::testing::random_vec(640, 6);
    let start = std::time::Instant::now();
    for _ in 0..steps {
        net.zero_grad();
        net.forward(&x);
        net.backward(&dy);
        let (p, g) = net.params_and_grads();
        p.iter_mut().zip(g).for_each(|(p, g)| *p -= 1e-4 * g);
    }
    let ms = start.elapsed().as_secs_f64() * 1e3 / steps as f64;
    println!("{ms:.3} ms per step of 64 ({:.0} images/s)", 64e3 / ms);
}
