//! Row and window kernels: softmax and layer normalisation over a contiguous row, 2-D pooling and
//! depthwise convolution over one channel plane. Accumulation is in f32 with max-subtraction
//! for softmax and two-pass variance for layer normalisation, for accuracy.

/// Softmax of one contiguous row, in place.
pub fn softmax_in_place(row: &mut [f32]) {
    let max = row.iter().copied().fold(f32::NEG_INFINITY, f32::max);
    let mut sum = 0.0f32;
    for v in row.iter_mut() {
        *v = (*v - max).exp();
        sum += *v;
    }
    let inv = 1.0 / sum;
    row.iter_mut().for_each(|v| *v *= inv);
}

/// Normalises one contiguous row to zero mean and unit variance, in place.
pub fn layer_norm_in_place(row: &mut [f32], epsilon: f32) {
    let n = row.len() as f32;
    let mean = row.iter().sum::<f32>() / n;
    let var = row.iter().map(|v| (v - mean) * (v - mean)).sum::<f32>() / n;
    let inv = 1.0 / (var + epsilon).sqrt();
    row.iter_mut().for_each(|v| *v = (*v - mean) * inv);
}

/// A 2-D sliding window over one `h×w` plane.
#[derive(Clone, Copy, Debug)]
pub struct Window {
    pub kernel: [usize; 2],
    pub strides: [usize; 2],
    /// Top and left padding (bottom/right padding only shows in the output size).
    pub pads: [usize; 2],
    pub dilations: [usize; 2],
}

impl Window {
    /// Input coordinate of output `o`, tap `k` along dim `d`, if inside `0..len`.
    #[inline(always)]
    fn input(&self, d: usize, o: usize, k: usize, len: usize) -> Option<usize> {
        let i = (o * self.strides[d] + k * self.dilations[d]).checked_sub(self.pads[d])?;
        (i < len).then_some(i)
    }
}

/// Max or average pooling of output rows `oy0..oy1` of one plane into `out` (`(oy1-oy0)×ow`).
#[allow(clippy::too_many_arguments)]
pub fn pool_plane(
    x: &[f32],
    h: usize,
    w: usize,
    win: &Window,
    max: bool,
    count_include_pad: bool,
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    let full = (win.kernel[0] * win.kernel[1]) as f32;
    for oy in oy0..oy1 {
        for ox in 0..ow {
            let (mut acc, mut count) = (if max { f32::NEG_INFINITY } else { 0.0 }, 0usize);
            for ky in 0..win.kernel[0] {
                let Some(iy) = win.input(0, oy, ky, h) else {
                    continue;
                };
                for kx in 0..win.kernel[1] {
                    let Some(ix) = win.input(1, ox, kx, w) else {
                        continue;
                    };
                    let v = x[iy * w + ix];
                    acc = if max { acc.max(v) } else { acc + v };
                    count += 1;
                }
            }
            out[(oy - oy0) * ow + ox] = if max {
                acc
            } else if count_include_pad {
                acc / full
            } else {
                acc / count.max(1) as f32
            };
        }
    }
}

/// Depthwise convolution of one plane with one `kh×kw` filter, output rows `oy0..oy1`.
#[allow(clippy::too_many_arguments)]
pub fn depthwise_plane(
    x: &[f32],
    h: usize,
    w: usize,
    filter: &[f32],
    win: &Window,
    oy0: usize,
    oy1: usize,
    ow: usize,
    out: &mut [f32],
) {
    let kw = win.kernel[1];
    for oy in oy0..oy1 {
        let dst = &mut out[(oy - oy0) * ow..(oy - oy0 + 1) * ow];
        dst.fill(0.0);
        for ky in 0..win.kernel[0] {
            let Some(iy) = win.input(0, oy, ky, h) else {
                continue;
            };
            let src = &x[iy * w..(iy + 1) * w];
            for kx in 0..kw {
                let f = filter[ky * kw + kx];
                for (ox, d) in dst.iter_mut().enumerate() {
                    if let Some(ix) = win.input(1, ox, kx, w) {
                        *d += f * src[ix];
                    }
                }
            }
        }
    }
}
