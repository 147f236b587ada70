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
    uint size7;
    uint size8;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[6];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[512];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    device type_7 const& global_8,
    constant type_11& global_9,
    threadgroup type_14& global_10,
    threadgroup type_17& global_11,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    float local_2 = {};
    int local_3 = {};
    float local_4 = {};
    float local_5 = {};
    float local_6 = {};
    uint _e50 = global_9.member.inner[0];
    int _e51 = as_type<int>(_e50);
    uint _e54 = global_9.member.inner[1];
    uint _e58 = global_9.member.inner[2];
    int _e59 = as_type<int>(_e58);
    uint _e62 = global_9.member.inner[3];
    int _e63 = as_type<int>(_e62);
    uint _e66 = global_9.member.inner[4];
    int _e67 = as_type<int>(_e66);
    uint _e70 = global_9.member.inner[5];
    int _e71 = as_type<int>(_e70);
    metal::uint3 _e72 = global;
    metal::uint3 _e73 = global_2;
    int _e83 = as_type<int>((((_e72.z * _e73.y) + _e72.y) * _e73.x) + _e72.x);
    int _e85 = naga_div(_e83, 128);
    metal::uint3 _e89 = global_1;
    int _e91 = as_type<int>(_e89.x);
    int _e92 = naga_div(_e91, 16);
    int _e93 = naga_mod(_e91, 16);
    int _e94 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e92));
    int _e95 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e83, 128)) * as_type<uint>(32))) + as_type<uint>(_e93));
    bool _e96 = _e85 < 1;
    local_6 = 0.0;
    local_5 = 0.0;
    local_3 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e225 = local_3;
            local_3 = as_type<int>(as_type<uint>(_e225) + as_type<uint>(16));
        }
        loop_init = false;
        int _e97 = local_3;
        if (_e97 < 27) {
            int _e99 = local_3;
            int _e100 = as_type<int>(as_type<uint>(_e99) + as_type<uint>(_e93));
            int _e101 = as_type<int>(as_type<uint>(_e99) + as_type<uint>(_e92));
            int _e102 = as_type<int>(as_type<uint>(_e95) + as_type<uint>(16));
            local_4 = 0.0;
            if (((_e94 < 16) && (_e100 < 27)) && _e96) {
                int _e111 = naga_mod(_e100, 9);
                float _e123 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e54)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e94))) * as_type<uint>(27))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e100, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e111, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e111, 3)))];
                local_4 = _e123;
            }
            float _e124 = local_4;
            global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e93) * as_type<uint>(17))) + as_type<uint>(_e92))] = _e124;
            local_4 = 0.0;
            if (((_e101 < 27) && (_e95 < 4096)) && _e96) {
                int _e134 = naga_mod(_e101, 9);
                int _e140 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e95, 64)) + as_type<uint>(naga_div(_e134, 3)))) + as_type<uint>(-1));
                int _e142 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e95, 64)) + as_type<uint>(naga_mod(_e134, 3)))) + as_type<uint>(-1));
                local_2 = 0.0;
                if (((_e140 >= 0) && (_e140 < 64)) && ((_e142 >= 0) && (_e142 < 64))) {
                    float _e159 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e51) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(3))) + as_type<uint>(naga_div(_e101, 9)))) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(_e140) * as_type<uint>(64))))) + as_type<uint>(_e142))];
                    local_2 = _e159;
                }
                float _e160 = local_2;
                local_4 = _e160;
            }
            float _e161 = local_4;
            global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e92) * as_type<uint>(32))) + as_type<uint>(_e93))] = _e161;
            local_4 = 0.0;
            if (((_e101 < 27) && (_e102 < 4096)) && _e96) {
                int _e171 = naga_mod(_e101, 9);
                int _e177 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e102, 64)) + as_type<uint>(naga_div(_e171, 3)))) + as_type<uint>(-1));
                int _e179 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e102, 64)) + as_type<uint>(naga_mod(_e171, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e177 >= 0) && (_e177 < 64)) && ((_e179 >= 0) && (_e179 < 64))) {
                    float _e196 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e51) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(3))) + as_type<uint>(naga_div(_e101, 9)))) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(_e177) * as_type<uint>(64))))) + as_type<uint>(_e179))];
                    local_1 = _e196;
                }
                float _e197 = local_1;
                local_4 = _e197;
            }
            float _e198 = local_4;
            global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e92) * as_type<uint>(32))) + as_type<uint>(_e93))) + as_type<uint>(16))] = _e198;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e223 = local;
                    local = as_type<int>(as_type<uint>(_e223) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e203 = local;
                if (_e203 < 16) {
                    int _e205 = local;
                    float _e209 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e205) * as_type<uint>(17))) + as_type<uint>(_e92))];
                    int _e211 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e205) * as_type<uint>(32))) + as_type<uint>(_e93));
                    float _e213 = global_11.inner[_e211];
                    float _e216 = global_11.inner[as_type<int>(as_type<uint>(_e211) + as_type<uint>(16))];
                    float _e218 = local_6;
                    local_6 = _e218 + (_e209 * _e213);
                    float _e221 = local_5;
                    local_5 = _e221 + (_e209 * _e216);
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
    if (((_e94 < 16) && (_e95 < 4096)) && _e96) {
        float _e231 = local_6;
        int _e234 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e94));
        float _e240 = global_6.member[as_type<int>(as_type<uint>(_e63) + as_type<uint>(_e234))];
        float _e245 = global_7.member[as_type<int>(as_type<uint>(_e67) + as_type<uint>(_e234))];
        float _e250 = global_8.member[as_type<int>(as_type<uint>(_e71) + as_type<uint>(_e234))];
        float _e251 = ((_e231 + _e240) * _e245) + _e250;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e59) + as_type<uint>(as_type<int>(as_type<uint>(_e234) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e95, 64)) * as_type<uint>(64))))) + as_type<uint>(naga_mod(_e95, 64)))] = ((_e251 > 0.0) || ((as_type<uint>(_e251) & 2147483647u) > 2139095040u)) ? _e251 : 0.0;
    }
    int _e265 = as_type<int>(as_type<uint>(_e95) + as_type<uint>(16));
    if (((_e94 < 16) && (_e265 < 4096)) && _e96) {
        float _e270 = local_5;
        int _e273 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 1)) * as_type<uint>(16))) + as_type<uint>(_e94));
        float _e279 = global_6.member[as_type<int>(as_type<uint>(_e63) + as_type<uint>(_e273))];
        float _e284 = global_7.member[as_type<int>(as_type<uint>(_e67) + as_type<uint>(_e273))];
        float _e289 = global_8.member[as_type<int>(as_type<uint>(_e71) + as_type<uint>(_e273))];
        float _e290 = ((_e270 + _e279) * _e284) + _e289;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e59) + as_type<uint>(as_type<int>(as_type<uint>(_e273) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e265, 64)) * as_type<uint>(64))))) + as_type<uint>(naga_mod(_e265, 64)))] = ((_e290 > 0.0) || ((as_type<uint>(_e290) & 2147483647u) > 2139095040u)) ? _e290 : 0.0;
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
, device type_7 const& global_7 [[buffer(4)]]
, device type_7 const& global_8 [[buffer(5)]]
, constant type_11& global_9 [[buffer(6)]]
, threadgroup type_14& global_10
, threadgroup type_17& global_11
, constant _mslBufferSizes& _buffer_sizes [[buffer(8)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_10 = {};
        global_11 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, global_11, _buffer_sizes);
}

// ===== entry 1: kernel dispatch_1_ =====
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

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
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
    int local_2 = {};
    float local_3 = {};
    uint _e29 = global_5.member.inner[0];
    uint _e33 = global_5.member.inner[1];
    metal::uint3 _e35 = global;
    metal::uint3 _e36 = global_2;
    metal::uint3 _e47 = global_1;
    int _e51 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>((((_e35.z * _e36.y) + _e35.y) * _e36.x) + _e35.x)) * as_type<uint>(128))) + as_type<uint>(as_type<int>(_e47.x)));
    if (as_type<uint>(_e51) < as_type<uint>(16384)) {
        int _e55 = naga_mod(_e51, 32);
        int _e56 = naga_div(_e51, 32);
        int _e57 = naga_mod(_e56, 32);
        int _e58 = naga_div(_e56, 32);
        int _e59 = naga_mod(_e58, 16);
        local_3 = as_type<float>(4286578688u);
        local_2 = 0;
        local_1 = 0;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e94 = local_1;
                local_1 = as_type<int>(as_type<uint>(_e94) + as_type<uint>(1));
            }
            loop_init = false;
            int _e65 = local_1;
            if (_e65 < 3) {
                int _e67 = local_1;
                local = 0;
                uint2 loop_bound_1 = uint2(4294967295u);
                bool loop_init_1 = true;
                while(true) {
                    if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                    loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                    if (!loop_init_1) {
                        int _e92 = local;
                        local = as_type<int>(as_type<uint>(_e92) + as_type<uint>(1));
                    }
                    loop_init_1 = false;
                    int _e68 = local;
                    if (_e68 < 3) {
                        int _e70 = local;
                        int _e71 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e57) * as_type<uint>(2))) + as_type<uint>(-1))) + as_type<uint>(_e67));
                        int _e72 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e55) * as_type<uint>(2))) + as_type<uint>(-1))) + as_type<uint>(_e70));
                        if (((_e71 >= 0) && (_e71 < 64)) && ((_e72 >= 0) && (_e72 < 64))) {
                            float _e87 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e29)) + as_type<uint>(as_type<int>(as_type<uint>(_e59) * as_type<uint>(4096))))) + as_type<uint>(as_type<int>(as_type<uint>(_e71) * as_type<uint>(64))))) + as_type<uint>(_e72))];
                            float _e88 = local_3;
                            local_3 = metal::max(_e88, _e87);
                            int _e90 = local_2;
                            local_2 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(1));
                        }
                        continue;
                    } else {
                        break;
                    }
                }
                continue;
            } else {
                break;
            }
        }
        float _e96 = local_3;
        global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(as_type<int>(as_type<uint>(_e59) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e57) * as_type<uint>(32))))) + as_type<uint>(_e55))] = _e96;
    }
    return;
}

struct dispatch_1_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_1_(
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
    uint size7;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[5];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    constant type_11& global_8,
    threadgroup type_14& global_9,
    threadgroup type_17& global_10,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e45 = global_8.member.inner[0];
    uint _e49 = global_8.member.inner[1];
    uint _e53 = global_8.member.inner[2];
    uint _e57 = global_8.member.inner[3];
    uint _e61 = global_8.member.inner[4];
    metal::uint3 _e63 = global;
    metal::uint3 _e64 = global_2;
    int _e74 = as_type<int>((((_e63.z * _e64.y) + _e63.y) * _e64.x) + _e63.x);
    int _e76 = naga_div(_e74, 64);
    metal::uint3 _e80 = global_1;
    int _e82 = as_type<int>(_e80.x);
    int _e83 = naga_div(_e82, 16);
    int _e84 = naga_mod(_e82, 16);
    int _e85 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e76, 1)) * as_type<uint>(16))) + as_type<uint>(_e83));
    int _e86 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e74, 64)) * as_type<uint>(16))) + as_type<uint>(_e84));
    bool _e87 = _e76 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e171 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e171) + as_type<uint>(16));
        }
        loop_init = false;
        int _e88 = local_2;
        if (_e88 < 144) {
            int _e90 = local_2;
            int _e91 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(_e84));
            int _e92 = as_type<int>(as_type<uint>(_e90) + as_type<uint>(_e83));
            local_3 = 0.0;
            if (((_e85 < 16) && (_e91 < 144)) && _e87) {
                int _e101 = naga_mod(_e91, 9);
                float _e113 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e76, 1)) * as_type<uint>(16))) + as_type<uint>(_e85))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e91, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e101, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e101, 3)))];
                local_3 = _e113;
            }
            float _e114 = local_3;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e84) * as_type<uint>(17))) + as_type<uint>(_e83))] = _e114;
            local_3 = 0.0;
            if (((_e92 < 144) && (_e86 < 1024)) && _e87) {
                int _e124 = naga_mod(_e92, 9);
                int _e130 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e86, 32)) + as_type<uint>(naga_div(_e124, 3)))) + as_type<uint>(-1));
                int _e132 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e86, 32)) + as_type<uint>(naga_mod(_e124, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e130 >= 0) && (_e130 < 32)) && ((_e132 >= 0) && (_e132 < 32))) {
                    float _e149 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e76, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e92, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e130) * as_type<uint>(32))))) + as_type<uint>(_e132))];
                    local_1 = _e149;
                }
                float _e150 = local_1;
                local_3 = _e150;
            }
            float _e151 = local_3;
            global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e83) * as_type<uint>(16))) + as_type<uint>(_e84))] = _e151;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e169 = local;
                    local = as_type<int>(as_type<uint>(_e169) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e155 = local;
                if (_e155 < 16) {
                    int _e157 = local;
                    float _e161 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e157) * as_type<uint>(17))) + as_type<uint>(_e83))];
                    float _e165 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e157) * as_type<uint>(16))) + as_type<uint>(_e84))];
                    float _e167 = local_4;
                    local_4 = _e167 + (_e161 * _e165);
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
    if (((_e85 < 16) && (_e86 < 1024)) && _e87) {
        float _e177 = local_4;
        int _e180 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e76, 1)) * as_type<uint>(16))) + as_type<uint>(_e85));
        float _e186 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e57)) + as_type<uint>(_e180))];
        float _e191 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e61)) + as_type<uint>(_e180))];
        float _e192 = (_e177 * _e186) + _e191;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e53)) + as_type<uint>(as_type<int>(as_type<uint>(_e180) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e86, 32)) * as_type<uint>(32))))) + as_type<uint>(naga_mod(_e86, 32)))] = ((_e192 > 0.0) || ((as_type<uint>(_e192) & 2147483647u) > 2139095040u)) ? _e192 : 0.0;
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
, device type_7 const& global_7 [[buffer(4)]]
, constant type_11& global_8 [[buffer(5)]]
, threadgroup type_14& global_9
, threadgroup type_17& global_10
, constant _mslBufferSizes& _buffer_sizes [[buffer(7)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_9 = {};
        global_10 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, _buffer_sizes);
}

// ===== entry 3: kernel dispatch_3_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
    uint size7;
    uint size8;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[6];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    device type_7 const& global_8,
    constant type_11& global_9,
    threadgroup type_14& global_10,
    threadgroup type_17& global_11,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e47 = global_9.member.inner[0];
    uint _e51 = global_9.member.inner[1];
    uint _e55 = global_9.member.inner[2];
    uint _e59 = global_9.member.inner[3];
    uint _e63 = global_9.member.inner[4];
    uint _e67 = global_9.member.inner[5];
    metal::uint3 _e69 = global;
    metal::uint3 _e70 = global_2;
    int _e80 = as_type<int>((((_e69.z * _e70.y) + _e69.y) * _e70.x) + _e69.x);
    int _e82 = naga_div(_e80, 64);
    metal::uint3 _e86 = global_1;
    int _e88 = as_type<int>(_e86.x);
    int _e89 = naga_div(_e88, 16);
    int _e90 = naga_mod(_e88, 16);
    int _e91 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(16))) + as_type<uint>(_e89));
    int _e92 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e80, 64)) * as_type<uint>(16))) + as_type<uint>(_e90));
    bool _e93 = _e82 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e177 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e177) + as_type<uint>(16));
        }
        loop_init = false;
        int _e94 = local_2;
        if (_e94 < 144) {
            int _e96 = local_2;
            int _e97 = as_type<int>(as_type<uint>(_e96) + as_type<uint>(_e90));
            int _e98 = as_type<int>(as_type<uint>(_e96) + as_type<uint>(_e89));
            local_3 = 0.0;
            if (((_e91 < 16) && (_e97 < 144)) && _e93) {
                int _e107 = naga_mod(_e97, 9);
                float _e119 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e51)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(16))) + as_type<uint>(_e91))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e97, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e107, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e107, 3)))];
                local_3 = _e119;
            }
            float _e120 = local_3;
            global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e90) * as_type<uint>(17))) + as_type<uint>(_e89))] = _e120;
            local_3 = 0.0;
            if (((_e98 < 144) && (_e92 < 1024)) && _e93) {
                int _e130 = naga_mod(_e98, 9);
                int _e136 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e92, 32)) + as_type<uint>(naga_div(_e130, 3)))) + as_type<uint>(-1));
                int _e138 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e92, 32)) + as_type<uint>(naga_mod(_e130, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e136 >= 0) && (_e136 < 32)) && ((_e138 >= 0) && (_e138 < 32))) {
                    float _e155 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e47)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e98, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e136) * as_type<uint>(32))))) + as_type<uint>(_e138))];
                    local_1 = _e155;
                }
                float _e156 = local_1;
                local_3 = _e156;
            }
            float _e157 = local_3;
            global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e89) * as_type<uint>(16))) + as_type<uint>(_e90))] = _e157;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e175 = local;
                    local = as_type<int>(as_type<uint>(_e175) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e161 = local;
                if (_e161 < 16) {
                    int _e163 = local;
                    float _e167 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e163) * as_type<uint>(17))) + as_type<uint>(_e89))];
                    float _e171 = global_11.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e163) * as_type<uint>(16))) + as_type<uint>(_e90))];
                    float _e173 = local_4;
                    local_4 = _e173 + (_e167 * _e171);
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
    if (((_e91 < 16) && (_e92 < 1024)) && _e93) {
        float _e183 = local_4;
        int _e186 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e82, 1)) * as_type<uint>(16))) + as_type<uint>(_e91));
        int _e187 = naga_div(_e92, 32);
        int _e188 = naga_mod(_e92, 32);
        float _e192 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e59)) + as_type<uint>(_e186))];
        float _e197 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e63)) + as_type<uint>(_e186))];
        float _e206 = global_8.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e67)) + as_type<uint>(as_type<int>(as_type<uint>(_e186) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e187) * as_type<uint>(32))))) + as_type<uint>(_e188))];
        float _e207 = ((_e183 * _e192) + _e197) + _e206;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e55)) + as_type<uint>(as_type<int>(as_type<uint>(_e186) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e187) * as_type<uint>(32))))) + as_type<uint>(_e188))] = ((_e207 > 0.0) || ((as_type<uint>(_e207) & 2147483647u) > 2139095040u)) ? _e207 : 0.0;
    }
    return;
}

struct dispatch_3_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_3_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, device type_7 const& global_7 [[buffer(4)]]
, device type_7 const& global_8 [[buffer(5)]]
, constant type_11& global_9 [[buffer(6)]]
, threadgroup type_14& global_10
, threadgroup type_17& global_11
, constant _mslBufferSizes& _buffer_sizes [[buffer(8)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_10 = {};
        global_11 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, global_11, _buffer_sizes);
}

// ===== entry 4: kernel dispatch_4_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
    uint size6;
    uint size7;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[5];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    device type_7 const& global_6,
    device type_7 const& global_7,
    constant type_11& global_8,
    threadgroup type_14& global_9,
    threadgroup type_17& global_10,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    int local_2 = {};
    float local_3 = {};
    float local_4 = {};
    uint _e46 = global_8.member.inner[0];
    uint _e50 = global_8.member.inner[1];
    uint _e54 = global_8.member.inner[2];
    uint _e58 = global_8.member.inner[3];
    uint _e62 = global_8.member.inner[4];
    metal::uint3 _e64 = global;
    metal::uint3 _e65 = global_2;
    int _e75 = as_type<int>((((_e64.z * _e65.y) + _e64.y) * _e65.x) + _e64.x);
    int _e77 = naga_div(_e75, 16);
    int _e79 = naga_div(_e77, 2);
    metal::uint3 _e82 = global_1;
    int _e84 = as_type<int>(_e82.x);
    int _e85 = naga_div(_e84, 16);
    int _e86 = naga_mod(_e84, 16);
    int _e87 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e77, 2)) * as_type<uint>(16))) + as_type<uint>(_e85));
    int _e88 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e75, 16)) * as_type<uint>(16))) + as_type<uint>(_e86));
    bool _e89 = _e79 < 1;
    local_4 = 0.0;
    local_2 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e175 = local_2;
            local_2 = as_type<int>(as_type<uint>(_e175) + as_type<uint>(16));
        }
        loop_init = false;
        int _e90 = local_2;
        if (_e90 < 144) {
            int _e92 = local_2;
            int _e93 = as_type<int>(as_type<uint>(_e92) + as_type<uint>(_e86));
            int _e94 = as_type<int>(as_type<uint>(_e92) + as_type<uint>(_e85));
            local_3 = 0.0;
            if (((_e87 < 32) && (_e93 < 144)) && _e89) {
                int _e103 = naga_mod(_e93, 9);
                float _e115 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e50)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(32))) + as_type<uint>(_e87))) * as_type<uint>(144))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e93, 9)) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e103, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e103, 3)))];
                local_3 = _e115;
            }
            float _e116 = local_3;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e86) * as_type<uint>(17))) + as_type<uint>(_e85))] = _e116;
            local_3 = 0.0;
            if (((_e94 < 144) && (_e88 < 256)) && _e89) {
                int _e126 = naga_mod(_e94, 9);
                int _e133 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e88, 16)) * as_type<uint>(2))) + as_type<uint>(naga_div(_e126, 3)))) + as_type<uint>(-1));
                int _e136 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e88, 16)) * as_type<uint>(2))) + as_type<uint>(naga_mod(_e126, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e133 >= 0) && (_e133 < 32)) && ((_e136 >= 0) && (_e136 < 32))) {
                    float _e153 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e46)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(16))) + as_type<uint>(naga_div(_e94, 9)))) * as_type<uint>(1024))))) + as_type<uint>(as_type<int>(as_type<uint>(_e133) * as_type<uint>(32))))) + as_type<uint>(_e136))];
                    local_1 = _e153;
                }
                float _e154 = local_1;
                local_3 = _e154;
            }
            float _e155 = local_3;
            global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e85) * as_type<uint>(16))) + as_type<uint>(_e86))] = _e155;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e173 = local;
                    local = as_type<int>(as_type<uint>(_e173) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e159 = local;
                if (_e159 < 16) {
                    int _e161 = local;
                    float _e165 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e161) * as_type<uint>(17))) + as_type<uint>(_e85))];
                    float _e169 = global_10.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e161) * as_type<uint>(16))) + as_type<uint>(_e86))];
                    float _e171 = local_4;
                    local_4 = _e171 + (_e165 * _e169);
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
    if (((_e87 < 32) && (_e88 < 256)) && _e89) {
        float _e181 = local_4;
        int _e184 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e79, 1)) * as_type<uint>(32))) + as_type<uint>(_e87));
        float _e190 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e58)) + as_type<uint>(_e184))];
        float _e195 = global_7.member[as_type<int>(as_type<uint>(as_type<int>(_e62)) + as_type<uint>(_e184))];
        float _e196 = (_e181 * _e190) + _e195;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e54)) + as_type<uint>(as_type<int>(as_type<uint>(_e184) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e88, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e88, 16)))] = ((_e196 > 0.0) || ((as_type<uint>(_e196) & 2147483647u) > 2139095040u)) ? _e196 : 0.0;
    }
    return;
}

struct dispatch_4_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_4_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, device type_7 const& global_6 [[buffer(3)]]
, device type_7 const& global_7 [[buffer(4)]]
, constant type_11& global_8 [[buffer(5)]]
, threadgroup type_14& global_9
, threadgroup type_17& global_10
, constant _mslBufferSizes& _buffer_sizes [[buffer(7)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_9 = {};
        global_10 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, global_9, global_10, _buffer_sizes);
}

// ===== entry 5: kernel dispatch_5_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[3];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[272];
};
struct type_17 {
    float inner[1024];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    constant type_11& global_6,
    threadgroup type_14& global_7,
    threadgroup type_17& global_8,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    float local_2 = {};
    float local_3 = {};
    float local_4 = {};
    int local_5 = {};
    float local_6 = {};
    float local_7 = {};
    float local_8 = {};
    float local_9 = {};
    float local_10 = {};
    uint _e45 = global_6.member.inner[0];
    int _e46 = as_type<int>(_e45);
    uint _e49 = global_6.member.inner[1];
    uint _e53 = global_6.member.inner[2];
    int _e54 = as_type<int>(_e53);
    metal::uint3 _e55 = global;
    metal::uint3 _e56 = global_2;
    int _e66 = as_type<int>((((_e55.z * _e56.y) + _e55.y) * _e56.x) + _e55.x);
    int _e68 = naga_div(_e66, 4);
    metal::uint3 _e72 = global_1;
    int _e74 = as_type<int>(_e72.x);
    int _e75 = naga_div(_e74, 16);
    int _e76 = naga_mod(_e74, 16);
    int _e77 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 1)) * as_type<uint>(16))) + as_type<uint>(_e75));
    int _e78 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e66, 4)) * as_type<uint>(64))) + as_type<uint>(_e76));
    bool _e79 = _e68 < 32;
    local_10 = 0.0;
    local_9 = 0.0;
    local_8 = 0.0;
    local_7 = 0.0;
    local_5 = 0;
    uint2 loop_bound = uint2(4294967295u);
    bool loop_init = true;
    while(true) {
        if (metal::all(loop_bound == uint2(0u))) { break; }
        loop_bound -= uint2(loop_bound.y == 0u, 1u);
        if (!loop_init) {
            int _e295 = local_5;
            local_5 = as_type<int>(as_type<uint>(_e295) + as_type<uint>(16));
        }
        loop_init = false;
        int _e80 = local_5;
        if (_e80 < 9) {
            int _e82 = local_5;
            int _e83 = as_type<int>(as_type<uint>(_e82) + as_type<uint>(_e76));
            int _e84 = as_type<int>(as_type<uint>(_e82) + as_type<uint>(_e75));
            int _e85 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(16));
            int _e86 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(32));
            int _e87 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(48));
            local_6 = 0.0;
            if (((_e77 < 1) && (_e83 < 9)) && _e79) {
                int _e95 = naga_mod(_e83, 9);
                float _e105 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e49)) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(_e77))) * as_type<uint>(9))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e95, 3)) * as_type<uint>(3))))) + as_type<uint>(naga_mod(_e95, 3)))];
                local_6 = _e105;
            }
            float _e106 = local_6;
            global_7.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e76) * as_type<uint>(17))) + as_type<uint>(_e75))] = _e106;
            local_6 = 0.0;
            if (((_e84 < 9) && (_e78 < 256)) && _e79) {
                int _e117 = naga_mod(_e84, 9);
                int _e123 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e78, 16)) + as_type<uint>(naga_div(_e117, 3)))) + as_type<uint>(-1));
                int _e125 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e78, 16)) + as_type<uint>(naga_mod(_e117, 3)))) + as_type<uint>(-1));
                local_4 = 0.0;
                if (((_e123 >= 0) && (_e123 < 16)) && ((_e125 >= 0) && (_e125 < 16))) {
                    float _e141 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e46) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(naga_div(_e84, 9)))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(_e123) * as_type<uint>(16))))) + as_type<uint>(_e125))];
                    local_4 = _e141;
                }
                float _e142 = local_4;
                local_6 = _e142;
            }
            float _e143 = local_6;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(64))) + as_type<uint>(_e76))] = _e143;
            local_6 = 0.0;
            if (((_e84 < 9) && (_e85 < 256)) && _e79) {
                int _e154 = naga_mod(_e84, 9);
                int _e160 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e85, 16)) + as_type<uint>(naga_div(_e154, 3)))) + as_type<uint>(-1));
                int _e162 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e85, 16)) + as_type<uint>(naga_mod(_e154, 3)))) + as_type<uint>(-1));
                local_3 = 0.0;
                if (((_e160 >= 0) && (_e160 < 16)) && ((_e162 >= 0) && (_e162 < 16))) {
                    float _e178 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e46) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(naga_div(_e84, 9)))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(_e160) * as_type<uint>(16))))) + as_type<uint>(_e162))];
                    local_3 = _e178;
                }
                float _e179 = local_3;
                local_6 = _e179;
            }
            float _e180 = local_6;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(64))) + as_type<uint>(_e76))) + as_type<uint>(16))] = _e180;
            local_6 = 0.0;
            if (((_e84 < 9) && (_e86 < 256)) && _e79) {
                int _e192 = naga_mod(_e84, 9);
                int _e198 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e86, 16)) + as_type<uint>(naga_div(_e192, 3)))) + as_type<uint>(-1));
                int _e200 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e86, 16)) + as_type<uint>(naga_mod(_e192, 3)))) + as_type<uint>(-1));
                local_2 = 0.0;
                if (((_e198 >= 0) && (_e198 < 16)) && ((_e200 >= 0) && (_e200 < 16))) {
                    float _e216 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e46) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(naga_div(_e84, 9)))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(_e198) * as_type<uint>(16))))) + as_type<uint>(_e200))];
                    local_2 = _e216;
                }
                float _e217 = local_2;
                local_6 = _e217;
            }
            float _e218 = local_6;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(64))) + as_type<uint>(_e76))) + as_type<uint>(32))] = _e218;
            local_6 = 0.0;
            if (((_e84 < 9) && (_e87 < 256)) && _e79) {
                int _e230 = naga_mod(_e84, 9);
                int _e236 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e87, 16)) + as_type<uint>(naga_div(_e230, 3)))) + as_type<uint>(-1));
                int _e238 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e87, 16)) + as_type<uint>(naga_mod(_e230, 3)))) + as_type<uint>(-1));
                local_1 = 0.0;
                if (((_e236 >= 0) && (_e236 < 16)) && ((_e238 >= 0) && (_e238 < 16))) {
                    float _e254 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e46) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(naga_div(_e84, 9)))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(_e236) * as_type<uint>(16))))) + as_type<uint>(_e238))];
                    local_1 = _e254;
                }
                float _e255 = local_1;
                local_6 = _e255;
            }
            float _e256 = local_6;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(64))) + as_type<uint>(_e76))) + as_type<uint>(48))] = _e256;
            metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
            local = 0;
            uint2 loop_bound_1 = uint2(4294967295u);
            bool loop_init_1 = true;
            while(true) {
                if (metal::all(loop_bound_1 == uint2(0u))) { break; }
                loop_bound_1 -= uint2(loop_bound_1.y == 0u, 1u);
                if (!loop_init_1) {
                    int _e293 = local;
                    local = as_type<int>(as_type<uint>(_e293) + as_type<uint>(1));
                }
                loop_init_1 = false;
                int _e261 = local;
                if (_e261 < 16) {
                    int _e263 = local;
                    float _e267 = global_7.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e263) * as_type<uint>(17))) + as_type<uint>(_e75))];
                    int _e269 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e263) * as_type<uint>(64))) + as_type<uint>(_e76));
                    float _e271 = global_8.inner[_e269];
                    float _e274 = global_8.inner[as_type<int>(as_type<uint>(_e269) + as_type<uint>(16))];
                    float _e277 = global_8.inner[as_type<int>(as_type<uint>(_e269) + as_type<uint>(32))];
                    float _e280 = global_8.inner[as_type<int>(as_type<uint>(_e269) + as_type<uint>(48))];
                    float _e282 = local_10;
                    local_10 = _e282 + (_e267 * _e271);
                    float _e285 = local_9;
                    local_9 = _e285 + (_e267 * _e274);
                    float _e288 = local_8;
                    local_8 = _e288 + (_e267 * _e277);
                    float _e291 = local_7;
                    local_7 = _e291 + (_e267 * _e280);
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
    if (((_e77 < 1) && (_e78 < 256)) && _e79) {
        float _e301 = local_10;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e54) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(_e77))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e78, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e78, 16)))] = _e301;
    }
    int _e314 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(16));
    if (((_e77 < 1) && (_e314 < 256)) && _e79) {
        float _e319 = local_9;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e54) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(_e77))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e314, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e314, 16)))] = _e319;
    }
    int _e332 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(32));
    if (((_e77 < 1) && (_e332 < 256)) && _e79) {
        float _e337 = local_8;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e54) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(_e77))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e332, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e332, 16)))] = _e337;
    }
    int _e350 = as_type<int>(as_type<uint>(_e78) + as_type<uint>(48));
    if (((_e77 < 1) && (_e350 < 256)) && _e79) {
        float _e355 = local_7;
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e54) + as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e68, 32)) + as_type<uint>(_e77))) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e350, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e350, 16)))] = _e355;
    }
    return;
}

struct dispatch_5_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_5_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, constant type_11& global_6 [[buffer(3)]]
, threadgroup type_14& global_7
, threadgroup type_17& global_8
, constant _mslBufferSizes& _buffer_sizes [[buffer(5)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_7 = {};
        global_8 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, global_8, _buffer_sizes);
}

// ===== entry 6: kernel dispatch_6_ =====
// language: metal2.4
#include <metal_stdlib>
#include <simd/simd.h>

using metal::uint;

struct _mslBufferSizes {
    uint size3;
    uint size4;
    uint size5;
};

typedef float type_6[1];
struct type_7 {
    type_6 member;
};
struct type_10 {
    uint inner[3];
};
struct type_11 {
    type_10 member;
};
struct type_14 {
    float inner[128];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
}

void function(
    thread metal::uint3& global,
    thread metal::uint3& global_1,
    thread metal::uint3& global_2,
    device type_7 const& global_3,
    device type_7 const& global_4,
    device type_7& global_5,
    constant type_11& global_6,
    threadgroup type_14& global_7,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    float local_1 = {};
    float local_2 = {};
    uint _e33 = global_6.member.inner[0];
    uint _e37 = global_6.member.inner[1];
    uint _e41 = global_6.member.inner[2];
    metal::uint3 _e43 = global;
    metal::uint3 _e44 = global_2;
    metal::uint3 _e55 = global_1;
    int _e57 = as_type<int>(_e55.x);
    int _e58 = naga_mod(_e57, 128);
    int _e60 = as_type<int>(as_type<uint>(as_type<int>((((_e43.z * _e44.y) + _e43.y) * _e44.x) + _e43.x)) + as_type<uint>(naga_div(_e57, 128)));
    bool _e63 = as_type<uint>(_e60) < as_type<uint>(32);
    local_2 = 0.0;
    local_1 = 0.0;
    if (_e63) {
        int _e64 = naga_mod(_e60, 32);
        local = _e58;
        uint2 loop_bound = uint2(4294967295u);
        bool loop_init = true;
        while(true) {
            if (metal::all(loop_bound == uint2(0u))) { break; }
            loop_bound -= uint2(loop_bound.y == 0u, 1u);
            if (!loop_init) {
                int _e96 = local;
                local = as_type<int>(as_type<uint>(_e96) + as_type<uint>(128));
            }
            loop_init = false;
            int _e66 = local;
            if (_e66 < 256) {
                int _e68 = local;
                float _e78 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(as_type<int>(as_type<uint>(_e64) * as_type<uint>(256))))) + as_type<uint>(as_type<int>(as_type<uint>(naga_div(_e68, 16)) * as_type<uint>(16))))) + as_type<uint>(naga_mod(_e68, 16)))];
                float _e82 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(_e37)) + as_type<uint>(_e64))];
                float _e83 = _e78 + _e82;
                float _e90 = local_2;
                float _e91 = local_1;
                float _e92 = (((_e83 > 0.0) || ((as_type<uint>(_e83) & 2147483647u) > 2139095040u)) ? _e83 : 0.0) - _e91;
                float _e93 = _e90 + _e92;
                local_1 = (_e93 - _e90) - _e92;
                local_2 = _e93;
                continue;
            } else {
                break;
            }
        }
    }
    float _e98 = local_2;
    global_7.inner[_e57] = _e98;
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 64) {
        float _e103 = global_7.inner[_e57];
        float _e105 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(64))];
        global_7.inner[_e57] = _e103 + _e105;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 32) {
        float _e111 = global_7.inner[_e57];
        float _e113 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(32))];
        global_7.inner[_e57] = _e111 + _e113;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 16) {
        float _e119 = global_7.inner[_e57];
        float _e121 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(16))];
        global_7.inner[_e57] = _e119 + _e121;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 8) {
        float _e127 = global_7.inner[_e57];
        float _e129 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(8))];
        global_7.inner[_e57] = _e127 + _e129;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 4) {
        float _e135 = global_7.inner[_e57];
        float _e137 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(4))];
        global_7.inner[_e57] = _e135 + _e137;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 2) {
        float _e143 = global_7.inner[_e57];
        float _e145 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(2))];
        global_7.inner[_e57] = _e143 + _e145;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e58 < 1) {
        float _e151 = global_7.inner[_e57];
        float _e153 = global_7.inner[as_type<int>(as_type<uint>(_e57) + as_type<uint>(1))];
        global_7.inner[_e57] = _e151 + _e153;
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    float _e158 = global_7.inner[as_type<int>(as_type<uint>(_e57) - as_type<uint>(_e58))];
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    if (_e63 && (_e58 == 0)) {
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(naga_mod(_e60, 32)))] = _e158 / 256.0;
    }
    return;
}

struct dispatch_6_Input {
};
[[max_total_threads_per_threadgroup(128)]] kernel void dispatch_6_(
  metal::uint3 param [[threadgroup_position_in_grid]]
, metal::uint3 param_1 [[thread_position_in_threadgroup]]
, metal::uint3 param_2 [[threadgroups_per_grid]]
, uint __local_invocation_index [[thread_index_in_threadgroup]]
, device type_7 const& global_3 [[buffer(0)]]
, device type_7 const& global_4 [[buffer(1)]]
, device type_7& global_5 [[buffer(2)]]
, constant type_11& global_6 [[buffer(3)]]
, threadgroup type_14& global_7
, constant _mslBufferSizes& _buffer_sizes [[buffer(5)]]
) {
    metal::uint3 global = {};
    metal::uint3 global_1 = {};
    metal::uint3 global_2 = {};
    if (__local_invocation_index == 0u) {
        global_7 = {};
    }
    metal::threadgroup_barrier(metal::mem_flags::mem_threadgroup);
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function(global, global_1, global_2, global_3, global_4, global_5, global_6, global_7, _buffer_sizes);
}

// ===== entry 7: kernel dispatch_7_ =====
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
    float inner[272];
};
struct type_17 {
    float inner[256];
};

int naga_mod(int lhs, int rhs) {
    int divisor = metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
    return lhs - (lhs / divisor) * divisor;
}

int naga_div(int lhs, int rhs) {
    return lhs / metal::select(rhs, 1, (lhs == (-2147483647 - 1) & rhs == -1) | (rhs == 0));
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
    threadgroup type_17& global_9,
    constant _mslBufferSizes& _buffer_sizes
) {
    int local = {};
    int local_1 = {};
    float local_2 = {};
    float local_3 = {};
    uint _e33 = global_7.member.inner[0];
    uint _e37 = global_7.member.inner[1];
    uint _e41 = global_7.member.inner[2];
    uint _e45 = global_7.member.inner[3];
    metal::uint3 _e47 = global;
    metal::uint3 _e48 = global_2;
    int _e58 = as_type<int>((((_e47.z * _e48.y) + _e47.y) * _e48.x) + _e47.x);
    metal::uint3 _e63 = global_1;
    int _e65 = as_type<int>(_e63.x);
    int _e66 = naga_div(_e65, 16);
    int _e67 = naga_mod(_e65, 16);
    int _e68 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e58, 1)) * as_type<uint>(16))) + as_type<uint>(_e66));
    int _e69 = as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(naga_mod(_e58, 1)) * as_type<uint>(16))) + as_type<uint>(_e67));
    bool _e70 = _e58 < 1;
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
        int _e71 = local_1;
        if (_e71 < 32) {
            int _e73 = local_1;
            int _e74 = as_type<int>(as_type<uint>(_e73) + as_type<uint>(_e67));
            int _e75 = as_type<int>(as_type<uint>(_e73) + as_type<uint>(_e66));
            local_2 = 0.0;
            if (((_e68 < 1) && (_e74 < 32)) && _e70) {
                float _e83 = global_3.member[as_type<int>(as_type<uint>(as_type<int>(_e33)) + as_type<uint>(_e74))];
                local_2 = _e83;
            }
            float _e84 = local_2;
            global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e67) * as_type<uint>(17))) + as_type<uint>(_e66))] = _e84;
            local_2 = 0.0;
            if (((_e75 < 32) && (_e69 < 10)) && _e70) {
                float _e97 = global_4.member[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(as_type<int>(_e37)) + as_type<uint>(as_type<int>(as_type<uint>(_e75) * as_type<uint>(10))))) + as_type<uint>(_e69))];
                local_2 = _e97;
            }
            float _e98 = local_2;
            global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e66) * as_type<uint>(16))) + as_type<uint>(_e67))] = _e98;
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
                    float _e108 = global_8.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e104) * as_type<uint>(17))) + as_type<uint>(_e66))];
                    float _e112 = global_9.inner[as_type<int>(as_type<uint>(as_type<int>(as_type<uint>(_e104) * as_type<uint>(16))) + as_type<uint>(_e67))];
                    float _e114 = local_3;
                    local_3 = _e114 + (_e108 * _e112);
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
    if (((_e68 < 1) && (_e69 < 10)) && _e70) {
        float _e124 = local_3;
        float _e128 = global_6.member[as_type<int>(as_type<uint>(as_type<int>(_e45)) + as_type<uint>(_e69))];
        global_5.member[as_type<int>(as_type<uint>(as_type<int>(_e41)) + as_type<uint>(_e69))] = _e124 + _e128;
    }
    return;
}

struct dispatch_7_Input {
};
[[max_total_threads_per_threadgroup(256)]] kernel void dispatch_7_(
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
, threadgroup type_17& global_9
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
