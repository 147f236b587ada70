//! Static-library output (IREE's `--iree-llvmcpu-link-embedded=false`): the object is linked
//! into the program by the system linker instead of by the runtime.
//!
//! Its kernels (and GEMM tile, if it brings one) become internal symbols, reached only through
//! the descriptor that the one exported function, `NAME_library_query()`, returns: a
//! `kiln_native::StaticLibrary` (ABI version, kernel count, the kernels' checksum, name, kernel
//! table, tile). So two libraries never clash, and [`header`] declares the one function for C.

use inkwell::context::Context;
use inkwell::module::{Linkage, Module};
use inkwell::values::{BasicValueEnum, PointerValue};
use inkwell::AddressSpace;

/// Whether `name` can name a static library: a C identifier, since `NAME_library_query` is one.
pub fn valid_name(name: &str) -> bool {
    let mut chars = name.chars();
    chars
        .next()
        .is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || c == '_')
}

/// Adds `NAME_library_query` to `module`, making `kernels` (entry point `i` first) and `tile`
/// internal.
pub fn emit_query<'ctx>(
    context: &'ctx Context,
    module: &Module<'ctx>,
    name: &str,
    kernels: &[String],
    tile: Option<&str>,
    checksum: u64,
) -> Result<(), String> {
    let ptr = context.ptr_type(AddressSpace::default());
    let i32t = context.i32_type();
    let internal = |symbol: &str| -> Result<PointerValue<'ctx>, String> {
        let f = module
            .get_function(symbol)
            .ok_or_else(|| format!("no function '{symbol}' in the module"))?;
        f.set_linkage(Linkage::Internal);
        Ok(f.as_global_value().as_pointer_value())
    };
    let entries = kernels
        .iter()
        .map(|k| internal(k))
        .collect::<Result<Vec<_>, _>>()?;
    let private = |value: BasicValueEnum<'ctx>, label: &str| {
        let g = module.add_global(value.get_type(), None, &format!("{name}_{label}"));
        g.set_initializer(&value);
        g.set_linkage(Linkage::Private);
        g.set_constant(true);
        g.as_pointer_value()
    };
    let table = private(ptr.const_array(&entries).into(), "kernels");
    let label = private(context.const_string(name.as_bytes(), true).into(), "name");
    let tile = match tile {
        Some(t) => internal(t)?,
        None => ptr.const_null(),
    };
    let count = u32::try_from(kernels.len()).map_err(|_| "too many kernels".to_string())?;
    let descriptor = context.const_struct(
        &[
            i32t.const_int(kiln_native::STATIC_LIBRARY_ABI_VERSION.into(), false)
                .into(),
            i32t.const_int(count.into(), false).into(),
            context.i64_type().const_int(checksum, false).into(),
            label.into(),
            table.into(),
            tile.into(),
        ],
        false,
    );
    let descriptor = private(descriptor.into(), "library");
    let query = module.add_function(
        &format!("{name}_library_query"),
        ptr.fn_type(&[], false),
        Some(Linkage::External),
    );
    let builder = context.create_builder();
    builder.position_at_end(context.append_basic_block(query, "entry"));
    builder
        .build_return(Some(&descriptor))
        .map_err(|e| e.to_string())?;
    Ok(())
}

/// `NAME.h`: the declaration of `NAME_library_query` for C programs.
pub fn header(name: &str) -> String {
    let guard = format!("{}_KILN_STATIC_LIBRARY_H", name.to_ascii_uppercase());
    format!(
        "/* {name}.h: written by kiln-compile beside {name}.o \
         (--iree-llvmcpu-static-library-output-path).\n \
         * Link {name}.o into the program and register the library before loading the module\n \
         * compiled with it:\n \
         *     kiln_register_static_library({name}_library_query);\n \
         */\n\
         #ifndef {guard}\n\
         #define {guard}\n\
         \n\
         #ifdef __cplusplus\n\
         extern \"C\" {{\n\
         #endif\n\
         \n\
         struct kiln_static_library;\n\
         \n\
         /* The library's kernels, as kiln's runtime reads them (ABI version {abi}). */\n\
         const struct kiln_static_library *{name}_library_query(void);\n\
         \n\
         #ifdef __cplusplus\n\
         }}\n\
         #endif\n\
         \n\
         #endif\n",
        abi = kiln_native::STATIC_LIBRARY_ABI_VERSION
    )
}
