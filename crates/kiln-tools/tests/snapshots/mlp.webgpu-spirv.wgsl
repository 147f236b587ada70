// ===== entry 0: kernel dispatch_0_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 272>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e42 = global_7.member[0i][0i];
    let _e47 = global_7.member[0i][1i];
    let _e52 = global_7.member[0i][2i];
    let _e57 = global_7.member[0i][3i];
    let _e59 = global;
    let _e60 = global_2;
    let _e70 = bitcast<i32>(((((_e59.z * _e60.y) + _e59.y) * _e60.x) + _e59.x));
    let _e72 = (_e70 / 32i);
    let _e76 = global_1;
    let _e78 = bitcast<i32>(_e76.x);
    let _e79 = (_e78 / 16i);
    let _e80 = (_e78 % 16i);
    let _e81 = (((_e72 % 1i) * 16i) + _e79);
    let _e82 = (((_e70 % 32i) * 16i) + _e80);
    let _e83 = (_e72 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e84 = local_1;
        if (_e84 < 784i) {
            let _e86 = local_1;
            let _e87 = (_e86 + _e80);
            let _e88 = (_e86 + _e79);
            local_2 = 0f;
            if (((_e81 < 8i) && (_e87 < 784i)) && _e83) {
                let _e98 = global_3.member[((bitcast<i32>(_e42) + (_e81 * 784i)) + _e87)];
                local_2 = _e98;
            }
            let _e99 = local_2;
            global_8[((_e80 * 17i) + _e79)] = _e99;
            local_2 = 0f;
            if (((_e88 < 784i) && (_e82 < 512i)) && _e83) {
                let _e112 = global_4.member[((bitcast<i32>(_e47) + (_e88 * 512i)) + _e82)];
                local_2 = _e112;
            }
            let _e113 = local_2;
            global_9[((_e79 * 16i) + _e80)] = _e113;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e117 = local;
                if (_e117 < 16i) {
                    let _e119 = local;
                    let _e123 = global_8[((_e119 * 17i) + _e79)];
                    let _e127 = global_9[((_e119 * 16i) + _e80)];
                    let _e129 = local_3;
                    local_3 = (_e129 + (_e123 * _e127));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e131 = local;
                    local = (_e131 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e133 = local_1;
            local_1 = (_e133 + 16i);
        }
    }
    if (((_e81 < 8i) && (_e82 < 512i)) && _e83) {
        let _e139 = local_3;
        let _e143 = global_6.member[(bitcast<i32>(_e57) + _e82)];
        let _e144 = (_e139 + _e143);
        global_5.member[((bitcast<i32>(_e52) + (_e81 * 512i)) + _e82)] = select(0f, _e144, ((_e144 > 0f) || ((bitcast<u32>(_e144) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_0_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 1: kernel dispatch_1_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 272>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e41 = global_7.member[0i][0i];
    let _e46 = global_7.member[0i][1i];
    let _e51 = global_7.member[0i][2i];
    let _e56 = global_7.member[0i][3i];
    let _e58 = global;
    let _e59 = global_2;
    let _e69 = bitcast<i32>(((((_e58.z * _e59.y) + _e58.y) * _e59.x) + _e58.x));
    let _e71 = (_e69 / 16i);
    let _e75 = global_1;
    let _e77 = bitcast<i32>(_e75.x);
    let _e78 = (_e77 / 16i);
    let _e79 = (_e77 % 16i);
    let _e80 = (((_e71 % 1i) * 16i) + _e78);
    let _e81 = (((_e69 % 16i) * 16i) + _e79);
    let _e82 = (_e71 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e83 = local_1;
        if (_e83 < 512i) {
            let _e85 = local_1;
            let _e86 = (_e85 + _e79);
            let _e87 = (_e85 + _e78);
            local_2 = 0f;
            if (((_e80 < 8i) && (_e86 < 512i)) && _e82) {
                let _e97 = global_3.member[((bitcast<i32>(_e41) + (_e80 * 512i)) + _e86)];
                local_2 = _e97;
            }
            let _e98 = local_2;
            global_8[((_e79 * 17i) + _e78)] = _e98;
            local_2 = 0f;
            if (((_e87 < 512i) && (_e81 < 256i)) && _e82) {
                let _e111 = global_4.member[((bitcast<i32>(_e46) + (_e87 * 256i)) + _e81)];
                local_2 = _e111;
            }
            let _e112 = local_2;
            global_9[((_e78 * 16i) + _e79)] = _e112;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e116 = local;
                if (_e116 < 16i) {
                    let _e118 = local;
                    let _e122 = global_8[((_e118 * 17i) + _e78)];
                    let _e126 = global_9[((_e118 * 16i) + _e79)];
                    let _e128 = local_3;
                    local_3 = (_e128 + (_e122 * _e126));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e130 = local;
                    local = (_e130 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e132 = local_1;
            local_1 = (_e132 + 16i);
        }
    }
    if (((_e80 < 8i) && (_e81 < 256i)) && _e82) {
        let _e138 = local_3;
        let _e142 = global_6.member[(bitcast<i32>(_e56) + _e81)];
        let _e143 = (_e138 + _e142);
        global_5.member[((bitcast<i32>(_e51) + (_e80 * 256i)) + _e81)] = select(0f, _e143, ((_e143 > 0f) || ((bitcast<u32>(_e143) & 2147483647u) > 2139095040u)));
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_1_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 2: kernel dispatch_2_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<storage, read_write> global_5: type_7;
@group(0) @binding(3) 
var<storage, read_write> global_6: type_7;
@group(0) @binding(4) 
var<uniform> global_7: type_12;
var<workgroup> global_8: array<f32, 272>;
var<workgroup> global_9: array<f32, 256>;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;

    let _e38 = global_7.member[0i][0i];
    let _e43 = global_7.member[0i][1i];
    let _e48 = global_7.member[0i][2i];
    let _e53 = global_7.member[0i][3i];
    let _e55 = global;
    let _e56 = global_2;
    let _e66 = bitcast<i32>(((((_e55.z * _e56.y) + _e55.y) * _e56.x) + _e55.x));
    let _e71 = global_1;
    let _e73 = bitcast<i32>(_e71.x);
    let _e74 = (_e73 / 16i);
    let _e75 = (_e73 % 16i);
    let _e76 = (((_e66 % 1i) * 16i) + _e74);
    let _e77 = (((_e66 % 1i) * 16i) + _e75);
    let _e78 = (_e66 < 1i);
    local_3 = 0f;
    local_1 = 0i;
    loop {
        let _e79 = local_1;
        if (_e79 < 256i) {
            let _e81 = local_1;
            let _e82 = (_e81 + _e75);
            let _e83 = (_e81 + _e74);
            local_2 = 0f;
            if (((_e76 < 8i) && (_e82 < 256i)) && _e78) {
                let _e93 = global_3.member[((bitcast<i32>(_e38) + (_e76 * 256i)) + _e82)];
                local_2 = _e93;
            }
            let _e94 = local_2;
            global_8[((_e75 * 17i) + _e74)] = _e94;
            local_2 = 0f;
            if (((_e83 < 256i) && (_e77 < 10i)) && _e78) {
                let _e107 = global_4.member[((bitcast<i32>(_e43) + (_e83 * 10i)) + _e77)];
                local_2 = _e107;
            }
            let _e108 = local_2;
            global_9[((_e74 * 16i) + _e75)] = _e108;
            workgroupBarrier();
            local = 0i;
            loop {
                let _e112 = local;
                if (_e112 < 16i) {
                    let _e114 = local;
                    let _e118 = global_8[((_e114 * 17i) + _e74)];
                    let _e122 = global_9[((_e114 * 16i) + _e75)];
                    let _e124 = local_3;
                    local_3 = (_e124 + (_e118 * _e122));
                    continue;
                } else {
                    break;
                }
                continuing {
                    let _e126 = local;
                    local = (_e126 + 1i);
                }
            }
            workgroupBarrier();
            continue;
        } else {
            break;
        }
        continuing {
            let _e128 = local_1;
            local_1 = (_e128 + 16i);
        }
    }
    if (((_e76 < 8i) && (_e77 < 10i)) && _e78) {
        let _e134 = local_3;
        let _e138 = global_6.member[(bitcast<i32>(_e53) + _e77)];
        global_5.member[((bitcast<i32>(_e48) + (_e76 * 10i)) + _e77)] = (_e134 + _e138);
    }
    return;
}

@compute @workgroup_size(256, 1, 1) 
fn dispatch_2_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}

// ===== entry 3: kernel dispatch_3_ =====
struct type_7 {
    member: array<f32>,
}

struct type_12 {
    member: array<vec4<u32>, 1>,
}

var<private> global: vec3<u32>;
var<private> global_1: vec3<u32>;
var<private> global_2: vec3<u32>;
@group(0) @binding(0) 
var<storage, read_write> global_3: type_7;
@group(0) @binding(1) 
var<storage, read_write> global_4: type_7;
@group(0) @binding(2) 
var<uniform> global_5: type_12;

fn function_() {
    var local: i32;
    var local_1: i32;
    var local_2: f32;
    var local_3: f32;
    var local_4: i32;
    var local_5: f32;
    var local_6: f32;

    let _e26 = global_5.member[0i][0i];
    let _e27 = bitcast<i32>(_e26);
    let _e31 = global_5.member[0i][1i];
    let _e33 = global;
    let _e34 = global_2;
    let _e45 = global_1;
    let _e49 = ((bitcast<i32>(((((_e33.z * _e34.y) + _e33.y) * _e34.x) + _e33.x)) * 128i) + bitcast<i32>(_e45.x));
    let _e52 = (bitcast<u32>(_e49) < bitcast<u32>(8i));
    local_6 = bitcast<f32>(4286578688u);
    local_5 = 0f;
    if _e52 {
        local_4 = 0i;
        loop {
            let _e54 = local_4;
            if (_e54 < 10i) {
                let _e56 = local_4;
                let _e62 = global_3.member[((_e27 + (_e49 * 10i)) + _e56)];
                let _e63 = local_6;
                local_6 = max(_e63, _e62);
                continue;
            } else {
                break;
            }
            continuing {
                let _e65 = local_4;
                local_4 = (_e65 + 1i);
            }
        }
    }
    let _e67 = local_6;
    local_3 = 0f;
    local_2 = 0f;
    if _e52 {
        local_1 = 0i;
        loop {
            let _e68 = local_1;
            if (_e68 < 10i) {
                let _e70 = local_1;
                let _e76 = global_3.member[((_e27 + (_e49 * 10i)) + _e70)];
                let _e79 = local_3;
                let _e80 = local_2;
                let _e81 = (exp((_e76 - _e67)) - _e80);
                let _e82 = (_e79 + _e81);
                local_2 = ((_e82 - _e79) - _e81);
                local_3 = _e82;
                continue;
            } else {
                break;
            }
            continuing {
                let _e85 = local_1;
                local_1 = (_e85 + 1i);
            }
        }
    }
    let _e87 = local_3;
    if _e52 {
        local = 0i;
        loop {
            let _e89 = local;
            if (_e89 < 10i) {
                let _e91 = local;
                let _e97 = global_3.member[((_e27 + (_e49 * 10i)) + _e91)];
                global_4.member[((bitcast<i32>(_e31) + (_e49 * 10i)) + _e91)] = (exp((_e97 - _e67)) * (1f / _e87));
                continue;
            } else {
                break;
            }
            continuing {
                let _e106 = local;
                local = (_e106 + 1i);
            }
        }
    }
    return;
}

@compute @workgroup_size(128, 1, 1) 
fn dispatch_3_(@builtin(workgroup_id) param: vec3<u32>, @builtin(local_invocation_id) param_1: vec3<u32>, @builtin(num_workgroups) param_2: vec3<u32>) {
    global = param;
    global_1 = param_1;
    global_2 = param_2;
    function_();
}
