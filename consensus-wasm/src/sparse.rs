//! Sparse-matrix operations of the epoch, each matching one helper of the chain's `math.rs`.
//!
//! A matrix has one row per uid (`n` rows); a row is `(column uid, value)` pairs in the order the
//! chain holds them. Order matters: stored weight rows are in caller order, not sorted, and some
//! later steps (Yuma3 bond output, the liquid-alpha merge) depend on it.
//!
//! Several chain helpers densify every row to length `n` (`mat_ema_sparse`, `interpolate_sparse`)
//! and emit the positive cells in ascending column order. That costs O(n²) even for a nearly empty
//! matrix. [`Scratch`] gives the same result from the touched cells only: a dense buffer that is
//! written where a row has entries and cleared again by walking the touched list.

use crate::fixed::{I32F32, ONE, ZERO, div32, wrapping_sum32};

pub type Row = Vec<(u16, I32F32)>;
pub type Matrix = Vec<Row>;

/// A reusable dense row of `n` cells with a record of which cells a row touched.
pub struct Scratch {
    first: Vec<I32F32>,
    second: Vec<I32F32>,
    present: Vec<bool>,
    touched: Vec<u16>,
}

impl Scratch {
    pub fn new(columns: u16) -> Self {
        let n = usize::from(columns);
        Self {
            first: vec![ZERO; n],
            second: vec![ZERO; n],
            present: vec![false; n],
            touched: Vec::new(),
        }
    }

    /// Marks column `j` touched; `false` when `j` is outside the dense row (the chain's
    /// `get_mut(j)` returning `None`, which silently drops the cell).
    fn touch(&mut self, j: u16) -> bool {
        match self.present.get_mut(usize::from(j)) {
            Some(present) => {
                if !*present {
                    *present = true;
                    self.touched.push(j);
                }
                true
            }
            None => false,
        }
    }

    /// Touched columns in ascending order, as a dense scan would visit them.
    fn sorted_touched(&mut self) -> Vec<u16> {
        let mut columns = std::mem::take(&mut self.touched);
        columns.sort_unstable();
        columns
    }

    /// Clears the cells of `columns` (the ones this row touched).
    fn reset(&mut self, columns: &[u16]) {
        for &j in columns {
            let j = usize::from(j);
            if let Some(p) = self.present.get_mut(j) {
                *p = false;
            }
            if let Some(v) = self.first.get_mut(j) {
                *v = ZERO;
            }
            if let Some(v) = self.second.get_mut(j) {
                *v = ZERO;
            }
        }
    }

    /// Liquid alpha: records the EMA factor of a column the row weights.
    pub fn set_alpha(&mut self, j: u16, alpha: I32F32) {
        if self.touch(j)
            && let Some(cell) = self.first_mut(j)
        {
            *cell = alpha;
        }
    }

    /// The recorded factor, or `None` for a column the row does not weight.
    pub fn alpha(&self, j: u16) -> Option<I32F32> {
        match self.present.get(usize::from(j)) {
            Some(true) => Some(self.first(j)),
            _ => None,
        }
    }

    pub fn set_decayed(&mut self, j: u16, value: I32F32) {
        if let Some(cell) = self.second_mut(j) {
            *cell = value;
        }
    }

    pub fn decayed(&self, j: u16) -> I32F32 {
        self.second(j)
    }

    /// Forgets a row that was filled through `set_alpha`.
    pub fn clear(&mut self, columns: &[u16]) {
        self.reset(columns);
        self.touched.clear();
    }

    fn first(&self, j: u16) -> I32F32 {
        self.first.get(usize::from(j)).copied().unwrap_or(ZERO)
    }

    fn second(&self, j: u16) -> I32F32 {
        self.second.get(usize::from(j)).copied().unwrap_or(ZERO)
    }

    fn first_mut(&mut self, j: u16) -> Option<&mut I32F32> {
        self.first.get_mut(usize::from(j))
    }

    fn second_mut(&mut self, j: u16) -> Option<&mut I32F32> {
        self.second.get_mut(usize::from(j))
    }
}

/// Reads stored `u16` rows into an `n`-row matrix, converting each value with `convert`.
/// Rows and entries are assumed validated (`EpochInput::validate`).
pub fn from_u16_rows(
    rows: &[(u16, Vec<(u16, u16)>)],
    n: u16,
    convert: impl Fn(u16) -> I32F32,
) -> Matrix {
    let mut matrix: Matrix = vec![Vec::new(); usize::from(n)];
    for (uid_i, row) in rows {
        if let Some(out) = matrix.get_mut(usize::from(*uid_i)) {
            out.extend(row.iter().map(|&(j, v)| (j, convert(v))));
        }
    }
    matrix
}

/// `mask_rows_sparse`: empties row `i` where `mask[i]` is true or missing.
pub fn mask_rows(mask: &[bool], matrix: &mut Matrix) {
    for (i, row) in matrix.iter_mut().enumerate() {
        if mask.get(i).copied().unwrap_or(true) {
            row.clear();
        }
    }
}

/// `mask_diag_sparse` / `mask_diag_sparse_except_index`: drops self-weights, keeping the
/// owner's own self-weight when there is an owner.
pub fn mask_diag(matrix: &mut Matrix, keep: Option<u16>) {
    for (i, row) in matrix.iter_mut().enumerate() {
        let keeps_self = keep.is_some_and(|k| usize::from(k) == i);
        if !keeps_self {
            row.retain(|&(j, _)| usize::from(j) != i);
        }
    }
}

/// `vec_mask_sparse_matrix`: drops cell (i, j) where `drop(row_value[i], col_value[j])`
/// (a missing value reads as 0).
pub fn mask_by_row_and_col(
    matrix: &mut Matrix,
    row_values: &[u64],
    col_values: &[u64],
    drop: impl Fn(u64, u64) -> bool,
) {
    for (i, row) in matrix.iter_mut().enumerate() {
        let rv = row_values.get(i).copied().unwrap_or(0);
        row.retain(|&(j, _)| !drop(rv, col_values.get(usize::from(j)).copied().unwrap_or(0)));
    }
}

/// `scalar_vec_mask_sparse_matrix`: drops cell (i, j) where `drop(scalar, col_value[j])`.
pub fn mask_by_col(
    matrix: &mut Matrix,
    scalar: u64,
    col_values: &[u64],
    drop: impl Fn(u64, u64) -> bool,
) {
    for row in matrix.iter_mut() {
        row.retain(|&(j, _)| !drop(scalar, col_values.get(usize::from(j)).copied().unwrap_or(0)));
    }
}

/// `inplace_row_normalize_sparse`: rows with a positive (wrapping) sum are divided by it.
pub fn row_normalize(matrix: &mut Matrix) {
    for row in matrix.iter_mut() {
        let sum = wrapping_sum32(row.iter().map(|(_, v)| v));
        if sum > ZERO {
            for (_, v) in row.iter_mut() {
                *v = div32(*v, sum);
            }
        }
    }
}

/// `row_sum_sparse` (wrapping sums).
pub fn row_sums(matrix: &Matrix) -> Vec<I32F32> {
    matrix
        .iter()
        .map(|row| wrapping_sum32(row.iter().map(|(_, v)| v)))
        .collect()
}

/// Per-column saturating sums over columns `0..columns` (cells beyond are ignored).
fn col_sums(matrix: &Matrix, columns: u16) -> Vec<I32F32> {
    let mut sums = vec![ZERO; usize::from(columns)];
    for row in matrix {
        for &(j, v) in row {
            if let Some(s) = sums.get_mut(usize::from(j)) {
                *s = s.saturating_add(v);
            }
        }
    }
    sums
}

/// `inplace_col_normalize_sparse`: each column divided by its (saturating) sum where non-zero.
pub fn col_normalize(matrix: &mut Matrix, columns: u16) {
    let sums = col_sums(matrix, columns);
    divide_columns(matrix, &sums);
}

/// `inplace_col_max_upscale_sparse`: each column divided by its maximum where non-zero.
pub fn col_max_upscale(matrix: &mut Matrix, columns: u16) {
    let mut maxima = vec![ZERO; usize::from(columns)];
    for row in matrix.iter() {
        for &(j, v) in row {
            if let Some(m) = maxima.get_mut(usize::from(j))
                && *m < v
            {
                *m = v;
            }
        }
    }
    divide_columns(matrix, &maxima);
}

fn divide_columns(matrix: &mut Matrix, divisors: &[I32F32]) {
    for row in matrix.iter_mut() {
        for (j, v) in row.iter_mut() {
            let d = divisors.get(usize::from(*j)).copied().unwrap_or(ZERO);
            if d != ZERO {
                *v = div32(*v, d);
            }
        }
    }
}

/// `matmul_sparse`: r_j = Σ_i v_i · m_ij (saturating), over `columns` columns.
pub fn matmul(matrix: &Matrix, vector: &[I32F32], columns: u16) -> Vec<I32F32> {
    let mut result = vec![ZERO; usize::from(columns)];
    for (row, scale) in matrix
        .iter()
        .zip(vector.iter().copied().chain(std::iter::repeat(ZERO)))
    {
        for &(j, v) in row {
            if let Some(r) = result.get_mut(usize::from(j)) {
                *r = r.saturating_add(scale.saturating_mul(v));
            }
        }
    }
    result
}

/// `matmul_transpose_sparse`: r_i = Σ_j v_j · m_ij (saturating).
pub fn matmul_transpose(matrix: &Matrix, vector: &[I32F32]) -> Vec<I32F32> {
    matrix
        .iter()
        .map(|row| {
            row.iter().fold(ZERO, |acc, &(j, v)| {
                let x = vector.get(usize::from(j)).copied().unwrap_or(ZERO);
                acc.saturating_add(x.saturating_mul(v))
            })
        })
        .collect()
}

/// `col_clip_sparse`: cells above their column's consensus are clipped down to it, or removed
/// when that consensus is zero (not stored as an explicit zero).
pub fn col_clip(matrix: &Matrix, consensus: &[I32F32]) -> Matrix {
    matrix
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, v)| {
                    let c = consensus.get(usize::from(j)).copied().unwrap_or(ZERO);
                    if c < v {
                        (c > ZERO).then_some((j, c))
                    } else {
                        Some((j, v))
                    }
                })
                .collect()
        })
        .collect()
}

/// `row_hadamard_sparse`: m_ij · v_i (saturating). Rows beyond the vector are dropped.
pub fn row_hadamard(matrix: &Matrix, vector: &[I32F32]) -> Matrix {
    matrix
        .iter()
        .zip(vector)
        .map(|(row, &scale)| {
            row.iter()
                .map(|&(j, v)| (j, v.saturating_mul(scale)))
                .collect()
        })
        .collect()
}

/// `mat_vec_mul_sparse`: m_ij · v_j, dropping products that are zero.
pub fn mat_vec_mul(matrix: &Matrix, vector: &[I32F32]) -> Matrix {
    matrix
        .iter()
        .map(|row| {
            row.iter()
                .filter_map(|&(j, v)| {
                    let x = vector.get(usize::from(j))?;
                    let p = v.saturating_mul(*x);
                    (p != ZERO).then_some((j, p))
                })
                .collect()
        })
        .collect()
}

/// `interpolate_sparse`: a + ratio · (b − a) per cell of the dense `n`-wide rows (the scratch's
/// width), keeping
/// positive cells in ascending column order. Ratio 0 and 1 return `a` and `b` as they are.
pub fn interpolate(a: &Matrix, b: &Matrix, ratio: I32F32, scratch: &mut Scratch) -> Matrix {
    if ratio == ZERO {
        return a.clone();
    }
    if ratio == ONE {
        return b.clone();
    }
    if a.len() != b.len() {
        return b.clone();
    }
    a.iter()
        .zip(b)
        .map(|(row_a, row_b)| {
            // Dense rows: a later duplicate column overwrites an earlier one.
            for &(j, v) in row_a {
                if scratch.touch(j)
                    && let Some(cell) = scratch.first_mut(j)
                {
                    *cell = v;
                }
            }
            for &(j, v) in row_b {
                if scratch.touch(j)
                    && let Some(cell) = scratch.second_mut(j)
                {
                    *cell = v;
                }
            }
            let touched = scratch.sorted_touched();
            let out = touched
                .iter()
                .filter_map(|&j| {
                    let v1 = scratch.first(j);
                    let v2 = scratch.second(j);
                    let x = v1.saturating_add(ratio.saturating_mul(v2.saturating_sub(v1)));
                    (x > ZERO).then_some((j, x))
                })
                .collect();
            scratch.reset(&touched);
            out
        })
        .collect()
}

/// `mat_ema_sparse`: alpha · new + (1 − alpha) · old, accumulated (saturating) in a dense row as
/// wide as the number of rows, keeping positive cells in ascending column order. Old cells in
/// columns the new row does not weight decay but stay.
pub fn ema(new: &Matrix, old: &Matrix, alpha: I32F32, scratch: &mut Scratch) -> Matrix {
    let one_minus_alpha = ONE.saturating_sub(alpha);
    let mut old_rows = old.iter();
    new.iter()
        .map(|new_row| {
            for &(j, v) in new_row {
                if scratch.touch(j)
                    && let Some(cell) = scratch.first_mut(j)
                {
                    *cell = cell.saturating_add(alpha.saturating_mul(v));
                }
            }
            if let Some(old_row) = old_rows.next() {
                for &(j, v) in old_row {
                    if scratch.touch(j)
                        && let Some(cell) = scratch.first_mut(j)
                    {
                        *cell = cell.saturating_add(one_minus_alpha.saturating_mul(v));
                    }
                }
            }
            let touched = scratch.sorted_touched();
            let out = touched
                .iter()
                .filter_map(|&j| {
                    let v = scratch.first(j);
                    (v > ZERO).then_some((j, v))
                })
                .collect();
            scratch.reset(&touched);
            out
        })
        .collect()
}
