//! Lowering configs of the CPU backends: which box of a kernel's output one workgroup computes.
//!
//! Workgroups are spread over `local-task`'s threads, so these choices balance two threads of
//! a small machine against per-workgroup overhead (packing, band layout). The mapping from a
//! workgroup index to its box is the VMVX format's (`crate::format::Kernel::output_box`),
//! which the runtime and the llvm-cpu generator share. The compiler picks static kernels'
//! tiles with these rules; a kernel whose sizes are known only at run time gets them when a
//! dispatch binds it ([`crate::format::Kernel::choose_tiles`]), from the actual sizes.

use alloc::vec::Vec;
/// Elements a generic kernel's workgroup aims to cover.
pub const GENERIC_TILE_ELEMENTS: u64 = 32 * 1024;
/// Largest matmul workgroup tile. Each workgroup packs its own panel of B (a depth block at a
/// time, at most 2 MiB for 512 columns) and reads a row-major A in place, so taller tiles
/// mean less repacking.
const MATMUL_TILE_MAX: [u64; 2] = [1024, 512];
/// Up to this many rows, a workgroup takes one microkernel strip of rows: its GEMM then reads
/// B in place instead of packing it (small-batch inference).
const MATMUL_SMALL_ROWS: u64 = 64;

/// Workgroup tile `[rows, columns]` for an `m×n` output: one 8-row strip per workgroup for
/// small `m`; otherwise about two row bands, so every panel of B is packed about twice and two
/// threads share the work.
pub fn matmul_tile(m: u64, n: u64) -> [u64; 2] {
    let rows = if m <= MATMUL_SMALL_ROWS {
        8
    } else {
        m.div_ceil(2).next_multiple_of(8).min(MATMUL_TILE_MAX[0])
    };
    [rows, n.clamp(1, MATMUL_TILE_MAX[1])]
}

/// Workgroups an attention is split into at least, where its query rows allow: two per core
/// of a small machine.
pub const ATTENTION_MIN_WORKGROUPS: u64 = 4;
/// Most scores one attention workgroup holds in its scratch (1 MiB of f32), so that they stay
/// in the core's cache between the two products.
const ATTENTION_MAX_SCORES: u64 = 1 << 18;

/// An attention's workgroup rows for `batches` batches of `m` query rows over `n` keys: all
/// of a batch's rows (its keys and values are then packed once), split into equal strips of
/// whole 8-row tiles while there are fewer than [`ATTENTION_MIN_WORKGROUPS`] workgroups, and
/// no more than `ATTENTION_MAX_SCORES` (2^18) scores where eight rows hold fewer (at least
/// one row, also where there are none).
///
/// ```
/// use kiln_vmvx::tile_config::attention_tile;
/// assert_eq!(attention_tile(12, 384, 384), 384); // a head per workgroup
/// assert_eq!(attention_tile(1, 40, 28), 16); // one head over three workgroups
/// assert_eq!(attention_tile(1, 0, 5), 1); // no query rows: no workgroup, a valid tile
/// ```
pub fn attention_tile(batches: u64, m: u64, n: u64) -> u64 {
    let splits = ATTENTION_MIN_WORKGROUPS.div_ceil(batches.max(1));
    let rows = m.div_ceil(splits).next_multiple_of(8);
    let most = (ATTENTION_MAX_SCORES / n.max(1)) / 8 * 8;
    rows.min(most.max(8)).min(m).max(1)
}

/// Workgroups a convolution is split into at least, when it has the work for them: two per core
/// of a small machine. More cost single-threaded time: each workgroup lays out its own input band
/// and pads its own register-tile strips.
pub const CONV_MIN_WORKGROUPS: u64 = 4;
/// Least GEMM work (multiply-adds) of a convolution workgroup worth a thread handing it out.
pub const CONV_MIN_WORKGROUP_MACS: u64 = 1 << 20;
/// Multiply-adds a weight costs at least, counted as work: a workgroup over few output pixels
/// (a classifier head on a pooled 1x1 image) reads each of its weights from memory for a few
/// multiply-adds, and the reads take about this many multiply-adds' time.
const CONV_WEIGHT_READ_MACS: u64 = 16;
/// Up to this many workgroups, a convolution's number of them is made even where its rows
/// allow: beyond it, the thread left idle by an odd one waits for a small share of the time.
const CONV_BALANCED_WORKGROUPS: u64 = 16;

/// The height of equal row tiles over `oh` rows, as many as tiles of `tile_oh` rows make: 28
/// rows in tiles of 18 become two of 14, not 18 and 10, so the two threads sharing them
/// finish together.
///
/// ```
/// assert_eq!(kiln_vmvx::tile_config::equal_rows(28, 18), 14);
/// ```
pub fn equal_rows(oh: u64, tile_oh: u64) -> u64 {
    oh.div_ceil(oh.div_ceil(tile_oh.max(1)))
}

/// A convolution's workgroup tile `[output channels, output rows]` for output `[n, co, oh, ow]`
/// with `depth` multiply-adds per output over `taps` window taps: about 512 output pixels per
/// workgroup (a GEMM wide enough for the register tile) in row tiles of equal height; then,
/// when that leaves fewer than [`CONV_MIN_WORKGROUPS`], equal blocks of whole strips of
/// `quantum` channels (at least 32) by more row tiles, each workgroup keeping
/// [`CONV_MIN_WORKGROUP_MACS`] (a workgroup over fewer than 16 output pixels counts each
/// weight as 16, the time reading it takes). Over a planar output, channel blocks first: of
/// the block counts that keep that work, the fewest that make an even number of workgroups,
/// enough of them where they can (an even number comes before more: two threads finish
/// together), then more row tiles while there are too few. Over a `channels_last` one, of the
/// splits that make enough workgroups (an even number preferred) the one whose workgroups
/// read the fewest input pixels and weights between them. A small odd number of workgroups
/// takes one row tile more where that makes it even.
///
/// ```
/// use kiln_vmvx::tile_config::conv_tile;
/// // 128 -> 128 3x3 at 28x28: two channel blocks of two 14-row tiles; 64 -> 64 at 56x56:
/// // eight tiles of 7 rows.
/// assert_eq!(conv_tile(&[1, 128, 28, 28], true, 1, 1152, 9, 32), [64, 14]);
/// assert_eq!(conv_tile(&[1, 64, 56, 56], false, 1, 576, 9, 32), [64, 7]);
/// // A 960 -> 1280 pointwise head on a pooled 1x1 image (4.9 MB of weights): four blocks
/// // of 320 channels; 120 -> 480 (230 KB) stays one workgroup.
/// assert_eq!(conv_tile(&[1, 1280, 1, 1], false, 1, 960, 1, 32), [320, 1]);
/// assert_eq!(conv_tile(&[1, 480, 1, 1], false, 1, 120, 1, 32), [480, 1]);
/// // A squeeze-and-excitation block's 960 -> 240 (920 KB): four blocks of 64 channels would
/// // be too little work each, two of 128 are not.
/// assert_eq!(conv_tile(&[1, 240, 1, 1], false, 1, 960, 1, 32), [128, 1]);
/// ```
pub fn conv_tile(
    out: &[u64],
    channels_last: bool,
    groups: u64,
    depth: u64,
    taps: u64,
    quantum: u64,
) -> [u64; 2] {
    let [n, co, oh, ow] = [out[0], out[1], out[2].max(1), out[3].max(1)];
    let cog = (co / groups.max(1)).max(1);
    let quantum = quantum.max(1);
    let mut tile_oh = equal_rows(oh, (512 / ow).clamp(1, oh));
    let mut tile_co = cog.next_multiple_of(quantum);
    let outer = n * groups;
    let macs = |tc: u64, th: u64| tc * depth * (th * ow).max(CONV_WEIGHT_READ_MACS);
    let count = |tc: u64, th: u64| outer * cog.div_ceil(tc) * oh.div_ceil(th);
    let splittable = |tile_co: u64, tile_oh: u64| {
        tile_oh > 1 && macs(tile_co, tile_oh.div_ceil(2)) >= CONV_MIN_WORKGROUP_MACS
    };
    if count(tile_co, tile_oh) < CONV_MIN_WORKGROUPS {
        let strips = cog.div_ceil(quantum);
        // Equal channel blocks: a divisor of the strips, each at least 32 channels.
        let blocks: Vec<u64> = (1..=strips)
            .filter(|k| strips.is_multiple_of(*k) && (strips / k) * quantum >= 32.min(cog))
            .collect();
        if channels_last {
            // A channels-last output's row tiles are whole rows of pixels: `k` channel
            // blocks by `r` row tiles, of the splits that make enough workgroups (an even
            // number preferred, then rows that divide evenly) the one that reads least:
            // each block reads every input pixel, each row tile every weight (counted in
            // input channels' worth of values).
            let first_rows = oh.div_ceil(tile_oh);
            let reads = |k: u64, r: u64| k * oh * ow + r * cog * taps;
            let candidates = blocks
                .iter()
                .flat_map(|&k| (first_rows..=oh).map(move |r| (k, r)));
            let best = candidates
                .filter_map(|(k, r)| {
                    let (tc, th) = ((strips / k) * quantum, equal_rows(oh, oh.div_ceil(r)));
                    let unsplit = k == 1 && r == first_rows;
                    let too_small = !unsplit && macs(tc, th) < CONV_MIN_WORKGROUP_MACS;
                    if oh.div_ceil(th) != r || too_small {
                        return None;
                    }
                    let w = count(tc, th);
                    let key = (
                        w.min(CONV_MIN_WORKGROUPS),
                        w.is_multiple_of(2),
                        oh.is_multiple_of(th),
                        core::cmp::Reverse(reads(k, r)),
                    );
                    Some((key, tc, th))
                })
                .max_by_key(|(key, ..)| *key);
            if let Some((_, tc, th)) = best {
                (tile_co, tile_oh) = (tc, th);
            }
        } else {
            // A planar output's row tiles cut every channel's plane into runs that two
            // threads write either end of: channel blocks first, then rows. Of the blocks
            // that keep a workgroup's work, the fewest that make an even number of
            // workgroups, enough of them where they can; with no even number, the fewest
            // that make the most (up to enough).
            let row_tiles = outer * oh.div_ceil(tile_oh);
            let chosen = blocks
                .iter()
                .map(|&k| (k, (strips / k) * quantum))
                .filter(|&(k, tc)| k == 1 || macs(tc, tile_oh) >= CONV_MIN_WORKGROUP_MACS)
                .max_by_key(|&(k, _)| {
                    let w = k * row_tiles;
                    let key = (w.is_multiple_of(2), w.min(CONV_MIN_WORKGROUPS));
                    (key, core::cmp::Reverse(k))
                });
            if let Some((_, tc)) = chosen {
                tile_co = tc;
            }
            while count(tile_co, tile_oh) < CONV_MIN_WORKGROUPS && splittable(tile_co, tile_oh) {
                tile_oh = equal_rows(oh, tile_oh.div_ceil(2));
            }
        }
    }
    // An odd number of equal workgroups leaves one thread of two idle for the last one: a
    // few take one row tile more where that makes their number even (seven of 56 rows
    // become eight of 7), or else half-height ones.
    let workgroups = count(tile_co, tile_oh);
    if workgroups % 2 == 1 && workgroups < CONV_BALANCED_WORKGROUPS {
        let one_more = equal_rows(oh, oh.div_ceil(oh.div_ceil(tile_oh) + 1));
        // The floor on a workgroup's work is halved here: the tiles shrink by one part in
        // `workgroups`, and an idle thread costs more than one more handoff.
        if workgroups > 1
            && count(tile_co, one_more).is_multiple_of(2)
            && macs(tile_co, one_more) >= CONV_MIN_WORKGROUP_MACS / 2
        {
            tile_oh = one_more;
        } else if workgroups <= CONV_MIN_WORKGROUPS + 1 && splittable(tile_co, tile_oh) {
            tile_oh = equal_rows(oh, tile_oh.div_ceil(2));
        }
    }
    [tile_co, tile_oh]
}

/// Output pixels a depthwise convolution's workgroup aims to cover: each costs only a few
/// multiply-adds, so a workgroup takes several channels' planes.
pub const DEPTHWISE_TILE_OUTPUTS: u64 = 8192;

/// A depthwise convolution's workgroup tile `[output channels, output rows]` for output
/// `[n, c, oh, ow]` (one channel per group) of a window with column stride `sx`: whole
/// planes, or as many rows as make [`DEPTHWISE_TILE_OUTPUTS`] (at least two row tiles of
/// equal height, where channels are not interleaved), of as many channels as make
/// about that many outputs, fewer while that leaves under [`CONV_MIN_WORKGROUPS`]
/// workgroups. Where the microkernel
/// [interleaves](kiln_ukernel::rows::interleaved::interleaves) channels, whole blocks of them
/// (however many outputs that makes), split below a block only to make enough workgroups.
///
/// ```
/// use kiln_vmvx::tile_config::depthwise_tile;
/// // MobileNetV2's 960 channels at 7x7: ten blocks of 16 channels (7840 outputs) in each of
/// // six workgroups; 32 channels at 112x112: 56 rows of one channel each.
/// assert_eq!(depthwise_tile(&[1, 960, 7, 7], 1), [160, 7]);
/// assert_eq!(depthwise_tile(&[1, 32, 112, 112], 1), [1, 56]);
/// // 144 channels at 56x56: half planes of five channels; at 28x28, blocks of 16
/// // (interleaved).
/// assert_eq!(depthwise_tile(&[1, 144, 56, 56], 1), [5, 28]);
/// assert_eq!(depthwise_tile(&[1, 144, 28, 28], 1), [16, 28]);
/// ```
pub fn depthwise_tile(out: &[u64], sx: u64) -> [u64; 2] {
    use kiln_ukernel::rows::interleaved::{interleaves, LANES};
    let [n, c, oh, ow] = [out[0], out[1].max(1), out[2].max(1), out[3].max(1)];
    let lanes = LANES as u64;
    let interleaved = interleaves(ow as usize, sx as usize);
    let mut tile_oh = (DEPTHWISE_TILE_OUTPUTS / ow).clamp(1, oh);
    if !interleaved {
        // Planes run row by row split into equal row tiles, at least a top and a bottom half:
        // `local-task`'s caller takes the first workgroups, the top rows of every channel,
        // as it takes the top rows of the pointwise convolutions around this one.
        tile_oh = equal_rows(oh, tile_oh.min(oh.div_ceil(2)));
    }
    let mut tile_c = (DEPTHWISE_TILE_OUTPUTS / (tile_oh * ow)).clamp(1, c);
    // Whole blocks of channels for the interleaved microkernel.
    let blocks = tile_oh == oh && c >= lanes && interleaved;
    if blocks {
        tile_c = (tile_c / lanes).max(1) * lanes;
    }
    let count = |tc: u64| n * c.div_ceil(tc) * oh.div_ceil(tile_oh);
    while tile_c > 1 && count(tile_c) < CONV_MIN_WORKGROUPS {
        tile_c = if blocks && tile_c > lanes {
            tile_c.div_ceil(2).next_multiple_of(lanes)
        } else {
            tile_c.div_ceil(2)
        };
    }
    [tile_c, tile_oh]
}

/// Values of the pointwise result a fused pointwise and depthwise workgroup keeps in scratch
/// at most (192 KiB of f32): with the input and output rows it streams, well inside L2.
pub const POINTWISE_DEPTHWISE_SCRATCH: u64 = 48 * 1024;

/// A fused pointwise and depthwise convolution's workgroup tile `[channels, output rows]` for
/// output `[n, c, oh, ow]` over input rows `wd` wide, its window reading `reach = [stride,
/// dilation·(kh-1)]` along rows, weights in strips of `strip` channels: rows enough that the
/// pointwise rows computed twice (where two row tiles read the same) are at most an eighth
/// more (at least 4), in tiles of equal height; whole strips of channels whose pointwise rows fit
/// [`POINTWISE_DEPTHWISE_SCRATCH`]; fewer of each while that leaves under
/// [`CONV_MIN_WORKGROUPS`] workgroups.
///
/// ```
/// use kiln_vmvx::tile_config::pointwise_depthwise_tile;
/// // 96 channels from 112x112 at stride 2: 4 output rows (9 input rows), 48 channels.
/// assert_eq!(pointwise_depthwise_tile(&[1, 96, 56, 56], 112, [2, 2], 8), [48, 4]);
/// // 144 channels at 56x56, stride 1: 14 rows (16 input rows), 48 channels.
/// assert_eq!(pointwise_depthwise_tile(&[1, 144, 56, 56], 56, [1, 2], 8), [48, 14]);
/// ```
pub fn pointwise_depthwise_tile(
    out: &[u64],
    wd: u64,
    [stride, span]: [u64; 2],
    strip: u64,
) -> [u64; 2] {
    let [n, c, oh] = [out[0], out[1].max(1), out[2].max(1)];
    let (stride, strip) = (stride.max(1), strip.max(1));
    // Rows a tile of `t` output rows reads: `(t-1)·stride + span + 1`, of which
    // `span + 1 - stride` (if positive) the next tile reads too.
    let rows_in = |t: u64| (t - 1) * stride + span + 1;
    let shared = (span + 1).saturating_sub(stride);
    let mut tile_oh = equal_rows(
        oh,
        (8 * shared).div_ceil(stride).clamp(4, oh.max(4)).min(oh),
    );
    let per_channel = |t: u64| rows_in(t) * wd.max(1);
    let channels = |t: u64| {
        let fit = (POINTWISE_DEPTHWISE_SCRATCH / per_channel(t)) / strip * strip;
        fit.clamp(strip, c.next_multiple_of(strip))
    };
    let mut tile_co = channels(tile_oh);
    let count = |tc: u64, t: u64| n * c.div_ceil(tc) * oh.div_ceil(t);
    while count(tile_co, tile_oh) < CONV_MIN_WORKGROUPS {
        if tile_co > strip {
            tile_co = (tile_co / 2).next_multiple_of(strip);
        } else if tile_oh > 1 {
            tile_oh = equal_rows(oh, tile_oh.div_ceil(2));
        } else {
            break;
        }
    }
    [tile_co, tile_oh]
}

/// A channels-last depthwise convolution's workgroup tile `[output channels, output rows]`
/// for output `[n, c, oh, ow]`: every channel (a pixel's channels lie together), rows for
/// about [`DEPTHWISE_TILE_OUTPUTS`] outputs, fewer while that leaves under
/// [`CONV_MIN_WORKGROUPS`] workgroups.
///
/// ```
/// use kiln_vmvx::tile_config::depthwise_channels_last_tile;
/// // 144 channels at 56x56: one row (8064 outputs) per workgroup; 960 at 7x7: one row.
/// assert_eq!(depthwise_channels_last_tile(&[1, 144, 56, 56]), [144, 1]);
/// assert_eq!(depthwise_channels_last_tile(&[1, 960, 7, 7]), [960, 1]);
/// ```
pub fn depthwise_channels_last_tile(out: &[u64]) -> [u64; 2] {
    let [n, c, oh, ow] = [out[0], out[1].max(1), out[2].max(1), out[3].max(1)];
    let mut tile_oh = (DEPTHWISE_TILE_OUTPUTS / (c * ow)).clamp(1, oh);
    while tile_oh > 1 && n * oh.div_ceil(tile_oh) < CONV_MIN_WORKGROUPS {
        tile_oh = tile_oh.div_ceil(2);
    }
    [c, tile_oh]
}

/// Tile sizes for a generic kernel's parallel dims (then the reduction dims, whole) so each
/// workgroup covers about `target` points.
pub fn generic_tile(parallel: &[u64], target: u64, reduction: &[u64]) -> Vec<u64> {
    // An empty dim (a size known only at run time can be 0) still gets a tile of 1.
    let mut tile: Vec<u64> = parallel.iter().map(|&d| d.max(1)).collect();
    let mut inner: u64 = 1;
    for d in (0..tile.len()).rev() {
        if inner.saturating_mul(tile[d]) > target {
            tile[d] = (target / inner).max(1);
            for t in tile.iter_mut().take(d) {
                *t = 1;
            }
            break;
        }
        inner *= tile[d];
    }
    // Reduction dims are not tiled; a tile of at least 1 keeps empty ones well-formed.
    tile.extend(reduction.iter().map(|&d| d.max(1)));
    tile
}

/// The workgroup tile of a generic kernel over `shape` whose last `reduction_dims` dims are
/// reduced: about [`GENERIC_TILE_ELEMENTS`] points per workgroup, reductions whole.
pub fn generic_kernel_tile(shape: &[u64], reduction_dims: usize) -> Vec<u64> {
    let p = shape.len() - reduction_dims;
    let points: u64 = shape[p..].iter().product();
    generic_tile(
        &shape[..p],
        (GENERIC_TILE_ELEMENTS / points.max(1)).max(1),
        &shape[p..],
    )
}
