//! Where each invocation works, written once: the index arithmetic of every [`Mapping`], in
//! terms of an [`IndexBuilder`] each GPU generator implements for its instruction set (SPIR-V
//! today; PTX and AMDGPU through LLVM, WGSL and MSL next).

use crate::{Config, Mapping};

/// The integer instructions a GPU generator emits for invocation index math (32-bit signed
/// values; every operand is non-negative). Sizes are values too ([`IndexBuilder::constant`]
/// for sizes known when compiling): generators fold operations on constants, so static
/// kernels compute their sizes when compiling and dynamic ones at run time from the same
/// code.
pub trait IndexBuilder {
    type Index: Copy;
    /// The linear index of this workgroup in the dispatch grid.
    fn workgroup_index(&mut self) -> Self::Index;
    /// This invocation's index inside its workgroup.
    fn local_index(&mut self) -> Self::Index;
    fn constant(&mut self, v: u64) -> Self::Index;
    fn add(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    fn mul(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    /// `a / b` for `b > 0`.
    fn div(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    fn rem(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
    fn max(&mut self, a: Self::Index, b: Self::Index) -> Self::Index;
}

/// Row-major coordinates of `linear` in `shape` (the first coordinate is not reduced, so an
/// index past the end stays past it).
pub fn decompose<B: IndexBuilder>(
    b: &mut B,
    linear: B::Index,
    shape: &[B::Index],
) -> Vec<B::Index> {
    let mut coords = vec![linear; shape.len()];
    let mut rest = linear;
    for d in (1..shape.len()).rev() {
        coords[d] = b.rem(rest, shape[d]);
        rest = b.div(rest, shape[d]);
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

/// Where an invocation of a [`Mapping::GemmTiles`] works: its first output element is
/// `(batch, row, col)` (the others are `tile` rows and columns further), its place in the
/// workgroup `(ty, tx)`.
#[derive(Clone, Copy, Debug)]
pub struct GemmPosition<I> {
    pub local: I,
    pub batch: I,
    pub row: I,
    pub col: I,
    pub ty: I,
    pub tx: I,
}

impl<N> Config<N> {
    /// The element an invocation of a [`Mapping::Elements`] computes (linear, possibly past
    /// the end: callers compare it with the element count).
    pub fn element_index<B: IndexBuilder>(&self, b: &mut B) -> B::Index {
        let wg = b.workgroup_index();
        let local = b.local_index();
        let size = b.constant(self.workgroup_size as u64);
        let base = b.mul(wg, size);
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
            let g = b.constant(group as u64);
            (b.rem(local, g), b.div(local, g))
        };
        let per_workgroup = b.constant(per_workgroup);
        let first = b.mul(wg, per_workgroup);
        RowPosition {
            local,
            lane,
            row: b.add(first, slot),
        }
    }

    /// An invocation's place in a [`Mapping::GemmTiles`] of an `m×n` output (`m` and `n` as
    /// values): workgroups take tiles with `n` fastest, then `m`, then batch; invocations are
    /// `tile×tile` row-major, each owning the outputs `(row + tile·i, col + tile·j)`.
    pub fn gemm_position<B: IndexBuilder>(
        &self,
        b: &mut B,
        m: B::Index,
        n: B::Index,
    ) -> GemmPosition<B::Index> {
        let (tile, [pm, pn]) = match self.mapping {
            Mapping::GemmTiles {
                tile, per_thread, ..
            } => (tile as u64, per_thread.map(u64::from)),
            _ => (1, [1, 1]),
        };
        let (batch, row0, col0) = gemm_tile(b, m, n, [tile * pm, tile * pn]);
        let local = b.local_index();
        let t = b.constant(tile);
        let (ty, tx) = (b.div(local, t), b.rem(local, t));
        let row = b.add(row0, ty);
        let col = b.add(col0, tx);
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

/// The output tile this workgroup computes of `batch` GEMMs with an `m×n` output (as values)
/// in tiles of `side` rows and columns: tiles along `n` fastest, then `m`, then batch (every
/// GEMM mapping orders them so). Returns the batch and the tile's first row and column.
pub(crate) fn gemm_tile<B: IndexBuilder>(
    b: &mut B,
    m: B::Index,
    n: B::Index,
    side: [u64; 2],
) -> (B::Index, B::Index, B::Index) {
    let one = b.constant(1);
    let mut tiles = |extent: B::Index, side: u64| {
        let up = b.constant(side - 1);
        let up = b.add(extent, up);
        let side = b.constant(side);
        let tiles = b.div(up, side);
        b.max(tiles, one)
    };
    let (tiles_m, tiles_n) = (tiles(m, side[0]), tiles(n, side[1]));
    let wg = b.workgroup_index();
    let tn = b.rem(wg, tiles_n);
    let rest = b.div(wg, tiles_n);
    let tm = b.rem(rest, tiles_m);
    let batch = b.div(rest, tiles_m);
    let side_m = b.constant(side[0]);
    let side_n = b.constant(side[1]);
    (batch, b.mul(tm, side_m), b.mul(tn, side_n))
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
        fn mul(&mut self, a: u64, b: u64) -> u64 {
            a * b
        }
        fn div(&mut self, a: u64, b: u64) -> u64 {
            a / b
        }
        fn rem(&mut self, a: u64, b: u64) -> u64 {
            a % b
        }
        fn max(&mut self, a: u64, b: u64) -> u64 {
            a.max(b)
        }
    }

    fn config(kernel_ir: &str) -> Config {
        let target = GpuTarget {
            name: "test",
            description: "",
            subgroup_size: 8,
            max_workgroup_invocations: 1024,
            max_shared_memory: 48 << 10,
            matrix_types: &[],
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

        for (m, n) in [(20, 35), (600, 700), (1000, 20)] {
            let c = config(&format!(
                "dispatch_0(%s0, %s1, %s2) = matmul #0[2x{m}x8xf32], #1[2x8x{n}xf32] -> #2[2x{m}x{n}xf32]"
            ));
            let Mapping::GemmTiles {
                tile,
                per_thread: [pm, pn],
                ..
            } = c.mapping
            else {
                panic!()
            };
            let expected = match m {
                20 => [1, 1],
                600 => [4, 4],
                _ => [2, 1],
            };
            assert_eq!([pm, pn], expected, "{m}x{n}");
            let (tile, pm, pn) = (tile as u64, pm as u64, pn as u64);
            let mut outputs: Vec<(u64, u64, u64)> = each(&c, |at| c.gemm_position(at, m, n))
                .into_iter()
                .flat_map(|p| {
                    (0..pm).flat_map(move |i| {
                        (0..pn).map(move |j| (p.batch, p.row + tile * i, p.col + tile * j))
                    })
                })
                .filter(|&(b, r, c)| b < 2 && r < m && c < n)
                .collect();
            let owned = outputs.len();
            outputs.sort_unstable();
            outputs.dedup();
            let all = (2 * m * n) as usize;
            assert_eq!((outputs.len(), owned), (all, all), "{m}x{n}");
        }
    }
}
