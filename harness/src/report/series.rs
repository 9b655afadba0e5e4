//! Series that would hide each other. Five strategies that free the same objects at the same
//! points have the same live bytes; drawn one over another, only the last one shows and the
//! reader concludes the others are missing. [`coincident_groups`] finds the series that lie on
//! top of each other (the same points, values within a tolerance of the axis' scale), and
//! [`nested_widths`] gives each member of a group a stroke width so that they are drawn
//! nested, the first underneath and widest, each colour showing as a band of the line; a group
//! too large to nest legibly is drawn once, in its first member's colour. Either way
//! [`coincidence_notes`] names the members for the legend.

/// Two values closer than this share of the scale are drawn on the same pixels.
pub const COINCIDENT_TOLERANCE: f64 = 0.01;

/// How the values are drawn, which sets what "close" means: on a linear axis, a share of the
/// largest value of either series (the axis' extent); on a log axis, a share of each value.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Scale {
    Linear,
    Log,
}

/// Stroke width of a line that coincides with no other, and the step between nested lines.
pub const LINE_WIDTH: u32 = 2;
const NESTED_STEP: u32 = 3;

/// Groups of up to this many lines are drawn nested; larger ones once (nine nested lines made
/// a band 26 pixels wide with slivers of colour).
const MAX_NESTED: usize = 4;

/// Whether `a` and `b` are the same curve: as many points, each at the other's x (within
/// `tolerance` of it) with a y within `tolerance` on the y axis' `scale`.
pub fn coincide(a: &[(f64, f64)], b: &[(f64, f64)], tolerance: f64, scale: Scale) -> bool {
    let relative = |u: f64, v: f64| (u - v).abs() <= tolerance * u.abs().max(v.abs());
    let extent = a.iter().chain(b).map(|p| p.1.abs()).fold(0.0, f64::max);
    let close_y = |u: f64, v: f64| match scale {
        Scale::Linear => (u - v).abs() <= tolerance * extent,
        Scale::Log => relative(u, v),
    };
    !a.is_empty() && a.len() == b.len() && a.iter().zip(b).all(|(p, q)| relative(p.0, q.0) && close_y(p.1, q.1))
}

/// The indices of `series` grouped by coincidence with each group's first member, groups in
/// the order of their first member, members in their order in `series`.
pub fn coincident_groups(series: &[Vec<(f64, f64)>], tolerance: f64, scale: Scale) -> Vec<Vec<usize>> {
    let mut groups: Vec<Vec<usize>> = Vec::new();
    for (index, points) in series.iter().enumerate() {
        match groups.iter_mut().find(|group| coincide(&series[group[0]], points, tolerance, scale)) {
            Some(group) => group.push(index),
            None => groups.push(vec![index]),
        }
    }
    groups
}

/// The stroke width of each of `count` series, given their groups: a lone series gets
/// [`LINE_WIDTH`]; in a group of `k` up to [`MAX_NESTED`], the first member gets the widest
/// stroke and the last [`LINE_WIDTH`], so that drawn in order each stays visible around the
/// next; in a larger group the first gets [`LINE_WIDTH`] and the others 0: not drawn.
pub fn nested_widths(groups: &[Vec<usize>], count: usize) -> Vec<u32> {
    let mut widths = vec![LINE_WIDTH; count];
    for group in groups {
        for (rank, &index) in group.iter().enumerate() {
            widths[index] = match (group.len() > MAX_NESTED, rank) {
                (true, 0) => LINE_WIDTH,
                (true, _) => 0,
                (false, _) => LINE_WIDTH + NESTED_STEP * (group.len() - 1 - rank) as u32,
            };
        }
    }
    widths
}

/// A legend note for each group of more than one of `count` series, naming its members and
/// how they are drawn: `refcount, manual and nogc coincide (drawn nested, the first widest)`.
pub fn coincidence_notes(groups: &[Vec<usize>], count: usize, label: impl Fn(usize) -> String) -> Vec<String> {
    groups
        .iter()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let names: Vec<String> = group.iter().map(|&i| label(i)).collect();
            let named = match names.split_last() {
                Some(_) if group.len() == count && count > MAX_NESTED => format!("all {count} lines"),
                Some((last, rest)) => format!("{} and {last}", rest.join(", ")),
                None => String::new(),
            };
            let drawn = if group.len() > MAX_NESTED {
                format!("drawn once, in {}'s colour", names[0])
            } else {
                "drawn nested, the first widest".to_string()
            };
            format!("{named} coincide ({drawn})")
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    fn line(values: &[f64]) -> Vec<(f64, f64)> {
        values.iter().enumerate().map(|(i, v)| (i as f64 * 100.0, *v)).collect()
    }

    #[test]
    fn identical_and_nearly_identical_series_coincide() {
        let a = line(&[1000.0, 2000.0, 3000.0]);
        for scale in [Scale::Linear, Scale::Log] {
            assert!(coincide(&a, &a, COINCIDENT_TOLERANCE, scale));
            assert!(coincide(&a, &line(&[1005.0, 2010.0, 2990.0]), COINCIDENT_TOLERANCE, scale), "within 1%");
            assert!(!coincide(&a, &line(&[1000.0, 2100.0, 3000.0]), COINCIDENT_TOLERANCE, scale), "5% apart");
            assert!(!coincide(&a, &line(&[1000.0, 2000.0]), COINCIDENT_TOLERANCE, scale), "fewer points");
            assert!(!coincide(&[], &[], COINCIDENT_TOLERANCE, scale), "nothing drawn, nothing hidden");
        }
        let shifted = line(&[1020.0, 2000.0, 3000.0]);
        assert!(coincide(&a, &shifted, COINCIDENT_TOLERANCE, Scale::Linear), "20 of an axis up to 3000: one pixel");
        assert!(!coincide(&a, &shifted, COINCIDENT_TOLERANCE, Scale::Log), "2% on a log axis is visible");
    }

    #[test]
    fn groups_follow_the_first_member_and_widths_nest() {
        let same = line(&[5.0, 6.0, 7.0]);
        let series = vec![same.clone(), line(&[1.0, 2.0, 3.0]), same.clone(), line(&[9.0, 9.0, 9.0]), same];
        let groups = coincident_groups(&series, COINCIDENT_TOLERANCE, Scale::Log);
        assert_eq!(groups, vec![vec![0, 2, 4], vec![1], vec![3]]);
        let widths = nested_widths(&groups, series.len());
        assert_eq!(widths, [LINE_WIDTH + 6, LINE_WIDTH, LINE_WIDTH + 3, LINE_WIDTH, LINE_WIDTH]);
        let names = ["refcount", "weakref", "manual", "generational", "nogc"];
        assert_eq!(
            coincidence_notes(&groups, series.len(), |i| names[i].to_string()),
            ["refcount, manual and nogc coincide (drawn nested, the first widest)"]
        );
    }

    #[test]
    fn two_coinciding_series_are_named_with_and() {
        let groups = vec![vec![0, 1], vec![2]];
        let notes = coincidence_notes(&groups, 3, |i| ["a", "b", "c"][i].to_string());
        assert_eq!(notes, ["a and b coincide (drawn nested, the first widest)"]);
        assert!(coincidence_notes(&[vec![0]], 1, |_| "a".into()).is_empty());
    }

    /// Nine lines of the same peak reserved bytes: drawn once and named as all of them.
    #[test]
    fn a_large_group_is_drawn_once() {
        let group: Vec<usize> = (0..9).collect();
        let widths = nested_widths(std::slice::from_ref(&group), 9);
        assert_eq!(widths[0], LINE_WIDTH);
        assert!(widths[1..].iter().all(|w| *w == 0), "{widths:?}");
        let notes = coincidence_notes(&[group], 9, |i| format!("t{i}"));
        assert_eq!(notes, ["all 9 lines coincide (drawn once, in t0's colour)"]);
    }
}
