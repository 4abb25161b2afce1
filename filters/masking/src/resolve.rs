//! Overlap resolution: among overlapping candidates the longest wins, then
//! the higher priority, then the earlier start, then the lower entity id.
//! Candidates are grouped into clusters of transitively overlapping spans and
//! each cluster is resolved on its own, so the outcome for a cluster never
//! depends on text outside it (which the streaming masker relies on).

use std::cmp::Reverse;

use crate::scan::Cand;

/// Sorts `cands` and appends the winners, in text order, to `out`.
pub(crate) fn resolve(cands: &mut [Cand], priority: impl Fn(u16) -> u8, out: &mut Vec<Cand>) {
    cands.sort_unstable_by_key(|c| (c.start, Reverse(c.end), c.id));
    let mut i = 0;
    while i < cands.len() {
        let mut j = i + 1;
        let mut end = cands.get(i).map_or(0, |c| c.end);
        while let Some(c) = cands.get(j) {
            if c.start >= end {
                break;
            }
            end = end.max(c.end);
            j += 1;
        }
        match cands.get(i..j) {
            Some([single]) => out.push(*single),
            Some(cluster) => pick(cluster, &priority, out),
            None => {}
        }
        i = j;
    }
}

fn pick(cluster: &[Cand], priority: &impl Fn(u16) -> u8, out: &mut Vec<Cand>) {
    let mut order: Vec<Cand> = cluster.to_vec();
    order.sort_unstable_by_key(|c| (Reverse(c.end - c.start), Reverse(priority(c.id)), c.start, c.id));
    let first = out.len();
    for c in order {
        let clash = out.get(first..).is_some_and(|picked| picked.iter().any(|p| p.start < c.end && c.start < p.end));
        if !clash {
            out.push(c);
        }
    }
    if let Some(picked) = out.get_mut(first..) {
        picked.sort_unstable_by_key(|c| c.start);
    }
}

/// The furthest point `<= hold` that no candidate straddles.
pub(crate) fn cut(hold: usize, cands: &[Cand]) -> usize {
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
}
