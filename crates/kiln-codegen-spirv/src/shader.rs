//! A small layer over `rspirv`'s builder for writing compute shaders: cached types and
//! constants, the binding and parameter-block layout of `kiln-spirv`'s calling convention, typed
//! loads and stores with element-type conversion, and structured loops and branches.
//!
//! Values are SPIR-V ids. Floats are computed as `f32`, integers as `i64` (the VMVX register
//! kinds), indices as `i32`. Mutable state (loop counters, accumulators) lives in
//! function-scope variables, so control flow never needs phi nodes.

use kiln_kernel::{reg_kind, RegKind};
use kiln_spirv::Features;
use kiln_types::ElementType;
use rspirv::binary::Assemble;
use rspirv::dr::{Builder, InsertPoint, Instruction, Operand};
use rspirv::spirv::{
    AddressingModel, BuiltIn, Capability, Decoration, ExecutionMode, ExecutionModel,
    FunctionControl, LoopControl, MemoryModel, MemorySemantics, Op, Scope, SelectionControl,
    StorageClass, Word,
};
use std::collections::HashMap;

pub type R<T> = Result<T, String>;

fn err(e: rspirv::dr::Error) -> String {
    format!("SPIR-V builder: {e:?}")
}

/// GLSL.std.450 instruction numbers used here.
pub mod glsl {
    pub const ROUND_EVEN: u32 = 2;
    pub const FABS: u32 = 4;
    pub const FSIGN: u32 = 6;
    pub const FLOOR: u32 = 8;
    pub const CEIL: u32 = 9;
    pub const SIN: u32 = 13;
    pub const COS: u32 = 14;
    pub const TANH: u32 = 21;
    pub const EXP: u32 = 27;
    pub const LOG: u32 = 28;
    pub const EXP2: u32 = 29;
    pub const LOG2: u32 = 30;
    pub const SQRT: u32 = 31;
    pub const FMIN: u32 = 37;
    pub const FMAX: u32 = 40;
    pub const FCLAMP: u32 = 43;
    pub const NMIN: u32 = 79;
    pub const NMAX: u32 = 80;
    pub const SCLAMP: u32 = 45;
    pub const LDEXP: u32 = 53;
    pub const PACK_HALF_2X16: u32 = 58;
    pub const UNPACK_HALF_2X16: u32 = 62;
    pub const FIND_UMSB: u32 = 75;
}

/// The API a shader is written for, and so how it works around what that API (or naga, which
/// translates it) lacks.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Dialect {
    /// Vulkan: the parameter block (one `u32` element bias per binding, then one `i32` per
    /// symbol) in push constants; 8- and 16-bit elements in storage as they are.
    Vulkan,
    /// WebGPU: no push constants, so the parameter block is a uniform buffer at set 0, the
    /// binding after the storage buffers, its words four to a `uvec4` (uniform arrays have a
    /// 16-byte stride); no 8- or 16-bit storage, so narrow elements are packed; no f64, so
    /// f64 elements are pairs of words.
    WebGpu,
    /// Metal through naga: push constants (naga gives them a buffer), narrow elements packed
    /// (naga's SPIR-V reader lacks 8- and 16-bit storage), f64 elements as pairs of words.
    Metal,
}

impl Dialect {
    /// Whether 8- and 16-bit elements live packed in 32-bit words: loaded by shifting and
    /// masking a word, stored by two atomic operations on it (clear the element's bits, set
    /// them), so neighbours written by other invocations are never lost.
    pub fn packs_narrow(self) -> bool {
        self != Dialect::Vulkan
    }

    /// Whether shaders may declare 64-bit floats; where not, an f64 element is a pair of
    /// 32-bit words converted to and from f32 by integer arithmetic.
    pub fn has_f64(self) -> bool {
        self == Dialect::Vulkan
    }
}

/// A register value: its kind and id.
pub type Val = kiln_codegen_gpu::emit::Val<Word>;

/// An open `if` (see [`Shader::begin_if`]).
pub struct IfScope {
    merge: Word,
}

/// An open loop (see [`Shader::begin_loop`]).
pub struct LoopScope {
    i: Var,
    step: Word,
    header: Word,
    cont: Word,
    merge: Word,
}

/// The id of a function-scope variable and the type it holds.
#[derive(Clone, Copy)]
pub struct Var {
    pub id: Word,
    pub ty: Word,
}

pub struct Shader {
    pub b: Builder,
    glsl: Word,
    pub void: Word,
    pub bool_: Word,
    pub f32_: Word,
    pub i32_: Word,
    pub u32_: Word,
    pub i64_: Word,
    uvec3: Word,
    consts: HashMap<(Word, u64), Word>,
    /// Infinities and NaNs by their bits: integer constants reinterpreted at entry.
    non_finite: HashMap<u32, Word>,
    /// The value of each i32 constant, so index arithmetic on constants folds.
    i32_values: HashMap<Word, i32>,
    /// The value of each i64 constant, so packing a constant folds here (naga's WGSL reader
    /// cannot evaluate an i64 literal's conversion to u32).
    i64_values: HashMap<Word, i64>,
    /// The values of the kernel's symbols, loaded from the parameter block at entry.
    symbols: HashMap<String, Word>,
    /// Per binding: (variable, pointer-to-element type, element type).
    bindings: Vec<(Word, Word, ElementType)>,
    status: Option<(Word, Word)>,
    dialect: Dialect,
    /// The parameter block's variable and the pointer type of one of its words.
    params: (Word, Word),
    builtins: Vec<Word>,
    workgroup_id: Word,
    local_id: Word,
    num_workgroups: Word,
    pub features: Features,
    pub shared_bytes: u32,
    storage_types: HashMap<ElementType, Word>,
    function_index: usize,
    pub workgroup_size: u32,
}

impl Shader {
    /// Starts a shader whose binding `i` holds `bindings[i]` elements; `status` adds the error
    /// word binding; the values of `symbols` follow the bindings' biases in the parameter
    /// block, which `dialect` places.
    pub fn new(
        bindings: &[ElementType],
        status: bool,
        workgroup_size: u32,
        symbols: &[String],
        dialect: Dialect,
    ) -> R<Shader> {
        let mut b = Builder::new();
        b.set_version(1, 3);
        b.capability(Capability::Shader);
        let glsl = b.ext_inst_import("GLSL.std.450");
        b.memory_model(AddressingModel::Logical, MemoryModel::GLSL450);
        let void = b.type_void();
        let bool_ = b.type_bool();
        let f32_ = b.type_float(32, None);
        let i32_ = b.type_int(32, 1);
        let u32_ = b.type_int(32, 0);
        let uvec3 = b.type_vector(u32_, 3);
        let ptr_in_uvec3 = b.type_pointer(None, StorageClass::Input, uvec3);
        let builtin = |b: &mut Builder, which: BuiltIn| {
            let v = b.variable(ptr_in_uvec3, None, StorageClass::Input, None);
            b.decorate(v, Decoration::BuiltIn, [Operand::BuiltIn(which)]);
            v
        };
        let workgroup_id = builtin(&mut b, BuiltIn::WorkgroupId);
        let local_id = builtin(&mut b, BuiltIn::LocalInvocationId);
        let num_workgroups = builtin(&mut b, BuiltIn::NumWorkgroups);
        let mut s = Shader {
            b,
            glsl,
            void,
            bool_,
            f32_,
            i32_,
            u32_,
            i64_: 0,
            uvec3,
            consts: HashMap::new(),
            non_finite: HashMap::new(),
            i32_values: HashMap::new(),
            i64_values: HashMap::new(),
            symbols: HashMap::new(),
            bindings: vec![],
            status: None,
            dialect,
            params: (0, 0),
            builtins: vec![workgroup_id, local_id, num_workgroups],
            workgroup_id,
            local_id,
            num_workgroups,
            features: Features::default(),
            shared_bytes: 0,
            storage_types: HashMap::new(),
            function_index: 0,
            workgroup_size,
        };
        s.i64_ = s.b.type_int(64, 1);
        s.features.int64 = true;
        s.b.capability(Capability::Int64);
        for (i, &t) in bindings.iter().enumerate() {
            let (var, ptr) = s.storage_buffer(t, i as u32)?;
            s.bindings.push((var, ptr, t));
        }
        if status {
            let (var, ptr) = s.storage_buffer_raw(s.u32_, 4, bindings.len() as u32);
            s.status = Some((var, ptr));
        }
        // The parameter block: one u32 element bias per binding, then one i32 per symbol (at
        // least one word).
        let words = (bindings.len() + symbols.len()).max(1) as u32;
        let (class, word, stride, len) = match dialect {
            Dialect::Vulkan | Dialect::Metal => (StorageClass::PushConstant, s.u32_, 4, words),
            // Arrays in uniform buffers have a 16-byte stride: words go four to a vector.
            Dialect::WebGpu => {
                let uvec4 = s.b.type_vector(s.u32_, 4);
                (StorageClass::Uniform, uvec4, 16, words.div_ceil(4))
            }
        };
        let n = s.const_u32(len);
        let arr = s.b.type_array(word, n);
        s.b.decorate(
            arr,
            Decoration::ArrayStride,
            [Operand::LiteralBit32(stride)],
        );
        let st = s.b.type_struct([arr]);
        s.b.decorate(st, Decoration::Block, []);
        s.b.member_decorate(st, 0, Decoration::Offset, [Operand::LiteralBit32(0)]);
        let ptr = s.b.type_pointer(None, class, st);
        let var = s.b.variable(ptr, None, class, None);
        if dialect == Dialect::WebGpu {
            let binding = (bindings.len() + status as usize) as u32;
            s.b.decorate(var, Decoration::DescriptorSet, [Operand::LiteralBit32(0)]);
            s.b.decorate(var, Decoration::Binding, [Operand::LiteralBit32(binding)]);
        }
        s.params = (var, s.b.type_pointer(None, class, s.u32_));
        // The entry function.
        let fty = s.b.type_function(void, []);
        let main =
            s.b.begin_function(void, None, FunctionControl::NONE, fty)
                .map_err(err)?;
        s.function_index = s.b.selected_function().unwrap_or(0);
        s.b.begin_block(None).map_err(err)?;
        s.b.entry_point(ExecutionModel::GLCompute, main, "main", s.builtins.clone());
        s.b.execution_mode(main, ExecutionMode::LocalSize, [workgroup_size, 1, 1]);
        for (i, name) in symbols.iter().enumerate() {
            let v = s.param_word(bindings.len() + i);
            s.symbols.insert(name.clone(), v);
        }
        Ok(s)
    }

    /// The width of `t`'s elements when this dialect packs them into words.
    fn packed_bits(&self, t: ElementType) -> Option<u32> {
        let bits = 8 * t.byte_size() as u32;
        (self.dialect.packs_narrow() && bits < 32).then_some(bits)
    }

    /// Whether `t`'s elements are pairs of 32-bit words (f64 where the dialect has no 64-bit
    /// floats: the low word, then the high one).
    fn word_pairs(&self, t: ElementType) -> bool {
        !self.dialect.has_f64() && t == ElementType::F64
    }

    fn storage_type(&mut self, t: ElementType) -> (Word, u32) {
        if self.packed_bits(t).is_some() || self.word_pairs(t) {
            return (self.u32_, 4);
        }
        let size = t.byte_size() as u32;
        if let Some(&ty) = self.storage_types.get(&t) {
            return (ty, size);
        }
        let ty = match t {
            ElementType::F32 => self.f32_,
            ElementType::I32 => self.i32_,
            // u64 is stored as i64 bits (it computes in the i64 registers).
            ElementType::I64 | ElementType::U64 => self.i64_,
            ElementType::F16 => {
                self.need16();
                self.b.type_float(16, None)
            }
            ElementType::BF16 => {
                self.need16();
                self.b.type_int(16, 0)
            }
            ElementType::U32 => self.u32_,
            ElementType::F64 => {
                if !self.features.float64 {
                    self.features.float64 = true;
                    self.b.capability(Capability::Float64);
                }
                self.b.type_float(64, None)
            }
            ElementType::I1 => {
                self.need8();
                self.b.type_int(8, 0)
            }
            // 8- and 16-bit integers, in storage buffers only; sub-byte integers and narrow
            // floats' bits take a byte each.
            narrow => {
                let (bits, signed) = narrow.int_width().expect("every other type is an integer");
                let (bits, signed) = if bits < 8 { (8, false) } else { (bits, signed) };
                if bits == 8 {
                    self.need8();
                } else {
                    self.need16();
                }
                self.b.type_int(bits, u32::from(signed))
            }
        };
        self.storage_types.insert(t, ty);
        (ty, size)
    }

    fn need16(&mut self) {
        if !self.features.storage16 {
            self.features.storage16 = true;
            self.b.capability(Capability::StorageBuffer16BitAccess);
            self.b.extension("SPV_KHR_16bit_storage");
        }
    }

    fn need8(&mut self) {
        if !self.features.storage8 {
            self.features.storage8 = true;
            self.b.capability(Capability::StorageBuffer8BitAccess);
            self.b.extension("SPV_KHR_8bit_storage");
        }
    }

    fn storage_buffer(&mut self, t: ElementType, binding: u32) -> R<(Word, Word)> {
        let (ty, size) = self.storage_type(t);
        Ok(self.storage_buffer_raw(ty, size, binding))
    }

    /// A `StorageBuffer` variable `{ ty data[]; }` at set 0, `binding`.
    fn storage_buffer_raw(&mut self, ty: Word, size: u32, binding: u32) -> (Word, Word) {
        // Each binding gets its own array and struct types, so decorations never repeat.
        let arr_id = self.b.id();
        let arr = self.b.type_runtime_array_id(Some(arr_id), ty);
        self.b
            .decorate(arr, Decoration::ArrayStride, [Operand::LiteralBit32(size)]);
        let st_id = self.b.id();
        let st = self.b.type_struct_id(Some(st_id), [arr]);
        self.b.decorate(st, Decoration::Block, []);
        self.b
            .member_decorate(st, 0, Decoration::Offset, [Operand::LiteralBit32(0)]);
        let ptr_st = self.b.type_pointer(None, StorageClass::StorageBuffer, st);
        let var = self
            .b
            .variable(ptr_st, None, StorageClass::StorageBuffer, None);
        self.b
            .decorate(var, Decoration::DescriptorSet, [Operand::LiteralBit32(0)]);
        self.b
            .decorate(var, Decoration::Binding, [Operand::LiteralBit32(binding)]);
        let ptr = self.b.type_pointer(None, StorageClass::StorageBuffer, ty);
        (var, ptr)
    }

    /// Finishes the function and returns the SPIR-V words. A shader that never computes
    /// with 64-bit integers loses their type and capability, so it runs on devices (and
    /// WebGPU) without them.
    pub fn finish(&mut self) -> R<Vec<u32>> {
        self.b.ret().map_err(err)?;
        self.b.end_function().map_err(err)?;
        let i64_ = self.i64_;
        let module = self.b.module_mut();
        let uses_i64 = |inst: &Instruction| {
            inst.result_id != Some(i64_)
                && (inst.result_type == Some(i64_) || inst.operands.contains(&Operand::IdRef(i64_)))
        };
        let used = module.types_global_values.iter().any(uses_i64)
            || module
                .functions
                .iter()
                .any(|f| f.all_inst_iter().any(uses_i64));
        if !used {
            module
                .types_global_values
                .retain(|inst| inst.result_id != Some(i64_));
            module.capabilities.retain(|inst| {
                inst.operands.first() != Some(&Operand::Capability(Capability::Int64))
            });
            self.features.int64 = false;
        }
        // `module()` sets the header's id bound.
        Ok(std::mem::replace(&mut self.b, Builder::new())
            .module()
            .assemble())
    }

    // ----- constants -----

    fn constant(&mut self, ty: Word, bits: u64, wide: bool) -> Word {
        if let Some(&c) = self.consts.get(&(ty, bits)) {
            return c;
        }
        let c = if wide {
            self.b.constant_bit64(ty, bits)
        } else {
            self.b.constant_bit32(ty, bits as u32)
        };
        self.consts.insert((ty, bits), c);
        c
    }
    pub fn const_i32(&mut self, v: i32) -> Word {
        let c = self.constant(self.i32_, v as u32 as u64, false);
        self.i32_values.insert(c, v);
        c
    }
    /// The value of `id` when it is an i32 constant.
    pub fn known(&self, id: Word) -> Option<i32> {
        self.i32_values.get(&id).copied()
    }
    pub fn const_u32(&mut self, v: u32) -> Word {
        self.constant(self.u32_, v as u64, false)
    }
    /// An f32 value. Infinities and NaNs are their bits as an integer constant reinterpreted
    /// once in the entry block: WGSL and MSL (and naga, which translates SPIR-V to them)
    /// accept only finite float constants.
    pub fn const_f32(&mut self, v: f32) -> Word {
        if v.is_finite() {
            return self.constant(self.f32_, v.to_bits() as u64, false);
        }
        if let Some(&id) = self.non_finite.get(&v.to_bits()) {
            return id;
        }
        let bits = self.const_u32(v.to_bits());
        let id = self.b.id();
        let cast = Instruction::new(
            Op::Bitcast,
            Some(self.f32_),
            Some(id),
            vec![Operand::IdRef(bits)],
        );
        // After the entry block's variables, which SPIR-V wants first (later ones go before).
        let entry = &mut self.b.module_mut().functions[self.function_index].blocks[0];
        let at = entry
            .instructions
            .iter()
            .take_while(|i| i.class.opcode == Op::Variable)
            .count();
        entry.instructions.insert(at, cast);
        self.non_finite.insert(v.to_bits(), id);
        id
    }
    pub fn const_i64(&mut self, v: i64) -> Word {
        let c = self.constant(self.i64_, v as u64, true);
        self.i64_values.insert(c, v);
        c
    }
    /// A constant of register kind `k`.
    pub fn const_kind(&mut self, k: RegKind, f: f32, i: i64) -> Val {
        match k {
            RegKind::F => Val {
                kind: k,
                id: self.const_f32(f),
            },
            RegKind::I => Val {
                kind: k,
                id: self.const_i64(i),
            },
        }
    }

    // ----- plain instructions -----

    /// Appends `op` with id operands and returns its result.
    /// Instruction `op` of result type `ty`. Two forms are rewritten for WGSL's sake (naga
    /// writes what SPIR-V allows and WGSL does not): a 64-bit shift takes its amount (an i64
    /// register below 64) as u32, and a conversion of an i64 constant to i32 or u32 is
    /// folded here.
    pub fn op(&mut self, op: Op, ty: Word, args: &[Word]) -> Word {
        let constant = args.first().and_then(|a| self.i64_values.get(a)).copied();
        match (op, constant) {
            (Op::SConvert | Op::UConvert, Some(c)) if ty == self.i32_ => {
                return self.const_i32(c as i32)
            }
            (Op::SConvert | Op::UConvert, Some(c)) if ty == self.u32_ => {
                return self.const_u32(c as u32)
            }
            _ => {}
        }
        let shifts = [
            Op::ShiftLeftLogical,
            Op::ShiftRightLogical,
            Op::ShiftRightArithmetic,
        ];
        let mut args = args.to_vec();
        if shifts.contains(&op) && ty == self.i64_ {
            args[1] = match self.i64_values.get(&args[1]).copied() {
                Some(c) => self.const_u32(c as u32),
                None => self.op(Op::UConvert, self.u32_, &[args[1]]),
            };
        }
        let id = self.b.id();
        let inst = Instruction::new(
            op,
            Some(ty),
            Some(id),
            args.iter().map(|&a| Operand::IdRef(a)).collect(),
        );
        // A block is always selected while a function body is being written.
        let _ = self.b.insert_into_block(InsertPoint::End, inst);
        id
    }
    pub fn ext(&mut self, ty: Word, inst: u32, args: &[Word]) -> Word {
        self.b
            .ext_inst(
                ty,
                None,
                self.glsl,
                inst,
                args.iter().map(|&a| Operand::IdRef(a)),
            )
            .unwrap_or(0)
    }
    /// `a + b` on i32 indices (folded when both are constants, skipped when one is zero).
    pub fn iadd(&mut self, a: Word, b: Word) -> Word {
        match (self.known(a), self.known(b)) {
            (Some(x), Some(y)) => self.const_i32(x.wrapping_add(y)),
            (Some(0), _) => b,
            (_, Some(0)) => a,
            _ => self.op(Op::IAdd, self.i32_, &[a, b]),
        }
    }
    /// `a · b` on i32 indices (folded, skipped when one is one).
    pub fn imul(&mut self, a: Word, b: Word) -> Word {
        match (self.known(a), self.known(b)) {
            (Some(x), Some(y)) => self.const_i32(x.wrapping_mul(y)),
            (Some(1), _) => b,
            (_, Some(1)) => a,
            _ => self.op(Op::IMul, self.i32_, &[a, b]),
        }
    }
    /// `a / b` on i32 indices, `b > 0` (folded, skipped when `b` is one).
    pub fn idiv(&mut self, a: Word, b: Word) -> Word {
        match (self.known(a), self.known(b)) {
            (Some(x), Some(y)) if y != 0 => self.const_i32(x.wrapping_div(y)),
            (_, Some(1)) => a,
            _ => self.op(Op::SDiv, self.i32_, &[a, b]),
        }
    }
    /// `a % b` on i32 indices, `b > 0` (folded).
    pub fn irem(&mut self, a: Word, b: Word) -> Word {
        match (self.known(a), self.known(b)) {
            (Some(x), Some(y)) if y != 0 => self.const_i32(x.wrapping_rem(y)),
            _ => self.op(Op::SRem, self.i32_, &[a, b]),
        }
    }
    /// The larger of two i32 indices (folded).
    pub fn imax(&mut self, a: Word, b: Word) -> Word {
        if let (Some(x), Some(y)) = (self.known(a), self.known(b)) {
            return self.const_i32(x.max(y));
        }
        let gt = self.op(Op::SGreaterThan, self.bool_, &[a, b]);
        self.select(self.i32_, gt, a, b)
    }
    /// `a < b` comparing as unsigned (`a` non-negative, or wrapped past 2^31).
    pub fn ult(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::ULessThan, self.bool_, &[a, b])
    }
    /// An i32 index as an i64 register.
    pub fn widen(&mut self, a: Word) -> Word {
        match self.known(a) {
            Some(x) => self.const_i64(x as i64),
            None => self.op(Op::SConvert, self.i64_, &[a]),
        }
    }
    /// An i32 index as an f32 register.
    pub fn to_f32(&mut self, a: Word) -> Word {
        match self.known(a) {
            Some(x) => self.const_f32(x as f32),
            None => self.op(Op::ConvertSToF, self.f32_, &[a]),
        }
    }
    /// `a + k` for a constant `k` (skipped when zero).
    pub fn iadd_k(&mut self, a: Word, k: i64) -> Word {
        if k == 0 {
            return a;
        }
        let c = self.const_i32(k as i32);
        self.iadd(a, c)
    }
    /// `a * k` for a constant `k` (skipped when one).
    pub fn imul_k(&mut self, a: Word, k: i64) -> Word {
        let c = self.const_i32(k as i32);
        self.imul(a, c)
    }
    pub fn ilt(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::SLessThan, self.bool_, &[a, b])
    }
    pub fn ilt_k(&mut self, a: Word, k: i64) -> Word {
        let c = self.const_i32(k as i32);
        self.ilt(a, c)
    }
    pub fn and(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::LogicalAnd, self.bool_, &[a, b])
    }
    pub fn or(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::LogicalOr, self.bool_, &[a, b])
    }
    pub fn select(&mut self, ty: Word, c: Word, a: Word, b: Word) -> Word {
        self.op(Op::Select, ty, &[c, a, b])
    }
    pub fn fadd(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::FAdd, self.f32_, &[a, b])
    }
    pub fn fsub(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::FSub, self.f32_, &[a, b])
    }
    pub fn fmul(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::FMul, self.f32_, &[a, b])
    }
    pub fn fdiv(&mut self, a: Word, b: Word) -> Word {
        self.op(Op::FDiv, self.f32_, &[a, b])
    }

    // ----- builtins -----

    fn builtin_x(&mut self, var: Word) -> Word {
        let v = self.op(Op::Load, self.uvec3, &[var]);
        self.composite(self.u32_, v, 0)
    }
    pub fn composite(&mut self, ty: Word, v: Word, index: u32) -> Word {
        self.b.composite_extract(ty, None, v, [index]).unwrap_or(0)
    }
    /// The linear workgroup index (`x + y·count_x + z·count_x·count_y`) as i32.
    pub fn workgroup_linear(&mut self) -> Word {
        let id = self.op(Op::Load, self.uvec3, &[self.workgroup_id]);
        let n = self.op(Op::Load, self.uvec3, &[self.num_workgroups]);
        let (x, y, z) = (
            self.composite(self.u32_, id, 0),
            self.composite(self.u32_, id, 1),
            self.composite(self.u32_, id, 2),
        );
        let (nx, ny) = (
            self.composite(self.u32_, n, 0),
            self.composite(self.u32_, n, 1),
        );
        let zy = self.op(Op::IMul, self.u32_, &[z, ny]);
        let zy = self.op(Op::IAdd, self.u32_, &[zy, y]);
        let l = self.op(Op::IMul, self.u32_, &[zy, nx]);
        let l = self.op(Op::IAdd, self.u32_, &[l, x]);
        self.op(Op::Bitcast, self.i32_, &[l])
    }
    /// This invocation's index inside its workgroup, as i32.
    pub fn local_index(&mut self) -> Word {
        let x = self.builtin_x(self.local_id);
        self.op(Op::Bitcast, self.i32_, &[x])
    }

    // ----- variables and control flow -----

    /// A function-scope variable of type `ty` (declared in the entry block, as SPIR-V requires).
    pub fn var(&mut self, ty: Word) -> Var {
        let ptr = self.b.type_pointer(None, StorageClass::Function, ty);
        let id = self.b.id();
        let inst = Instruction::new(
            Op::Variable,
            Some(ptr),
            Some(id),
            vec![Operand::StorageClass(StorageClass::Function)],
        );
        self.b.module_mut().functions[self.function_index].blocks[0]
            .instructions
            .insert(0, inst);
        Var { id, ty }
    }
    pub fn get(&mut self, v: Var) -> Word {
        self.op(Op::Load, v.ty, &[v.id])
    }
    pub fn set(&mut self, v: Var, value: Word) {
        let _ = self.b.store(v.id, value, None, []);
    }

    /// Opens `if cond { … }`; close it with [`Shader::end_if`].
    pub fn begin_if(&mut self, cond: Word) -> R<IfScope> {
        let (t, merge) = (self.b.id(), self.b.id());
        self.b
            .selection_merge(merge, SelectionControl::NONE)
            .map_err(err)?;
        self.b.branch_conditional(cond, t, merge, []).map_err(err)?;
        self.b.begin_block(Some(t)).map_err(err)?;
        Ok(IfScope { merge })
    }
    pub fn end_if(&mut self, scope: IfScope) -> R<()> {
        self.b.branch(scope.merge).map_err(err)?;
        self.b.begin_block(Some(scope.merge)).map_err(err)?;
        Ok(())
    }

    /// Opens `for (i = start; i < end; i += step) { … }` over i32 ids and returns `i`; close it
    /// with [`Shader::end_loop`].
    pub fn begin_loop(&mut self, start: Word, end: Word, step: Word) -> R<(LoopScope, Word)> {
        let i = self.var(self.i32_);
        self.set(i, start);
        let (header, check, inner, cont, merge) = (
            self.b.id(),
            self.b.id(),
            self.b.id(),
            self.b.id(),
            self.b.id(),
        );
        self.b.branch(header).map_err(err)?;
        self.b.begin_block(Some(header)).map_err(err)?;
        self.b
            .loop_merge(merge, cont, LoopControl::NONE, [])
            .map_err(err)?;
        self.b.branch(check).map_err(err)?;
        self.b.begin_block(Some(check)).map_err(err)?;
        let iv = self.get(i);
        let c = self.ilt(iv, end);
        self.b
            .branch_conditional(c, inner, merge, [])
            .map_err(err)?;
        self.b.begin_block(Some(inner)).map_err(err)?;
        let iv = self.get(i);
        let scope = LoopScope {
            i,
            step,
            header,
            cont,
            merge,
        };
        Ok((scope, iv))
    }
    pub fn end_loop(&mut self, scope: LoopScope) -> R<()> {
        self.b.branch(scope.cont).map_err(err)?;
        self.b.begin_block(Some(scope.cont)).map_err(err)?;
        let iv = self.get(scope.i);
        let next = self.iadd(iv, scope.step);
        self.set(scope.i, next);
        self.b.branch(scope.header).map_err(err)?;
        self.b.begin_block(Some(scope.merge)).map_err(err)?;
        Ok(())
    }

    /// `for (i = start; i < end; i += step) body(i)` over i32 ids.
    pub fn for_range(
        &mut self,
        start: Word,
        end: Word,
        step: Word,
        body: impl FnOnce(&mut Shader, Word) -> R<()>,
    ) -> R<()> {
        let (scope, i) = self.begin_loop(start, end, step)?;
        body(self, i)?;
        self.end_loop(scope)
    }

    /// `for i in 0..n` with constant bounds.
    pub fn for_count(&mut self, n: u64, body: impl FnOnce(&mut Shader, Word) -> R<()>) -> R<()> {
        let (z, e, one) = (
            self.const_i32(0),
            self.const_i32(n as i32),
            self.const_i32(1),
        );
        self.for_range(z, e, one, body)
    }

    /// A workgroup barrier that also orders workgroup memory.
    pub fn barrier(&mut self) {
        let wg = self.const_u32(Scope::Workgroup as u32);
        let sem = self.const_u32(
            (MemorySemantics::ACQUIRE_RELEASE | MemorySemantics::WORKGROUP_MEMORY).bits(),
        );
        let _ = self.b.control_barrier(wg, wg, sem);
    }

    /// A workgroup-shared array of `n` elements of `ty` (each `size` bytes); returns the
    /// variable and the pointer type of one element.
    pub fn shared_array(&mut self, ty: Word, size: u32, n: u32) -> (Word, Word) {
        let len = self.const_u32(n);
        let arr = self.b.type_array(ty, len);
        let ptr = self.b.type_pointer(None, StorageClass::Workgroup, arr);
        // Module-scope, even while a function body is being written.
        let var = self.b.id();
        self.b
            .module_mut()
            .types_global_values
            .push(Instruction::new(
                Op::Variable,
                Some(ptr),
                Some(var),
                vec![Operand::StorageClass(StorageClass::Workgroup)],
            ));
        self.shared_bytes += size * n;
        let elem = self.b.type_pointer(None, StorageClass::Workgroup, ty);
        (var, elem)
    }
    pub fn shared_load(&mut self, arr: (Word, Word), ty: Word, index: Word) -> Word {
        let p = self.op(Op::AccessChain, arr.1, &[arr.0, index]);
        self.op(Op::Load, ty, &[p])
    }
    pub fn shared_store(&mut self, arr: (Word, Word), index: Word, value: Word) {
        let p = self.op(Op::AccessChain, arr.1, &[arr.0, index]);
        let _ = self.b.store(p, value, None, []);
    }

    // ----- bindings -----

    /// The element index where binding `b`'s data starts (its bias in the parameter block).
    pub fn binding_base(&mut self, b: u32) -> Word {
        self.param_word(b as usize)
    }

    /// Word `i` of the parameter block as an i32.
    fn param_word(&mut self, i: usize) -> Word {
        let (block, ptr_u32) = self.params;
        let zero = self.const_i32(0);
        let path = match self.dialect {
            Dialect::Vulkan | Dialect::Metal => vec![block, zero, self.const_i32(i as i32)],
            Dialect::WebGpu => {
                let (vector, lane) = (self.const_i32(i as i32 / 4), self.const_i32(i as i32 % 4));
                vec![block, zero, vector, lane]
            }
        };
        let p = self.op(Op::AccessChain, ptr_u32, &path);
        let v = self.op(Op::Load, self.u32_, &[p]);
        self.op(Op::Bitcast, self.i32_, &[v])
    }

    fn element_ptr(&mut self, binding: u32, index: Word) -> R<(Word, ElementType)> {
        let &(var, ptr, t) = self
            .bindings
            .get(binding as usize)
            .ok_or_else(|| format!("binding {binding} does not exist"))?;
        let zero = self.const_i32(0);
        Ok((self.op(Op::AccessChain, ptr, &[var, zero, index]), t))
    }

    /// The element type of `binding`.
    fn binding_type(&self, binding: u32) -> R<ElementType> {
        self.bindings
            .get(binding as usize)
            .map(|b| b.2)
            .ok_or_else(|| format!("binding {binding} does not exist"))
    }

    /// Where element `index` of packed `binding` (`bits` wide) lives: a pointer to its word
    /// and the element's bit offset in it (u32).
    fn packed_element(&mut self, binding: u32, index: Word, bits: u32) -> R<(Word, Word)> {
        let per_word = 32 / bits;
        let log = self.const_i32(per_word.trailing_zeros() as i32);
        let word = self.op(Op::ShiftRightArithmetic, self.i32_, &[index, log]);
        let (p, _) = self.element_ptr(binding, word)?;
        let lanes = self.const_i32(per_word as i32 - 1);
        let lane = self.op(Op::BitwiseAnd, self.i32_, &[index, lanes]);
        let lane = self.op(Op::Bitcast, self.u32_, &[lane]);
        let width = self.const_u32(bits);
        Ok((p, self.op(Op::IMul, self.u32_, &[lane, width])))
    }

    /// The bits of element `index` of packed `binding`, in the low bits of a u32.
    fn load_packed(&mut self, binding: u32, index: Word, bits: u32) -> R<Word> {
        let (p, shift) = self.packed_element(binding, index, bits)?;
        let word = self.op(Op::Load, self.u32_, &[p]);
        let w = self.op(Op::ShiftRightLogical, self.u32_, &[word, shift]);
        let mask = self.const_u32((1u32 << bits) - 1);
        Ok(self.op(Op::BitwiseAnd, self.u32_, &[w, mask]))
    }

    /// Stores the low `bits` of the u32 `value` as element `index` of packed `binding`: the
    /// element's bits cleared, then set, each atomically, so the other elements of its word
    /// (other invocations' results) stay as they are.
    fn store_packed(&mut self, binding: u32, index: Word, bits: u32, value: Word) -> R<()> {
        let (p, shift) = self.packed_element(binding, index, bits)?;
        let mask = self.const_u32((1u32 << bits) - 1);
        let v = self.op(Op::BitwiseAnd, self.u32_, &[value, mask]);
        let v = self.op(Op::ShiftLeftLogical, self.u32_, &[v, shift]);
        let m = self.op(Op::ShiftLeftLogical, self.u32_, &[mask, shift]);
        let keep = self.op(Op::Not, self.u32_, &[m]);
        let scope = self.const_u32(Scope::Device as u32);
        let relaxed = self.const_u32(MemorySemantics::empty().bits());
        self.b
            .atomic_and(self.u32_, None, p, scope, relaxed, keep)
            .map_err(err)?;
        self.b
            .atomic_or(self.u32_, None, p, scope, relaxed, v)
            .map_err(err)?;
        Ok(())
    }

    /// A register of `t`'s kind from the bits of a packed element (low bits of a u32).
    fn unpack(&mut self, bits: Word, t: ElementType) -> Word {
        let width = 8 * t.byte_size() as u32;
        match t {
            ElementType::F16 => {
                let vec2 = self.b.type_vector(self.f32_, 2);
                let both = self.ext(vec2, glsl::UNPACK_HALF_2X16, &[bits]);
                self.composite(self.f32_, both, 0)
            }
            ElementType::BF16 => {
                let sixteen = self.const_u32(16);
                let w = self.op(Op::ShiftLeftLogical, self.u32_, &[bits, sixteen]);
                self.op(Op::Bitcast, self.f32_, &[w])
            }
            ElementType::I8 | ElementType::I16 => {
                let k = self.const_u32(32 - width);
                let w = self.op(Op::ShiftLeftLogical, self.u32_, &[bits, k]);
                let w = self.op(Op::Bitcast, self.i32_, &[w]);
                let w = self.op(Op::ShiftRightArithmetic, self.i32_, &[w, k]);
                self.op(Op::SConvert, self.i64_, &[w])
            }
            ElementType::I1 => {
                let z = self.const_u32(0);
                let nz = self.op(Op::INotEqual, self.bool_, &[bits, z]);
                self.bool_to_i64(nz)
            }
            // Unsigned integers, and one byte holding a sub-byte integer or a narrow
            // float's bits.
            other => {
                let u64_ = self.b.type_int(64, 0);
                let w = self.op(Op::UConvert, u64_, &[bits]);
                let w = self.op(Op::Bitcast, self.i64_, &[w]);
                match other {
                    ElementType::U8 | ElementType::U16 => w,
                    narrow => self.wrap_int(w, narrow),
                }
            }
        }
    }

    /// The bits a register of `t`'s kind packs as (in the low bits of a u32).
    fn pack(&mut self, v: Word, t: ElementType) -> Word {
        // A sub-byte integer keeps only its own bits (`-1` as `i4` is `0x0f`), as elsewhere.
        let sub_byte = t
            .int_width()
            .map(|(w, _)| w)
            .filter(|&w| w < 8 && t != ElementType::I1);
        let keep = |bits: u32| sub_byte.map_or(bits, |w| bits & ((1u32 << w) - 1));
        if let Some(&c) = self.i64_values.get(&v) {
            let bits = if t == ElementType::I1 {
                (c != 0) as u32
            } else {
                c as u32
            };
            return self.const_u32(keep(bits));
        }
        match t {
            ElementType::F16 => self.half_bits(v),
            ElementType::BF16 => self.bf16_bits(v),
            ElementType::I1 => {
                let z = self.const_i64(0);
                let nz = self.op(Op::INotEqual, self.bool_, &[v, z]);
                let (one, zero) = (self.const_u32(1), self.const_u32(0));
                self.select(self.u32_, nz, one, zero)
            }
            _ => {
                let bits = self.op(Op::UConvert, self.u32_, &[v]);
                match sub_byte {
                    Some(_) => {
                        let mask = self.const_u32(keep(u32::MAX));
                        self.op(Op::BitwiseAnd, self.u32_, &[bits, mask])
                    }
                    None => bits,
                }
            }
        }
    }

    /// The f16 bits of an f32 register, rounded to nearest even, in a u32's low half.
    fn half_bits(&mut self, x: Word) -> Word {
        let vec2 = self.b.type_vector(self.f32_, 2);
        let zero = self.const_f32(0.0);
        let both = self.op(Op::CompositeConstruct, vec2, &[x, zero]);
        self.ext(self.u32_, glsl::PACK_HALF_2X16, &[both])
    }

    /// Pointers to the low and high words of f64 element `index` of `binding`.
    fn word_pair(&mut self, binding: u32, index: Word) -> R<(Word, Word)> {
        let low = self.imul_k(index, 2);
        let high = self.iadd_k(low, 1);
        Ok((
            self.element_ptr(binding, low)?.0,
            self.element_ptr(binding, high)?.0,
        ))
    }

    /// An f64's bits (low and high u32 words) as the nearest f32: its 53-bit significand
    /// summed in f32 and scaled by its exponent; zero below f32's range, infinite above,
    /// infinities and NaNs kept, the sign applied last.
    fn f32_of_f64_bits(&mut self, low: Word, high: Word) -> Word {
        let (u, i, f) = (self.u32_, self.i32_, self.f32_);
        let twenty = self.const_u32(20);
        let e = self.op(Op::ShiftRightLogical, u, &[high, twenty]);
        let eleven = self.const_u32(0x7ff);
        let e = self.op(Op::BitwiseAnd, u, &[e, eleven]);
        let top_mask = self.const_u32(0xf_ffff);
        let top = self.op(Op::BitwiseAnd, u, &[high, top_mask]);
        // 1 + top·2^-20 + low·2^-52: exact up to the last addition's rounding.
        let (top_f, low_f) = (
            self.op(Op::ConvertUToF, f, &[top]),
            self.op(Op::ConvertUToF, f, &[low]),
        );
        let (k20, k52, one) = (
            self.const_f32(2f32.powi(-20)),
            self.const_f32(2f32.powi(-52)),
            self.const_f32(1.0),
        );
        let a = self.fmul(top_f, k20);
        let b = self.fmul(low_f, k52);
        let significand = self.fadd(a, b);
        let significand = self.fadd(one, significand);
        let e = self.op(Op::Bitcast, i, &[e]);
        let bias = self.const_i32(1023);
        let exponent = self.op(Op::ISub, i, &[e, bias]);
        let (lowest, highest) = (self.const_i32(-150), self.const_i32(127));
        let clamped = self.ext(i, glsl::SCLAMP, &[exponent, lowest, highest]);
        let v = self.ext(f, glsl::LDEXP, &[significand, clamped]);
        let (zero, inf, nan) = (
            self.const_f32(0.0),
            self.const_f32(f32::INFINITY),
            self.const_f32(f32::NAN),
        );
        let over = self.op(Op::SGreaterThan, self.bool_, &[exponent, highest]);
        let v = self.select(f, over, inf, v);
        let under = self.op(Op::SLessThan, self.bool_, &[exponent, lowest]);
        let v = self.select(f, under, zero, v);
        let ones = self.const_i32(0x7ff);
        let all_ones = self.op(Op::IEqual, self.bool_, &[e, ones]);
        let fraction = self.op(Op::BitwiseOr, u, &[top, low]);
        let zero_u = self.const_u32(0);
        let has_fraction = self.op(Op::INotEqual, self.bool_, &[fraction, zero_u]);
        let special = self.select(f, has_fraction, nan, inf);
        let v = self.select(f, all_ones, special, v);
        let sign_bit = self.const_u32(0x8000_0000);
        let sign = self.op(Op::BitwiseAnd, u, &[high, sign_bit]);
        let negative = self.op(Op::INotEqual, self.bool_, &[sign, zero_u]);
        let flipped = self.op(Op::FNegate, f, &[v]);
        self.select(f, negative, flipped, v)
    }

    /// An f32's value as f64 bits (low and high u32 words), exactly: subnormals normalised,
    /// infinities and NaNs (with their payload's top bits) kept.
    fn f64_bits_of_f32(&mut self, x: Word) -> (Word, Word) {
        let u = self.u32_;
        let bits = self.op(Op::Bitcast, u, &[x]);
        let sign_bit = self.const_u32(0x8000_0000);
        let sign = self.op(Op::BitwiseAnd, u, &[bits, sign_bit]);
        let k23 = self.const_u32(23);
        let e = self.op(Op::ShiftRightLogical, u, &[bits, k23]);
        let byte = self.const_u32(0xff);
        let e = self.op(Op::BitwiseAnd, u, &[e, byte]);
        let field = self.const_u32(0x7f_ffff);
        let m = self.op(Op::BitwiseAnd, u, &[bits, field]);
        // A subnormal m·2^-149 with its top set bit at p is 1.f·2^(p-149).
        let p = self.ext(u, glsl::FIND_UMSB, &[m]);
        let shift = self.op(Op::ISub, u, &[k23, p]);
        let normalised = self.op(Op::ShiftLeftLogical, u, &[m, shift]);
        let normalised = self.op(Op::BitwiseAnd, u, &[normalised, field]);
        // Rebiased: p - 149 + 1023, and e - 127 + 1023.
        let (k874, k896) = (self.const_u32(874), self.const_u32(896));
        let sub_exponent = self.op(Op::IAdd, u, &[p, k874]);
        let exponent = self.op(Op::IAdd, u, &[e, k896]);
        let zero_u = self.const_u32(0);
        let subnormal = self.op(Op::IEqual, self.bool_, &[e, zero_u]);
        let exponent = self.select(u, subnormal, sub_exponent, exponent);
        let m = self.select(u, subnormal, normalised, m);
        let special = self.op(Op::IEqual, self.bool_, &[e, byte]);
        let ones = self.const_u32(0x7ff);
        let exponent = self.select(u, special, ones, exponent);
        let unsigned = self.const_u32(0x7fff_ffff);
        let magnitude = self.op(Op::BitwiseAnd, u, &[bits, unsigned]);
        let zero = self.op(Op::IEqual, self.bool_, &[magnitude, zero_u]);
        let exponent = self.select(u, zero, zero_u, exponent);
        let m = self.select(u, zero, zero_u, m);
        let (k3, k20, k29) = (self.const_u32(3), self.const_u32(20), self.const_u32(29));
        let high = self.op(Op::ShiftLeftLogical, u, &[exponent, k20]);
        let high = self.op(Op::BitwiseOr, u, &[high, sign]);
        let top = self.op(Op::ShiftRightLogical, u, &[m, k3]);
        let high = self.op(Op::BitwiseOr, u, &[high, top]);
        let low = self.op(Op::ShiftLeftLogical, u, &[m, k29]);
        (low, high)
    }

    /// Loads element `index` of `binding` as a register of its kind.
    pub fn load(&mut self, binding: u32, index: Word) -> R<Val> {
        let t = self.binding_type(binding)?;
        if self.word_pairs(t) {
            let (pl, ph) = self.word_pair(binding, index)?;
            let low = self.op(Op::Load, self.u32_, &[pl]);
            let high = self.op(Op::Load, self.u32_, &[ph]);
            return Ok(Val {
                kind: RegKind::F,
                id: self.f32_of_f64_bits(low, high),
            });
        }
        if let Some(bits) = self.packed_bits(t) {
            let raw = self.load_packed(binding, index, bits)?;
            return Ok(Val {
                kind: reg_kind(t),
                id: self.unpack(raw, t),
            });
        }
        let (p, t) = self.element_ptr(binding, index)?;
        let (sty, _) = self.storage_type(t);
        let raw = self.op(Op::Load, sty, &[p]);
        let id = match t {
            ElementType::F32 => raw,
            ElementType::F16 | ElementType::F64 => self.op(Op::FConvert, self.f32_, &[raw]),
            ElementType::BF16 => {
                let w = self.op(Op::UConvert, self.u32_, &[raw]);
                let sh = self.const_u32(16);
                let w = self.op(Op::ShiftLeftLogical, self.u32_, &[w, sh]);
                self.op(Op::Bitcast, self.f32_, &[w])
            }
            ElementType::I8 | ElementType::I16 | ElementType::I32 => {
                self.op(Op::SConvert, self.i64_, &[raw])
            }
            ElementType::U8 | ElementType::U16 | ElementType::U32 => {
                let u64_ = self.b.type_int(64, 0);
                let w = self.op(Op::UConvert, u64_, &[raw]);
                self.op(Op::Bitcast, self.i64_, &[w])
            }
            ElementType::I64 | ElementType::U64 => raw,
            ElementType::I1 => {
                let w = self.op(Op::UConvert, self.u32_, &[raw]);
                let z = self.const_u32(0);
                let nz = self.op(Op::INotEqual, self.bool_, &[w, z]);
                self.bool_to_i64(nz)
            }
            // One byte holding a sub-byte integer or a narrow float's bits.
            bits => {
                let u64_ = self.b.type_int(64, 0);
                let w = self.op(Op::UConvert, u64_, &[raw]);
                let w = self.op(Op::Bitcast, self.i64_, &[w]);
                self.wrap_int(w, bits)
            }
        };
        Ok(Val {
            kind: reg_kind(t),
            id,
        })
    }

    /// Stores a register into element `index` of `binding`, converting to its element type.
    pub fn store(&mut self, binding: u32, index: Word, v: Val) -> R<()> {
        let t = self.binding_type(binding)?;
        if reg_kind(t) != v.kind {
            return Err(format!("cannot store a {:?} register as {t}", v.kind));
        }
        if let Some(bits) = self.packed_bits(t) {
            let raw = self.pack(v.id, t);
            return self.store_packed(binding, index, bits, raw);
        }
        if self.word_pairs(t) {
            // Each element owns both its words: plain stores.
            let (low, high) = self.f64_bits_of_f32(v.id);
            let (pl, ph) = self.word_pair(binding, index)?;
            self.b.store(pl, low, None, []).map_err(err)?;
            return self.b.store(ph, high, None, []).map_err(err);
        }
        let (p, t) = self.element_ptr(binding, index)?;
        let (sty, _) = self.storage_type(t);
        let raw = match t {
            ElementType::F32 | ElementType::I64 | ElementType::U64 => v.id,
            ElementType::F16 => self.half_of(v.id),
            ElementType::F64 => self.op(Op::FConvert, sty, &[v.id]),
            ElementType::BF16 => {
                let bits = self.bf16_bits(v.id);
                self.op(Op::UConvert, sty, &[bits])
            }
            ElementType::I8 | ElementType::I16 | ElementType::I32 => {
                self.op(Op::SConvert, sty, &[v.id])
            }
            ElementType::U8 | ElementType::U16 | ElementType::U32 => {
                self.op(Op::UConvert, sty, &[v.id])
            }
            ElementType::I1 => {
                let z = self.const_i64(0);
                let nz = self.op(Op::INotEqual, self.bool_, &[v.id, z]);
                let (one, zero) = (self.const_u32(1), self.const_u32(0));
                let w = self.select(self.u32_, nz, one, zero);
                self.op(Op::UConvert, sty, &[w])
            }
            // A sub-byte integer keeps only its own bits (`-1` as `i4` is `0x0f`).
            bits => {
                let width = bits.int_width().map_or(8, |(w, _)| w);
                let mask = self.const_i64((1i64 << width) - 1);
                let w = self.op(Op::BitwiseAnd, self.i64_, &[v.id, mask]);
                self.op(Op::UConvert, sty, &[w])
            }
        };
        self.b.store(p, raw, None, []).map_err(err)
    }

    /// Copies one element between bindings of the same element type, bit for bit.
    pub fn copy_element(&mut self, from: u32, from_index: Word, to: u32, to_index: Word) -> R<()> {
        let (t, u) = (self.binding_type(from)?, self.binding_type(to)?);
        if let (Some(bits), true) = (self.packed_bits(t), t == u) {
            let raw = self.load_packed(from, from_index, bits)?;
            return self.store_packed(to, to_index, bits, raw);
        }
        if self.word_pairs(t) && t == u {
            let (from_low, from_high) = self.word_pair(from, from_index)?;
            let (to_low, to_high) = self.word_pair(to, to_index)?;
            for (src, dst) in [(from_low, to_low), (from_high, to_high)] {
                let word = self.op(Op::Load, self.u32_, &[src]);
                self.b.store(dst, word, None, []).map_err(err)?;
            }
            return Ok(());
        }
        let (src, t) = self.element_ptr(from, from_index)?;
        let (dst, u) = self.element_ptr(to, to_index)?;
        if t != u {
            return Err(format!("cannot copy {t} elements into {u} ones"));
        }
        let (sty, _) = self.storage_type(t);
        let v = self.op(Op::Load, sty, &[src]);
        self.b.store(dst, v, None, []).map_err(err)
    }

    /// Sets the error status word (see `kiln_spirv::ErrorCode`).
    pub fn report_error(&mut self, code: u32) -> R<()> {
        let (var, ptr) = self.status.ok_or("this shader has no status binding")?;
        let zero = self.const_i32(0);
        let p = self.op(Op::AccessChain, ptr, &[var, zero, zero]);
        let c = self.const_u32(code);
        self.b.store(p, c, None, []).map_err(err)
    }

    // ----- conversions -----

    /// Whether the f32 `x` is a NaN, by its bits (WGSL has no `isNan`, and may assume
    /// comparisons never see one).
    pub fn is_nan(&mut self, x: Word) -> Word {
        let magnitude = self.magnitude_bits(x);
        let inf = self.const_u32(0x7f80_0000);
        self.op(Op::UGreaterThan, self.bool_, &[magnitude, inf])
    }

    /// Whether the f32 `x` is infinite, by its bits.
    pub fn is_inf(&mut self, x: Word) -> Word {
        let magnitude = self.magnitude_bits(x);
        let inf = self.const_u32(0x7f80_0000);
        self.op(Op::IEqual, self.bool_, &[magnitude, inf])
    }

    /// The bits of the f32 `x` without its sign.
    fn magnitude_bits(&mut self, x: Word) -> Word {
        let bits = self.op(Op::Bitcast, self.u32_, &[x]);
        let mask = self.const_u32(0x7fff_ffff);
        self.op(Op::BitwiseAnd, self.u32_, &[bits, mask])
    }

    pub fn bool_to_i64(&mut self, c: Word) -> Word {
        let (one, zero) = (self.const_i64(1), self.const_i64(0));
        self.select(self.i64_, c, one, zero)
    }

    /// The upper 16 bits of `x` rounded to nearest-even as bfloat16 (NaN stays NaN), as u32.
    pub fn bf16_bits(&mut self, x: Word) -> Word {
        let u = self.op(Op::Bitcast, self.u32_, &[x]);
        let sixteen = self.const_u32(16);
        let hi = self.op(Op::ShiftRightLogical, self.u32_, &[u, sixteen]);
        let one = self.const_u32(1);
        let lsb = self.op(Op::BitwiseAnd, self.u32_, &[hi, one]);
        let bias = self.const_u32(0x7fff);
        let r = self.op(Op::IAdd, self.u32_, &[u, bias]);
        let r = self.op(Op::IAdd, self.u32_, &[r, lsb]);
        let r = self.op(Op::ShiftRightLogical, self.u32_, &[r, sixteen]);
        let nan = self.is_nan(x);
        let qnan = self.const_u32(0x7fc0);
        let keep_sign = self.op(Op::BitwiseOr, self.u32_, &[hi, qnan]);
        self.select(self.u32_, nan, keep_sign, r)
    }

    /// An f32 converted to f16, rounding to nearest-even (as the interpreter does).
    fn half_of(&mut self, x: Word) -> Word {
        let (half, _) = self.storage_type(ElementType::F16);
        let h = self.op(Op::FConvert, half, &[x]);
        self.b.decorate(
            h,
            Decoration::FPRoundingMode,
            [Operand::FPRoundingMode(rspirv::spirv::FPRoundingMode::RTE)],
        );
        h
    }

    /// Rounds an f32 register to the precision of float type `t`.
    pub fn round_float(&mut self, x: Word, t: ElementType) -> Word {
        match t {
            ElementType::F16 if self.dialect.packs_narrow() => {
                let bits = self.half_bits(x);
                self.unpack(bits, ElementType::F16)
            }
            ElementType::F16 => {
                let h = self.half_of(x);
                self.op(Op::FConvert, self.f32_, &[h])
            }
            ElementType::BF16 => {
                let bits = self.bf16_bits(x);
                let sixteen = self.const_u32(16);
                let w = self.op(Op::ShiftLeftLogical, self.u32_, &[bits, sixteen]);
                self.op(Op::Bitcast, self.f32_, &[w])
            }
            _ => x,
        }
    }

    /// Wraps an i64 register to the integer type `t` (sign-extended back to i64).
    pub fn wrap_int(&mut self, x: Word, t: ElementType) -> Word {
        match t {
            ElementType::I32 => {
                let n = self.op(Op::SConvert, self.i32_, &[x]);
                self.op(Op::SConvert, self.i64_, &[n])
            }
            ElementType::I8 => {
                let n = self.op(Op::SConvert, self.i32_, &[x]);
                let k = self.const_i32(24);
                let n = self.op(Op::ShiftLeftLogical, self.i32_, &[n, k]);
                let n = self.op(Op::ShiftRightArithmetic, self.i32_, &[n, k]);
                self.op(Op::SConvert, self.i64_, &[n])
            }
            ElementType::I1 => {
                let z = self.const_i64(0);
                let nz = self.op(Op::INotEqual, self.bool_, &[x, z]);
                self.bool_to_i64(nz)
            }
            other => match other.int_width() {
                Some((bits, true)) if bits < 64 => {
                    let k = self.const_i64(64 - i64::from(bits));
                    let n = self.op(Op::ShiftLeftLogical, self.i64_, &[x, k]);
                    self.op(Op::ShiftRightArithmetic, self.i64_, &[n, k])
                }
                Some((bits, false)) if bits < 64 => {
                    let mask = self.const_i64((1i64 << bits) - 1);
                    self.op(Op::BitwiseAnd, self.i64_, &[x, mask])
                }
                _ => x,
            },
        }
    }
}

/// The GPU backends' shared invocation index math, as SPIR-V i32 instructions.
impl kiln_codegen_gpu::IndexBuilder for Shader {
    type Index = Word;
    fn workgroup_index(&mut self) -> Word {
        self.workgroup_linear()
    }
    fn local_index(&mut self) -> Word {
        Shader::local_index(self)
    }
    fn constant(&mut self, v: u64) -> Word {
        self.const_i32(v as i32)
    }
    fn add(&mut self, a: Word, b: Word) -> Word {
        self.iadd(a, b)
    }
    fn mul(&mut self, a: Word, b: Word) -> Word {
        self.imul(a, b)
    }
    fn div(&mut self, a: Word, b: Word) -> Word {
        self.idiv(a, b)
    }
    fn rem(&mut self, a: Word, b: Word) -> Word {
        self.irem(a, b)
    }
    fn max(&mut self, a: Word, b: Word) -> Word {
        self.imax(a, b)
    }
}

/// Size expressions as i32 instructions over the symbols' parameter-block values (constant
/// expressions fold to constants).
impl kiln_types::sym::SymArith for Shader {
    type Value = Word;
    type Error = String;
    fn constant(&mut self, c: i64) -> R<Word> {
        i32::try_from(c)
            .map(|c| self.const_i32(c))
            .map_err(|_| format!("size {c} does not fit 32-bit index arithmetic"))
    }
    fn symbol(&mut self, name: &str) -> R<Word> {
        self.symbols
            .get(name)
            .copied()
            .ok_or_else(|| format!("size symbol '{name}' is not among the kernel's symbols"))
    }
    fn add(&mut self, a: Word, b: Word) -> R<Word> {
        Ok(self.iadd(a, b))
    }
    fn mul(&mut self, a: Word, b: Word) -> R<Word> {
        Ok(self.imul(a, b))
    }
    fn floor_div(&mut self, a: Word, d: i64) -> R<Word> {
        let d = i32::try_from(d).map_err(|_| format!("divisor {d} is too large"))?;
        if let Some(x) = self.known(a) {
            return Ok(self.const_i32(x.div_euclid(d)));
        }
        // floor(a / d) = (a < 0 ? a - (d - 1) : a) / d, rounding toward zero.
        let zero = self.const_i32(0);
        let negative = self.ilt(a, zero);
        let lowered = self.iadd_k(a, -(d as i64 - 1));
        let a = self.select(self.i32_, negative, lowered, a);
        let d = self.const_i32(d);
        Ok(self.op(Op::SDiv, self.i32_, &[a, d]))
    }
}
