//! Each kernel op as a compute shader: the GPU backends' shared kernels
//! ([`kiln_codegen_gpu::emit()`]) over SPIR-V instructions, which this module supplies by
//! implementing [`GpuBuilder`] for [`Shader`].
//!
//! Sizes are i32 values of the shader: constants for a kernel whose sizes are known when
//! compiling, or computed at entry from the symbols' push constants; the shader's index
//! arithmetic folds constants, so a static kernel's code has its sizes inline.

use crate::body;
use crate::shader::{glsl, Dialect, IfScope, LoopScope, Shader, Val, Var, R};
use crate::VulkanTarget;
use kiln_codegen_gpu::emit::{binding_types, Arith, Cmp, Kind};
use kiln_codegen_gpu::{Config, GpuBuilder, GpuSizes};
use kiln_kernel::{Body, Op as KernelOp, RegKind};
use kiln_spirv::ErrorCode;
use kiln_types::sym::SymExpr;
use kiln_types::ElementType;
use rspirv::spirv::{Op, Word};

/// What lowering a kernel produced.
pub struct Lowered {
    pub code: Vec<u32>,
    pub workgroup_size: u32,
    pub shader: ShaderInfo,
}

/// Facts about the shader the executable records.
pub struct ShaderInfo {
    pub features: kiln_spirv::Features,
    pub shared_memory: u32,
}

/// Writes `kernel`'s shader for its GPU lowering `config`; the values of `symbols` (the
/// symbols its sizes read) come from the parameter block where `dialect` places it.
pub fn lower<Z: GpuSizes>(
    kernel: &KernelOp<Z>,
    target: &VulkanTarget,
    config: &Config<Z::Extent>,
    symbols: &[String],
    dialect: Dialect,
) -> R<Lowered> {
    let types = binding_types(kernel)?;
    let reports_errors = matches!(kernel, KernelOp::Gather { .. });
    let size = config.workgroup_size;
    let s = Shader::new(&types, reports_errors, size, symbols, dialect)?;
    let mut s = kiln_codegen_gpu::emit(s, kernel, config)?;
    let code = s.finish()?;
    let shader = ShaderInfo {
        features: s.features,
        shared_memory: s.shared_bytes,
    };
    if shader.shared_memory > target.max_shared_memory {
        return Err(format!(
            "needs {} bytes of shared memory; target '{}' has {}",
            shader.shared_memory, target.name, target.max_shared_memory
        ));
    }
    Ok(Lowered {
        code,
        workgroup_size: size,
        shader,
    })
}

impl Shader {
    fn type_of(&self, kind: Kind) -> Word {
        match kind {
            Kind::Index => self.i32_,
            Kind::Bool => self.bool_,
            Kind::F32 => self.f32_,
            Kind::I64 => self.i64_,
        }
    }
}

/// The shared GPU kernels' instructions in SPIR-V.
impl GpuBuilder for Shader {
    type Var = Var;
    type Shared = (Word, Word, Word);
    type IfScope = IfScope;
    type LoopScope = LoopScope;

    fn known(&self, v: Word) -> Option<i64> {
        Shader::known(self, v).map(i64::from)
    }
    fn const_index(&mut self, v: i32) -> Word {
        self.const_i32(v)
    }
    fn size(&mut self, n: &SymExpr) -> R<Word> {
        n.eval_in(self)
    }
    fn sub(&mut self, a: Word, b: Word) -> Word {
        match (Shader::known(self, a), Shader::known(self, b)) {
            (Some(x), Some(y)) => self.const_i32(x.wrapping_sub(y)),
            (_, Some(0)) => a,
            _ => self.op(Op::ISub, self.i32_, &[a, b]),
        }
    }
    fn compare(&mut self, kind: Kind, c: Cmp, a: Word, b: Word) -> Word {
        let op = match (kind, c) {
            (Kind::F32, Cmp::Lt) => Op::FOrdLessThan,
            (Kind::F32, Cmp::Gt) => Op::FOrdGreaterThan,
            (Kind::F32, Cmp::Ge) => Op::FOrdGreaterThanEqual,
            (Kind::F32, Cmp::Eq) => Op::FOrdEqual,
            (_, Cmp::Lt) => Op::SLessThan,
            (_, Cmp::Gt) => Op::SGreaterThan,
            (_, Cmp::Ge) => Op::SGreaterThanEqual,
            (_, Cmp::Eq) => Op::IEqual,
            (_, Cmp::ULt) => Op::ULessThan,
        };
        self.op(op, self.bool_, &[a, b])
    }
    fn and(&mut self, a: Word, b: Word) -> Word {
        Shader::and(self, a, b)
    }
    fn not(&mut self, a: Word) -> Word {
        self.op(Op::LogicalNot, self.bool_, &[a])
    }
    fn select(&mut self, kind: Kind, c: Word, a: Word, b: Word) -> Word {
        let ty = self.type_of(kind);
        Shader::select(self, ty, c, a, b)
    }
    fn const_f32(&mut self, v: f32) -> Word {
        Shader::const_f32(self, v)
    }
    fn const_i64(&mut self, v: i64) -> Word {
        Shader::const_i64(self, v)
    }
    fn arith(&mut self, op: Arith, kind: RegKind, a: Word, b: Word) -> Word {
        let (f, i) = (self.f32_, self.i64_);
        match (kind, op) {
            (RegKind::F, Arith::Add) => self.fadd(a, b),
            (RegKind::F, Arith::Sub) => self.fsub(a, b),
            (RegKind::F, Arith::Mul) => self.fmul(a, b),
            (RegKind::F, Arith::Div) => self.fdiv(a, b),
            (RegKind::F, Arith::Max) => self.ext(f, glsl::NMAX, &[a, b]),
            (RegKind::F, Arith::Min) => self.ext(f, glsl::NMIN, &[a, b]),
            (RegKind::I, Arith::Add) => self.op(Op::IAdd, i, &[a, b]),
            (RegKind::I, Arith::Sub) => self.op(Op::ISub, i, &[a, b]),
            (RegKind::I, Arith::Mul) => self.op(Op::IMul, i, &[a, b]),
            (RegKind::I, Arith::Div) => self.op(Op::SDiv, i, &[a, b]),
            (RegKind::I, Arith::Max) => {
                let gt = self.op(Op::SGreaterThan, self.bool_, &[a, b]);
                Shader::select(self, i, gt, a, b)
            }
            (RegKind::I, Arith::Min) => {
                let lt = self.op(Op::SLessThan, self.bool_, &[a, b]);
                Shader::select(self, i, lt, a, b)
            }
        }
    }
    fn sqrt(&mut self, a: Word) -> Word {
        self.ext(self.f32_, glsl::SQRT, &[a])
    }
    fn exp(&mut self, a: Word) -> Word {
        self.ext(self.f32_, glsl::EXP, &[a])
    }
    fn convert(&mut self, from: Kind, to: Kind, a: Word) -> Word {
        match (from, to) {
            (Kind::Index, Kind::F32) => self.to_f32(a),
            (Kind::Index, Kind::I64) => self.widen(a),
            (Kind::I64, Kind::Index) => self.op(Op::SConvert, self.i32_, &[a]),
            (Kind::F32, Kind::I64) => self.op(Op::ConvertFToS, self.i64_, &[a]),
            (Kind::I64, Kind::F32) => self.op(Op::ConvertSToF, self.f32_, &[a]),
            (Kind::F32, Kind::Index) => self.op(Op::ConvertFToS, self.i32_, &[a]),
            _ => a,
        }
    }
    fn var(&mut self, kind: Kind) -> Var {
        let ty = self.type_of(kind);
        Shader::var(self, ty)
    }
    fn get(&mut self, v: Var) -> Word {
        Shader::get(self, v)
    }
    fn set(&mut self, v: Var, value: Word) {
        Shader::set(self, v, value)
    }
    fn begin_if(&mut self, cond: Word) -> R<IfScope> {
        Shader::begin_if(self, cond)
    }
    fn end_if(&mut self, scope: IfScope) -> R<()> {
        Shader::end_if(self, scope)
    }
    fn begin_loop(&mut self, start: Word, end: Word, step: Word) -> R<(LoopScope, Word)> {
        Shader::begin_loop(self, start, end, step)
    }
    fn end_loop(&mut self, scope: LoopScope) -> R<()> {
        Shader::end_loop(self, scope)
    }
    fn shared_array(&mut self, kind: RegKind, n: u32) -> (Word, Word, Word) {
        let (ty, bytes) = match kind {
            RegKind::F => (self.f32_, 4),
            RegKind::I => (self.i64_, 8),
        };
        let (var, elem) = Shader::shared_array(self, ty, bytes, n);
        (var, elem, ty)
    }
    fn shared_load(&mut self, (var, elem, ty): (Word, Word, Word), index: Word) -> Word {
        Shader::shared_load(self, (var, elem), ty, index)
    }
    fn shared_store(&mut self, (var, elem, _): (Word, Word, Word), index: Word, value: Word) {
        Shader::shared_store(self, (var, elem), index, value)
    }
    fn barrier(&mut self) {
        Shader::barrier(self)
    }
    fn binding_base(&mut self, b: u32) -> Word {
        Shader::binding_base(self, b)
    }
    fn load(&mut self, binding: u32, index: Word) -> R<Val> {
        Shader::load(self, binding, index)
    }
    fn store(&mut self, binding: u32, index: Word, value: Val) -> R<()> {
        Shader::store(self, binding, index, value)
    }
    fn copy_element(&mut self, from: u32, from_index: Word, to: u32, to_index: Word) -> R<()> {
        Shader::copy_element(self, from, from_index, to, to_index)
    }
    fn report_index_out_of_range(&mut self) -> R<()> {
        self.report_error(ErrorCode::GatherIndexOutOfRange as u32)
    }
    fn eval_body(
        &mut self,
        b: &Body,
        coords: &[Word],
        input: &mut dyn FnMut(&mut Shader, u32) -> R<Val>,
    ) -> R<Vec<Val>> {
        body::eval(self, b, coords, input)
    }
    fn cast(&mut self, v: Val, t: ElementType) -> Val {
        body::cast(self, v, t)
    }
}
