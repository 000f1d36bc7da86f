//! Metrics per kind of target, accumulated batch by batch.
//!
//! Every [`Loss`](crate::loss::Loss) names the [`Metrics`] that score what
//! it trains:
//!
//! | metrics | for | figures |
//! |---|---|---|
//! | [`ClassMetrics`] | class labels (softmax cross-entropy, hinge) | accuracy, confusion matrix, per-class precision, recall and F1, macro F1 |
//! | [`RegressionMetrics`] | float targets (mean squared error) | MSE, MAE, R² |
//! | [`MultiLabelMetrics`] | 0/1 targets (sigmoid cross-entropy on logits) | per-label accuracy, exact match, per-label and macro F1 |
//!
//! The trainer keeps one per epoch for the training batches and one for the
//! validation set; [`evaluate`](crate::train::evaluate) returns one. A
//! [`Metric`] names a single figure, for early stopping and for schedules
//! that watch one.
//!
//! ```
//! # extern crate nn_runtime as nn;
//! use nn::metrics::{ClassMetrics, Metric, Metrics};
//!
//! let mut m = ClassMetrics::new(3);
//! // two samples, three classes: the first right, the second predicted 0
//! m.add(&[0.1, 2.0, 0.3, 1.0, 0.2, 0.5], &[1, 2]);
//! assert_eq!(m.accuracy(), 0.5);
//! assert_eq!(m.confusion(2, 0), 1);
//! assert_eq!(m.get(Metric::Accuracy), Some(0.5));
//! assert_eq!(m.get(Metric::R2), None); // not a figure of class labels
//! ```

use crate::data::Target;
use crate::loss::argmax;
use std::fmt;

/// One figure of a [`Metrics`], or the loss.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Metric {
    /// The loss (what the trainer minimises).
    Loss,
    /// Classes: the share of samples whose largest output is the label.
    /// Multi-label: the share of single labels predicted right.
    Accuracy,
    /// The mean of the per-class (or per-label) F1 scores.
    MacroF1,
    /// Multi-label: the share of samples with every label right.
    ExactMatch,
    /// Mean squared error over every output.
    Mse,
    /// Mean absolute error over every output.
    Mae,
    /// Coefficient of determination, averaged over the outputs.
    R2,
}

impl Metric {
    /// Whether a larger value is better (accuracy) or a smaller one (loss).
    pub fn higher_is_better(self) -> bool {
        matches!(
            self,
            Metric::Accuracy | Metric::MacroF1 | Metric::ExactMatch | Metric::R2
        )
    }

    /// How tables and messages name it.
    pub fn name(self) -> &'static str {
        match self {
            Metric::Loss => "loss",
            Metric::Accuracy => "accuracy",
            Metric::MacroF1 => "macro F1",
            Metric::ExactMatch => "exact match",
            Metric::Mse => "MSE",
            Metric::Mae => "MAE",
            Metric::R2 => "R²",
        }
    }

    /// Whether it is a share, shown as a percentage.
    fn is_share(self) -> bool {
        matches!(
            self,
            Metric::Accuracy | Metric::MacroF1 | Metric::ExactMatch
        )
    }

    /// `value` as tables show this metric: a percentage for shares.
    pub fn format(self, value: f64) -> String {
        match self.is_share() {
            true => format!("{:.2}%", 100.0 * value),
            false => format!("{value:.4}"),
        }
    }
}

impl fmt::Display for Metric {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Figures of a network's outputs against their targets, accumulated over
/// batches.
///
/// `add` allocates nothing: an accumulator made once serves every epoch
/// after [`clear`](Metrics::clear).
pub trait Metrics: Clone + fmt::Debug + fmt::Display + Send + Sync + 'static {
    /// The kind of target scored.
    type Target: Target;
    /// The figure that sums the others up: shown per epoch beside the loss.
    const HEADLINE: Metric;
    /// Every figure [`get`](Metrics::get) answers, the loss apart.
    const METRICS: &'static [Metric];

    /// An empty accumulator for a network of `outputs` outputs.
    fn new(outputs: usize) -> Self;

    /// Forgets every sample added.
    fn clear(&mut self);

    /// Adds a batch: `outputs` holds its samples' outputs one after
    /// another, `targets` their targets (a label each, or one float per
    /// output).
    ///
    /// # Panics
    /// If the lengths do not agree with the number of outputs, or a label
    /// is not below it.
    fn add(&mut self, outputs: &[f32], targets: &[Self::Target]);

    /// Adds what `other` accumulated (same number of outputs).
    fn merge(&mut self, other: &Self);

    /// Samples added.
    fn samples(&self) -> usize;

    /// The figure `metric`, or `None` if it is not one of this kind's (or
    /// is [`Metric::Loss`], which the caller keeps). With no samples, NaN.
    fn get(&self, metric: Metric) -> Option<f64>;
}

/// `a / b`, NaN for `0 / 0`.
fn ratio(a: f64, b: f64) -> f64 {
    a / b
}

/// F1 from true positives, false positives and false negatives; 0 when
/// there is nothing to score (scikit-learn's `zero_division=0`).
fn f1(tp: usize, fp: usize, fn_: usize) -> f64 {
    let denominator = 2 * tp + fp + fn_;
    match denominator {
        0 => 0.0,
        d => 2.0 * tp as f64 / d as f64,
    }
}

/// `part / whole`, 0 when the whole is 0 (scikit-learn's `zero_division=0`).
fn share(part: usize, whole: usize) -> f64 {
    match whole {
        0 => 0.0,
        w => part as f64 / w as f64,
    }
}

/// Class labels: a confusion matrix, from which every figure follows.
#[derive(Clone, Debug, PartialEq)]
pub struct ClassMetrics {
    classes: usize,
    /// `confusion[true · classes + predicted]`.
    confusion: Vec<usize>,
}

impl ClassMetrics {
    /// The number of classes (the network's outputs).
    pub fn classes(&self) -> usize {
        self.classes
    }

    /// Samples of class `truth` predicted as `predicted`.
    ///
    /// # Panics
    /// If either is not below [`classes`](ClassMetrics::classes).
    #[track_caller]
    pub fn confusion(&self, truth: usize, predicted: usize) -> usize {
        assert!(
            truth < self.classes && predicted < self.classes,
            "confusion({truth}, {predicted}) of {} classes",
            self.classes
        );
        self.confusion[truth * self.classes + predicted]
    }

    /// The confusion matrix as rows, `[true][predicted]`.
    pub fn confusion_matrix(&self) -> Vec<Vec<usize>> {
        self.confusion
            .chunks_exact(self.classes.max(1))
            .map(<[usize]>::to_vec)
            .collect()
    }

    /// The share of samples classified right (NaN with no samples).
    pub fn accuracy(&self) -> f64 {
        let right: usize = (0..self.classes)
            .map(|c| self.confusion[c * self.classes + c])
            .sum();
        ratio(right as f64, self.samples() as f64)
    }

    fn predicted_as(&self, class: usize) -> usize {
        (0..self.classes)
            .map(|t| self.confusion[t * self.classes + class])
            .sum()
    }

    fn of_class(&self, class: usize) -> usize {
        self.confusion[class * self.classes..(class + 1) * self.classes]
            .iter()
            .sum()
    }

    /// Of the samples predicted as `class`, the share that are (0 if none
    /// is).
    pub fn precision(&self, class: usize) -> f64 {
        share(self.confusion(class, class), self.predicted_as(class))
    }

    /// Of the samples of `class`, the share predicted so (0 if there are
    /// none).
    pub fn recall(&self, class: usize) -> f64 {
        share(self.confusion(class, class), self.of_class(class))
    }

    /// The harmonic mean of precision and recall of `class`.
    pub fn f1(&self, class: usize) -> f64 {
        let tp = self.confusion(class, class);
        f1(tp, self.predicted_as(class) - tp, self.of_class(class) - tp)
    }

    /// The mean F1 over the classes that occur, as labels or as
    /// predictions (scikit-learn's `f1_score(average='macro')`).
    pub fn macro_f1(&self) -> f64 {
        let seen: Vec<usize> = (0..self.classes)
            .filter(|&c| self.of_class(c) + self.predicted_as(c) > 0)
            .collect();
        let sum: f64 = seen.iter().map(|&c| self.f1(c)).sum();
        ratio(sum, seen.len() as f64)
    }
}

impl Metrics for ClassMetrics {
    type Target = u32;
    const HEADLINE: Metric = Metric::Accuracy;
    const METRICS: &'static [Metric] = &[Metric::Accuracy, Metric::MacroF1];

    fn new(outputs: usize) -> Self {
        ClassMetrics {
            classes: outputs,
            confusion: vec![0; outputs * outputs],
        }
    }

    fn clear(&mut self) {
        self.confusion.fill(0);
    }

    #[track_caller]
    fn add(&mut self, outputs: &[f32], labels: &[u32]) {
        let n = self.classes;
        assert!(
            outputs.len() == labels.len() * n,
            "ClassMetrics: {} outputs for {} labels of {n} classes",
            outputs.len(),
            labels.len()
        );
        for (y, &label) in outputs.chunks_exact(n).zip(labels) {
            assert!(
                (label as usize) < n,
                "ClassMetrics: label {label} is not below {n} classes"
            );
            self.confusion[label as usize * n + argmax(y)] += 1;
        }
    }

    fn merge(&mut self, other: &Self) {
        assert_eq!(self.classes, other.classes, "ClassMetrics::merge");
        self.confusion
            .iter_mut()
            .zip(&other.confusion)
            .for_each(|(a, b)| *a += b);
    }

    fn samples(&self) -> usize {
        self.confusion.iter().sum()
    }

    fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Accuracy => Some(self.accuracy()),
            Metric::MacroF1 => Some(self.macro_f1()),
            _ => None,
        }
    }
}

impl fmt::Display for ClassMetrics {
    /// Accuracy and macro F1, per-class precision, recall and F1, and the
    /// confusion matrix (true classes down, predictions across).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "accuracy {:.2}%  macro F1 {:.4}  ({} samples)",
            100.0 * self.accuracy(),
            self.macro_f1(),
            self.samples()
        )?;
        writeln!(f, "class  precision  recall      F1  support")?;
        for c in 0..self.classes {
            writeln!(
                f,
                "{c:>5}  {:>9.4}  {:>6.4}  {:>6.4}  {:>7}",
                self.precision(c),
                self.recall(c),
                self.f1(c),
                self.of_class(c)
            )?;
        }
        let width = self
            .confusion
            .iter()
            .max()
            .map_or(1, |m| m.to_string().len())
            .max(3);
        write!(f, "true\\pred")?;
        for p in 0..self.classes {
            write!(f, " {p:>width$}")?;
        }
        for (t, row) in self.confusion.chunks_exact(self.classes.max(1)).enumerate() {
            write!(f, "\n{t:>9}")?;
            for c in row {
                write!(f, " {c:>width$}")?;
            }
        }
        Ok(())
    }
}

/// Float targets: squared and absolute errors, and what R² needs, per
/// output, summed in f64.
#[derive(Clone, Debug, PartialEq)]
pub struct RegressionMetrics {
    outputs: usize,
    samples: usize,
    /// Per output: Σ (y − ŷ)², Σ |y − ŷ|, Σ y, Σ y².
    sums: Vec<[f64; 4]>,
}

impl RegressionMetrics {
    /// Mean squared error over every output of every sample (PyTorch's
    /// `MSELoss()`).
    pub fn mse(&self) -> f64 {
        let sse: f64 = self.sums.iter().map(|s| s[0]).sum();
        sse / (self.samples * self.outputs) as f64
    }

    /// Mean absolute error over every output of every sample.
    pub fn mae(&self) -> f64 {
        let sae: f64 = self.sums.iter().map(|s| s[1]).sum();
        sae / (self.samples * self.outputs) as f64
    }

    /// R² of output `j`: `1 − Σ(y − ŷ)² / Σ(y − ȳ)²`. A target that never
    /// varies gives 1 if predicted exactly, else 0 (scikit-learn's
    /// `r2_score`).
    pub fn r2_of(&self, j: usize) -> f64 {
        let [sse, _, sum, sum_sq] = self.sums[j];
        let n = self.samples as f64;
        let sst = (sum_sq - sum * sum / n).max(0.0);
        if sst > 0.0 {
            1.0 - sse / sst
        } else if n == 0.0 {
            f64::NAN
        } else if sse == 0.0 {
            1.0
        } else {
            0.0
        }
    }

    /// R² averaged over the outputs (scikit-learn's
    /// `r2_score(multioutput='uniform_average')`).
    pub fn r2(&self) -> f64 {
        (0..self.outputs).map(|j| self.r2_of(j)).sum::<f64>() / self.outputs as f64
    }
}

impl Metrics for RegressionMetrics {
    type Target = f32;
    const HEADLINE: Metric = Metric::R2;
    const METRICS: &'static [Metric] = &[Metric::Mse, Metric::Mae, Metric::R2];

    fn new(outputs: usize) -> Self {
        RegressionMetrics {
            outputs,
            samples: 0,
            sums: vec![[0.0; 4]; outputs],
        }
    }

    fn clear(&mut self) {
        self.samples = 0;
        self.sums.fill([0.0; 4]);
    }

    #[track_caller]
    fn add(&mut self, outputs: &[f32], targets: &[f32]) {
        assert!(
            outputs.len() == targets.len() && outputs.len().is_multiple_of(self.outputs.max(1)),
            "RegressionMetrics: {} outputs and {} targets for samples of {}",
            outputs.len(),
            targets.len(),
            self.outputs
        );
        for (y_hat, y) in outputs
            .chunks_exact(self.outputs)
            .zip(targets.chunks_exact(self.outputs))
        {
            for ((s, &p), &t) in self.sums.iter_mut().zip(y_hat).zip(y) {
                let (p, t) = (p as f64, t as f64);
                s[0] += (t - p) * (t - p);
                s[1] += (t - p).abs();
                s[2] += t;
                s[3] += t * t;
            }
            self.samples += 1;
        }
    }

    fn merge(&mut self, other: &Self) {
        assert_eq!(self.outputs, other.outputs, "RegressionMetrics::merge");
        self.samples += other.samples;
        for (a, b) in self.sums.iter_mut().zip(&other.sums) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    fn samples(&self) -> usize {
        self.samples
    }

    fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Mse => Some(self.mse()),
            Metric::Mae => Some(self.mae()),
            Metric::R2 => Some(self.r2()),
            _ => None,
        }
    }
}

impl fmt::Display for RegressionMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "MSE {:.6}  MAE {:.6}  R² {:.4}  ({} samples)",
            self.mse(),
            self.mae(),
            self.r2(),
            self.samples
        )
    }
}

/// 0/1 targets scored from logits: a label is predicted present where its
/// output is above 0 (a probability above ½).
#[derive(Clone, Debug, PartialEq)]
pub struct MultiLabelMetrics {
    labels: usize,
    samples: usize,
    exact: usize,
    /// Per label: true positives, false positives, false negatives, true
    /// negatives.
    counts: Vec<[usize; 4]>,
}

impl MultiLabelMetrics {
    /// The share of single labels predicted right (Keras'
    /// `binary_accuracy`).
    pub fn accuracy(&self) -> f64 {
        let right: usize = self.counts.iter().map(|c| c[0] + c[3]).sum();
        ratio(right as f64, (self.samples * self.labels) as f64)
    }

    /// The share of samples with every label right.
    pub fn exact_match(&self) -> f64 {
        ratio(self.exact as f64, self.samples as f64)
    }

    /// F1 of label `j` (0 when it never occurs and is never predicted).
    pub fn f1(&self, j: usize) -> f64 {
        let [tp, fp, fn_, _] = self.counts[j];
        f1(tp, fp, fn_)
    }

    /// The mean F1 over the labels.
    pub fn macro_f1(&self) -> f64 {
        (0..self.labels).map(|j| self.f1(j)).sum::<f64>() / self.labels as f64
    }
}

impl Metrics for MultiLabelMetrics {
    type Target = f32;
    const HEADLINE: Metric = Metric::Accuracy;
    const METRICS: &'static [Metric] = &[Metric::Accuracy, Metric::ExactMatch, Metric::MacroF1];

    fn new(outputs: usize) -> Self {
        MultiLabelMetrics {
            labels: outputs,
            samples: 0,
            exact: 0,
            counts: vec![[0; 4]; outputs],
        }
    }

    fn clear(&mut self) {
        self.samples = 0;
        self.exact = 0;
        self.counts.fill([0; 4]);
    }

    #[track_caller]
    fn add(&mut self, outputs: &[f32], targets: &[f32]) {
        assert!(
            outputs.len() == targets.len() && outputs.len().is_multiple_of(self.labels.max(1)),
            "MultiLabelMetrics: {} outputs and {} targets for samples of {} labels",
            outputs.len(),
            targets.len(),
            self.labels
        );
        for (y_hat, y) in outputs
            .chunks_exact(self.labels)
            .zip(targets.chunks_exact(self.labels))
        {
            let mut all_right = true;
            for ((c, &logit), &t) in self.counts.iter_mut().zip(y_hat).zip(y) {
                let (predicted, present) = (logit > 0.0, t > 0.5);
                let cell = match (predicted, present) {
                    (true, true) => 0,
                    (true, false) => 1,
                    (false, true) => 2,
                    (false, false) => 3,
                };
                c[cell] += 1;
                all_right &= predicted == present;
            }
            self.exact += usize::from(all_right);
            self.samples += 1;
        }
    }

    fn merge(&mut self, other: &Self) {
        assert_eq!(self.labels, other.labels, "MultiLabelMetrics::merge");
        self.samples += other.samples;
        self.exact += other.exact;
        for (a, b) in self.counts.iter_mut().zip(&other.counts) {
            for (x, y) in a.iter_mut().zip(b) {
                *x += y;
            }
        }
    }

    fn samples(&self) -> usize {
        self.samples
    }

    fn get(&self, metric: Metric) -> Option<f64> {
        match metric {
            Metric::Accuracy => Some(self.accuracy()),
            Metric::ExactMatch => Some(self.exact_match()),
            Metric::MacroF1 => Some(self.macro_f1()),
            _ => None,
        }
    }
}

impl fmt::Display for MultiLabelMetrics {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "label accuracy {:.2}%  exact match {:.2}%  macro F1 {:.4}  ({} samples)",
            100.0 * self.accuracy(),
            100.0 * self.exact_match(),
            self.macro_f1(),
            self.samples
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// One-hot-ish outputs predicting `class` among `n`.
    fn predicting(class: usize, n: usize) -> Vec<f32> {
        (0..n).map(|c| if c == class { 1.0 } else { 0.0 }).collect()
    }

    #[test]
    fn class_figures_match_a_worked_example() {
        // truth → predicted: 0→0, 0→0, 0→1, 1→1, 1→2, 2→2 (scikit-learn on
        // these gives precision [1, .5, .5], recall [2/3, .5, 1],
        // f1 [.8, .5, 2/3], macro F1 0.65556)
        let pairs = [(0, 0), (0, 0), (0, 1), (1, 1), (1, 2), (2, 2)];
        let outputs: Vec<f32> = pairs.iter().flat_map(|&(_, p)| predicting(p, 3)).collect();
        let labels: Vec<u32> = pairs.iter().map(|&(t, _)| t).collect();
        let mut m = ClassMetrics::new(3);
        m.add(&outputs[..9], &labels[..3]);
        let mut rest = ClassMetrics::new(3);
        rest.add(&outputs[9..], &labels[3..]);
        m.merge(&rest);
        assert_eq!(m.samples(), 6);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        let close = |a: f64, b: f64| assert!((a - b).abs() < 1e-12, "{a} vs {b}");
        for (c, (p, r, f)) in [
            (1.0, 2.0 / 3.0, 0.8),
            (0.5, 0.5, 0.5),
            (0.5, 1.0, 2.0 / 3.0),
        ]
        .into_iter()
        .enumerate()
        {
            close(m.precision(c), p);
            close(m.recall(c), r);
            close(m.f1(c), f);
        }
        close(m.macro_f1(), (0.8 + 0.5 + 2.0 / 3.0) / 3.0);
        assert_eq!(m.confusion_matrix(), [[2, 1, 0], [0, 1, 1], [0, 0, 1]]);
        assert_eq!(m.get(Metric::MacroF1), Some(m.macro_f1()));
        assert_eq!(m.get(Metric::Mse), None);
        m.clear();
        assert_eq!(m.samples(), 0);
        assert!(m.accuracy().is_nan());
    }

    #[test]
    fn macro_f1_skips_classes_never_seen() {
        let mut m = ClassMetrics::new(4);
        m.add(&[predicting(0, 4), predicting(1, 4)].concat(), &[0, 1]);
        assert_eq!(m.macro_f1(), 1.0);
        assert_eq!(m.precision(3), 0.0);
    }

    #[test]
    #[should_panic(expected = "ClassMetrics: label 3 is not below 3 classes")]
    fn a_label_out_of_range_panics() {
        ClassMetrics::new(3).add(&[0.0; 3], &[3]);
    }

    #[test]
    fn regression_figures() {
        let mut m = RegressionMetrics::new(2);
        // targets (1, 10), (2, 20), (3, 30); predictions off by (0, 1), (1, 0), (−1, −2)
        m.add(
            &[1.0, 11.0, 3.0, 20.0, 2.0, 28.0],
            &[1.0, 10.0, 2.0, 20.0, 3.0, 30.0],
        );
        assert!((m.mse() - (1.0 + 1.0 + 1.0 + 4.0) / 6.0).abs() < 1e-12);
        assert!((m.mae() - 5.0 / 6.0).abs() < 1e-12);
        // output 0: SSE 2, SST 2 → 0; output 1: SSE 5, SST 200 → 0.975
        assert!(m.r2_of(0).abs() < 1e-12);
        assert!((m.r2_of(1) - 0.975).abs() < 1e-12);
        assert!((m.r2() - 0.4875).abs() < 1e-12);
        let mut constant = RegressionMetrics::new(1);
        constant.add(&[5.0, 5.0], &[5.0, 5.0]);
        assert_eq!(constant.r2(), 1.0);
        constant.add(&[4.0], &[5.0]);
        assert_eq!(constant.r2(), 0.0);
    }

    #[test]
    fn multi_label_figures() {
        let mut m = MultiLabelMetrics::new(3);
        // sample 1 all right; sample 2 misses label 0 and adds label 2
        m.add(
            &[2.0, -1.0, 0.5, -0.1, 3.0, 0.2],
            &[1.0, 0.0, 1.0, 1.0, 1.0, 0.0],
        );
        assert_eq!(m.samples(), 2);
        assert!((m.accuracy() - 4.0 / 6.0).abs() < 1e-12);
        assert_eq!(m.exact_match(), 0.5);
        // label 0: tp 1 fn 1 → 2/3; label 1: tp 1 → 1; label 2: tp 1 fp 1 → 2/3
        assert!((m.macro_f1() - (2.0 / 3.0 + 1.0 + 2.0 / 3.0) / 3.0).abs() < 1e-12);
    }

    #[test]
    fn metrics_name_their_direction() {
        assert!(Metric::Accuracy.higher_is_better() && Metric::R2.higher_is_better());
        assert!(!Metric::Loss.higher_is_better() && !Metric::Mae.higher_is_better());
        assert_eq!(Metric::Accuracy.format(0.97531), "97.53%");
        assert_eq!(Metric::Mse.format(0.5), "0.5000");
    }
}
