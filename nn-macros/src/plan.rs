//! The memory plan: where each slot of values (or of gradients) lives in a
//! pass's buffer, so that slots whose lives do not overlap share memory.
//!
//! A slot is a value of the network (a layer's output, a block's merged
//! output, what a recurrent layer keeps for backward) with a length per
//! sample. The buffer holds a batch slot after slot (`batch · offset`), so
//! offsets planned for one sample hold for any batch. A slot lives from the
//! first step of the pass that touches it to the last; two slots that are
//! both alive at some step get disjoint ranges, any two others may share.
//!
//! Placing is greedy (each slot at the lowest offset that clashes with no
//! slot placed before it that is alive at the same time), in three orders,
//! keeping the best plan (see [`place`]).

/// The steps at which each slot is used, in pass order.
#[derive(Default)]
pub struct Lives {
    /// `(first, last)` step per slot, `None` if no step touches it.
    spans: Vec<Option<(usize, usize)>>,
}

impl Lives {
    /// `slots` slots, none used yet.
    pub fn new(slots: usize) -> Self {
        Lives {
            spans: vec![None; slots],
        }
    }

    /// `slot` is read or written at `step`.
    pub fn touch(&mut self, slot: usize, step: usize) {
        let span = &mut self.spans[slot];
        *span = Some(match *span {
            None => (step, step),
            Some((a, b)) => (a.min(step), b.max(step)),
        });
    }

    /// `slot` is alive from `from` to `to` (the pass's caller writes it
    /// before the pass or reads it after).
    pub fn keep(&mut self, slot: usize, from: usize, to: usize) {
        self.touch(slot, from);
        self.touch(slot, to);
    }
}

/// Offsets per slot (`lens[i]` floats per sample) and the floats per
/// sample the plan needs. Slot 0, when used, is at offset 0 (the network's
/// input, which the runtime copies there; its gradient is read from
/// there). A slot no step touches gets offset 0 and no room: only code that
/// never runs in this pass names it.
///
/// Three orders of placing are tried, the largest slot first, the
/// earliest-born first and the longest-lived first, and the smallest plan
/// kept: none is best for every set of lives (see the tests).
pub fn place(lens: &[usize], lives: &Lives) -> (Vec<usize>, usize) {
    let used: Vec<usize> = (1..lens.len())
        .filter(|&s| lives.spans[s].is_some() && lens[s] > 0)
        .collect();
    let mut by_size = used.clone();
    by_size.sort_by_key(|&s| (std::cmp::Reverse(lens[s]), lives.spans[s], s));
    let mut by_birth = used.clone();
    by_birth.sort_by_key(|&s| (lives.spans[s], std::cmp::Reverse(lens[s]), s));
    // the longest lives first, side by side, and the short ones in the gaps
    // they leave while they are not yet alive
    let mut by_length = used;
    let length = |s: usize| lives.spans[s].map_or(0, |(a, b)| b - a);
    by_length.sort_by_key(|&s| (std::cmp::Reverse(length(s)), lives.spans[s], s));
    [by_size, by_birth, by_length]
        .iter()
        .map(|order| place_in_order(lens, lives, order))
        .min_by_key(|plan| plan.1)
        .unwrap_or_default()
}

/// Places slot 0 (when used) at 0 and then each of `order` at the lowest
/// offset that clashes with no slot placed before it alive at the same
/// time.
fn place_in_order(lens: &[usize], lives: &Lives, order: &[usize]) -> (Vec<usize>, usize) {
    let mut offsets = vec![0; lens.len()];
    let mut placed: Vec<usize> = Vec::new();
    if lens.first().is_some_and(|&l| l > 0) && lives.spans[0].is_some() {
        placed.push(0);
    }
    let overlap = |a: (usize, usize), b: (usize, usize)| a.0 <= b.1 && b.0 <= a.1;
    for &s in order {
        let life = lives.spans[s].unwrap_or_default();
        let mut clashes: Vec<(usize, usize)> = placed
            .iter()
            .filter(|&&p| overlap(life, lives.spans[p].unwrap_or_default()))
            .map(|&p| (offsets[p], offsets[p] + lens[p]))
            .collect();
        clashes.sort_unstable();
        // the lowest gap that holds the slot
        let mut at = 0;
        for (start, end) in clashes {
            if at + lens[s] <= start {
                break;
            }
            at = at.max(end);
        }
        offsets[s] = at;
        placed.push(s);
    }
    let total = placed
        .iter()
        .map(|&p| offsets[p] + lens[p])
        .max()
        .unwrap_or(0);
    (offsets, total)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every two slots alive at the same step have disjoint ranges.
    fn check(lens: &[usize], lives: &Lives, offsets: &[usize], total: usize) {
        for a in 0..lens.len() {
            let Some(la) = lives.spans[a] else { continue };
            assert!(offsets[a] + lens[a] <= total, "slot {a} beyond the end");
            for b in a + 1..lens.len() {
                let Some(lb) = lives.spans[b] else { continue };
                let alive = la.0 <= lb.1 && lb.0 <= la.1;
                let apart =
                    offsets[a] + lens[a] <= offsets[b] || offsets[b] + lens[b] <= offsets[a];
                assert!(!alive || apart, "slots {a} and {b} overlap while alive");
            }
        }
    }

    #[test]
    fn a_chain_reuses_what_it_has_read() {
        // input 10 → 40 → 30 → 5: each step reads one slot and writes the next
        let lens = [10, 40, 30, 5];
        let mut lives = Lives::new(4);
        for step in 0..3 {
            lives.touch(step, step);
            lives.touch(step + 1, step);
        }
        lives.keep(3, 2, 3);
        let (offsets, total) = place(&lens, &lives);
        check(&lens, &lives, &offsets, total);
        assert_eq!(offsets[0], 0);
        // 85 in slots of their own; the last slot goes where the input was
        assert!(total <= 10 + 40 + 30, "{total}");
        assert!(offsets[3] + lens[3] <= 10, "{offsets:?}");
    }

    #[test]
    fn a_value_read_later_stays_apart_from_everything_between() {
        // a residual block: slot 1 is read at step 0 and again at step 3
        let lens = [8, 8, 8, 8, 8];
        let mut lives = Lives::new(5);
        for (slot, steps) in [
            (0, [0, 0]),
            (1, [0, 3]),
            (2, [1, 2]),
            (3, [2, 3]),
            (4, [3, 4]),
        ] {
            lives.keep(slot, steps[0], steps[1]);
        }
        let (offsets, total) = place(&lens, &lives);
        check(&lens, &lives, &offsets, total);
        assert_eq!(total, 24);
    }

    #[test]
    fn a_long_life_placed_first_leaves_room_beside_it() {
        // slot 1 lives long but is born late: placed first, it shares the
        // input's room, and slot 2 goes beside both (4); the largest first
        // or the earliest-born first puts slot 2 at 1 and slot 1 above (5)
        let lens = [1, 2, 2];
        let mut lives = Lives::new(3);
        lives.keep(0, 0, 0);
        lives.keep(1, 2, 6);
        lives.keep(2, 0, 3);
        let (offsets, total) = place(&lens, &lives);
        check(&lens, &lives, &offsets, total);
        assert_eq!(total, 4, "{offsets:?}");
    }

    #[test]
    fn random_lives_never_overlap() {
        let mut seed = 0x2545_f491_4f6c_dd1du64;
        let mut next = |n: usize| {
            seed ^= seed << 13;
            seed ^= seed >> 7;
            seed ^= seed << 17;
            (seed % n as u64) as usize
        };
        for _ in 0..200 {
            let slots = 1 + next(30);
            let lens: Vec<usize> = (0..slots).map(|_| next(50)).collect();
            let mut lives = Lives::new(slots);
            for s in 0..slots {
                if next(5) > 0 {
                    let a = next(20);
                    lives.keep(s, a, a + next(10));
                }
            }
            let (offsets, total) = place(&lens, &lives);
            check(&lens, &lives, &offsets, total);
            let naive: usize = (0..slots)
                .filter(|&s| lives.spans[s].is_some())
                .map(|s| lens[s])
                .sum();
            assert!(total <= naive, "{total} > {naive}");
        }
    }
}
