// ===== entry 0: kernel dispatch_0_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_14& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e39 = global_7.member.inner[0];
    uint _e43 = global_7.member.inner[1];
    uint _e47 = global_7.member.inner[2];
    uint _e51 = global_7.member.inner[3];
    metal::uint3 _e53 = global;
    metal::uint3 _e54 = global_2;
    int _e64 = as_type<int>((((_e53.z * _e54.y) + _e53.y) * _e54.x) + _e53.x);
    metal::uint3 _e65 = global_1;
    int _e67 = as_type<int>(_e65.x);
    int _e68 = naga_div(_e67, 16);
    int _e69 = naga_mod(_e67, 16);
    int _e71 = naga_div(_e64, 32);
    int _e74 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e71, 1)) * as_type<uint>(16))) + as_type<uint>(_e68));
    int _e76 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e64, 32)) * as_type<uint>(16))) + as_type<uint>(_e69));
    bool _e77 = _e71 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e123 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e123) + as_type<uint>(16));
        }
        loop_init = false;
        int _e78 = local_1;
        if (_e78 < 784) {
            int _e80 = local_1;
            int _e81 = as_type<int>(as_type<uint>(_e80) + as_type<uint>(_e69));
            int _e82 = as_type<int>(as_type<uint>(_e80) + as_type<uint>(_e68));
            local_2 = 0.0;
            if (((_e74 < 8) && (_e81 < 784)) && _e77) {
                float _e92 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e39)) + as_type<uint>(as_type<int>(as_type<uint>(_e74) * as_type<uint>(784))))) + as_type<uint>(_e81))];
                local_2 = _e92;
            }
            float _e93 = local_2;
            global_8.inner[_e67] = _e93;
            local_2 = 0.0;
            if (((_e82 < 784) && (_e76 < 512)) && _e77) {
                float _e104 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e43)) + as_type<uint>(as_type<int>(as_type<uint>(_e82) * as_type<uint>(512))))) + as_type<uint>(_e76))];
                local_2 = _e104;
            }
            float _e105 = local_2;
            global_9.inner[_e67] = _e105;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e121 = local;
                    local = as_type<int>(as_type<uint>(_e121) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e107 = local;
                if (_e107 < 16) {
                    int _e109 = local;
                    float _e115 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e68) * as_type<uint>(16))) + as_type<uint>(_e109))];
                    float _e117 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e109) * as_type<uint>(16))) + as_type<uint>(_e69))];
                    float _e119 = local_3;
                    local_3 = _e119 + (_e115 * _e117);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e74 < 8) && (_e76 < 512)) && _e77) {
        float _e129 = local_3;
        float _e133 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e51)) + as_type<uint>(_e76))];
        float _e134 = _e129 + _e133;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e47)) + as_type<uint>(as_type<int>(as_type<uint>(_e74) * as_type<uint>(512))))) + as_type<uint>(_e76))] = ((_e134 > 0.0) || ((as_type<uint>(_e134) & 2147483647u) > 2139095040u)) ? _e134 : 0.0;
    }
    return;
}

struct dispatch_0_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_0_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_14& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 1: kernel dispatch_1_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_14& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e38 = global_7.member.inner[0];
    uint _e42 = global_7.member.inner[1];
    uint _e46 = global_7.member.inner[2];
    uint _e50 = global_7.member.inner[3];
    metal::uint3 _e52 = global;
    metal::uint3 _e53 = global_2;
    int _e63 = as_type<int>((((_e52.z * _e53.y) + _e52.y) * _e53.x) + _e52.x);
    metal::uint3 _e64 = global_1;
    int _e66 = as_type<int>(_e64.x);
    int _e67 = naga_div(_e66, 16);
    int _e68 = naga_mod(_e66, 16);
    int _e70 = naga_div(_e63, 16);
    int _e73 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e70, 1)) * as_type<uint>(16))) + as_type<uint>(_e67));
    int _e75 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e63, 16)) * as_type<uint>(16))) + as_type<uint>(_e68));
    bool _e76 = _e70 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e122 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e122) + as_type<uint>(16));
        }
        loop_init = false;
        int _e77 = local_1;
        if (_e77 < 512) {
            int _e79 = local_1;
            int _e80 = as_type<int>(as_type<uint>(_e79) + as_type<uint>(_e68));
            int _e81 = as_type<int>(as_type<uint>(_e79) + as_type<uint>(_e67));
            local_2 = 0.0;
            if (((_e73 < 8) && (_e80 < 512)) && _e76) {
                float _e91 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e38)) + as_type<uint>(as_type<int>(as_type<uint>(_e73) * as_type<uint>(512))))) + as_type<uint>(_e80))];
                local_2 = _e91;
            }
            float _e92 = local_2;
            global_8.inner[_e66] = _e92;
            local_2 = 0.0;
            if (((_e81 < 512) && (_e75 < 256)) && _e76) {
                float _e103 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e42)) + as_type<uint>(as_type<int>(as_type<uint>(_e81) * as_type<uint>(256))))) + as_type<uint>(_e75))];
                local_2 = _e103;
            }
            float _e104 = local_2;
            global_9.inner[_e66] = _e104;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e120 = local;
                    local = as_type<int>(as_type<uint>(_e120) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e106 = local;
                if (_e106 < 16) {
                    int _e108 = local;
                    float _e114 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e67) * as_type<uint>(16))) + as_type<uint>(_e108))];
                    float _e116 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e108) * as_type<uint>(16))) + as_type<uint>(_e68))];
                    float _e118 = local_3;
                    local_3 = _e118 + (_e114 * _e116);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e73 < 8) && (_e75 < 256)) && _e76) {
        float _e128 = local_3;
        float _e132 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e50)) + as_type<uint>(_e75))];
        float _e133 = _e128 + _e132;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e46)) + as_type<uint>(as_type<int>(as_type<uint>(_e73) * as_type<uint>(256))))) + as_type<uint>(_e75))] = ((_e133 > 0.0) || ((as_type<uint>(_e133) & 2147483647u) > 2139095040u)) ? _e133 : 0.0;
    }
    return;
}

struct dispatch_1_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_1_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_14& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 2: kernel dispatch_2_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[4];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[256];
};

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    constant type_11& global_7,
    threadgroup type_14& global_8,
    threadgroup type_14& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e35 = global_7.member.inner[0];
    uint _e39 = global_7.member.inner[1];
    uint _e43 = global_7.member.inner[2];
    uint _e47 = global_7.member.inner[3];
    metal::uint3 _e49 = global;
    metal::uint3 _e50 = global_2;
    int _e60 = as_type<int>((((_e49.z * _e50.y) + _e49.y) * _e50.x) + _e49.x);
    metal::uint3 _e61 = global_1;
    int _e63 = as_type<int>(_e61.x);
    int _e64 = naga_div(_e63, 16);
    int _e65 = naga_mod(_e63, 16);
    int _e69 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e60, 1)) * as_type<uint>(16))) + as_type<uint>(_e64));
    int _e71 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e60, 1)) * as_type<uint>(16))) + as_type<uint>(_e65));
    bool _e72 = _e60 < 1;
    local_3 = 0.0;
    local_1 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e118 = local_1;
            local_1 = as_type<int>(as_type<uint>(_e118) + as_type<uint>(16));
        }
        loop_init = false;
        int _e73 = local_1;
        if (_e73 < 256) {
            int _e75 = local_1;
            int _e76 = as_type<int>(as_type<uint>(_e75) + as_type<uint>(_e65));
            int _e77 = as_type<int>(as_type<uint>(_e75) + as_type<uint>(_e64));
            local_2 = 0.0;
            if (((_e69 < 8) && (_e76 < 256)) && _e72) {
                float _e87 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e35)) + as_type<uint>(as_type<int>(as_type<uint>(_e69) * as_type<uint>(256))))) + as_type<uint>(_e76))];
                local_2 = _e87;
            }
            float _e88 = local_2;
            global_8.inner[_e63] = _e88;
            local_2 = 0.0;
            if (((_e77 < 256) && (_e71 < 10)) && _e72) {
                float _e99 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e39)) + as_type<uint>(as_type<int>(as_type<uint>(_e77) * as_type<uint>(10))))) + as_type<uint>(_e71))];
                local_2 = _e99;
            }
            float _e100 = local_2;
            global_9.inner[_e63] = _e100;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e116 = local;
                    local = as_type<int>(as_type<uint>(_e116) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e102 = local;
                if (_e102 < 16) {
                    int _e104 = local;
                    float _e110 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e64) * as_type<uint>(16))) + as_type<uint>(_e104))];
                    float _e112 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e104) * as_type<uint>(16))) + as_type<uint>(_e65))];
                    float _e114 = local_3;
                    local_3 = _e114 + (_e110 * _e112);
                    continue;
                } else {
                    break;
                }
            }
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            continue;
        } else {
            break;
        }
    }
    if (((_e69 < 8) && (_e71 < 10)) && _e72) {
        float _e124 = local_3;
        float _e128 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e47)) + as_type<uint>(_e71))];
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e43)) + as_type<uint>(as_type<int>(as_type<uint>(_e69) * as_type<uint>(10))))) + as_type<uint>(_e71))] = _e124 + _e128;
    }
    return;
}

struct dispatch_2_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_2_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, constant type_11& global_7 [[buffer(4)]]
, threadgroup type_14& global_8
, threadgroup type_14& global_9
, constant _mslBufferSizes& _buffer_sizes [[buffer(6)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_8 = {};
        global_9 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, _buffer_sizes);
}

// ===== entry 3: kernel dispatch_3_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[2];
};
struct type_11 {
    type_10 member;
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7& global_4,
    constant type_11& global_5,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    int local_4 = {};
    float local_5 = {};
    float local_6 = {};
    uint _e25 = global_5.member.inner[0];
    int _e26 = as_type<int>(_e25);
    uint _e29 = global_5.member.inner[1];
    metal::uint3 _e31 = global;
    metal::uint3 _e32 = global_2;
    metal::uint3 _e43 = global_1;
    int _e47 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>((((_e31.z * _e32.y) + _e31.y) * _e32.x) + _e31.x)) * as_type<uint>(128))) + as_type<uint>(as_type<int>(_e43.x)));
    bool _e50 = as_type<uint>(_e47) < as_type<uint>(8);
    local_6 = as_type<float>(4286578688u);
    local_5 = 0.0;
    if (_e50) {
        local_4 = 0;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e63 = local_4;
                local_4 = as_type<int>(as_type<uint>(_e63) + as_type<uint>(1));
            }
            loop_init = false;
            int _e52 = local_4;
            if (_e52 < 10) {
                int _e54 = local_4;
                float _e60 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e54))];
                float _e61 = local_6;
                local_6 = metal::max(_e61, _e60);
                continue;
            } else {
                break;
            }
        }
    }
    float _e65 = local_6;
    local_3 = 0.0;
    local_2 = 0.0;
    if (_e50) {
        local_1 = 0;
        uint2 loop_bound_1 = uint2(4294967295u);
        bool loop_init_1 = true;
        while(true) {
            if (metal::all(loop_bound_1 == uint2(0u))) { break; }
            loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
            if (!loop_init_1) {
                int _e83 = local_1;
                local_1 = as_type<int>(as_type<uint>(_e83) + as_type<uint>(1));
            }
            loop_init_1 = false;
            int _e66 = local_1;
            if (_e66 < 10) {
                int _e68 = local_1;
                float _e74 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e68))];
                float _e77 = local_3;
                float _e78 = local_2;
                float _e79 = metal::exp(_e74 - _e65) - _e78;
                float _e80 = _e77 + _e79;
                local_2 = (_e80 - _e77) - _e79;
                local_3 = _e80;
                continue;
            } else {
                break;
            }
        }
    }
    float _e85 = local_3;
    if (_e50) {
        local = 0;
        uint2 loop_bound_2 = uint2(4294967295u);
        bool loop_init_2 = true;
        while(true) {
            if (metal::all(loop_bound_2 == uint2(0u))) { break; }
            loop_bound_2 -= uint2(loop_bound_2.y == 0u, 1u);
            if (!loop_init_2) {
                int _e104 = local;
                local = as_type<int>(as_type<uint>(_e104) + as_type<uint>(1));
            }
            loop_init_2 = false;
            int _e87 = local;
            if (_e87 < 10) {
                int _e89 = local;
                float _e95 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e26) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e89))];
                global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e29)) + as_type<uint>(as_type<int>(as_type<uint>(_e47) * as_type<uint>(10))))) + as_type<uint>(_e89))] = metal::exp(_e95 - _e65) * (1.0 / _e85);
                continue;
            } else {
                break;
            }
        }
    }
    return;
}

struct dispatch_3_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_3_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7& global_4 [[buffer(1)]]
, constant type_11& global_5 [[buffer(2)]]
, constant _mslBufferSizes& _buffer_sizes [[buffer(4)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, _buffer_sizes);
}
