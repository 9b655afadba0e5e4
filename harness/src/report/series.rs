//! Series that would hide each other. Five strategies that free the same objects at the same
//! points have the same live bytes; drawn one over another, only the last one shows and the
//! reader concludes the others are missing. [`coincident_groups`] finds the series that lie on
//! top of each other (the same points, values within a tolerance of the axis' scale), and
//! [`nested_widths`] gives each member of a group a stroke width so that they are drawn
//! nested, the first underneath and widest, each colour showing as a band of the line.

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
/// [`LINE_WIDTH`]; in a group of `k`, the first member gets the widest stroke and the last
/// [`LINE_WIDTH`], so that drawn in order each stays visible around the next.
pub fn nested_widths(groups: &[Vec<usize>], count: usize) -> Vec<u32> {
    let mut widths = vec![LINE_WIDTH; count];
    for group in groups {
        for (rank, &index) in group.iter().enumerate() {
            widths[index] = LINE_WIDTH + NESTED_STEP * (group.len() - 1 - rank) as u32;
        }
    }
    widths
}

/// The groups of more than one series, named: `refcount, manual and nogc` for a legend note.
pub fn coincidence_notes(groups: &[Vec<usize>], label: impl Fn(usize) -> String) -> Vec<String> {
    groups
        .iter()
        .filter(|group| group.len() > 1)
        .map(|group| {
            let names: Vec<String> = group.iter().map(|&i| label(i)).collect();
            match names.split_last() {
                Some((last, rest)) if !rest.is_empty() => format!("{} and {last}", rest.join(", ")),
                _ => names.join(""),
            }
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
        assert_eq!(coincidence_notes(&groups, |i| names[i].to_string()), ["refcount, manual and nogc"]);
    }

    #[test]
    fn two_coinciding_series_are_named_with_and() {
        let groups = vec![vec![0, 1]];
        assert_eq!(coincidence_notes(&groups, |i| ["a", "b"][i].to_string()), ["a and b"]);
        assert!(coincidence_notes(&[vec![0]], |_| "a".into()).is_empty());
    }
}
