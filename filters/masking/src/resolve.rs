//! Overlap resolution: among overlapping candidates the longest wins, then
//! the higher priority, then the earlier start, then the lower entity id.
//! Candidates are grouped into clusters of transitively overlapping spans and
//! each cluster is resolved on its own, so the outcome for a cluster never
//! depends on text outside it (which the streaming masker relies on).
//!
//! Resolution is `O(n log n)` in the number of candidates: one sort (skipped
//! when the detectors produced them in order already), one pass over the
//! clusters, and within a cluster a sort and an ordered map of the winners.

use std::cmp::Reverse;
use std::collections::BTreeMap;

use crate::scan::Cand;

/// Text order of candidates: by start, longer first, then by entity id.
fn text_order(c: &Cand) -> (usize, Reverse<usize>, u16) {
    (c.start, Reverse(c.end), c.id)
}

/// Sorts `cands` and appends the winners, in text order, to `out`.
#[cfg(test)]
pub(crate) fn resolve(cands: &mut [Cand], priority: impl Fn(u16) -> u8, out: &mut Vec<Cand>) {
    let mut all = cands.to_vec();
    resolve_in_place(&mut all, priority);
    out.extend_from_slice(&all);
}

/// Replaces `cands` with the winners, in text order.
pub(crate) fn resolve_in_place(cands: &mut Vec<Cand>, priority: impl Fn(u16) -> u8) {
    sort_nearly_sorted(cands);
    let n = cands.len();
    let mut kept = 0;
    let mut winners = Vec::new();
    let mut i = 0;
    while i < n {
        let mut j = i + 1;
        let mut end = cands.get(i).map_or(0, |c| c.end);
        while let Some(c) = cands.get(j) {
            if c.start >= end {
                break;
            }
            end = end.max(c.end);
            j += 1;
        }
        // Winners go to the front: never past `i`, the cluster being read
        // has been copied by `pick` before anything is written.
        match cands.get(i..j) {
            Some([single]) => {
                let single = *single;
                if let Some(slot) = cands.get_mut(kept) {
                    *slot = single;
                }
                kept += 1;
            }
            Some(cluster) => {
                winners.clear();
                pick(cluster, &priority, &mut winners);
                for &w in &winners {
                    if let Some(slot) = cands.get_mut(kept) {
                        *slot = w;
                    }
                    kept += 1;
                }
            }
            None => {}
        }
        i = j;
    }
    cands.truncate(kept);
}

/// Sorts `cands` in [`text_order`]. The detectors produce them almost in
/// order (a few candidates come after others with the same start), so an
/// insertion sort is linear here; too many moves fall back to a full sort.
/// Equal keys are equal candidates, so the result is the same either way.
fn sort_nearly_sorted(cands: &mut [Cand]) {
    let mut budget = cands.len() * 4 + 64;
    for i in 1..cands.len() {
        let Some(&c) = cands.get(i) else { break };
        let key = text_order(&c);
        let mut j = i;
        while j > 0 && cands.get(j - 1).is_some_and(|p| text_order(p) > key) {
            j -= 1;
        }
        if j == i {
            continue;
        }
        let moved = i - j;
        if moved > budget {
            cands.sort_unstable_by_key(text_order);
            return;
        }
        budget -= moved;
        if let Some(window) = cands.get_mut(j..=i) {
            window.rotate_right(1);
        }
    }
}

/// Clusters up to this size are resolved with a linear clash check.
const SMALL_CLUSTER: usize = 16;

fn pick(cluster: &[Cand], priority: &impl Fn(u16) -> u8, out: &mut Vec<Cand>) {
    let mut order: Vec<Cand> = cluster.to_vec();
    order.sort_unstable_by_key(|c| (Reverse(c.end - c.start), Reverse(priority(c.id)), c.start, c.id));
    let first = out.len();
    if order.len() <= SMALL_CLUSTER {
        for c in order {
            let clash =
                out.get(first..).is_some_and(|picked| picked.iter().any(|p| p.start < c.end && c.start < p.end));
            if !clash {
                out.push(c);
            }
        }
    } else {
        // The winners never overlap one another (and are not empty), so the
        // one starting last before `c.end` is the only one that can reach
        // past `c.start`.
        let mut taken: BTreeMap<usize, usize> = BTreeMap::new();
        for c in order {
            let clash = taken.range(..c.end).next_back().is_some_and(|(_, &end)| c.start < end);
            if !clash {
                taken.insert(c.start, c.end);
                out.push(c);
            }
        }
    }
    if let Some(picked) = out.get_mut(first..) {
        picked.sort_unstable_by_key(|c| c.start);
    }
}

/// The furthest point `<= hold` that no candidate straddles: `hold` itself,
/// or the start of the group of overlapping candidates that reaches over it.
pub(crate) fn cut(hold: usize, cands: &[Cand]) -> usize {
    if !cands.iter().any(|c| c.start < hold && hold < c.end) {
        return hold;
    }
    // Only candidates that start before `hold` can straddle it or a point before it.
    let mut spans: Vec<(usize, usize)> = cands.iter().filter(|c| c.start < hold).map(|c| (c.start, c.end)).collect();
    spans.sort_unstable();
    // Merge the open intervals `(start, end)` into disjoint groups; the point
    // `hold` moves to the start of the group whose inside contains it.
    let mut group: Option<(usize, usize)> = None;
    let mut p = hold;
    for (start, end) in spans {
        match group {
            Some((_, g_end)) if start < g_end => {
                group = group.map(|(g_start, g_end)| (g_start, g_end.max(end)));
            }
            _ => group = Some((start, end)),
        }
        if let Some((g_start, g_end)) = group {
            if g_start < hold && hold < g_end {
                p = g_start;
            }
        }
    }
    p
}

#[cfg(test)]
mod tests {
    use super::*;

    fn c(start: usize, end: usize, id: u16) -> Cand {
        Cand { start, end, id }
    }

    #[test]
    fn longest_then_priority_wins() {
        let mut cands = vec![c(0, 5, 1), c(2, 12, 2), c(10, 14, 3), c(20, 25, 4), c(20, 25, 5)];
        let mut out = Vec::new();
        resolve(&mut cands, |id| if id == 4 { 9 } else { 1 }, &mut out);
        assert_eq!(
            out,
            vec![c(0, 5, 1), c(2, 12, 2), c(20, 25, 4)].into_iter().filter(|x| x.id != 1).collect::<Vec<_>>()
        );
    }

    #[test]
    fn cut_moves_before_straddlers() {
        assert_eq!(cut(10, &[c(8, 12, 0), c(5, 9, 0)]), 5);
        assert_eq!(cut(10, &[c(10, 12, 0)]), 10);
    }

    /// The iterative definition the linear versions must agree with.
    fn cut_reference(hold: usize, cands: &[Cand]) -> usize {
        let mut p = hold;
        loop {
            let mut moved = false;
            for c in cands {
                if c.start < p && c.end > p {
                    p = c.start;
                    moved = true;
                }
            }
            if !moved {
                return p;
            }
        }
    }

    fn pick_reference(cluster: &[Cand], priority: &impl Fn(u16) -> u8) -> Vec<Cand> {
        let mut order: Vec<Cand> = cluster.to_vec();
        order.sort_unstable_by_key(|c| (Reverse(c.end - c.start), Reverse(priority(c.id)), c.start, c.id));
        let mut out: Vec<Cand> = Vec::new();
        for c in order {
            if !out.iter().any(|p| p.start < c.end && c.start < p.end) {
                out.push(c);
            }
        }
        out.sort_unstable_by_key(|c| c.start);
        out
    }

    #[test]
    fn fast_paths_agree_with_the_definitions() {
        let mut seed = 7u64;
        let mut next = |n: u64| {
            seed = seed.wrapping_mul(6_364_136_223_846_793_005).wrapping_add(1_442_695_040_888_963_407);
            ((seed >> 33) % n) as usize
        };
        let prio = |id: u16| (id * 7 % 5) as u8;
        for round in 0..3000 {
            let k = next(if round % 10 == 0 { 80 } else { 12 }) + 1;
            let cands: Vec<Cand> = (0..k)
                .map(|_| {
                    let start = next(60);
                    c(start, start + 1 + next(12), next(6) as u16)
                })
                .collect();
            let hold = next(75);
            assert_eq!(cut(hold, &cands), cut_reference(hold, &cands), "{cands:?} {hold}");
            let mut sorted = cands.clone();
            sorted.sort_unstable_by_key(text_order);
            let mut nearly = cands.clone();
            sort_nearly_sorted(&mut nearly);
            assert_eq!(nearly, sorted);
            let mut big = Vec::new();
            pick(&sorted, &prio, &mut big);
            assert_eq!(big, pick_reference(&sorted, &prio));
        }
    }
}
