//! Optimizers against PyTorch, on convergence, and through a state round
//! trip.
//!
//! The reference trajectories in `tests/golden/optim/` are written by
//! `tools/golden/optim.py` (`pip install torch numpy && python3
//! tools/golden/optim.py`, from the repository root): 20 steps of
//! `torch.optim` (single-tensor implementations, float32) on
//! `f(w) = Σ a_i·(w_i − c_i)² + 0.1·Σ w_i⁴` with 7 parameters, whose float32
//! gradient this file reproduces bit for bit. The script's docstring
//! describes the file format.
//!
//! Each file holds two trajectories. `trajectory_ieee_sqrt` is PyTorch's
//! own optimizer code with correctly rounded float32 square roots; ours
//! must equal it bit for bit, which shows that every other operation is
//! PyTorch's, in PyTorch's order and rounding. `trajectory` is PyTorch
//! unchanged, whose CPU build takes float32 square roots from MKL, accurate
//! to one unit in the last place but not always correctly rounded. SGD takes
//! no square root and equals it bit for bit; Adagrad, RMSprop and Adam
//! divide by a root and are held to
//!
//! `|ours − torch| ≤ max(1e-6·|torch|, 2·2⁻²³·scale)` per element,
//!
//! where `scale` is the largest magnitude the element takes along the
//! trajectory. A last-bit difference in a root changes an update by about
//! 1e-7 of itself, so the parameters drift apart by a fraction of a float32
//! unit in the last place of their magnitude: below 1e-6 of the parameter,
//! except where a parameter passes close to zero on its way from one sign
//! to the other (several do here, e.g. from 0.37 to −0.1 and from 0.88 to
//! −0.03). There the absolute difference keeps its size while the value
//! shrinks, so the bound becomes two units in the last place of the
//! element's largest magnitude (the largest seen is 0.72 of one).

use nn_runtime::optim::{
    Adagrad, Adam, AdamW, Optimizer, OptimizerState, RmsProp, Sgd, StateError,
};
use serde_json::{Map, Value};
use std::alloc::{GlobalAlloc, Layout, System};
use std::cell::Cell;

const REL: f64 = 1e-6;
const CONFIGS: usize = 14;

// ------------------------------------------------------------------------
// Golden files
// ------------------------------------------------------------------------

fn golden_dir() -> String {
    format!("{}/../tests/golden/optim", env!("CARGO_MANIFEST_DIR"))
}

fn floats(v: &Value) -> Vec<f32> {
    v.as_array()
        .expect("array")
        .iter()
        .map(|x| x.as_f64().expect("number") as f32)
        .collect()
}

fn number(v: &Value) -> f64 {
    v.as_f64().expect("number")
}

fn flag(v: &Value) -> bool {
    v.as_bool().expect("bool")
}

/// The gradient of `f(w) = Σ a_i·(w_i − c_i)² + 0.1·Σ w_i⁴` as PyTorch's
/// autograd computes it in float32: `2·(a·(w − c)) + 0.1·(4·((w·w)·w))`,
/// each operation rounded, in this order.
fn gradient(a: &[f32], c: &[f32], w: &[f32], g: &mut [f32]) {
    for i in 0..w.len() {
        let quadratic = 2.0 * (a[i] * (w[i] - c[i]));
        let quartic = 0.1 * (4.0 * ((w[i] * w[i]) * w[i]));
        g[i] = quadratic + quartic;
    }
}

/// Builds the optimizer of a golden file from its `torch.optim` class name
/// and constructor options; options not listed keep our defaults, which
/// must be PyTorch's.
fn build(class: &str, options: &Map<String, Value>) -> Box<dyn Optimizer> {
    let lr = number(&options["lr"]) as f32;
    // Adam and AdamW take the same options
    macro_rules! adam {
        ($ty:ident) => {
            configure(class, $ty::new(lr), options, |o, key, v| {
                Some(match key {
                    "betas" => o.betas(number(&v[0]), number(&v[1])),
                    "eps" => o.eps(number(v)),
                    "weight_decay" => o.weight_decay(number(v)),
                    "amsgrad" => o.amsgrad(flag(v)),
                    _ => return None,
                })
            })
        };
    }
    match class {
        "SGD" => configure(class, Sgd::new(lr), options, |o, key, v| {
            Some(match key {
                "momentum" => o.momentum(number(v)),
                "dampening" => o.dampening(number(v)),
                "nesterov" => o.nesterov(flag(v)),
                "weight_decay" => o.weight_decay(number(v)),
                _ => return None,
            })
        }),
        "Adagrad" => configure(class, Adagrad::new(lr), options, |o, key, v| {
            Some(match key {
                "lr_decay" => o.lr_decay(number(v)),
                "weight_decay" => o.weight_decay(number(v)),
                "initial_accumulator_value" => o.initial_accumulator_value(number(v)),
                "eps" => o.eps(number(v)),
                _ => return None,
            })
        }),
        "RMSprop" => configure(class, RmsProp::new(lr), options, |o, key, v| {
            Some(match key {
                "alpha" => o.alpha(number(v)),
                "eps" => o.eps(number(v)),
                "weight_decay" => o.weight_decay(number(v)),
                "momentum" => o.momentum(number(v)),
                "centered" => o.centered(flag(v)),
                _ => return None,
            })
        }),
        "Adam" => adam!(Adam),
        "AdamW" => adam!(AdamW),
        other => panic!("unknown optimizer {other}"),
    }
}

/// `optimizer` with every option but `lr` applied by `set`, which returns
/// `None` for an option it does not handle.
fn configure<O: Optimizer + 'static>(
    class: &str,
    optimizer: O,
    options: &Map<String, Value>,
    set: impl Fn(O, &str, &Value) -> Option<O>,
) -> Box<dyn Optimizer> {
    let configured =
        options
            .iter()
            .filter(|(key, _)| *key != "lr")
            .fold(optimizer, |o, (key, v)| {
                set(o, key, v).unwrap_or_else(|| panic!("{class}: option `{key}` not handled"))
            });
    Box::new(configured)
}

/// How one configuration compares with PyTorch.
struct Agreement {
    name: String,
    /// Largest `|ours − torch| / |torch|`.
    worst_relative: f64,
    /// Elements that needed the floor, near zero.
    floored: usize,
    /// Largest `|ours − torch|` among those, in units in the last place of
    /// the element's scale (`2⁻²³·scale`).
    worst_floored: f64,
    bitwise: bool,
}

fn trajectory(golden: &Value, key: &str) -> Vec<Vec<f32>> {
    let steps: Vec<Vec<f32>> = golden[key]
        .as_array()
        .unwrap_or_else(|| panic!("{key}"))
        .iter()
        .map(floats)
        .collect();
    assert_eq!(steps.len(), 20, "{key}: steps");
    steps
}

/// Runs one golden configuration and checks every step against PyTorch.
fn check(path: &std::path::Path) -> Agreement {
    let text = std::fs::read_to_string(path).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let golden: Value = serde_json::from_str(&text).unwrap_or_else(|e| panic!("{path:?}: {e}"));
    let name = golden["config"].as_str().expect("config").to_string();
    let class = golden["optimizer"].as_str().expect("optimizer");
    let options = golden["options"].as_object().expect("options");
    let (a, c) = (floats(&golden["a"]), floats(&golden["c"]));
    let mut w = floats(&golden["initial"]);
    let mut g = vec![0.0f32; w.len()];
    let torch = trajectory(&golden, "trajectory");
    let ieee = trajectory(&golden, "trajectory_ieee_sqrt");

    // the gradient function is PyTorch's, bit for bit
    gradient(&a, &c, &w, &mut g);
    let want = floats(&golden["initial_grad"]);
    assert!(
        g.iter().zip(&want).all(|(x, y)| x.to_bits() == y.to_bits()),
        "{name}: gradient {g:?} differs from PyTorch's {want:?}"
    );

    // each element's largest magnitude along the trajectory
    let scale: Vec<f64> = (0..w.len())
        .map(|i| {
            torch
                .iter()
                .map(|step| step[i])
                .chain([w[i]])
                .fold(0.0f64, |m, x| m.max(x.abs() as f64))
        })
        .collect();

    let mut opt = build(class, options);
    let mut r = Agreement {
        name,
        worst_relative: 0.0,
        floored: 0,
        worst_floored: 0.0,
        bitwise: true,
    };
    for (step, (torch, ieee)) in torch.iter().zip(&ieee).enumerate() {
        gradient(&a, &c, &w, &mut g);
        opt.step(&mut w, &g);
        let at = |i: usize| format!("{}: step {}, element {i}", r.name, step + 1);
        for (i, ((&ours, &torch), &ieee)) in w.iter().zip(torch).zip(ieee).enumerate() {
            assert_eq!(
                ours.to_bits(),
                ieee.to_bits(),
                "{}: {ours} vs {ieee} from PyTorch with IEEE square roots",
                at(i)
            );
            let diff = (ours as f64 - torch as f64).abs();
            let relative = diff / (torch as f64).abs();
            let ulp = f32::EPSILON as f64 * scale[i];
            if diff > REL * (torch as f64).abs() {
                assert!(
                    diff <= 2.0 * ulp,
                    "{}: {ours} vs PyTorch {torch} (|diff| {diff:e}, relative {relative:e}, \
                     scale {})",
                    at(i),
                    scale[i]
                );
                r.floored += 1;
                r.worst_floored = r.worst_floored.max(diff / ulp);
            }
            r.worst_relative = r.worst_relative.max(relative);
            r.bitwise &= ours.to_bits() == torch.to_bits();
        }
    }
    r
}

#[test]
fn trajectories_match_pytorch() {
    let mut paths: Vec<_> = std::fs::read_dir(golden_dir())
        .expect("tests/golden/optim")
        .map(|e| e.expect("entry").path())
        .filter(|p| p.extension().is_some_and(|x| x == "json"))
        .collect();
    paths.sort();
    assert_eq!(paths.len(), CONFIGS, "golden files in {}", golden_dir());
    for path in &paths {
        let r = check(path);
        let how = if r.bitwise {
            ", bit for bit".to_string()
        } else if r.floored > 0 {
            format!(
                "; {} near zero within {:.2} ulp of scale",
                r.floored, r.worst_floored
            )
        } else {
            String::new()
        };
        eprintln!(
            "{:<40} worst relative {:.1e}{how}",
            r.name, r.worst_relative
        );
        if r.name.starts_with("sgd") {
            assert!(
                r.bitwise,
                "{}: SGD takes no square root, so it matches exactly",
                r.name
            );
        }
    }
}

// ------------------------------------------------------------------------
// Convergence
// ------------------------------------------------------------------------

/// Each optimizer brings `Σ a_i·(w_i − c_i)²` from far away to its minimum.
#[test]
fn every_optimizer_converges_on_a_quadratic() {
    let a = [0.5f32, 1.0, 2.0, 0.25];
    let c = [1.0f32, -2.0, 0.5, 3.0];
    let cases: Vec<(&str, Box<dyn Optimizer>, usize)> = vec![
        ("sgd", Box::new(Sgd::new(0.1)), 300),
        ("sgd momentum", Box::new(Sgd::new(0.05).momentum(0.9)), 300),
        (
            "sgd nesterov",
            Box::new(Sgd::new(0.05).momentum(0.9).nesterov(true)),
            300,
        ),
        ("adagrad", Box::new(Adagrad::new(1.0)), 500),
        ("rmsprop", Box::new(RmsProp::new(0.01)), 1000),
        (
            "rmsprop centered momentum",
            Box::new(RmsProp::new(0.01).centered(true).momentum(0.5)),
            1000,
        ),
        ("adam", Box::new(Adam::new(0.1)), 1000),
        ("adam amsgrad", Box::new(Adam::new(0.1).amsgrad(true)), 1000),
        ("adamw", Box::new(AdamW::new(0.1).weight_decay(0.0)), 1000),
    ];
    for (name, mut opt, steps) in cases {
        let mut w = [0.0f32; 4];
        let mut g = [0.0f32; 4];
        for _ in 0..steps {
            for i in 0..4 {
                g[i] = 2.0 * a[i] * (w[i] - c[i]);
            }
            opt.step(&mut w, &g);
        }
        for i in 0..4 {
            assert!(
                (w[i] - c[i]).abs() < 1e-2,
                "{name}: w = {w:?} after {steps} steps, minimum at {c:?}"
            );
        }
    }
}

/// AdamW's decay is decoupled from the gradient: on `(w − 1)²` it settles
/// where the decay `η·λ·w` balances Adam's step, which tends to `η` for a
/// gradient of steady sign, so at `w = 1/λ = 0.5` rather than at 1.
#[test]
fn adamw_decay_balances_the_step() {
    let mut w = [0.0f32];
    let mut opt = AdamW::new(0.01).weight_decay(2.0);
    for _ in 0..3000 {
        let g = [2.0 * (w[0] - 1.0)];
        opt.step(&mut w, &g);
    }
    assert!((w[0] - 0.5).abs() < 1e-2, "w = {}", w[0]);
}

// ------------------------------------------------------------------------
// State
// ------------------------------------------------------------------------

/// Builds a fresh optimizer.
type Make = fn() -> Box<dyn Optimizer>;

/// Fresh optimizers of every kind, with every buffer in use.
fn all_kinds() -> Vec<(&'static str, Make)> {
    vec![
        ("sgd", || Box::new(Sgd::new(0.02))),
        ("sgd nesterov", || {
            Box::new(
                Sgd::new(0.02)
                    .momentum(0.9)
                    .nesterov(true)
                    .weight_decay(0.01),
            )
        }),
        ("sgd dampening", || {
            Box::new(Sgd::new(0.02).momentum(0.9).dampening(0.3))
        }),
        ("adagrad", || {
            Box::new(
                Adagrad::new(0.1)
                    .lr_decay(0.05)
                    .initial_accumulator_value(0.1),
            )
        }),
        ("rmsprop", || {
            Box::new(
                RmsProp::new(0.01)
                    .centered(true)
                    .momentum(0.9)
                    .weight_decay(0.01),
            )
        }),
        ("adam", || {
            Box::new(Adam::new(0.05).amsgrad(true).weight_decay(0.1))
        }),
        ("adamw", || Box::new(AdamW::new(0.05).amsgrad(true))),
    ]
}

fn problem() -> ([f32; 7], [f32; 7], [f32; 7]) {
    let a = [1.4, 1.8, 1.7, 0.8, 0.9, 1.8, 0.001];
    let c = [0.5, 0.5, -0.05, -0.3, -0.35, -0.4, 0.5];
    let w = [0.01, 0.16, 1.5, 0.9, 0.37, 1.5, 0.01];
    (a, c, w)
}

fn run(opt: &mut dyn Optimizer, w: &mut [f32], steps: usize) {
    let (a, c, _) = problem();
    let mut g = [0.0f32; 7];
    for _ in 0..steps {
        gradient(&a, &c, w, &mut g);
        opt.step(w, &g);
    }
}

/// Saving after 10 steps and loading into a fresh optimizer continues
/// exactly like an unbroken run of 20 steps.
#[test]
fn state_round_trip_resumes_exactly() {
    for (name, make) in all_kinds() {
        let (_, _, w0) = problem();
        let mut unbroken = w0;
        run(make().as_mut(), &mut unbroken, 20);

        let mut first = make();
        let mut w = w0;
        run(first.as_mut(), &mut w, 10);
        let saved: OptimizerState = first.state();
        assert_eq!(saved.steps, 10, "{name}");
        drop(first);

        let mut second = make();
        second
            .load_state(&saved)
            .unwrap_or_else(|e| panic!("{name}: {e}"));
        assert_eq!(second.state(), saved, "{name}: state after loading");
        run(second.as_mut(), &mut w, 10);
        let (a, b): (Vec<u32>, Vec<u32>) = (
            w.iter().map(|x| x.to_bits()).collect(),
            unbroken.iter().map(|x| x.to_bits()).collect(),
        );
        assert_eq!(a, b, "{name}: resumed {w:?}, unbroken {unbroken:?}");
    }
}

#[test]
fn state_holds_steps_and_named_buffers() {
    let mut opt = RmsProp::new(0.01).centered(true).momentum(0.9);
    let state = opt.state();
    assert_eq!(state.kind, "rmsprop");
    assert_eq!(state.steps, 0);
    let names: Vec<&str> = state.buffers.iter().map(|(n, _)| n.as_str()).collect();
    assert_eq!(names, ["square_avg", "momentum_buffer", "grad_avg"]);
    assert!(state.buffers.iter().all(|(_, b)| b.is_empty()));
    opt.step(&mut [1.0, 2.0, 3.0], &[0.1, 0.2, 0.3]);
    let state = opt.state();
    assert_eq!(state.steps, 1);
    assert!(state.buffers.iter().all(|(_, b)| b.len() == 3));

    let names =
        |s: OptimizerState| -> Vec<String> { s.buffers.into_iter().map(|(n, _)| n).collect() };
    assert_eq!(names(Sgd::new(0.1).state()), Vec::<String>::new());
    assert_eq!(
        names(Sgd::new(0.1).momentum(0.9).state()),
        ["momentum_buffer"]
    );
    assert_eq!(names(Adagrad::new(0.1).state()), ["sum"]);
    assert_eq!(names(Adam::new(0.1).state()), ["exp_avg", "exp_avg_sq"]);
    assert_eq!(
        names(AdamW::new(0.1).amsgrad(true).state()),
        ["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]
    );
}

#[test]
fn load_state_names_what_differs() {
    let mut adam = Adam::new(0.01);
    let mut w = [1.0f32; 7];
    adam.step(&mut w, &[0.5; 7]);
    let state = adam.state();

    // another kind
    let err = AdamW::new(0.01).load_state(&state).unwrap_err();
    assert!(
        matches!(&err, StateError::Kind { expected: "adamw", found } if found == "adam"),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "state is from a `adam` optimizer, this one is `adamw`"
    );
    let err = Sgd::new(0.01).momentum(0.9).load_state(&state).unwrap_err();
    assert!(
        matches!(&err, StateError::Kind { expected: "sgd", found } if found == "adam"),
        "{err:?}"
    );

    // another configuration: amsgrad adds a buffer
    let err = Adam::new(0.01)
        .amsgrad(true)
        .load_state(&state)
        .unwrap_err();
    match &err {
        StateError::Buffers {
            kind: "adam",
            expected,
            found,
        } => {
            assert_eq!(expected, &["exp_avg", "exp_avg_sq", "max_exp_avg_sq"]);
            assert_eq!(found, &["exp_avg", "exp_avg_sq"]);
        }
        other => panic!("expected StateError::Buffers, got {other:?}"),
    }
    assert_eq!(
        err.to_string(),
        "`adam` state has buffers [exp_avg, exp_avg_sq], this optimizer's configuration \
         has [exp_avg, exp_avg_sq, max_exp_avg_sq]"
    );

    // another parameter count
    let mut other = Adam::new(0.01);
    other.step(&mut [1.0; 5], &[0.5; 5]);
    let err = other.load_state(&state).unwrap_err();
    assert_eq!(
        err,
        StateError::ParamCount {
            kind: "adam",
            name: "exp_avg".into(),
            len: 7,
            params: 5
        }
    );
    assert_eq!(
        err.to_string(),
        "`adam` state: buffer `exp_avg` has 7 values, this optimizer's parameters have 5"
    );
    let err = Adam::new(0.01).with_len(6).load_state(&state).unwrap_err();
    assert!(
        matches!(
            err,
            StateError::ParamCount {
                len: 7,
                params: 6,
                ..
            }
        ),
        "{err:?}"
    );

    // a damaged state: buffers of different lengths
    let mut damaged = state.clone();
    damaged.buffers[1].1.pop();
    let err = Adam::new(0.01).load_state(&damaged).unwrap_err();
    assert_eq!(
        err,
        StateError::UnevenBuffers {
            kind: "adam",
            name: "exp_avg_sq".into(),
            len: 6,
            first: "exp_avg".into(),
            first_len: 7
        }
    );
    assert_eq!(
        err.to_string(),
        "`adam` state: buffer `exp_avg_sq` has 6 values, buffer `exp_avg` has 7"
    );

    // a failed load leaves the optimizer as it was
    let before = other.state();
    assert!(other.load_state(&state).is_err());
    assert_eq!(other.state(), before);
}

#[test]
fn learning_rate_can_be_changed_between_steps() {
    for (name, make) in all_kinds() {
        let mut opt = make();
        opt.set_learning_rate(0.0);
        assert_eq!(opt.learning_rate(), 0.0, "{name}");
        let (_, _, w0) = problem();
        let mut w = w0;
        run(opt.as_mut(), &mut w, 3);
        // η = 0 also turns AdamW's decay factor 1 − η·λ into 1
        assert_eq!(w, w0, "{name}: moved with a zero learning rate");
    }
}

#[test]
#[should_panic(expected = "one optimizer serves one parameter vector")]
fn a_different_parameter_count_panics() {
    let mut opt = Adam::new(0.01);
    opt.step(&mut [0.0; 3], &[1.0; 3]);
    opt.step(&mut [0.0; 4], &[1.0; 4]);
}

// ------------------------------------------------------------------------
// Allocation
// ------------------------------------------------------------------------

/// Counts allocations per thread, so tests running in parallel don't see
/// each other's.
struct Counting;

thread_local! {
    static ALLOCATIONS: Cell<usize> = const { Cell::new(0) };
}

fn count() {
    let _ = ALLOCATIONS.try_with(|n| n.set(n.get() + 1));
}

fn allocations() -> usize {
    ALLOCATIONS.with(Cell::get)
}

// SAFETY: forwards every call to the system allocator unchanged.
unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        count();
        unsafe { System.alloc_zeroed(layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        count();
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static GLOBAL: Counting = Counting;

#[test]
fn steps_after_the_first_allocate_nothing() {
    let (a, c, w0) = problem();
    for (name, make) in all_kinds() {
        let mut opt = make();
        let mut w = w0;
        let mut g = [0.0f32; 7];
        gradient(&a, &c, &w, &mut g);
        opt.step(&mut w, &g);
        let before = allocations();
        for _ in 0..5 {
            gradient(&a, &c, &w, &mut g);
            opt.step(&mut w, &g);
        }
        assert_eq!(
            allocations() - before,
            0,
            "{name}: allocations after the first step"
        );
    }
}

#[test]
fn with_len_allocates_at_construction() {
    let (a, c, w0) = problem();
    let mut g = [0.0f32; 7];
    gradient(&a, &c, &w0, &mut g);
    let mut opts: Vec<Box<dyn Optimizer>> = vec![
        Box::new(Sgd::new(0.02).momentum(0.9).with_len(7)),
        Box::new(Adagrad::new(0.1).with_len(7)),
        Box::new(RmsProp::new(0.01).centered(true).momentum(0.9).with_len(7)),
        Box::new(Adam::new(0.05).amsgrad(true).with_len(7)),
        Box::new(AdamW::new(0.05).with_len(7)),
    ];
    for opt in &mut opts {
        let mut w = w0;
        let before = allocations();
        opt.step(&mut w, &g);
        assert_eq!(
            allocations() - before,
            0,
            "{:?}: first step",
            opt.state().kind
        );
    }
}
