//! Where each invocation works, written once: the index arithmetic of every [`Mapping`], in
//! terms of an [`IndexBuilder`] each GPU generator implements for its instruction set (SPIR-V
//! today; PTX and AMDGPU through LLVM, WGSL and MSL next).

use crate::{Config, Mapping};

/// The integer instructions a GPU generator emits for invocation index math (32-bit signed
/// values; every operand is non-negative).
pub trait IndexBuilder {
    type Index: Copy;
    /// The linear index of this workgroup in the dispatch grid.
    fn workgroup_index(&mut self) -> Self::Index;
    /// This invocation's index inside its workgroup.
    fn local_index(&mut self) -> Self::Index;
    fn constant(&mut self, v: u64) -> Self::Index;
    fn add(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    /// `a · k` (may return `a` for `k = 1`).
    fn mul_k(&mut self, a: Self::Index, k: u64) -> Self::Index;
    /// `a / k` (may return `a` for `k = 1`).
    fn div_k(&mut self, a: Self::Index, k: u64) -> Self::Index;
    fn rem_k(&mut self, a: Self::Index, k: u64) -> Self::Index;
}

/// Row-major coordinates of `linear` in `shape` (the first coordinate is not reduced, so an
/// index past the end stays past it).
pub fn decompose<B: IndexBuilder>(b: &mut B, linear: B::Index, shape: &[u64]) -> Vec<B::Index> {
    let mut coords = vec![linear; shape.len()];
    let mut rest = linear;
    for d in (1..shape.len()).rev() {
        coords[d] = b.rem_k(rest, shape[d]);
        rest = b.div_k(rest, shape[d]);
    }
    if let Some(first) = coords.first_mut() {
        *first = rest;
    }
    coords
}

/// Where an invocation of a [`Mapping::Rows`] works.
#[derive(Clone, Copy, Debug)]
pub struct RowPosition<I> {
    /// The invocation's index in its workgroup.
    pub local: I,
    /// Its index in its row group (`0..group`); it strides over the row by `group`.
    pub lane: I,
    /// The row it works on (past the last row for idle invocations).
    pub row: I,
}

/// Where an invocation of a [`Mapping::GemmTiles`] works: its output element is
/// `(batch, row, col)`, its place in the tile `(ty, tx)`.
#[derive(Clone, Copy, Debug)]
pub struct GemmPosition<I> {
    pub local: I,
    pub batch: I,
    pub row: I,
    pub col: I,
    pub ty: I,
    pub tx: I,
}

impl Config {
    /// The element an invocation of a [`Mapping::Elements`] computes (linear, possibly past
    /// the end: callers compare it with the element count).
    pub fn element_index<B: IndexBuilder>(&self, b: &mut B) -> B::Index {
        let wg = b.workgroup_index();
        let local = b.local_index();
        let base = b.mul_k(wg, self.workgroup_size as u64);
        b.add(base, local)
    }

    /// An invocation's place in a [`Mapping::Rows`]: row groups of `group` invocations, a
    /// workgroup taking `workgroup_size / group` consecutive rows.
    pub fn row_position<B: IndexBuilder>(&self, b: &mut B) -> RowPosition<B::Index> {
        let group = match self.mapping {
            Mapping::Rows { group, .. } => group.max(1),
            _ => 1,
        };
        let per_workgroup = (self.workgroup_size / group) as u64;
        let wg = b.workgroup_index();
        let local = b.local_index();
        let (lane, slot) = if group == 1 {
            (b.constant(0), local)
        } else {
            (b.rem_k(local, group as u64), b.div_k(local, group as u64))
        };
        let first = b.mul_k(wg, per_workgroup);
        RowPosition {
            local,
            lane,
            row: b.add(first, slot),
        }
    }

    /// An invocation's place in a [`Mapping::GemmTiles`]: workgroups take tiles with `n`
    /// fastest, then `m`, then batch; invocations the tile's elements row-major.
    pub fn gemm_position<B: IndexBuilder>(&self, b: &mut B) -> GemmPosition<B::Index> {
        let (m, n, tile) = match self.mapping {
            Mapping::GemmTiles { m, n, tile, .. } => (m, n, tile as u64),
            _ => (1, 1, 1),
        };
        let (tiles_m, tiles_n) = (m.div_ceil(tile).max(1), n.div_ceil(tile).max(1));
        let wg = b.workgroup_index();
        let local = b.local_index();
        let (ty, tx) = (b.div_k(local, tile), b.rem_k(local, tile));
        let tn = b.rem_k(wg, tiles_n);
        let rest = b.div_k(wg, tiles_n);
        let tm = b.rem_k(rest, tiles_m);
        let batch = b.div_k(rest, tiles_m);
        let row = b.mul_k(tm, tile);
        let row = b.add(row, ty);
        let col = b.mul_k(tn, tile);
        let col = b.add(col, tx);
        GemmPosition {
            local,
            batch,
            row,
            col,
            ty,
            tx,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{configure, GpuTarget};
    use kiln_kernel::Op;

    /// Index math on plain integers, for one invocation.
    struct At {
        workgroup: u64,
        local: u64,
    }

    impl IndexBuilder for At {
        type Index = u64;
        fn workgroup_index(&mut self) -> u64 {
            self.workgroup
        }
        fn local_index(&mut self) -> u64 {
            self.local
        }
        fn constant(&mut self, v: u64) -> u64 {
            v
        }
        fn add(&mut self, a: u64, b: u64) -> u64 {
            a + b
        }
        fn mul_k(&mut self, a: u64, k: u64) -> u64 {
            a * k
        }
        fn div_k(&mut self, a: u64, k: u64) -> u64 {
            a / k
        }
        fn rem_k(&mut self, a: u64, k: u64) -> u64 {
            a % k
        }
    }

    fn config(kernel_ir: &str) -> Config {
        let target = GpuTarget {
            name: "test",
            description: "",
            subgroup_size: 8,
            max_workgroup_invocations: 1024,
            max_shared_memory: 48 << 10,
        };
        let storages = "%s0 = param 0 [1xf32]\n%s1 = param 1 [1xf32]\n%s2 = computed [1xf32]\n";
        let d = kiln_kernel::parse(&format!("{storages}{kernel_ir}")).unwrap();
        let op: &Op = &d.dispatches[0].kernel;
        configure(op, &target).unwrap()
    }

    /// Every invocation of every workgroup, with its position.
    fn each<T>(c: &Config, f: impl Fn(&mut At) -> T) -> Vec<T> {
        (0..c.workgroups())
            .flat_map(|workgroup| (0..c.workgroup_size as u64).map(move |local| (workgroup, local)))
            .map(|(workgroup, local)| f(&mut At { workgroup, local }))
            .collect()
    }

    /// Each mapping covers its domain exactly once with the workgroup count `configure` gives.
    #[test]
    fn every_element_row_and_output_has_one_owner() {
        let c = config("dispatch_0(%s0, %s1) = generic [7x9] (#0[7x9xf32]) -> (#1[7x9xf32]) { r0 = in0; yield r0 }");
        let mut seen: Vec<u64> = each(&c, |at| c.element_index(at))
            .into_iter()
            .filter(|&i| i < 63)
            .collect();
        seen.sort_unstable();
        assert_eq!(seen, (0..63).collect::<Vec<_>>());
        let coords = decompose(
            &mut At {
                workgroup: 0,
                local: 0,
            },
            62,
            &[7, 9],
        );
        assert_eq!(coords, [6, 8]);

        for (rows, len) in [(5, 100), (37, 3)] {
            let c = config(&format!(
                "dispatch_0(%s0, %s1) = generic [{rows}x{len}] reduce sum over last 1 (#0[{rows}x{len}xf32]) -> (#1[{rows}x{len}xf32]/1,0) {{ r0 = in0; yield r0 }}"
            ));
            let Mapping::Rows { group, .. } = c.mapping else {
                panic!()
            };
            let lanes = each(&c, |at| c.row_position(at));
            for r in 0..rows {
                let mut on_row: Vec<u64> = lanes
                    .iter()
                    .filter(|p| p.row == r)
                    .map(|p| p.lane)
                    .collect();
                on_row.sort_unstable();
                assert_eq!(on_row, (0..group as u64).collect::<Vec<_>>(), "row {r}");
            }
        }

        let c = config(
            "dispatch_0(%s0, %s1, %s2) = matmul #0[2x20x8xf32], #1[2x8x35xf32] -> #2[2x20x35xf32]",
        );
        let mut outputs: Vec<(u64, u64, u64)> = each(&c, |at| c.gemm_position(at))
            .into_iter()
            .filter(|p| p.batch < 2 && p.row < 20 && p.col < 35)
            .map(|p| (p.batch, p.row, p.col))
            .collect();
        outputs.sort_unstable();
        outputs.dedup();
        assert_eq!(outputs.len(), 2 * 20 * 35);
        assert_eq!(
            each(&c, |at| c.gemm_position(at)).len(),
            (c.workgroups() * c.workgroup_size as u64) as usize
        );
    }
}
